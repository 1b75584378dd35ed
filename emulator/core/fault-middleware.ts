/**
 * Faults on the core's own services (XSUAA, the Destination Service, the Connectivity Service REST API): one
 * Hono middleware that asks the fault list about each request and waits, answers an error status or a 429,
 * marks the answer "drop the connection", or shortens the lifetime of the token it issues. The control API
 * (/_emulator) is never faulted, so a fault can always be removed. The core has no sockets: a dropped
 * connection is a Response carrying {@link droppedHeader}, which the Node face turns into a destroyed socket,
 * the MSW face into `Response.error()` and the core's own in-process calls into a failed fetch.
 */
import { bearerToken } from './auth-header.ts';
import { type Tenant } from './subaccount.ts';
import { decodeJwtPayload } from './jwt.ts';
import { basicCredentials } from './auth-header.ts';
import { decodeProtectedHeader, SignJWT, type JWTHeaderParameters } from 'jose';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';
import { describeFault, faultJournalFields, sleep, type FaultList, type FaultRequest, type FaultService } from './faults.ts';
import { safeDecode } from './ids.ts';
import type { ServiceTable } from './service-table.ts';
import type { KeyRing } from './signing-keys.ts';

/** Internal response header: "close this connection without an answer" (value: the fault id). Never leaves the emulator. */
export const droppedHeader = 'x-emulator-fault-drop';

export interface FaultMiddlewareDeps {
  faults: FaultList;
  keys: KeyRing;
  /** Which service a path belongs to, and how faults see its requests. */
  services: ServiceTable;
  /** The tenant a token request addresses, as XSUAA finds it (x-zid, else the host's subdomain, else the provider). */
  tokenRequestTenant: (zid: string | null, host: string) => Tenant | undefined;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The bearer token's claims, unverified (only to match faults). */
function bearerClaims(request: Request): Record<string, unknown> | undefined {
  const bearer = bearerToken(request.headers.get('authorization'));
  return bearer ? decodeJwtPayload(bearer) : undefined;
}

/** The tenant as the service finds it: XSUAA by x-zid or host, the other services by the bearer token's zone. */
function tenantOf(by: 'token-request' | 'bearer', request: Request, url: URL, deps: FaultMiddlewareDeps): FaultRequest['tenant'] {
  if (by === 'token-request') {
    const zid = request.headers.get('x-zid');
    const tenant = deps.tokenRequestTenant(zid, url.host);
    return tenant ? { subdomain: tenant.subdomain, zid: tenant.zid } : { zid: zid ?? undefined };
  }
  const claims = bearerClaims(request);
  if (!claims) return undefined;
  return { subdomain: text((claims.ext_attr as { zdn?: unknown } | undefined)?.zdn), zid: text(claims.zid) };
}

/** The OAuth client: Basic credentials or the form's client_id of a token request, else the bearer token's client_id. */
async function clientOf(c: Context<AppEnv>): Promise<string | undefined> {
  const authorization = c.req.header('authorization') ?? '';
  if (/^basic\s/i.test(authorization)) {
    const basic = basicCredentials(authorization);
    return 'id' in basic ? safeDecode(basic.id) : undefined;
  }
  if (c.req.method === 'POST' && (c.req.header('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    // Hono keeps the body it read, so the route reads it again.
    const id = new URLSearchParams(await c.req.text()).get('client_id');
    if (id) return id;
  }
  return text(bearerClaims(c.req.raw)?.client_id);
}

export function faultMiddleware(deps: FaultMiddlewareDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (deps.faults.empty) return next();
    const url = new URL(c.req.url);
    // The service that owns the path, as faults know it; the control API is never faulted.
    const owner = deps.services.find(url.pathname);
    if (!owner || owner.faultable === false) return next();
    const request: FaultRequest = {
      service: owner.service as FaultService,
      method: c.req.method,
      path: url.pathname,
      tenant: tenantOf(owner.tenantBy ?? 'bearer', c.req.raw, url, deps),
      destination: owner.destinationOf?.(url.pathname),
      clientId: deps.faults.narrowsByClient ? await clientOf(c) : undefined,
    };
    const decision = deps.faults.decide(request);
    if (!decision) return next();
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    const mark = (extra: Record<string, unknown> = {}): void =>
      c.set('journal', { ...c.get('journal'), ...faultJournalFields(decision), ...extra });
    if (decision.response || decision.kind === 'drop') {
      // The route does not run: the journal learns tenant and destination from the request.
      if (!c.get('tenant') && request.tenant?.subdomain) c.set('tenant', request.tenant.subdomain);
      if (request.destination) c.set('destination', request.destination);
      c.set('reason', describeFault(decision));
      if (decision.kind === 'drop') {
        mark({ status: 0 });
        return new Response(null, { status: 502, headers: { [droppedHeader]: decision.fault.id } });
      }
      mark();
      const answer = decision.response!;
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    }
    await next();
    if (decision.kind === 'tokenValidity' && decision.tokenValidity !== undefined && c.res.status === 200) {
      c.res = await shortenToken(c.res, decision.tokenValidity, deps.keys);
    }
    mark();
  };
}

/** Re-sign the issued access token with `exp` at most `validity` seconds after `iat`, and shorten `expires_in` to match. */
async function shortenToken(response: Response, validity: number, keys: KeyRing): Promise<Response> {
  const text = await response.text();
  const headers = new Headers(response.headers);
  const rebuilt = (body: string): Response => new Response(body, { status: response.status, headers });
  let body: { access_token?: unknown; expires_in?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return rebuilt(text);
  }
  const jwt = typeof body.access_token === 'string' ? body.access_token : undefined;
  const claims = jwt ? decodeJwtPayload(jwt) : undefined;
  if (!jwt || !claims || typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return rebuilt(text);
  const exp = Math.min(claims.exp, claims.iat + validity);
  const header = decodeProtectedHeader(jwt) as JWTHeaderParameters;
  const key = keys.active;
  const signed = await new SignJWT({ ...claims, exp }).setProtectedHeader({ ...header, kid: key.kid }).sign(key.privateKey);
  headers.delete('content-length');
  return rebuilt(JSON.stringify({ ...body, access_token: signed, expires_in: Math.max(0, exp - claims.iat - 1) }));
}

/** For the core's in-process calls (a destination's token service on the emulator itself): a dropped answer is a network error. */
export function failIfDropped(response: Response): Response {
  if (response.headers.has(droppedHeader))
    throw new TypeError('fetch failed', { cause: new Error(`connection dropped by fault ${response.headers.get(droppedHeader)}`) });
  return response;
}

/** For the MSW face: a dropped answer becomes a network error, as a closed connection looks to fetch. */
export function asNetworkError(response: Response): Response {
  return response.headers.has(droppedHeader) ? Response.error() : response;
}
