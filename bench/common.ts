/** What every benchmark file shares: the result shape, medians, timing and small socket helpers. */
import type { Server } from 'node:http';

export type BenchUnit = 'ms' | 'tokens/s' | 'requests/s' | 'MB/s' | 'MB';

export interface BenchResult {
  name: string;
  unit: BenchUnit;
  value: number;
  baseline: { name: string; value: number };
  /** value / baseline: how many times the baseline the emulator costs (ms, MB) or achieves (per second). */
  ratio: number;
  /** The aim, where it states one (printed, not asserted). */
  aim?: string;
  /** Whether the ratio meets the aim (only for aims stated as a ratio). */
  aimMet?: boolean;
  runs: number;
  /** Anything else worth reading next to the figure (errors seen, spread, …). */
  note?: string;
}

/** An aim on the ratio: `max` for costs (≤), `min` for rates (≥). */
export interface RatioAim {
  text: string;
  max?: number;
  min?: number;
}

export function median(values: number[]): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function timeMs(run: () => unknown): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export function result(
  name: string,
  unit: BenchUnit,
  value: number,
  baselineName: string,
  baselineValue: number,
  runs: number,
  aim?: string | RatioAim,
  note?: string,
): BenchResult {
  const ratio = value / baselineValue;
  const out: BenchResult = { name, unit, value, baseline: { name: baselineName, value: baselineValue }, ratio, runs };
  if (typeof aim === 'string') out.aim = aim;
  else if (aim) {
    out.aim = aim.text;
    out.aimMet = (aim.max === undefined || ratio <= aim.max) && (aim.min === undefined || ratio >= aim.min);
  }
  if (note) out.note = note;
  return out;
}

export function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

/** Run `total` calls of `task`, `concurrency` at a time; calls per second. */
export async function throughput(total: number, concurrency: number, task: () => Promise<void>): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      await task();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total / ((performance.now() - started) / 1000);
}

export type StartEmulator = typeof import('../emulator/index.ts').startEmulator;
export type EmulatorHandle = import('../emulator/index.ts').EmulatorHandle;

/** A client-credentials token of one of the default scenario's bindings, optionally for another tenant (zid). */
export async function bindingToken(emu: EmulatorHandle, service: 'xsuaa' | 'destination' | 'connectivity', zid?: string): Promise<string> {
  const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { credentials: Record<string, string> }[]>;
  const { clientid, clientsecret } = vcap[service][0].credentials;
  const res = await fetch(`${emu.urls.services}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(zid ? { 'x-zid': zid } : {}) },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientid, client_secret: clientsecret }),
  });
  if (res.status !== 200) throw new Error(`token request for ${service} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
