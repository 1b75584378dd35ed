/**
 * The connectivity proxy as it is deployed: the emulator in a process of its own (the CLI, as `npm start` or the
 * container runs it), the on-prem system in another (here a second emulator's fake backend), the client in this
 * one. The in-process group (connectivity.ts) runs client, proxy and backend on one event loop, so every byte the
 * proxy handles is time the client and the backend do not get, and a bulk ratio cannot go much above 0.5× there.
 * Here each side has its own thread, as for an app that calls through the emulator. Same clients, same requests,
 * interleaved with the direct baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, result, type BenchResult } from './common.ts';
import {
  benchHttpHost,
  benchLocation,
  benchTcpHost,
  httpCall,
  interleaved,
  mbPerSecond,
  RawHttpConnection,
  socksTunnel,
  tcpConnect,
  type ConnectivitySettings,
  type HttpTarget,
} from './connectivity.ts';

const cliFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'emulator', 'cli', 'main.ts');

export interface Child {
  process: ChildProcess;
  ports: { services: number; httpProxy: number; socks5: number; backend: number };
}

/** `btp-emulator start` in a child process, resolved with the ports of its ready line. */
export function startCli(args: string[], nodeArgs: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, cliFile, 'start', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the emulator did not get ready: ${out}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = (label: string): number => Number(new RegExp(`${label} \\w+://[^:]+:(\\d+)`).exec(out)?.[1]);
      if (!out.includes('btp-emulator ready')) return;
      clearTimeout(timer);
      resolve({
        process: child,
        ports: { services: port('services'), httpProxy: port('HTTP proxy'), socks5: port('SOCKS5'), backend: port('backend') },
      });
    });
    child.on('exit', (code) => reject(new Error(`the emulator exited (${code}) before it was ready: ${out}`)));
  });
}

export async function stop(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null) return;
  const closed = new Promise((resolve) => child.process.on('close', resolve));
  child.process.kill('SIGTERM');
  await closed;
}

/** A client-credentials token of the connectivity binding, over HTTP. */
export async function connectivityToken(services: number): Promise<string> {
  const env = (await (await fetch(`http://127.0.0.1:${services}/_emulator/env`)).json()) as { VCAP_SERVICES: string };
  const { clientid, clientsecret } = (
    JSON.parse(env.VCAP_SERVICES) as { connectivity: { credentials: { clientid: string; clientsecret: string } }[] }
  ).connectivity[0].credentials;
  const res = await fetch(`http://127.0.0.1:${services}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientid, client_secret: clientsecret }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** The scenario of the emulator process: the benchmark's connector, HTTP and TCP mappings of `backendPort`. */
export function benchScenario(backendPort: number): object {
  return {
    name: 'bench-processes',
    tenants: [
      {
        subdomain: 'provider',
        cloudConnectors: [
          {
            locationId: benchLocation,
            systems: [
              {
                virtualHost: 'bench.internal',
                virtualPort: 80,
                internalHost: '127.0.0.1',
                internalPort: backendPort,
                protocol: 'HTTP',
              },
              {
                virtualHost: benchTcpHost.host,
                virtualPort: benchTcpHost.port,
                internalHost: '127.0.0.1',
                internalPort: backendPort,
                protocol: 'TCP',
              },
            ],
          },
        ],
      },
    ],
  };
}

export async function benchProxyProcesses(settings: ConnectivitySettings): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'btp-bench-processes-'));
  let onPrem: Child | undefined;
  let emulator: Child | undefined;
  try {
    onPrem = await startCli([]);
    const scenario = benchScenario(onPrem.ports.backend);
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
    emulator = await startCli(['--scenario', join(dir, 'scenario.json')]);
    const token = await connectivityToken(emulator.ports.services);
    const results: BenchResult[] = [];
    const label = '(emulator and backend in processes of their own)';
    const warm = Math.max(5, Math.round(settings.latencyRequests / 10));

    const directAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const proxyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const direct: HttpTarget = {
      agent: directAgent,
      options: (path) => ({ host: '127.0.0.1', port: onPrem!.ports.backend, path, headers: {} }),
    };
    const proxied: HttpTarget = {
      agent: proxyAgent,
      options: (path) => ({
        host: '127.0.0.1',
        port: emulator!.ports.httpProxy,
        path: `http://${benchHttpHost}${path}`,
        headers: { 'proxy-authorization': `Bearer ${token}`, host: benchHttpHost, 'sap-connectivity-scc-location_id': benchLocation },
      }),
    };
    const small = '/bytes/64';
    await interleaved(
      warm,
      () => httpCall(direct, small),
      () => httpCall(proxied, small),
    );
    const [d, p] = await interleaved(
      settings.latencyRequests,
      () => httpCall(direct, small),
      () => httpCall(proxied, small),
    );
    results.push(
      result(
        `HTTP proxy 20003: small request latency ${label}`,
        'ms',
        median(p),
        'direct to the backend process',
        median(d),
        settings.latencyRequests,
        { text: '≤ 1.3× direct', max: 1.3 },
      ),
    );

    const bulk = `/bytes/${settings.bulkBytes}`;
    await interleaved(
      1,
      () => httpCall(direct, bulk),
      () => httpCall(proxied, bulk),
    );
    const [dg, pg] = await interleaved(
      settings.bulkRuns,
      () => httpCall(direct, bulk),
      () => httpCall(proxied, bulk),
    );
    results.push(
      result(
        `HTTP proxy 20003: download throughput ${label}`,
        'MB/s',
        mbPerSecond(settings.bulkBytes, median(pg)),
        'direct to the backend process',
        mbPerSecond(settings.bulkBytes, median(dg)),
        settings.bulkRuns,
        { text: '≥ 0.8× direct', min: 0.8 },
      ),
    );
    const [du, pu] = await interleaved(
      settings.bulkRuns,
      () => httpCall(direct, '/discard', 'POST', settings.bulkBytes),
      () => httpCall(proxied, '/discard', 'POST', settings.bulkBytes),
    );
    results.push(
      result(
        `HTTP proxy 20003: upload throughput ${label}`,
        'MB/s',
        mbPerSecond(settings.bulkBytes, median(pu)),
        'direct to the backend process',
        mbPerSecond(settings.bulkBytes, median(du)),
        settings.bulkRuns,
        { text: '≥ 0.8× direct', min: 0.8 },
      ),
    );
    directAgent.destroy();
    proxyAgent.destroy();

    const viaSocks = new RawHttpConnection(await socksTunnel(emulator.ports.socks5, token, benchLocation, benchTcpHost));
    const directTcp = new RawHttpConnection(await tcpConnect(onPrem.ports.backend));
    await interleaved(
      1,
      () => directTcp.get(bulk),
      () => viaSocks.get(bulk),
    );
    const [sd, sp] = await interleaved(
      settings.bulkRuns,
      () => directTcp.get(bulk),
      () => viaSocks.get(bulk),
    );
    results.push(
      result(
        `SOCKS5 20004: download throughput ${label}`,
        'MB/s',
        mbPerSecond(settings.bulkBytes, median(sp)),
        'direct TCP to the backend process',
        mbPerSecond(settings.bulkBytes, median(sd)),
        settings.bulkRuns,
        { text: '≥ 0.9× direct', min: 0.9 },
      ),
    );
    viaSocks.close();
    directTcp.close();
    return results;
  } finally {
    await Promise.all([stop(emulator), stop(onPrem)]);
    rmSync(dir, { recursive: true, force: true });
  }
}
