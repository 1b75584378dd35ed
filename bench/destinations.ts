/**
 * Destination Service find throughput next to a bare Node HTTP server answering the same JSON, and how the
 * find and proxy costs grow from 10 to 10,000 destinations (and as many Cloud Connector system mappings).
 */
import { createServer } from 'node:http';
import { Agent } from 'node:http';
import { httpCall, proxiedTarget, type HttpTarget } from './connectivity.ts';
import {
  bindingToken,
  close,
  listen,
  median,
  result,
  throughput,
  type BenchResult,
  type EmulatorHandle,
  type StartEmulator,
} from './common.ts';

export interface DestinationSettings {
  /** Find requests per concurrency level. */
  finds: number;
  findConcurrency: number;
  /** Destination counts for the growth figures (first = the baseline). */
  scaleSizes: number[];
  /** Sequential requests per size for the growth figures. */
  scaleRequests: number;
}

const findPath = (name: string): string => `/destination-configuration/v1/destinations/${name}`;

async function getOk(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

/** Find (subaccount level, no auth tokens to retrieve) over HTTP vs a plain server sending the same JSON. */
export async function benchFind(startEmulator: StartEmulator, settings: DestinationSettings): Promise<BenchResult[]> {
  const emu = await startEmulator({ port: 0, scenario: 'default' });
  const bare = createServer((_req, res) => {
    // The same work a plain JSON endpoint does: serialise the object on every request.
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  let body: unknown;
  try {
    const token = await bindingToken(emu, 'destination');
    const headers = { authorization: `Bearer ${token}` };
    const url = `${emu.urls.services}${findPath('BACKEND_BASIC')}`;
    const first = await fetch(url, { headers });
    if (first.status !== 200) throw new Error(`find failed: ${first.status} ${await first.text()}`);
    body = await first.json();
    await listen(bare);
    const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}${findPath('BACKEND_BASIC')}`;
    for (let i = 0; i < 50; i++) {
      await getOk(url, headers);
      await getOk(bareUrl, headers);
    }
    const results: BenchResult[] = [];
    for (const concurrency of [1, settings.findConcurrency]) {
      const emulated = await throughput(settings.finds, concurrency, () => getOk(url, headers));
      const plain = await throughput(settings.finds, concurrency, () => getOk(bareUrl, headers));
      results.push(
        result(
          `destination find over HTTP, ${concurrency} in flight (BasicAuthentication)`,
          'requests/s',
          emulated,
          'Node HTTP server sending the same JSON',
          plain,
          settings.finds,
        ),
      );
    }
    return results;
  } finally {
    if (bare.listening) await close(bare);
    await emu.stop();
  }
}

/** The default scenario's provider with `count` extra destinations and a connector with `count` systems. */
function scaled(emu: EmulatorHandle, scenario: EmulatorHandle['core']['scenario'], count: number): void {
  const destinations = Array.from({ length: count }, (_, i) => ({
    Name: `SCALE_${i}`,
    Type: 'HTTP',
    URL: `http://scale-${i}.internal:80`,
    Authentication: 'NoAuthentication',
    ProxyType: 'OnPremise',
    CloudConnectorLocationId: 'SCALE',
  }));
  const systems = Array.from({ length: count }, (_, i) => ({
    virtualHost: `scale-${i}.internal`,
    virtualPort: 80,
    internalHost: '127.0.0.1',
    internalPort: emu.ports.backendHttp,
    protocol: 'HTTP',
  }));
  emu.loadScenario({
    ...scenario,
    tenants: scenario.tenants.map((t, i) =>
      i === 0
        ? {
            ...t,
            destinations: [...t.destinations, ...destinations],
            cloudConnectors: [...t.cloudConnectors, { locationId: 'SCALE', systems }],
          }
        : t,
    ),
  });
}

/** Find and proxy latency for the last of N destinations / system mappings, N from 10 to 10,000. */
export async function benchScaling(startEmulator: StartEmulator, settings: DestinationSettings): Promise<BenchResult[]> {
  const emu = await startEmulator({ port: 0, scenario: 'default' });
  try {
    const find: number[] = [];
    const proxy: number[] = [];
    const base = emu.core.scenario;
    // The first size runs twice and its first pass is dropped: it warms up the JIT and the connections.
    for (const size of [settings.scaleSizes[0], ...settings.scaleSizes]) {
      scaled(emu, base, size);
      const last = size - 1;
      const destinationToken = await bindingToken(emu, 'destination');
      const connectivityToken = await bindingToken(emu, 'connectivity');
      const url = `${emu.urls.services}${findPath(`SCALE_${last}`)}`;
      const headers = { authorization: `Bearer ${destinationToken}` };
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const target: HttpTarget = proxiedTarget(emu, agent, connectivityToken, `scale-${last}.internal:80`, 'SCALE');
      const findTimes: number[] = [];
      const proxyTimes: number[] = [];
      for (let i = 0; i < settings.scaleRequests + 50; i++) {
        let started = performance.now();
        await getOk(url, headers);
        if (i >= 50) findTimes.push(performance.now() - started);
        started = performance.now();
        await httpCall(target, '/bytes/64');
        if (i >= 50) proxyTimes.push(performance.now() - started);
      }
      agent.destroy();
      find.push(median(findTimes));
      proxy.push(median(proxyTimes));
    }
    find.shift();
    proxy.shift();
    const sizes = settings.scaleSizes;
    const lastSize = sizes[sizes.length - 1];
    const series = (values: number[]): string => sizes.map((s, i) => `${s}: ${values[i].toFixed(3)} ms`).join(', ');
    return [
      result(
        `destination find with ${lastSize} destinations (the last one)`,
        'ms',
        find[find.length - 1],
        `the same with ${sizes[0]} destinations`,
        find[0],
        settings.scaleRequests,
        { text: 'flat (≤ 1.5×)', max: 1.5 },
        series(find),
      ),
      result(
        `HTTP proxy request with ${lastSize} system mappings (the last one)`,
        'ms',
        proxy[proxy.length - 1],
        `the same with ${sizes[0]} mappings`,
        proxy[0],
        settings.scaleRequests,
        { text: 'flat (≤ 1.5×)', max: 1.5 },
        series(proxy),
      ),
    ];
  } finally {
    await emu.stop();
  }
}
