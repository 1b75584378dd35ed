/**
 * The `X-Emulator-Reason` header: the journal's reason for a refusal, on answers whose body must stay as BTP
 * sends it. Header values must be visible ASCII, so the reason is percent-encoded UTF-8 as `encodeURI` does it
 * (after `toWellFormed()`, so a lone surrogate becomes U+FFFD instead of throwing): spaces are `%20`, backticks
 * `%60`, non-ASCII letters their UTF-8 bytes, while `;/?:@&=+$,#` and the other URI characters stay as they are.
 * `decodeURIComponent` (or `decodeURI`) gives the sentence back.
 */

export const reasonHeader = 'x-emulator-reason';

/** The header value for a reason. */
export function encodeReason(reason: string): string {
  return encodeURI(reason.toWellFormed());
}
