/**
 * The core's paths that issue 19 measured against plain Node (items 2, 3 and 5), each next to a baseline of the
 * same run:
 * - a large scenario from a JSON file (`scaling` group): `startEmulator({ scenario: file })` in a fresh process
 *   next to a bare `JSON.parse` of the same file in a fresh process (bench/core-paths-child.ts), time and peak RSS;
 * - a bulk POST of many destinations (`scaling` group): one request, next to a bare Node server that reads and
 *   parses the same body and answers one status per item;
 * - a fresh emulator per test (`instances` group): `startEmulator()` + the first SAP Cloud SDK `getDestination`
 *   + `stop()`, next to the same lookup on one shared emulator with `reset()` per test.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindingToken, close, listen, median, result, type BenchResult, type StartEmulator } from './common.ts';

export interface CorePathSettings {
  /** Destinations in the JSON scenario file (100 per tenant). */
  scenarioFileDestinations: number;
  /** Fresh processes per side for the scenario-file figures (median taken). */
  scenarioFileRuns: number;
  /** Destinations in the bulk POST. */
  bulkPostItems: number;
  bulkPostRuns: number;
  /** Per-test flows on each side for the fresh-instance figure. */
  instanceFlows: number;
}

const childFile = join(dirname(fileURLToPath(import.meta.url)), 'core-paths-child.ts');

interface ChildFigures {
  ms: number;
  rssMb: number;
  peakRssMb: number;
}

function runChild(args: string[]): Promise<ChildFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', childFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`core-paths-child ${args[0]} exited with ${code}: ${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildFigures);
      } catch {
        reject(new Error(`core-paths-child ${args[0]} printed no JSON: ${stdout} ${stderr}`));
      }
    });
  });
}

/** A scenario of `count` destinations, 100 per tenant (one provider and its subscribers). */
function largeScenario(count: number): object {
  const perTenant = 100;
  return {
    name: 'large',
    tenants: Array.from({ length: Math.ceil(count / perTenant) }, (_, t) => ({
      subdomain: t === 0 ? 'provider' : `tenant-${t}`,
      destinations: Array.from({ length: Math.min(perTenant, count - t * perTenant) }, (_, d) => ({
        Name: `DEST_${d}`,
        Type: 'HTTP',
        URL: `https://service-${t}-${d}.example.com/api`,
        Authentication: 'BasicAuthentication',
        ProxyType: 'Internet',
        User: `user-${d}`,
        Password: 'secret',
      })),
    })),
  };
}

export async function benchScenarioFile(settings: CorePathSettings): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'btp-emulator-bench-scenario-'));
  const file = join(dir, 'large.scenario.json');
  const count = settings.scenarioFileDestinations;
  try {
    writeFileSync(file, JSON.stringify(largeScenario(count), null, 2));
    const parse: ChildFigures[] = [];
    const start: ChildFigures[] = [];
    for (let i = 0; i < settings.scenarioFileRuns; i++) {
      parse.push(await runChild(['parse', file]));
      start.push(await runChild(['start', file]));
    }
    const of = (list: ChildFigures[], key: keyof ChildFigures): number => median(list.map((f) => f[key]));
    const spread = (list: ChildFigures[], key: keyof ChildFigures): string =>
      list.map((f) => f[key].toFixed(key === 'ms' ? 0 : 0)).join(', ');
    const n = count.toLocaleString('en-US');
    return [
      result(
        `startEmulator({ scenario: JSON file with ${n} destinations })`,
        'ms',
        of(start, 'ms'),
        'JSON.parse of the same file',
        of(parse, 'ms'),
        settings.scenarioFileRuns,
        '≤ 1 s at 100,000',
        `runs ${spread(start, 'ms')} ms against ${spread(parse, 'ms')} ms`,
      ),
      result(
        `peak RSS of that process (${n} destinations from JSON)`,
        'MB',
        of(start, 'peakRssMb'),
        'a process holding the parsed file',
        of(parse, 'peakRssMb'),
        settings.scenarioFileRuns,
        '≤ 1 GB at 100,000',
        `after the start and forced GCs ${of(start, 'rssMb').toFixed(0)} MB (the parsed file alone: ${of(parse, 'rssMb').toFixed(0)} MB)`,
      ),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `POST …/subaccountDestinations` with `count` destinations in one body, next to a bare server doing the I/O and JSON. */
export async function benchBulkPost(startEmulator: StartEmulator, settings: CorePathSettings): Promise<BenchResult[]> {
  const count = settings.bulkPostItems;
  const emu = await startEmulator({ port: 0, scenario: 'default', maxEntitiesPerLevel: count + 1000 });
  const bare = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const items = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Name: string }[];
      const text = JSON.stringify(items.map((item) => ({ name: item.Name, status: 201 })));
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  try {
    await listen(bare);
    const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/`;
    const url = `${emu.urls.services}/destination-configuration/v1/subaccountDestinations`;
    const token = await bindingToken(emu, 'destination');
    const body = JSON.stringify(
      Array.from({ length: count }, (_, i) => ({
        Name: `BULK_${i}`,
        Type: 'HTTP',
        URL: `https://bulk-${i}.example.com/api`,
        Authentication: 'BasicAuthentication',
        ProxyType: 'Internet',
        User: 'user',
        Password: 'secret',
      })),
    );
    const post = async (target: string): Promise<number> => {
      const started = performance.now();
      const res = await fetch(target, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      const answer = (await res.json()) as unknown[];
      const ms = performance.now() - started;
      if (res.status !== 201 || answer.length !== count) throw new Error(`bulk POST to ${target}: ${res.status}`);
      return ms;
    };
    const emulated: number[] = [];
    const plain: number[] = [];
    // One round of each first (JIT, connections), not counted.
    for (let i = 0; i <= settings.bulkPostRuns; i++) {
      emu.reset();
      const e = await post(url);
      const p = await post(bareUrl);
      if (i === 0) continue;
      emulated.push(e);
      plain.push(p);
    }
    return [
      result(
        `bulk POST of ${count.toLocaleString('en-US')} destinations (one request)`,
        'ms',
        median(emulated),
        'Node HTTP server parsing the same body, one status per item',
        median(plain),
        settings.bulkPostRuns,
        '≤ 0.3 s at 10,000',
        `runs ${emulated.map((v) => v.toFixed(0)).join(', ')} ms against ${plain.map((v) => v.toFixed(0)).join(', ')} ms`,
      ),
    ];
  } finally {
    if (bare.listening) await close(bare);
    await emu.stop();
  }
}

/**
 * An emulator per test against one shared emulator with `reset()` per test, both with the SAP Cloud SDK: a test is
 * `getDestination` (no destination cache) of an OnPremise destination and one request through the connectivity
 * proxy. Fresh: `startEmulator()` + the test + `stop()`, with `port: 'sticky'` and with `port: 0`. Shared: the
 * test + `reset()`. Interleaved flow by flow; the SDK's caches are cleared before each.
 */
export async function benchFreshInstance(startEmulator: StartEmulator, settings: CorePathSettings): Promise<BenchResult[]> {
  const { getDestination } = await import('@sap-cloud-sdk/connectivity');
  const { executeHttpRequest } = await import('@sap-cloud-sdk/http-client');
  const { clearSapCloudSdkCaches } = await import('../sdk-adapters/index.ts');
  const savedVcap = process.env.VCAP_SERVICES;
  const test = async (vcap: string): Promise<void> => {
    process.env.VCAP_SERVICES = vcap;
    const destination = await getDestination({ destinationName: 'ONPREM_LOC1', useCache: false });
    if (!destination?.url) throw new Error('ONPREM_LOC1 not found');
    const res = await executeHttpRequest({ ...destination, url: destination.url }, { method: 'get', url: '/bytes/64' });
    if (res.status !== 200) throw new Error(`proxied request: ${res.status}`);
  };
  const shared = await startEmulator({ port: 0, scenario: 'default' });
  try {
    const sticky: number[] = [];
    const anyPort: number[] = [];
    const reused: number[] = [];
    const flows = settings.instanceFlows;
    // The first tenth warms up the JIT, the connections and the SDK; not counted.
    const warmup = Math.max(1, Math.round(flows / 10));
    for (let i = 0; i < warmup + flows; i++) {
      // Every flow starts from an SDK that has seen no emulator (outside the timing), so each side fetches one
      // token and makes the same requests; what differs is the emulator.
      clearSapCloudSdkCaches();
      let started = performance.now();
      const fresh = await startEmulator({ port: 'sticky', scenario: 'default' });
      await test(fresh.env.VCAP_SERVICES);
      await fresh.stop();
      const stickyMs = performance.now() - started;

      clearSapCloudSdkCaches();
      started = performance.now();
      const other = await startEmulator({ port: 0, scenario: 'default' });
      await test(other.env.VCAP_SERVICES);
      await other.stop();
      const anyPortMs = performance.now() - started;

      clearSapCloudSdkCaches();
      started = performance.now();
      await test(shared.env.VCAP_SERVICES);
      shared.reset();
      const sharedMs = performance.now() - started;
      if (i < warmup) continue;
      sticky.push(stickyMs);
      anyPort.push(anyPortMs);
      reused.push(sharedMs);
    }
    const baseline = 'one shared emulator, test + reset()';
    return [
      result("per-test flow, fresh startEmulator({ port: 'sticky' }) + stop()", 'ms', median(sticky), baseline, median(reused), flows, {
        text: '≤ 1.5×',
        max: 1.5,
      }),
      result('per-test flow, fresh startEmulator({ port: 0 }) + stop()', 'ms', median(anyPort), baseline, median(reused), flows, {
        text: '≤ 1.5×',
        max: 1.5,
      }),
    ];
  } finally {
    await shared.stop();
    if (savedVcap === undefined) delete process.env.VCAP_SERVICES;
    else process.env.VCAP_SERVICES = savedVcap;
  }
}
