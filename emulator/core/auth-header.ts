/** The `Authorization` header, parsed once for every service: a bearer token or Basic credentials. */

/** The token of `Authorization: Bearer <token>` (any case, surrounding blanks ignored), or undefined. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  return /^bearer\s+(.+)$/i.exec(authorization?.trim() ?? '')?.[1]?.trim() || undefined;
}

/** `Authorization: Basic base64(id:secret)`, or what is wrong with it. */
export function basicCredentials(authorization: string): { id: string; secret: string } | { problem: string } {
  let decoded: string;
  try {
    decoded = atob(authorization.replace(/^basic\s+/i, '').trim());
  } catch {
    return { problem: 'the Basic Authorization header is not base64' };
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return { problem: 'the Basic Authorization header has no "client_id:client_secret"' };
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
