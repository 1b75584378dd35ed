/**
 * The Kyma Transparent Proxy (20005) against the HTTP proxy (20003) in the same run: the same GET, through the
 * same Cloud Connector mapping to the same fake backend, once as a Kyma app sends it (`Host: bench.default`, the
 * proxy looks the destination up and takes the hop through the connectivity proxy's pipeline) and once as an app
 * with the connectivity proxy in its binding sends it (absolute-form with `Proxy-Authorization`). What the ratio
 * shows is what the Transparent Proxy adds on top of the proxy hop: routing, the lookup through the services port
 * (the instance token is cached), and the web Request/Response adapter of its gateway.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { bindingToken, median, result, type BenchResult, type StartEmulator } from './common.ts';
import {
  addBenchConnector,
  benchHttpHost,
  benchLocation,
  httpCall,
  interleaved,
  mbPerSecond,
  proxiedTarget,
  type ConnectivitySettings,
  type HttpTarget,
} from './connectivity.ts';

const smallPath = '/bytes/64';

/** The bundled scenario, with an OnPremise destination to the benchmark's mapping and a Destination CR for it. */
async function benchScenario(): Promise<Record<string, unknown>> {
  const { defaultScenarioFile } = await import('../emulator/index.ts');
  const scenario = parseYaml(readFileSync(defaultScenarioFile, 'utf8')) as { tenants: { destinations: unknown[] }[] } & Record<
    string,
    unknown
  >;
  scenario.tenants[0].destinations.push({
    Name: 'BENCH_ONPREM',
    Type: 'HTTP',
    URL: `http://${benchHttpHost}`,
    Authentication: 'NoAuthentication',
    ProxyType: 'OnPremise',
    CloudConnectorLocationId: benchLocation,
  });
  scenario.destinationCustomResources = [
    {
      apiVersion: 'destination.connectivity.api.sap/v1',
      kind: 'Destination',
      metadata: { name: 'bench', namespace: 'default' },
      spec: { destinationRef: { name: 'BENCH_ONPREM' } },
    },
  ];
  return scenario;
}

export async function benchTransparentProxy(startEmulator: StartEmulator, settings: ConnectivitySettings): Promise<BenchResult[]> {
  const emu = await startEmulator({ port: 0, scenario: await benchScenario() });
  const tpAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const proxyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    addBenchConnector(emu);
    const proxied = proxiedTarget(emu, proxyAgent, await bindingToken(emu, 'connectivity'));
    const transparent: HttpTarget = {
      agent: tpAgent,
      options: (path) => ({ host: '127.0.0.1', port: emu.ports.transparentProxy, path, headers: { host: 'bench.default' } }),
    };
    const results: BenchResult[] = [];
    const warm = Math.max(5, Math.round(settings.latencyRequests / 10));
    await interleaved(
      warm,
      () => httpCall(proxied, smallPath),
      () => httpCall(transparent, smallPath),
    );
    const [p, t] = await interleaved(
      settings.latencyRequests,
      () => httpCall(proxied, smallPath),
      () => httpCall(transparent, smallPath),
    );
    results.push(
      result(
        `Transparent Proxy 20005: small request latency (GET ${smallPath}, OnPremise, keep-alive)`,
        'ms',
        median(t),
        'the same request through the HTTP proxy 20003',
        median(p),
        settings.latencyRequests,
      ),
    );

    const bulkPath = `/bytes/${settings.bulkBytes}`;
    await interleaved(
      1,
      () => httpCall(proxied, bulkPath),
      () => httpCall(transparent, bulkPath),
    );
    const [pg, tg] = await interleaved(
      settings.bulkRuns,
      () => httpCall(proxied, bulkPath),
      () => httpCall(transparent, bulkPath),
    );
    results.push(
      result(
        `Transparent Proxy 20005: download throughput (GET /bytes/${settings.bulkBytes}, OnPremise)`,
        'MB/s',
        mbPerSecond(settings.bulkBytes, median(tg)),
        'the same download through the HTTP proxy 20003',
        mbPerSecond(settings.bulkBytes, median(pg)),
        settings.bulkRuns,
      ),
    );
    return results;
  } finally {
    tpAgent.destroy();
    proxyAgent.destroy();
    await emu.stop();
  }
}
