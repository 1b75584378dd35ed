/** The one place a proxy hop's journal entry is built, for every transport (HTTP proxy, SOCKS5, approuter). */
import { entryTiming, type JournalEntry, type JournalService } from '../../core/journal.ts';
import { redactTarget } from '../../core/redact.ts';
import type { ProxyTransport } from './schema.ts';
import type { ProxyContext } from './state.ts';

export interface ProxyJournalEntry {
  service: Extract<JournalService, 'connectivity-proxy' | 'socks5'>;
  method: string;
  /** The request target as the client sent it (HTTP) or `host:port` (SOCKS5). */
  path: string;
  /** HTTP status, or the SOCKS5 reply code (0 = succeeded). */
  status: number;
  started: number;
  /** Set for hops that are not a proxy port of their own (the MSW approuter's, the Transparent Proxy's). */
  via?: Exclude<ProxyTransport, 'http-proxy' | 'socks5'>;
  tenant?: string;
  /** Set on hops of the Kubernetes trusted mode (cloud-foundry entries have neither). */
  proxyMode?: 'trusted';
  /** Trusted mode: `dedicated` (the configured subaccount) or `shared` (the tenant token's zone). */
  tenantMode?: 'dedicated' | 'shared';
  locationId?: string;
  virtualTarget?: string;
  internalTarget?: string;
  /** The protocol of the system mapping that let the request through (HTTP, HTTPS, TCP, TCPS, LDAP, LDAPS). */
  protocol?: string;
  /** The check that refused the request: method, auth, service-token, user, tenant, location, offline, mapping, protocol, resource, principal, backend, timeout. */
  check?: string;
  reason?: string;
  principal?: string;
  /** The `jti` of the connectivity token the request came with (links it to its grant, see core/chains.ts). */
  tokenJti?: string;
  /** The correlation id sent to the backend (the client's `x-correlation-id` / `x-vcap-request-id`, or a new one). */
  correlationId?: string;
  /** The fault that touched this request and what it did (see core/faults.ts). */
  fault?: string;
  faultEffect?: string;
}

/** The journal's service of a transport: SOCKS5 is its own, the HTTP proxy and the approuter's hop are the proxy's. */
export const journalServiceOf = (transport: ProxyTransport): ProxyJournalEntry['service'] =>
  transport === 'socks5' ? 'socks5' : 'connectivity-proxy';

/** Returns the journal's entry, so a SOCKS5 connection can add its byte counts when it closes. */
export function recordProxyEntry(ctx: Pick<ProxyContext, 'clock' | 'journal'>, entry: ProxyJournalEntry): JournalEntry {
  // One for-in over the entry (no Object.entries/fromEntries arrays): this runs once per proxied request.
  const clean: Record<string, unknown> = {};
  for (const key in entry) {
    const value = entry[key as keyof ProxyJournalEntry];
    if (value !== undefined && key !== 'started') clean[key] = value;
  }
  clean.path = redactTarget(entry.path);
  const timing = entryTiming(ctx.clock.now(), entry.started);
  clean.time = timing.time;
  clean.durationMs = timing.durationMs;
  return ctx.journal.record(clean as Omit<JournalEntry, 'id'>);
}

/** What a tunnel carried, added to its entry when it closes. */
export interface RelayCounts {
  bytesToBackend: number;
  bytesFromBackend: number;
  relayMs: number;
}

export function recordRelay(entry: JournalEntry, counts: RelayCounts): void {
  Object.assign(entry, counts);
}
