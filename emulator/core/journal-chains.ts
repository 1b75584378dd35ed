/**
 * One story per app call: the journal entries of the hops that belong together — the service token grant,
 * the destination lookup and the token flow it ran, the connectivity token, the proxy or SOCKS5 request (which
 * carries the backend's answer) — found two ways:
 *
 * - by correlation id (`x-correlation-id` / `x-vcap-request-id`): entries that carry it, plus the grants of
 *   the tokens they used;
 * - for "the last call to destination X", by linkage, because apps using the SAP Cloud SDK send no id on most
 *   hops: the last lookup of X; the grant of the token it was made with (its `jti`); the grants of the tokens
 *   in its `authTokens` and every token request the lookup made (failed ones too); the last proxy or SOCKS5
 *   request to the destination's virtual host after it, and the grant of that request's connectivity token.
 *
 * A call through the Kyma Transparent Proxy is one entry of service `transparent-proxy` (the app's request and its
 * outcome) whose correlation id the proxy gives every hop it makes (the instance token, the lookup, the proxy
 * hop); "the last call to destination X" is then the proxy's last request for X when it is newer than the last
 * lookup (it may have been refused before any lookup).
 *
 * The links are ids the routes write into the journal (`issuedJti` on grants, `callerJti`, `authTokenJtis` and
 * `lookupRef` on lookups and the token requests they made, `tokenJti` on proxy requests), so the chain holds
 * even with a frozen clock.
 */
import { bearerToken } from './auth-header.ts';
import { decodeJwtPayload } from './jwt.ts';
import { randomHex } from './ids.ts';
import type { JournalEntry } from './journal.ts';

export type ChainRole =
  'service-token' | 'lookup' | 'token-flow' | 'connectivity-token' | 'proxy' | 'socks5' | 'transparent-proxy' | 'other';

export interface ChainStep {
  role: ChainRole;
  entry: JournalEntry;
}

export interface Chain {
  /** How the chain was found. */
  by: { correlationId: string } | { destination: string };
  steps: ChainStep[];
  /** The first step that failed, with its reason: where to look. */
  failed?: { role: ChainRole; entryId: number; status: number; reason?: string };
  /** One line per step: `lookup GET /destination-configuration/… → 200`. */
  summary: string[];
}

const correlationHeaders = ['x-correlation-id', 'x-vcap-request-id'];

/** The correlation id a request carries: its `x-correlation-id`, else its `x-vcap-request-id` (set by the CF router). */
export function correlationIdOf(header: (name: string) => string | string[] | null | undefined): string | undefined {
  for (const name of correlationHeaders) {
    const value = header(name);
    const first = Array.isArray(value) ? value[0] : value;
    if (first) return first;
  }
  return undefined;
}

/**
 * Marks the token requests a lookup makes to the emulator's own XSUAA, so the journal links them to the lookup
 * even when they fail (no token, no `jti`). Never sent outside the emulator (see EmulatorCore.fetchOutbound).
 */
export const lookupRefHeader = 'x-emulator-lookup';

/** A copy of a lookup's request headers with a fresh lookup reference, for the gateway and its token requests. */
export function markLookup(incoming: Headers): { headers: Headers; lookupRef: string } {
  const lookupRef = randomHex(6);
  const headers = new Headers(incoming);
  headers.set(lookupRefHeader, lookupRef);
  return { headers, lookupRef };
}

/** The request without the emulator's internal headers, for servers outside the emulator. */
export function withoutInternalHeaders(request: Request): Request {
  if (!request.headers.has(lookupRefHeader)) return request;
  const headers = new Headers(request.headers);
  headers.delete(lookupRefHeader);
  return new Request(request, { headers });
}

/** The outbound token requests of a lookup carry the lookup's correlation id headers (and its lookup reference). */
export function withCorrelation(
  fetchFn: (request: Request) => Promise<Response>,
  incoming: Headers,
): (request: Request) => Promise<Response> {
  const present = [...correlationHeaders, lookupRefHeader].filter((h) => incoming.get(h));
  if (!present.length) return fetchFn;
  return (request) => {
    const headers = new Headers(request.headers);
    for (const h of present) if (!headers.has(h)) headers.set(h, incoming.get(h)!);
    return fetchFn(new Request(request, { headers }));
  };
}

/** Journal fields of a request made with a bearer token: the token's `jti` and client (decoded, not verified). */
export function callerLink(authorization: string | null | undefined): Record<string, unknown> {
  const jwt = bearerToken(authorization);
  const claims = jwt ? decodeJwtPayload(jwt) : undefined;
  if (!claims) return {};
  // XSUAA names the client in client_id, the identity service (IAS) in azp.
  return { callerJti: claims.jti, callerClientId: claims.client_id ?? claims.azp };
}

/** `host:port` of a URL (default ports filled in), lower case; undefined when it is not a URL. */
function hostPort(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Journal fields of a successful lookup: where the destination points and which tokens its authTokens carry. */
export function lookupLink(body: unknown): Record<string, unknown> {
  const found = body as
    { destinationConfiguration?: Record<string, string>; authTokens?: { value?: string; error?: string }[] } | undefined;
  const cfg = found?.destinationConfiguration;
  if (!cfg) return {};
  const mailHost = cfg['mail.smtp.host'] ?? cfg['mail.smtps.host'];
  const target =
    hostPort(cfg.URL) ?? (mailHost ? `${mailHost}:${cfg['mail.smtp.port'] ?? cfg['mail.smtps.port'] ?? 25}`.toLowerCase() : undefined);
  const jtis = (found.authTokens ?? [])
    .map((t) => (t.value ? decodeJwtPayload(t.value)?.jti : undefined))
    .filter((j): j is string => typeof j === 'string');
  const tokenError = found.authTokens?.find((t) => t.error)?.error;
  return {
    ...(target ? { target } : {}),
    ...(cfg.ProxyType ? { proxyType: cfg.ProxyType } : {}),
    ...(cfg.CloudConnectorLocationId ? { locationId: cfg.CloudConnectorLocationId } : {}),
    ...(jtis.length ? { authTokenJtis: jtis } : {}),
    ...(tokenError ? { authTokenError: tokenError } : {}),
  };
}

const isLookup = (e: JournalEntry): boolean =>
  e.service === 'destination' && e.method === 'GET' && /^\/destination-configuration\/v\d\/destinations\//.test(e.path);
/** A token grant: XSUAA's `/oauth/token`, or the identity service's (IAS) `/oauth2/token` — their `issuedJti` link alike. */
const isGrant = (e: JournalEntry): boolean =>
  e.method === 'POST' &&
  ((e.service === 'xsuaa' && e.path.startsWith('/oauth/token')) || (e.service === 'identity' && e.path.startsWith('/oauth2/token')));
const isTunnel = (e: JournalEntry): boolean => e.service === 'connectivity-proxy' || e.service === 'socks5';
const isTransparentProxy = (e: JournalEntry): boolean => e.service === 'transparent-proxy';

function failed(e: JournalEntry): boolean {
  if (e.service === 'socks5') return e.status !== 0;
  return e.status >= 400 || typeof e.authTokenError === 'string';
}

function roleOf(
  e: JournalEntry,
  serviceJtis: Set<unknown>,
  flowJtis: Set<unknown>,
  connectivityJtis: Set<unknown>,
  lookupRefs: Set<unknown>,
): ChainRole {
  if (isLookup(e)) return 'lookup';
  if (e.service === 'connectivity-proxy') return 'proxy';
  if (e.service === 'socks5') return 'socks5';
  if (isTransparentProxy(e)) return 'transparent-proxy';
  if (isGrant(e)) {
    if (flowJtis.has(e.issuedJti) || (e.lookupRef !== undefined && lookupRefs.has(e.lookupRef))) return 'token-flow';
    if (connectivityJtis.has(e.issuedJti)) return 'connectivity-token';
    if (serviceJtis.has(e.issuedJti)) return 'service-token';
  }
  return 'other';
}

function describe(step: ChainStep): string {
  const e = step.entry;
  const reason = e.reason ?? (typeof e.authTokenError === 'string' ? `authTokens: ${e.authTokenError}` : undefined);
  const extra = isGrant(e) && e.clientId ? ` (${String(e.grantType)} for ${String(e.clientId)})` : '';
  return `${step.role}: ${e.method} ${e.path}${extra} → ${e.status}${reason ? `: ${reason}` : ''}`;
}

/** Order the entries, name their roles, find the first failure. */
function assemble(by: Chain['by'], entries: JournalEntry[]): Chain {
  const unique = [...new Map(entries.map((e) => [e.id, e])).values()].sort((a, b) => a.id - b.id);
  const serviceJtis = new Set(unique.filter(isLookup).map((e) => e.callerJti));
  const flowJtis = new Set(unique.filter(isLookup).flatMap((e) => (Array.isArray(e.authTokenJtis) ? e.authTokenJtis : [])));
  const connectivityJtis = new Set(unique.filter(isTunnel).map((e) => e.tokenJti));
  const lookupRefs = new Set(unique.filter(isLookup).map((e) => e.lookupRef));
  const steps = unique.map((entry) => ({ role: roleOf(entry, serviceJtis, flowJtis, connectivityJtis, lookupRefs), entry }));
  const first = steps.find((s) => failed(s.entry));
  const reason = first
    ? (first.entry.reason ?? (typeof first.entry.authTokenError === 'string' ? first.entry.authTokenError : undefined))
    : undefined;
  return {
    by,
    steps,
    ...(first ? { failed: { role: first.role, entryId: first.entry.id, status: first.entry.status, ...(reason ? { reason } : {}) } } : {}),
    summary: steps.map(describe),
  };
}

/** Grants (searched before `before`) that issued one of `jtis`. */
function grantsOf(entries: JournalEntry[], jtis: unknown[], before: number): JournalEntry[] {
  const wanted = new Set<unknown>(jtis.filter((j) => j !== undefined));
  if (!wanted.size) return [];
  return entries.filter((e) => e.id < before && isGrant(e) && wanted.has(e.issuedJti));
}

/** The linked grants of the lookups and tunnels among `core`. */
function withLinkedGrants(all: JournalEntry[], core: JournalEntry[]): JournalEntry[] {
  const linked = core.flatMap((e): JournalEntry[] => {
    if (isLookup(e)) {
      const flow = e.lookupRef === undefined ? [] : all.filter((g) => g.id < e.id && isGrant(g) && g.lookupRef === e.lookupRef);
      return [...grantsOf(all, [e.callerJti, ...(Array.isArray(e.authTokenJtis) ? e.authTokenJtis : [])], e.id), ...flow];
    }
    if (isTunnel(e)) return grantsOf(all, [e.tokenJti], e.id);
    return [];
  });
  return [...core, ...linked];
}

/** Every entry with this correlation id, and the grants of the tokens they used. */
export function chainByCorrelationId(entries: JournalEntry[], correlationId: string): Chain | undefined {
  const core = entries.filter((e) => e.correlationId === correlationId);
  if (!core.length) return undefined;
  return assemble({ correlationId }, withLinkedGrants(entries, core));
}

/** The last lookup of `destination` and the hops around it (see the file comment). */
export function lastCallTo(entries: JournalEntry[], destination: string): Chain | undefined {
  const last = entries.filter((e) => (isLookup(e) || isTransparentProxy(e)) && e.destination === destination).at(-1);
  if (last && isTransparentProxy(last)) {
    const related = entries.filter((e) => e.correlationId === last.correlationId);
    return assemble({ destination }, withLinkedGrants(entries, [last, ...related]));
  }
  const lookup = last;
  if (!lookup) return undefined;
  const target = typeof lookup.target === 'string' ? lookup.target : undefined;
  const tunnel =
    target && lookup.proxyType === 'OnPremise'
      ? entries.filter((e) => e.id > lookup.id && isTunnel(e) && String(e.virtualTarget ?? '').toLowerCase() === target).at(-1)
      : undefined;
  const related = lookup.correlationId ? entries.filter((e) => e.correlationId === lookup.correlationId) : [];
  return assemble({ destination }, withLinkedGrants(entries, [lookup, ...(tunnel ? [tunnel] : []), ...related]));
}
