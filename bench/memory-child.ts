/**
 * One memory measurement in a fresh process (run with --expose-gc by bench/memory.ts and the soak test):
 *   node --expose-gc bench/memory-child.ts bare|idle|large
 *   node --expose-gc bench/memory-child.ts soak <requests>
 * Prints one JSON line: { rssMb, heapMb } for the first three; for soak the RSS after the warm-up (a fifth of
 * the requests, at least 12,000 so the journal is full), after each further fifth, and the errors seen.
 */
import { Agent, createServer } from 'node:http';
import { addBenchConnector, benchLocation, benchTcpHost, httpCall, proxiedTarget, RawHttpConnection, socksTunnel } from './connectivity.ts';
import { bindingToken } from './common.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function settle(): Promise<{ rssMb: number; heapMb: number; externalMb: number }> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const m = process.memoryUsage();
  return { rssMb: m.rss / 1024 / 1024, heapMb: m.heapUsed / 1024 / 1024, externalMb: m.external / 1024 / 1024 };
}

const [mode, countArg] = process.argv.slice(2);

if (mode === 'bare') {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  console.log(JSON.stringify(await settle()));
  server.close();
} else {
  const { startEmulator } = await import('../emulator/index.ts');
  const emu = await startEmulator({ port: 0, scenario: 'default' });
  try {
    if (mode === 'idle') {
      console.log(JSON.stringify(await settle()));
    } else if (mode === 'large') {
      // 1,000 tenants with 10 destinations each: 10,000 destinations.
      const scenario = emu.core.scenario;
      const extra = Array.from({ length: 1000 - scenario.tenants.length }, (_, t) => ({
        subdomain: `tenant-${t}`,
        destinations: Array.from({ length: 10 }, (_, d) => ({
          Name: `DEST_${d}`,
          Type: 'HTTP',
          URL: `https://service-${t}-${d}.example.com/api`,
          Authentication: 'BasicAuthentication',
          ProxyType: 'Internet',
          User: `user-${d}`,
          Password: 'secret',
        })),
      }));
      const tenants = [
        ...scenario.tenants.map((t) => ({
          ...t,
          destinations: [
            ...t.destinations,
            ...Array.from({ length: Math.max(0, 10 - t.destinations.length) }, (_, d) => ({
              Name: `FILL_${d}`,
              Type: 'HTTP',
              URL: 'https://fill.example.com',
              Authentication: 'NoAuthentication',
              ProxyType: 'Internet',
            })),
          ],
        })),
        ...extra,
      ];
      emu.loadScenario({ ...scenario, tenants });
      const destinations = emu.core.scenario.tenants.reduce((sum, t) => sum + t.destinations.length, 0);
      console.log(JSON.stringify({ ...(await settle()), tenants: emu.core.scenario.tenants.length, destinations }));
    } else if (mode === 'soak') {
      const total = Number(countArg ?? 100_000);
      // Past 10,000 requests the journal is full; a short (smoke) run warms up with half of its requests.
      const warmup = total >= 15_000 ? Math.max(12_000, Math.round(total / 5)) : Math.round(total / 2);
      addBenchConnector(emu);
      const connectivity = await bindingToken(emu, 'connectivity');
      const destination = await bindingToken(emu, 'destination');
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const proxied = proxiedTarget(emu, agent, connectivity);
      const findUrl = `${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_BASIC`;
      let errors = 0;
      let firstError = '';
      // Mostly proxied HTTP requests; every 10th a destination find, every 50th a whole SOCKS5 tunnel.
      const one = async (i: number): Promise<void> => {
        try {
          if (i % 50 === 0) {
            const connection = new RawHttpConnection(await socksTunnel(emu.ports.socks5, connectivity, benchLocation, benchTcpHost));
            await connection.get('/bytes/64');
            connection.close();
          } else if (i % 10 === 0) {
            const res = await fetch(findUrl, { headers: { authorization: `Bearer ${destination}` } });
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`find: ${res.status}`);
          } else {
            await httpCall(proxied, '/bytes/64');
          }
        } catch (err) {
          errors++;
          firstError ||= (err as Error).message;
        }
      };
      let next = 0;
      const run = async (until: number): Promise<void> => {
        const worker = async (): Promise<void> => {
          while (next < until) await one(next++);
        };
        await Promise.all(Array.from({ length: 8 }, worker));
      };
      const started = performance.now();
      await run(warmup);
      const afterWarmup = await settle();
      // RSS after every further tenth of the requests: flat means no trend, not just equal end points.
      const samples: number[] = [afterWarmup.rssMb];
      const step = (total - warmup) / 5;
      for (let k = 1; k <= 5; k++) {
        await run(Math.round(warmup + k * step));
        samples.push((await settle()).rssMb);
      }
      const atEnd = await settle();
      agent.destroy();
      console.log(
        JSON.stringify({
          requests: total,
          warmup,
          afterWarmupMb: afterWarmup.rssMb,
          atEndMb: atEnd.rssMb,
          rssSamplesMb: samples.map((v) => Math.round(v * 10) / 10),
          heapAfterWarmupMb: afterWarmup.heapMb,
          heapAtEndMb: atEnd.heapMb,
          externalAfterWarmupMb: afterWarmup.externalMb,
          externalAtEndMb: atEnd.externalMb,
          errors,
          firstError,
          seconds: (performance.now() - started) / 1000,
        }),
      );
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    await emu.stop();
  }
}
