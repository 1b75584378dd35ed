/** What the proxies write into the core's journal for each proxied request or SOCKS5 connection. */
import type { EmulatorCore } from '../core/emulator-core.ts';
import type { JournalEntry, JournalService } from '../core/journal.ts';

export interface ProxyJournalEntry {
  service: Extract<JournalService, 'connectivity-proxy' | 'socks5'>;
  method: string;
  /** The request target as the client sent it (HTTP) or `host:port` (SOCKS5). */
  path: string;
  /** HTTP status, or the SOCKS5 reply code (0 = succeeded). */
  status: number;
  started: number;
  tenant?: string;
  locationId?: string;
  virtualTarget?: string;
  internalTarget?: string;
  /** The check that refused the request: method, auth, tenant, location, offline, mapping, protocol, resource, principal, backend, timeout. */
  check?: string;
  reason?: string;
  principal?: string;
}

/** Returns the journal's entry, so a SOCKS5 connection can add its byte counts when it closes. */
export function recordProxyEntry(core: EmulatorCore, entry: ProxyJournalEntry): JournalEntry {
  const { started, ...rest } = entry;
  const clean = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Omit<ProxyJournalEntry, 'started'>;
  return core.journal.record({
    ...clean,
    time: new Date(core.clock.now()).toISOString(),
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
  });
}
