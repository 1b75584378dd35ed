/**
 * The `load` group: the figures issue 15 quotes, on loopback only. 2,000 proxied requests at once through the
 * HTTP proxy (20003), 2,000 SOCKS5 tunnels at once to the TCP echo (20004), and 10,000 token requests (50 in
 * flight): for each, the errors seen (aim: 0) and the process's RSS after it next to the RSS before it.
 */
import { Agent } from 'node:http';
import { bindingToken, result, type BenchResult, type StartEmulator } from './common.ts';
import { addBenchConnector, httpCall, proxiedTarget, socksTunnel } from './connectivity.ts';

export interface LoadSettings {
  loadProxied: number;
  loadTunnels: number;
  loadTokens: number;
}

const rssMb = (): number => process.memoryUsage().rss / 1024 / 1024;

async function settle(
  count: number,
  task: (i: number) => Promise<unknown>,
  concurrency = count,
): Promise<{ errors: number; first: string; seconds: number }> {
  let errors = 0;
  let first = '';
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i).catch((err: unknown) => {
        errors++;
        first ||= String(err);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { errors, first, seconds: (performance.now() - started) / 1000 };
}

function loadResult(name: string, count: number, before: number, outcome: { errors: number; first: string; seconds: number }): BenchResult {
  const out = result(
    `load: ${name}`,
    'MB',
    rssMb(),
    'RSS before',
    before,
    1,
    undefined,
    `${outcome.errors} errors of ${count}${outcome.first ? ` (first: ${outcome.first})` : ''}; ${Math.round(count / outcome.seconds)}/s`,
  );
  out.aim = '0 errors';
  out.aimMet = outcome.errors === 0;
  return out;
}

export async function benchLoad(startEmulator: StartEmulator, settings: LoadSettings): Promise<BenchResult[]> {
  const emu = await startEmulator({ port: 0, scenario: 'default' });
  try {
    addBenchConnector(emu);
    const token = await bindingToken(emu, 'connectivity');
    const results: BenchResult[] = [];

    let before = rssMb();
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const target = proxiedTarget(emu, agent, token);
    const proxied = await settle(settings.loadProxied, async () => {
      const bytes = await httpCall(target, '/bytes/2048');
      if (bytes !== 2048) throw new Error(`got ${bytes} bytes`);
    });
    agent.destroy();
    results.push(loadResult(`${settings.loadProxied} proxied requests at once (20003)`, settings.loadProxied, before, proxied));

    before = rssMb();
    const tunnels = await settle(settings.loadTunnels, async (i) => {
      const socket = await socksTunnel(emu.ports.socks5, token, '', { host: 'tcp.internal', port: 7000 });
      const text = `hello ${i}`;
      await new Promise<void>((resolve, reject) => {
        let received = '';
        socket.on('data', (c: Buffer) => {
          received += c.toString();
          if (received.length >= text.length) {
            socket.destroy();
            if (received === text) resolve();
            else reject(new Error(`tunnel ${i} echoed ${received}`));
          }
        });
        socket.on('error', reject);
        socket.resume();
        socket.write(text);
      });
    });
    results.push(loadResult(`${settings.loadTunnels} SOCKS5 tunnels at once (20004)`, settings.loadTunnels, before, tunnels));

    before = rssMb();
    const tokens = await settle(settings.loadTokens, () => bindingToken(emu, 'xsuaa'), 50);
    results.push(loadResult(`${settings.loadTokens} token requests, 50 in flight`, settings.loadTokens, before, tokens));
    return results;
  } finally {
    await emu.stop();
  }
}
