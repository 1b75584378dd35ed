/**
 * How the proxy finds a destination: as the real one does with its destination service instance, it takes a
 * client-credentials token of the instance's binding from the tenant's XSUAA, then calls the Destination
 * Service's find API (v1; the consume API v2 when a level is named). Both go to the services port in-process
 * (`ctx.fetch`), so they are journaled, faulted and linked into the call's chain like any app's calls; no second
 * implementation of either. The instance token is kept until shortly before it expires, per state and tenant.
 */
import { decodeJwtPayload } from '../../core/jwt.ts';
import { failIfDropped } from '../../core/fault-middleware.ts';
import { reasonHeader } from '../../core/reason-header.ts';
import type { Binding, Tenant } from '../../core/subaccount.ts';
import { NOT_FOUND_MESSAGE } from '../destination/errors.ts';
import { destinationNotFound, lookupRefused, serviceTokenRefused, TransparentProxyError } from './errors.ts';
import type { DestinationLevel } from './schema.ts';
import type { TransparentProxyContext } from './state.ts';

export interface FoundDestination {
  destinationConfiguration: Record<string, string>;
  authTokens?: { type: string; value: string; http_header?: { key: string; value: string }; error?: string }[];
}

/** What to look up, and with which headers (the caller's user token, chain variables, …). */
export interface LookupRequest {
  tenant: Tenant;
  binding: Binding;
  name: string;
  level?: DestinationLevel;
  fragment?: { name: string; level?: DestinationLevel; optional?: boolean };
  chain?: { name: string; variables: [string, string][] };
  /** Headers for the Destination Service besides the token (X-user-token, X-refresh-token, …). */
  headers: Headers;
  correlationId: string;
  /** `<namespace>/<name>` of the CR, for the not-found message. */
  cr: string;
}

const earlyRenewalMs = 60_000;
const cachedTokens = new WeakMap<object, Map<string, { jwt: string; expiresAt: number; kid?: string }>>();

function kidOf(jwt: string): string | undefined {
  try {
    return (JSON.parse(atob(jwt.slice(0, jwt.indexOf('.')).replace(/-/g, '+').replace(/_/g, '/'))) as { kid?: string }).kid;
  } catch {
    return undefined;
  }
}

/** A client-credentials token of the destination binding for the tenant (from the cache while it is good). */
async function instanceToken(ctx: TransparentProxyContext, tenant: Tenant, binding: Binding, correlationId: string): Promise<string> {
  let cache = cachedTokens.get(ctx.state);
  if (!cache) cachedTokens.set(ctx.state, (cache = new Map()));
  const key = `${binding.clientid}|${tenant.zid}`;
  const known = cache.get(key);
  if (known && known.expiresAt - earlyRenewalMs > ctx.clock.now() && ctx.keys.byKid(known.kid)) return known.jwt;
  const response = failIfDropped(
    await ctx.fetch(
      new Request(`https://${tenant.subdomain}.${ctx.urls.uaaDomain}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${btoa(`${binding.clientid}:${binding.clientsecret}`)}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'x-correlation-id': correlationId,
        },
        body: 'grant_type=client_credentials',
      }),
    ),
  );
  const text = await response.text();
  if (response.status !== 200) throw serviceTokenRefused(response.status, text);
  const jwt = (JSON.parse(text) as { access_token: string }).access_token;
  const exp = Number(decodeJwtPayload(jwt)?.exp ?? 0) * 1000;
  if (cache.size > 1000) cache.clear();
  cache.set(key, { jwt, expiresAt: exp, kid: kidOf(jwt) });
  return jwt;
}

const at = (name: string, level: DestinationLevel | undefined): string => (level ? `${name}@${level}` : name);

/** The lookup's URL and headers: v1 find without a level (instance level first, then subaccount, chains), else v2 consume. */
function lookupRequest(ctx: TransparentProxyContext, request: LookupRequest, token: string): Request {
  const { fragment, chain } = request;
  const v2 = request.level !== undefined || fragment?.level !== undefined;
  const headers = new Headers(request.headers);
  headers.set('authorization', `Bearer ${token}`);
  headers.set('x-correlation-id', request.correlationId);
  if (fragment) {
    headers.set('x-fragment-name', v2 ? at(fragment.name, fragment.level ?? request.level ?? 'instance') : fragment.name);
    if (fragment.optional !== undefined) headers.set('x-fragment-optional', String(fragment.optional));
  }
  if (chain) {
    headers.set('x-chain-name', chain.name);
    for (const [name, value] of chain.variables) headers.set(`x-chain-var-${name}`, value);
  }
  const path = v2
    ? `/destination-configuration/v2/destinations/${encodeURIComponent(at(request.name, request.level ?? 'instance'))}`
    : `/destination-configuration/v1/destinations/${encodeURIComponent(request.name)}`;
  return new Request(`${ctx.urls.serviceUrl}${path}`, { headers });
}

const errorMessageOf = (text: string): string => {
  try {
    const body = JSON.parse(text) as { ErrorMessage?: string; message?: string };
    return body.ErrorMessage ?? body.message ?? text;
  } catch {
    return text;
  }
};

/** Look the destination up; a refusal is a {@link TransparentProxyError} naming who refused. */
export async function lookUp(ctx: TransparentProxyContext, request: LookupRequest): Promise<FoundDestination> {
  let response: Response;
  try {
    const token = await instanceToken(ctx, request.tenant, request.binding, request.correlationId);
    response = failIfDropped(await ctx.fetch(lookupRequest(ctx, request, token)));
  } catch (err) {
    if (err instanceof TransparentProxyError) throw err;
    throw lookupRefused(
      503,
      `the connection was dropped (${(err as Error).cause instanceof Error ? (err as Error).cause : (err as Error).message})`,
    );
  }
  const text = await response.text();
  if (response.status === 200) return JSON.parse(text) as FoundDestination;
  const message = errorMessageOf(text);
  const reason = response.headers.get(reasonHeader);
  if (response.status === 404 && message === NOT_FOUND_MESSAGE)
    throw destinationNotFound(request.name, request.cr, request.tenant.subdomain, reason ? decodeURI(reason) : undefined);
  const retryAfter = response.headers.get('retry-after');
  throw lookupRefused(response.status, message, retryAfter ? { 'retry-after': retryAfter } : undefined);
}
