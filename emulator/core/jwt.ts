const utf8 = new TextDecoder();

/** A JWT's payload, decoded without verifying it (for journal links and fault matching), or undefined. */
export function decodeJwtPayload(jwt: string): Record<string, unknown> | undefined {
  const first = jwt.indexOf('.');
  const second = first < 0 ? -1 : jwt.indexOf('.', first + 1);
  if (second < 0 || jwt.indexOf('.', second + 1) >= 0) return undefined;
  try {
    // One pass over the bytes (no per-character callback, no decoder per call): it runs on every token issued
    // and on every call whose token a fault or the journal looks at.
    const binary = atob(
      jwt
        .slice(first + 1, second)
        .replace(/-/g, '+')
        .replace(/_/g, '/'),
    );
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Whether a JWT is the identity service's (IAS), not XSUAA's: it names its tenant by `app_tid` (or has `ias_iss`)
 * and has no `zid`. Decoded only; the service that takes it verifies it with the identity service.
 */
export function isIasToken(jwt: string): boolean {
  const claims = decodeJwtPayload(jwt);
  return Boolean(claims && !('zid' in claims) && (typeof claims.ias_iss === 'string' || typeof claims.app_tid === 'string'));
}
