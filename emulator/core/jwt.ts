/** A JWT's payload, decoded without verifying it (for journal links and fault matching), or undefined. */
export function decodeJwtPayload(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
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
