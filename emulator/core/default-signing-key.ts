/**
 * The default XSUAA signing key. It is fixed on purpose: @sap/xssec caches a JWKS for 30 minutes and never
 * refetches on an unknown kid, so a key that changed with every start would break apps that outlive an
 * emulator restart. This key signs test tokens only; it protects nothing. Pass `signingKey` to use another.
 */
export const defaultSigningKid = 'default-jwt-key-emulator-1';

export const defaultSigningJwk = {
  kty: 'RSA',
  n: 'v0IM-BqjVoIEHOERJLypfbh0GzvcWwV64TvTSEVQh5nS4bA4RA8TvYvm8Bc8Fm7OraUzqUj2jPm6RKEtlLU6EMvrJeIj1pJFQVd0QSvg9EkFlW6KqK4A5FCk2gWrGV8WYRQZUdxG124eerOq7sJxhw1Q3x5iSTVptZxmp2NZIZU_wAK9hbBRe_Jvan1aBD_J2Ci_BpX-n4KRihW2BmN4ys-yKihTUAG9WMmaX-YqYSBz88oxlXreb8WruZlWfotaQPdE3wkzagUOl2sGm77-KMBx0_Dey3RDZMVaH3Lmwr3bR-_WmMSn58o-KWlP6PmZT2LUsAKkof0jcPGNUDb-tw',
  e: 'AQAB',
  d: 'CT2pP8GVu8PLbBPJzsMY01y6q2gwhOtWXRSVaEwFEJAzmrj3dv5df06HqXkN662N6eDuBpNiajxUriU1fRZmiFI5-dobzi3CD96oXM_Abj0q-mXdaDoEDAQDew9EDZVFEQq2EHj6qUUGTvpoW2Hkt1hC3IzsxcnBYkd8xECuGUu1zaGnAekVW9sn3CO92qWvXo6RKooNRjmxLN-bJQ0juSKJeJvkezOx0BcgPeYtCgS8Km82sS30QxrD3at3fzrtZQf6mOLTMSKbFgr8ZKx_lk8jVLPmvw-JR9dVWEe_c3JoLwJlh5Mc6pm2JjLL9L-xn5hxlMh8li2YTRBjnyNKcQ',
  p: '886txN1znh7l3YUHVJis0ChiMXy_av861sHleVs6RF33ED4adobaSrEoFjDgFmONXyurcbGP-f-bUCP7Fnok0eQuOT7cYSt_cgny1IZCWBt1tnwAuZ43mHNvUBQSvtZoXmVpJw24NMI2ZlpDsl5u6KOYwPE7QHBsWWCwYgmntUc',
  q: 'yNKdJ-gjiSBKuSnt_2f5Ke6t4HASLO3GLm1qZ4t8k1tnHZrvlAQyuYi2TrOoqkSoIHNIF54DmHpuRWW67-Hs-FaHq7ZfqtW4kTjbpE6SvTCF0bXc3hNNiXtz7_ZZGocBJ47sq5WBt9lUPLZz5xE4PLbHb3J0VQ_g3ouSABn64xE',
  dp: 'jZx0ji5ao3Mq7LoCAf8UEWwDbN8ah9lroaXJ1e1JMMCraoHH-SRm0o-HyyvkXNzCFo9U65rJF9qBqdDcXLfhfxBcUN_UPZR4WBKzOwIosuhwPOhVu3rMq_4Qn6CpKrN6t6mLpCVx4yMTWev_-jCjlvi_FwKG-ezS4i8pBCi7gq0',
  dq: 'Q6WOgq7TqZFTGmRhYzNm3xUjRQL7XF8L7v-0ZAS8hfa4GWTjZvyzCYRfxMsH-bL-30917V6w31_-XSoTelKkPFMJiHH6b9VmQqTgd8xv6YK60RVtvPDLoZAQUbit8x2e6fBfEL1f4Mo4cesTx7YpN2pqa8QmI7EhklV5bMdTl8E',
  qi: 'gDuS1bzaW4CHqcbLMBBAdpcru86ZEN1NCbAJi4drqsISJ-_aGqGzY6f3ZxQcqgmLcPFwGtT3qmAQcwm9DEdtSDgt-xheCiCwpvo_hCXpSmfLe2uma3OpphsZuv-DdAqNIhMACxPVsgZnVadadiG0AJGhBknrYNsKkDerUqXYVxc',
} as const;
