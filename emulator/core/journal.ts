/** The request journal: every request the emulator served, newest last, bounded so memory stays flat. */

export type JournalService = 'xsuaa' | 'destination' | 'control' | 'connectivity-proxy' | 'socks5' | 'backend' | 'other';

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
  since?: string;
  limit?: number;
}

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
    const since = filter.since ? Date.parse(filter.since) : undefined;
    const source = this.entries.length > this.max ? this.entries.slice(-this.max) : this.entries;
    const hits = source.filter(
      (e) =>
        (!filter.service || e.service === filter.service) &&
        (filter.status === undefined || e.status === filter.status) &&
        (!filter.tenant || e.tenant === filter.tenant) &&
        (!filter.destination || e.destination === filter.destination) &&
        (since === undefined || Date.parse(e.time) >= since),
    );
    return filter.limit ? hits.slice(-filter.limit) : hits;
  }

  clear(): void {
    this.entries = [];
  }
}
