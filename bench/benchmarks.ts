/**
 * The benchmarks behind `npm run bench` (bench/run.ts) and the CI smoke run (bench/smoke.ts): emulator
 * startup, reset, token issuing (here), destination find and its growth with 10 → 10,000 destinations
 * (destinations.ts), the connectivity proxy against direct connections (connectivity.ts), the Transparent Proxy
 * against the connectivity proxy (transparent-proxy.ts) and memory
 * (memory.ts), each measured next to a baseline taken in the same run, so the ratio says what the emulator adds
 * on top of what Node itself costs on this machine.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { close, listen, median, result, throughput, timeMs, type BenchResult, type StartEmulator } from './common.ts';
import { benchConnectivity, type ConnectivitySettings } from './connectivity.ts';
import { benchTransparentProxy } from './transparent-proxy.ts';
import { benchFind, benchScaling, type DestinationSettings } from './destinations.ts';
import { benchMemory, type MemorySettings } from './memory.ts';
import { benchPersistence, type PersistenceSettings } from './persistence.ts';
import { benchProxyProcesses } from './proxy-processes.ts';
import { benchLoad, type LoadSettings } from './load.ts';
import { benchIasTokens } from './ias.ts';
import { benchBulkPost, benchFreshInstance, benchScenarioFile, type CorePathSettings } from './core-paths.ts';
import { benchPeers, type PeerSettings } from './peers.ts';
import { benchFlows, type FlowSettings } from './flows.ts';

export { median, type BenchResult } from './common.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliFile = join(repoRoot, 'emulator', 'cli', 'bin.js'); // the executable's entry: it turns the compile cache on

export interface BenchSettings
  extends
    ConnectivitySettings,
    PeerSettings,
    FlowSettings,
    DestinationSettings,
    MemorySettings,
    PersistenceSettings,
    LoadSettings,
    CorePathSettings {
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

export const fullSettings: BenchSettings = {
  startRuns: 50,
  coldTlsRuns: 5,
  processRuns: 10,
  resetRuns: 2000,
  tokens: 2000,
  tokenConcurrency: 8,
  finds: 3000,
  findConcurrency: 8,
  scaleSizes: [10, 100, 1000, 10_000],
  scaleRequests: 300,
  latencyRequests: 2000,
  bulkBytes: 64 * 1024 * 1024,
  bulkRuns: 8,
  concurrentConnections: 500,
  memoryRuns: 3,
  soakRequests: 100_000,
  persistenceWrites: 500,
  loadProxied: 2000,
  loadTunnels: 2000,
  loadTokens: 10_000,
  scenarioFileDestinations: 100_000,
  scenarioFileRuns: 3,
  bulkPostItems: 10_000,
  bulkPostRuns: 5,
  instanceFlows: 200,
  peerRounds: 6,
  flowRuns: 200,
};
export const smokeSettings: BenchSettings = {
  startRuns: 3,
  coldTlsRuns: 1,
  processRuns: 1,
  resetRuns: 20,
  tokens: 20,
  tokenConcurrency: 4,
  finds: 20,
  findConcurrency: 4,
  scaleSizes: [10, 100],
  scaleRequests: 5,
  latencyRequests: 20,
  bulkBytes: 1024 * 1024,
  bulkRuns: 2,
  concurrentConnections: 20,
  memoryRuns: 1,
  soakRequests: 400,
  persistenceWrites: 10,
  loadProxied: 20,
  loadTunnels: 20,
  loadTokens: 50,
  scenarioFileDestinations: 1000,
  scenarioFileRuns: 1,
  bulkPostItems: 100,
  bulkPostRuns: 1,
  instanceFlows: 3,
  peerRounds: 2,
  flowRuns: 3,
};

export interface BenchReport {
  date: string;
  node: string;
  platform: string;
  cpu: string;
  cpuCount: number;
  /** 1, 5 and 15 minute load averages when the run ended: a busy machine makes every figure noisier. */
  loadAverage: number[];
  settings: BenchSettings;
  /** `import('../emulator/index.ts')` in this process, once (module loading is not part of the start figures). */
  importMs: number;
  /** The whole run, in seconds. */
  durationS: number;
  results: BenchResult[];
}

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
    result(
      'start: startEmulator({ port: 0 }) to ready',
      'ms',
      median(toReady),
      'http.createServer + listen(0)',
      median(bareListen),
      settings.startRuns,
      '≤ 100 ms',
    ),
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
  return result(
    'first start on a machine (CA + server certificate generated)',
    'ms',
    median(starts),
    'http.createServer + listen(0)',
    median(bare),
    settings.coldTlsRuns,
  );
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

const bareServerScript =
  "const s = require('node:http').createServer(); process.once('SIGTERM', () => s.close(() => process.exit(0))); s.listen(0, '127.0.0.1', () => console.log('ready'));";

/** What a developer waits for after `npm start`: a new node process to the CLI's ready line. */
async function benchProcessStart(settings: BenchSettings): Promise<BenchResult> {
  const cli: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < settings.processRuns; i++) {
    cli.push(await timeProcessToReady([cliFile, 'start', '--port', '0']));
    bare.push(await timeProcessToReady(['-e', bareServerScript]));
  }
  return result(
    'process: `btp-emulator start --port 0` to ready line',
    'ms',
    median(cli),
    'node -e "http.createServer().listen(0)" to ready',
    median(bare),
    settings.processRuns,
  );
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
    return result(
      'reset() with the default scenario',
      'ms',
      median(resets),
      'structuredClone(default scenario)',
      median(clones),
      settings.resetRuns,
      '≤ 2 ms',
    );
  } finally {
    await emulator.stop();
  }
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

    // The fair baseline: a bare node:http server in this same process (as the emulator is) that does what a token
    // endpoint cannot skip: read the form, check the client's credentials, sign the same JWT (fresh iat, exp and
    // jti), answer JSON. Driven by the same fetch client as the emulator.
    const bare = createServer((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        if (form.get('client_id') !== clientid || form.get('client_secret') !== clientsecret) return void res.writeHead(401).end();
        const now = Math.floor(Date.now() / 1000);
        new SignJWT({ ...claims, iat: now, exp: now + 43_199, jti: randomUUID() })
          .setProtectedHeader({ ...header, alg: 'RS256' })
          .sign(key)
          .then(
            (jwt) => {
              const text = JSON.stringify({
                access_token: jwt,
                token_type: 'bearer',
                expires_in: 43_199,
                scope: claims.scope,
                jti: randomUUID(),
              });
              res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
            },
            () => res.writeHead(500).end(),
          );
      });
    });
    await listen(bare);
    try {
      const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/oauth/token`;
      const requestBareToken = async (): Promise<void> => {
        const res = await fetch(bareUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
        if (res.status !== 200) throw new Error(`bare token server: ${res.status}`);
        if (!((await res.json()) as { access_token?: string }).access_token) throw new Error('bare token server: no token');
      };
      for (let i = 0; i < 20; i++) await requestBareToken();

      const results: BenchResult[] = [];
      for (const concurrency of [1, settings.tokenConcurrency]) {
        // Interleaved in halves, so the three see the same machine state.
        const half = Math.max(1, Math.round(settings.tokens / 2));
        const overHttp: number[] = [];
        const direct: number[] = [];
        const bareServer: number[] = [];
        for (let round = 0; round < 2; round++) {
          overHttp.push(await throughput(half, concurrency, requestToken));
          bareServer.push(await throughput(half, concurrency, requestBareToken));
          direct.push(await throughput(half, concurrency, signDirectly));
        }
        const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
        results.push(
          result(
            `client_credentials tokens over HTTP, ${concurrency} in flight`,
            'tokens/s',
            mean(overHttp),
            `jose SignJWT of the same JWT, ${concurrency} in flight`,
            mean(direct),
            settings.tokens,
          ),
          result(
            `client_credentials tokens over HTTP vs a bare token server, ${concurrency} in flight`,
            'tokens/s',
            mean(overHttp),
            'bare node:http token server (same process, same client)',
            mean(bareServer),
            settings.tokens,
            { text: '≥ 0.8× the bare server', min: 0.8 },
          ),
        );
      }
      return results;
    } finally {
      await close(bare);
    }
  } finally {
    await emulator.stop();
  }
}

/** The benchmark groups, in the order they run; `npm run bench -- proxy memory` runs only those named. */
export const benchGroups = [
  'startup',
  'reset',
  'tokens',
  'find',
  'scaling',
  'proxy',
  'tproxy',
  'processes',
  'peers',
  'memory',
  'persistence',
  'load',
  'instances',
  'flows',
] as const;
export type BenchGroup = (typeof benchGroups)[number];

export async function runBenchmarks(settings: BenchSettings, groups: readonly BenchGroup[] = benchGroups): Promise<BenchReport> {
  const started = performance.now();
  const importStarted = performance.now();
  const { startEmulator } = await import('../emulator/index.ts');
  const importMs = performance.now() - importStarted;

  // One start outside the measurements: it creates the default TLS material if this machine has none yet.
  await (await startEmulator({ port: 0 })).stop();

  const run: Record<BenchGroup, () => Promise<BenchResult[]>> = {
    startup: async () => [
      ...(await benchStartup(startEmulator, settings)),
      await benchColdTlsStart(startEmulator, settings),
      await benchProcessStart(settings),
    ],
    reset: async () => [await benchReset(startEmulator, settings)],
    tokens: async () => [...(await benchTokens(startEmulator, settings)), ...(await benchIasTokens(startEmulator, settings))],
    find: () => benchFind(startEmulator, settings),
    scaling: async () => [
      ...(await benchScaling(startEmulator, settings)),
      ...(await benchScenarioFile(settings)),
      ...(await benchBulkPost(startEmulator, settings)),
    ],
    proxy: () => benchConnectivity(startEmulator, settings),
    tproxy: () => benchTransparentProxy(startEmulator, settings),
    processes: () => benchProxyProcesses(settings),
    peers: () => benchPeers(settings),
    memory: () => benchMemory(settings),
    persistence: () => benchPersistence(startEmulator, settings),
    load: () => benchLoad(startEmulator, settings),
    instances: () => benchFreshInstance(startEmulator, settings),
    flows: () => benchFlows(startEmulator, settings),
  };
  const results: BenchResult[] = [];
  for (const group of benchGroups) if (groups.includes(group)) results.push(...(await run[group]()));
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpu[0]?.model ?? 'unknown',
    cpuCount: cpu.length,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    settings,
    importMs,
    durationS: (performance.now() - started) / 1000,
    results,
  };
}

function format(value: number, unit: BenchResult['unit']): string {
  if (unit === 'ms') return value < 1 ? `${value.toFixed(3)} ms` : `${value.toFixed(2)} ms`;
  if (unit === 'MB/s' || unit === 'MB') return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
  return `${Math.round(value)} ${unit}`;
}

/** The report as a plain-text table: benchmark, median (or rate), baseline, ratio, aim (✔ met, ✘ not); notes below. */
export function formatTable(report: BenchReport): string {
  const rows = report.results.map((r) => [
    r.name,
    format(r.value, r.unit),
    `${r.baseline.name}: ${format(r.baseline.value, r.unit)}`,
    `${r.ratio.toFixed(2)}×`,
    r.aim ? `${r.aim}${r.aimMet === undefined ? '' : r.aimMet ? ' ✔' : ' ✘'}` : '',
    String(r.runs),
  ]);
  const header = ['benchmark', 'median / rate', 'baseline (same run)', 'ratio', 'aim', 'runs'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const notes = report.results.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
  return [
    `node ${report.node}, ${report.platform}, ${report.cpuCount} × ${report.cpu}, load average ${report.loadAverage.join(' ')}; importing the emulator: ${report.importMs.toFixed(1)} ms (once, not in the start figures); whole run ${report.durationS.toFixed(0)} s`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ...(notes.length ? ['', 'notes:', ...notes] : []),
  ].join('\n');
}
