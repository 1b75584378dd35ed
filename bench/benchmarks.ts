/**
 * The benchmarks behind `npm run bench` (bench/run.ts) and the CI smoke run (bench/smoke.ts): emulator
 * startup, reset and token issuing, each measured next to a baseline taken in the same run, so the ratio
 * says what the emulator adds on top of what Node itself costs on this machine.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { cpus } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliFile = join(repoRoot, 'emulator', 'cli', 'main.ts');

export interface BenchSettings {
  /** Warm `startEmulator({ port: 0 })` + `stop()` runs (≥ 30 for a real run). */
  startRuns: number;
  /** Starts with an empty TLS folder, so the CA and server certificate are generated. */
  coldTlsRuns: number;
  /** Child processes started with the CLI, timed to the ready line. */
  processRuns: number;
  resetRuns: number;
  /** Tokens issued per token benchmark, per concurrency level. */
  tokens: number;
  /** Requests (or signatures) in flight at once for the concurrent token benchmark. */
  tokenConcurrency: number;
}

export const fullSettings: BenchSettings = { startRuns: 50, coldTlsRuns: 5, processRuns: 10, resetRuns: 2000, tokens: 2000, tokenConcurrency: 8 };
export const smokeSettings: BenchSettings = { startRuns: 3, coldTlsRuns: 1, processRuns: 1, resetRuns: 20, tokens: 20, tokenConcurrency: 4 };

export interface BenchResult {
  name: string;
  unit: 'ms' | 'tokens/s';
  value: number;
  baseline: { name: string; value: number };
  /** value / baseline: how many times the baseline the emulator costs (ms) or achieves (tokens/s). */
  ratio: number;
  /** The aim, where it states one (printed, not asserted). */
  aim?: string;
  runs: number;
}

export interface BenchReport {
  date: string;
  node: string;
  platform: string;
  cpu: string;
  cpuCount: number;
  settings: BenchSettings;
  /** `import('../emulator/index.ts')` in this process, once (module loading is not part of the start figures). */
  importMs: number;
  results: BenchResult[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timeMs(run: () => unknown): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

function result(name: string, unit: BenchResult['unit'], value: number, baselineName: string, baselineValue: number, runs: number, aim?: string): BenchResult {
  return { name, unit, value, baseline: { name: baselineName, value: baselineValue }, ratio: value / baselineValue, runs, ...(aim ? { aim } : {}) };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

type StartEmulator = typeof import('../emulator/index.ts').startEmulator;

/** Warm starts in this process: startEmulator to ready, and start + stop, each next to a bare http.createServer. */
async function benchStartup(startEmulator: StartEmulator, settings: BenchSettings): Promise<BenchResult[]> {
  const toReady: number[] = [];
  const withStop: number[] = [];
  const bareListen: number[] = [];
  const bareWithClose: number[] = [];
  // Interleaved, so both see the same machine state (GC, CPU frequency, other processes).
  for (let i = 0; i < settings.startRuns; i++) {
    const started = performance.now();
    const emulator = await startEmulator({ port: 0 });
    toReady.push(performance.now() - started);
    await emulator.stop();
    withStop.push(performance.now() - started);

    const bareStarted = performance.now();
    const server = createServer((_req, res) => res.end());
    await listen(server);
    bareListen.push(performance.now() - bareStarted);
    await close(server);
    bareWithClose.push(performance.now() - bareStarted);
  }
  return [
    result('start: startEmulator({ port: 0 }) to ready', 'ms', median(toReady), 'http.createServer + listen(0)', median(bareListen), settings.startRuns, '≤ 100 ms'),
    result('start + stop()', 'ms', median(withStop), 'http.createServer + listen(0) + close()', median(bareWithClose), settings.startRuns),
  ];
}

/** The very first start on a machine: no CA or server certificate on disk yet, so both are generated. */
async function benchColdTlsStart(startEmulator: StartEmulator, settings: BenchSettings): Promise<BenchResult> {
  const starts: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < settings.coldTlsRuns; i++) {
    const tlsDir = mkdtempSync(join(tmpdir(), 'btp-emulator-bench-tls-'));
    try {
      const started = performance.now();
      const emulator = await startEmulator({ port: 0, tlsDir });
      starts.push(performance.now() - started);
      await emulator.stop();
    } finally {
      rmSync(tlsDir, { recursive: true, force: true });
    }
    const server = createServer();
    bare.push(await timeMs(() => listen(server)));
    await close(server);
  }
  return result('first start on a machine (CA + server certificate generated)', 'ms', median(starts), 'http.createServer + listen(0)', median(bare), settings.coldTlsRuns);
}

/** Spawn a process and resolve with the ms until it prints `ready`; then SIGTERM it and wait for its exit. */
async function timeProcessToReady(args: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const elapsed = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready')) resolve(performance.now() - started);
    });
    void exited.then((code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready: ${stderr}`)));
  });
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`${args.join(' ')} did not stop cleanly on SIGTERM (exit ${code}): ${stderr}`);
  return elapsed;
}

const bareServerScript = "const s = require('node:http').createServer(); process.once('SIGTERM', () => s.close(() => process.exit(0))); s.listen(0, '127.0.0.1', () => console.log('ready'));";

/** What a developer waits for after `npm start`: a new node process to the CLI's ready line. */
async function benchProcessStart(settings: BenchSettings): Promise<BenchResult> {
  const cli: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < settings.processRuns; i++) {
    cli.push(await timeProcessToReady([cliFile, 'start', '--port', '0']));
    bare.push(await timeProcessToReady(['-e', bareServerScript]));
  }
  return result('process: `btp-emulator start --port 0` to ready line', 'ms', median(cli), 'node -e "http.createServer().listen(0)" to ready', median(bare), settings.processRuns);
}

/** reset() with the bundled default scenario, next to a structuredClone of that scenario (copying its data). */
async function benchReset(startEmulator: StartEmulator, settings: BenchSettings): Promise<BenchResult> {
  const emulator = await startEmulator({ port: 0, scenario: 'default' });
  try {
    const resets: number[] = [];
    const clones: number[] = [];
    for (let i = 0; i < settings.resetRuns; i++) {
      let started = performance.now();
      emulator.reset();
      resets.push(performance.now() - started);
      started = performance.now();
      structuredClone(emulator.core.scenario);
      clones.push(performance.now() - started);
    }
    return result('reset() with the default scenario', 'ms', median(resets), 'structuredClone(default scenario)', median(clones), settings.resetRuns, '≤ 2 ms');
  } finally {
    await emulator.stop();
  }
}

/** Run `total` calls of `task`, `concurrency` at a time; tokens per second. */
async function throughput(total: number, concurrency: number, task: () => Promise<void>): Promise<number> {
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

/**
 * client_credentials tokens over HTTP (fetch, keep-alive) next to signing the same JWT (same header, claims
 * and key) with jose directly: the difference is HTTP, client authentication, claims building and JSON.
 */
async function benchTokens(startEmulator: StartEmulator, settings: BenchSettings): Promise<BenchResult[]> {
  const emulator = await startEmulator({ port: 0, scenario: 'default' });
  try {
    const vcap = JSON.parse(emulator.env.VCAP_SERVICES) as { xsuaa: { credentials: { clientid: string; clientsecret: string } }[] };
    const { clientid, clientsecret } = vcap.xsuaa[0].credentials;
    const tokenUrl = `${emulator.urls.services}/oauth/token`;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientid, client_secret: clientsecret }).toString();
    let lastJwt = '';
    const requestToken = async (): Promise<void> => {
      const res = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
      lastJwt = ((await res.json()) as { access_token: string }).access_token;
    };
    // Warm up the connection pool and the JIT for both paths before measuring.
    for (let i = 0; i < 20; i++) await requestToken();

    const header = decodeProtectedHeader(lastJwt);
    const claims = decodeJwt(lastJwt);
    const key = emulator.core.keys.active.privateKey;
    const signDirectly = async (): Promise<void> => {
      const jwt = await new SignJWT(claims).setProtectedHeader({ ...header, alg: 'RS256' }).sign(key);
      if (!jwt) throw new Error('jose returned no JWT');
    };
    for (let i = 0; i < 20; i++) await signDirectly();

    const results: BenchResult[] = [];
    for (const concurrency of [1, settings.tokenConcurrency]) {
      const overHttp = await throughput(settings.tokens, concurrency, requestToken);
      const direct = await throughput(settings.tokens, concurrency, signDirectly);
      results.push(
        result(`client_credentials tokens over HTTP, ${concurrency} in flight`, 'tokens/s', overHttp, `jose SignJWT of the same JWT, ${concurrency} in flight`, direct, settings.tokens),
      );
    }
    return results;
  } finally {
    await emulator.stop();
  }
}

export async function runBenchmarks(settings: BenchSettings): Promise<BenchReport> {
  const importStarted = performance.now();
  const { startEmulator } = await import('../emulator/index.ts');
  const importMs = performance.now() - importStarted;

  // One start outside the measurements: it creates the default TLS material if this machine has none yet.
  await (await startEmulator({ port: 0 })).stop();

  const results = [
    ...(await benchStartup(startEmulator, settings)),
    await benchColdTlsStart(startEmulator, settings),
    await benchProcessStart(settings),
    await benchReset(startEmulator, settings),
    ...(await benchTokens(startEmulator, settings)),
  ];
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpu[0]?.model ?? 'unknown',
    cpuCount: cpu.length,
    settings,
    importMs,
    results,
  };
}

function format(value: number, unit: BenchResult['unit']): string {
  if (unit === 'tokens/s') return `${Math.round(value)} tokens/s`;
  return value < 1 ? `${value.toFixed(3)} ms` : `${value.toFixed(2)} ms`;
}

/** The report as a plain-text table: benchmark, median (or rate), baseline, ratio, aim. */
export function formatTable(report: BenchReport): string {
  const rows = report.results.map((r) => [r.name, format(r.value, r.unit), `${r.baseline.name}: ${format(r.baseline.value, r.unit)}`, `${r.ratio.toFixed(2)}×`, r.aim ?? '', String(r.runs)]);
  const header = ['benchmark', 'median / rate', 'baseline (same run)', 'ratio', 'aim', 'runs'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [
    `node ${report.node}, ${report.platform}, ${report.cpuCount} × ${report.cpu}; importing the emulator: ${report.importMs.toFixed(1)} ms (once, not in the start figures)`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}
