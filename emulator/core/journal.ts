/**
 * The request journal: every request the emulator served, newest last, bounded so memory stays flat: at most
 * `maxEntries` entries and `maxBytes` bytes (entries measured as JSON), the oldest go first. A text field longer
 * than {@link maxJournalFieldChars} (a long path with its query, a long reason) is cut, with a marker saying how
 * much was cut.
 */

export type JournalService =
  | 'xsuaa'
  | 'identity'
  | 'destination'
  | 'connectivity'
  | 'control'
  | 'connectivity-proxy'
  | 'socks5'
  | 'backend'
  | 'transparent-proxy'
  | 'cloud-connector'
  | 'other';

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

const instant = (value: number | string | undefined): number | undefined =>
  value === undefined ? undefined : typeof value === 'number' ? value : Date.parse(value);

/** The longest text a journal entry keeps in one field; the rest is replaced by {@link truncatedMarker}. */
export const maxJournalFieldChars = 2048;
export const truncatedMarker = (cut: number): string => `…[truncated ${cut} chars]`;
export const defaultJournalMaxBytes = 32 * 1024 * 1024;

/**
 * The time and duration of an entry, written the same way by every writer (the services' middleware, the proxies,
 * the backend): `time` from the emulator's clock (it may be frozen), `durationMs` from `started`
 * (a `performance.now()` reading) to now, rounded to the microsecond.
 */
export function entryTiming(now: number, started: number): { time: string; durationMs: number } {
  return { time: new Date(now).toISOString(), durationMs: Math.round((performance.now() - started) * 1000) / 1000 };
}

function truncateFields(entry: JournalEntry): void {
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value === 'string' && value.length > maxJournalFieldChars)
      entry[key] = value.slice(0, maxJournalFieldChars) + truncatedMarker(value.length - maxJournalFieldChars);
  }
}

export class Journal {
  private entries: JournalEntry[] = [];
  /** Bytes (as JSON) of each entry in `entries`, and their sum. */
  private sizes: number[] = [];
  private bytes = 0;
  private nextId = 1;
  private readonly max: number;
  private readonly maxBytes: number;
  constructor(max = 10_000, maxBytes = defaultJournalMaxBytes) {
    this.max = max;
    this.maxBytes = maxBytes;
  }

  record(entry: Omit<JournalEntry, 'id'>): JournalEntry {
    const full = { ...entry, id: this.nextId++ } as JournalEntry;
    truncateFields(full);
    const size = JSON.stringify(full).length;
    this.entries.push(full);
    this.sizes.push(size);
    this.bytes += size;
    // Trim in batches (an eighth of the limits at a time), so a full journal does not copy itself on every request.
    if (this.entries.length > this.max + (this.max >> 3) || this.bytes > this.maxBytes)
      this.trim(this.max, this.maxBytes - (this.maxBytes >> 3));
    return full;
  }

  /** Drop the oldest entries until at most `entries` entries of at most `bytes` bytes are left. */
  private trim(entries: number, bytes: number): void {
    let drop = Math.max(0, this.entries.length - entries);
    let kept = this.bytes;
    for (let i = 0; i < drop; i++) kept -= this.sizes[i];
    while (drop < this.entries.length && kept > bytes) kept -= this.sizes[drop++];
    this.entries = this.entries.slice(drop);
    this.sizes = this.sizes.slice(drop);
    this.bytes = kept;
  }

  /** What the journal holds now, in entries and bytes (as JSON). */
  size(): { entries: number; bytes: number } {
    return { entries: Math.min(this.entries.length, this.max), bytes: this.bytes };
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
    this.sizes = [];
    this.bytes = 0;
  }
}
