import { type DestinationProps } from '../schema.ts';
/**
 * The outbound OAuth call the Destination Service makes for a destination: URL (with `{tenant}` or
 * first-label substitution for `tokenServiceURLType: Common`), `tokenServiceURL.queries.*`,
 * `tokenServiceURL.headers.*`, `tokenService.body.*`, and client authentication as the properties say:
 * `tokenServiceUser`/`tokenServicePassword` (Basic) win, else a client assertion if one is given, else
 * `clientId`/`clientSecret` in the body (or Basic with `tokenService.addClientCredentialsInBody=false`).
 */

export type OutboundFetch = (request: Request) => Promise<Response>;

export interface TokenServiceResult {
  access_token: string;
  token_type?: string;
  expires_in?: number | string;
  scope?: string;
  refresh_token?: string;
  issued_token_type?: string;
}

export class TokenRetrievalError extends Error {}

/**
 * What went wrong on the wire: fetch reports every network failure as "fetch failed" and keeps the socket's
 * own error (`connect ECONNREFUSED 10.0.0.1:443`, `getaddrinfo ENOTFOUND …`) as its cause; node:https (the mTLS
 * path) throws that error directly. Both name the socket error.
 */
function networkFailure(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** RFC 7521 client authentication by assertion, instead of a client secret. */
export interface ClientAssertion {
  assertion: string;
  type: string;
}

/** Apply `Common` tenant substitution: `{tenant}` placeholder, else the subdomain becomes the first host label. */
export function tokenServiceUrl(cfg: DestinationProps, tenantSubdomain: string | undefined): URL {
  const raw = cfg.tokenServiceURL;
  if (!raw) throw new TokenRetrievalError('the destination has no tokenServiceURL');
  const common = (cfg.tokenServiceURLType ?? '').toLowerCase() === 'common';
  let text = raw;
  if (common && tenantSubdomain) {
    text = raw.includes('{tenant}') ? raw.replaceAll('{tenant}', tenantSubdomain) : raw.replace(/^(\w+:\/\/)/, `$1${tenantSubdomain}.`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TokenRetrievalError(`tokenServiceURL "${text}" is not a valid URL`);
  }
  for (const [key, value] of Object.entries(cfg)) {
    if (key.startsWith('tokenServiceURL.queries.')) url.searchParams.set(key.slice('tokenServiceURL.queries.'.length), value);
  }
  return url;
}

export async function requestToken(
  cfg: DestinationProps,
  grant: Record<string, string>,
  tenantSubdomain: string | undefined,
  fetchFn: OutboundFetch,
  clientAssertion?: ClientAssertion,
): Promise<TokenServiceResult> {
  const url = tokenServiceUrl(cfg, tenantSubdomain);
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  for (const [key, value] of Object.entries(cfg)) {
    if (key.startsWith('tokenServiceURL.headers.')) headers.set(key.slice('tokenServiceURL.headers.'.length), value);
  }
  const body = new URLSearchParams(grant);
  for (const [key, value] of Object.entries(cfg)) {
    if (key.startsWith('tokenService.body.')) body.set(key.slice('tokenService.body.'.length), value);
  }
  if (cfg.scope && !body.has('scope')) body.set('scope', cfg.scope);

  if (cfg.tokenServiceUser) {
    headers.set('authorization', `Basic ${btoa(`${cfg.tokenServiceUser}:${cfg.tokenServicePassword ?? ''}`)}`);
  } else if (clientAssertion) {
    if (cfg.clientId) body.set('client_id', cfg.clientId);
    body.set('client_assertion', clientAssertion.assertion);
    body.set('client_assertion_type', clientAssertion.type);
  } else if (cfg.clientId && cfg['tokenService.KeyStoreLocation']) {
    // mTLS: the keystore authenticates the client; no secret.
    body.set('client_id', cfg.clientId);
  } else if (cfg.clientId) {
    if ((cfg['tokenService.addClientCredentialsInBody'] ?? 'true').toLowerCase() !== 'false') {
      body.set('client_id', cfg.clientId);
      if (cfg.clientSecret !== undefined) body.set('client_secret', cfg.clientSecret);
    } else {
      headers.set('authorization', `Basic ${btoa(`${cfg.clientId}:${cfg.clientSecret ?? ''}`)}`);
    }
  }

  const timeoutSeconds = Number(cfg['tokenServiceURL.SocketReadTimeoutInSeconds'] ?? 10);
  const signal = AbortSignal.timeout((timeoutSeconds > 0 && timeoutSeconds <= 600 ? timeoutSeconds : 10) * 1000);
  let response: Response;
  try {
    response = await fetchFn(new Request(url, { method: 'POST', headers, body, signal }));
  } catch (err) {
    throw new TokenRetrievalError(`token service ${url.origin}${url.pathname} could not be reached: ${networkFailure(err)}`);
  }
  const text = await response.text();
  if (!response.ok) {
    throw new TokenRetrievalError(`token service ${url.origin}${url.pathname} responded with ${response.status}: ${text.slice(0, 300)}`);
  }
  let json: TokenServiceResult;
  try {
    json = JSON.parse(text) as TokenServiceResult;
  } catch {
    throw new TokenRetrievalError(`token service ${url.origin}${url.pathname} did not answer with JSON`);
  }
  if (!json.access_token) throw new TokenRetrievalError(`token service ${url.origin}${url.pathname} answered without access_token`);
  return json;
}
