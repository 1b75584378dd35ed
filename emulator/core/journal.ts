/** The request journal: every request the emulator served, newest last, bounded so memory stays flat. */

export type JournalService = 'xsuaa' | 'destination' | 'connectivity' | 'control' | 'connectivity-proxy' | 'socks5' | 'backend' | 'other';

/** Which of the core's services a path belongs to (the journal's `service`; faults match on the same). */
export function serviceOfPath(path: string): Extract<JournalService, 'xsuaa' | 'destination' | 'connectivity' | 'control' | 'other'> {
  if (path.startsWith('/destination-configuration')) return 'destination';
  if (path.startsWith('/_emulator')) return 'control';
  if (path.startsWith('/connectivity/api')) return 'connectivity';
  if (path.startsWith('/oauth') || path === '/token_keys' || path.startsWith('/.well-known') || path === '/userinfo') return 'xsuaa';
  return 'other';
}

export interface JournalEntry {
  id: number;
  /** ISO time on the emulator's clock. */
  time: string;
  service: JournalService;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  tenant?: string;
  destination?: string;
  /** Why a request was refused, in words a person can act on. */
  reason?: string;
  [detail: string]: unknown;
}

export interface JournalFilter {
  service?: string;
  status?: number;
  tenant?: string;
  destination?: string;
  correlationId?: string;
  method?: string;
  /** A prefix of the recorded path (with its query). */
  path?: string;
  /** Entries at or after this instant: epoch ms or an ISO date-time (emulator clock). */
  since?: number | string;
  /** Entries before this instant. */
  until?: number | string;
  /** Entries with a larger id: what arrived since the last poll. */
  afterId?: number;
  /** The newest N of the matches. */
  limit?: number;
}

const instant = (value: number | string | undefined): number | undefined => (value === undefined ? undefined : typeof value === 'number' ? value : Date.parse(value));

export class Journal {
  private entries: JournalEntry[] = [];
  private nextId = 1;
  private readonly max: number;
  constructor(max = 10_000) {
    this.max = max;
  }

  record(entry: Omit<JournalEntry, 'id'>): JournalEntry {
    const full = { ...entry, id: this.nextId++ } as JournalEntry;
    this.entries.push(full);
    // Trim in batches (an eighth of the limit at a time), so a full journal does not copy itself on every request.
    if (this.entries.length > this.max + (this.max >> 3)) this.entries = this.entries.slice(-this.max);
    return full;
  }

  list(filter: JournalFilter = {}): JournalEntry[] {
    const since = instant(filter.since);
    const until = instant(filter.until);
    const method = filter.method?.toUpperCase();
    const source = this.entries.length > this.max ? this.entries.slice(-this.max) : this.entries;
    const hits = source.filter(
      (e) =>
        (!filter.service || e.service === filter.service) &&
        (filter.status === undefined || e.status === filter.status) &&
        (!filter.tenant || e.tenant === filter.tenant) &&
        (!filter.destination || e.destination === filter.destination) &&
        (!filter.correlationId || e.correlationId === filter.correlationId) &&
        (!method || e.method === method) &&
        (!filter.path || e.path.startsWith(filter.path)) &&
        (filter.afterId === undefined || e.id > filter.afterId) &&
        (since === undefined || Date.parse(e.time) >= since) &&
        (until === undefined || Date.parse(e.time) < until),
    );
    return filter.limit ? hits.slice(-filter.limit) : hits;
  }

  clear(): void {
    this.entries = [];
  }
}
