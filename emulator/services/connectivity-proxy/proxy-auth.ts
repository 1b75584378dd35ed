/**
 * The proxies' authentication: the `Proxy-Authorization` token (or SOCKS5 0x80 token) must be a valid,
 * unexpired JWT of the emulator's XSUAA issued to a connectivity binding's client; its `zid` selects the
 * tenant whose Cloud Connectors are eligible. Also reads the user behind a principal-propagation token.
 */
import { checkCaller } from '../../core/caller.ts';
import { bearerToken } from '../../core/auth-header.ts';
import { decodeJwtPayload, isIasToken } from '../../core/jwt.ts';
import { type Tenant } from '../../core/subaccount.ts';
import type { XsuaaClaims } from '../xsuaa/tokens.ts';
import type { IasClaims } from '../identity/index.ts';
import type { ProxyContext } from './state.ts';

/** What authentication reads: the state (bindings, tenants), the clock and the token verifier. */
type AuthContext = Pick<ProxyContext, 'state' | 'clock' | 'keys' | 'minter' | 'identity'>;

/** `clientId`: the connectivity binding's client the token was issued to (XSUAA's `client_id`, IAS's audience). */
export type ProxyAuthResult =
  { ok: true; tenant: Tenant; claims: XsuaaClaims | IasClaims; clientId: string } | { ok: false; reason: string };

/** `Bearer <jwt>`, or SAP's alternative `Basic base64("<jwt>:")`; anything else is undefined. */
export function tokenFromProxyAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (/^bearer$/i.test(scheme)) return bearerToken(header);
  if (/^basic$/i.test(scheme)) {
    try {
      const decoded = atob(value);
      const colon = decoded.indexOf(':');
      return colon > 0 ? decoded.slice(0, colon) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Verified tokens per state object (a reset or a new scenario starts afresh) and signing key set: a client
 * sends the same token on every request, and checking its signature each time would dominate the latency.
 * Expiry is still checked on every use, against the emulator's clock.
 */
const verifiedTokens = new WeakMap<object, Map<string, { claims: XsuaaClaims; kid?: string }>>();
const maxCachedTokens = 1000;

async function verifyCached(core: AuthContext, jwt: string): Promise<{ ok: true; claims: XsuaaClaims } | { ok: false; reason: string }> {
  let cache = verifiedTokens.get(core.state);
  if (!cache) verifiedTokens.set(core.state, (cache = new Map()));
  const known = cache.get(jwt);
  if (known && known.claims.exp * 1000 > core.clock.now() && core.keys.byKid(known.kid)) return { ok: true, claims: known.claims };
  const verified = await core.minter.verify(jwt);
  if (verified.ok) {
    if (cache.size >= maxCachedTokens) cache.clear();
    cache.set(jwt, { claims: verified.claims, kid: kidOf(jwt) });
  } else {
    cache.delete(jwt);
  }
  return verified;
}

function kidOf(jwt: string): string | undefined {
  try {
    return (JSON.parse(atob(jwt.slice(0, jwt.indexOf('.')).replace(/-/g, '+').replace(/_/g, '/'))) as { kid?: string }).kid;
  } catch {
    return undefined;
  }
}

export async function authenticateProxyToken(core: AuthContext, jwt: string | undefined): Promise<ProxyAuthResult> {
  if (!jwt) return { ok: false, reason: 'no token: send Proxy-Authorization: Bearer <token of the connectivity binding>' };
  if (core.identity && isIasToken(jwt)) return authenticateIasProxyToken(core, jwt);
  const state = core.state;
  const allowed = state.bindings.filter((b) => b.service === 'connectivity').map((b) => b.clientid);
  const caller = await checkCaller(
    jwt,
    (token) => verifyCached(core, token),
    state,
    (_binding, clientId) => allowed.includes(clientId),
  );
  if (caller.ok) return { ok: true, tenant: caller.tenant, claims: caller.claims, clientId: caller.clientId };
  if (caller.failed === 'token') return { ok: false, reason: caller.reason };
  if (caller.failed === 'zone') return { ok: false, reason: `the token's zone \`${caller.claims!.zid}\` is not a tenant of this emulator` };
  return {
    ok: false,
    reason: `the token was issued to client \`${caller.clientId}\`, not to the connectivity binding's client (\`${allowed.join('`, `')}\`)`,
  };
}

/**
 * An IAS token as the proxy token (a connectivity binding with `token-type` `ias`): requested with
 * `resource=urn:sap:identity:application:service:id:<instance guid>`, so its audience is that binding's client;
 * `app_tid` is the tenant whose Cloud Connectors are eligible.
 */
async function authenticateIasProxyToken(core: AuthContext, jwt: string): Promise<ProxyAuthResult> {
  const accepting = core.state.bindings.filter((b) => b.service === 'connectivity' && b.tokenType?.includes('ias'));
  if (!accepting.length)
    return {
      ok: false,
      reason:
        'an IAS token, but no connectivity binding takes IAS tokens: give one tokenType: [xsuaa, ias], or send a token of its XSUAA client',
    };
  const verified = await core.identity!.minter.verify(jwt, { tenants: core.state.tenants });
  if (!verified.ok) return { ok: false, reason: `the IAS token is not accepted: ${verified.reason}` };
  const aud = [verified.claims.aud].flat();
  const binding = accepting.find((b) => aud.includes(b.clientid));
  if (!binding)
    return {
      ok: false,
      reason: `the IAS token is for ${aud.join(', ')}, not for a connectivity instance: request it with resource=urn:sap:identity:application:service:id:<instance_guid> (${accepting.map((b) => b.instanceid).join(', ')})`,
    };
  const tenant = core.state.tenants.find((t) => t.zid === verified.claims.app_tid)!;
  return { ok: true, tenant, claims: verified.claims, clientId: binding.clientid };
}

/** Whether a token stands for a business user (a user token, or one exchanged for the connectivity client), not a technical one. */
export function carriesUser(claims: Pick<XsuaaClaims, 'user_name' | 'user_id'> | Record<string, unknown>): boolean {
  return Boolean(claims.user_name || claims.user_id || (claims as Record<string, unknown>).sap_id_type === 'user');
}

/**
 * The user token of principal propagation (`SAP-Connectivity-Authentication`): a token of the emulator's XSUAA, or a
 * user token of its identity service (IAS: the identity service's keys, expiry, the issuer of a tenant).
 */
export async function verifyPrincipalToken(
  ctx: Pick<ProxyContext, 'minter' | 'identity' | 'state'>,
  jwt: string,
): Promise<{ ok: true; claims: Record<string, unknown> } | { ok: false; reason: string }> {
  if (!ctx.identity || !isIasToken(jwt)) return ctx.minter.verify(jwt);
  const verified = await ctx.identity.minter.verify(jwt, { tenants: ctx.state.tenants });
  return verified.ok ? verified : { ok: false, reason: `the IAS user token is not accepted: ${verified.reason}` };
}

/** The claims of a token whose signature nobody checks here (trusted mode: only what it says matters), or undefined. */
export function unverifiedClaims(jwt: string | undefined): Record<string, unknown> | undefined {
  return jwt ? decodeJwtPayload(jwt) : undefined;
}

/** The name a Cloud Connector puts into the certificate subject (`${name}`): business or technical user (IAS: the email). */
export function principalName(claims: XsuaaClaims | Record<string, unknown>): string {
  const pick = (...keys: string[]): string | undefined =>
    keys.map((k) => (claims as Record<string, unknown>)[k]).find((v): v is string => typeof v === 'string' && v.length > 0);
  return (
    (carriesUser(claims) ? pick('user_name', 'email', 'mail', 'user_uuid', 'sub') : pick('client_id', 'cid', 'sub', 'azp')) ?? 'unknown'
  );
}
