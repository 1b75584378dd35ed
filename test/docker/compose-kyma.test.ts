/**
 * The `kyma` profile of docker-compose.yml (issue #16, part 4), run as the file is written: a user-defined network on
 * which the emulator carries a network alias for every Service the Transparent Proxy makes of the Kyma scenario's
 * Destination CRs, the Transparent Proxy on port 80 (as a CR's Service in a cluster) for the image's non-root user,
 * and the app container calling `http://orders.default/…` exactly as in a cluster. What the fake backend received,
 * as the app prints it, shows each hop: the Internet CR with the Basic header the proxy added, the per-tenant
 * Service with the subscriber's destination, the OnPremise CR through the Cloud Connector mapping, and the trusted
 * connectivity proxy without Proxy-Authorization. Unlike compose.test.ts this needs no host networking: the engine
 * here has no default bridge, but user-defined networks work.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { crServices, destinationCustomResourcesOf, parseScenarioText } from 'btp-connectivity-emulator';
import { composeCommand, docker, emulatorImage, run } from './docker-cli.ts';

const root = resolve(import.meta.dirname, '..', '..');
const project = `btpkyma${process.pid}`;
const scenarioFile = join(root, 'fixtures', 'kyma.scenario.yaml');
let compose: string[];
let emulator = '';
let app = '';
let appExit = '';
let appOutput = '';

interface ComposeService {
  command: string[];
  sysctls?: Record<string, number | string>;
  networks?: Record<string, { aliases?: string[] }> | string[];
}
const composeFile = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };

async function composeRun(...args: string[]): Promise<string> {
  const [command, ...pre] = compose;
  const result = await run(command, [...pre, '-p', project, '-f', join(root, 'docker-compose.yml'), '--profile', 'kyma', ...args], {
    env: { ...process.env, BTP_EMULATOR_IMAGE: emulatorImage() },
    timeoutMs: 120_000,
    cwd: root,
  });
  if (result.code !== 0) throw new Error(`${compose.join(' ')} ${args.join(' ')} failed (${result.code}):\n${result.stderr}`);
  return result.stdout.trim();
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

beforeAll(async () => {
  const found = await composeCommand();
  if (!found)
    throw new Error(
      'Neither "docker compose" (plugin) nor "docker-compose" is installed: apt-get install docker-compose (bash .ci/docker.sh does)',
    );
  compose = found;
  // Only the app and what it depends on: the profile's emulator (not the default one with its published ports).
  await composeRun('up', '-d', '--no-build', 'kyma-app');
  emulator = await composeRun('ps', '-q', 'btp-emulator-kyma');
  app = await composeRun('ps', '-q', 'kyma-app');
  appExit = await docker('wait', app);
  const logs = await run('docker', ['logs', app]);
  appOutput = logs.stdout + logs.stderr;
});

afterAll(async () => {
  if (compose) await composeRun('down', '-v', '--timeout', '5').catch((err: unknown) => console.error(String(err)));
});

describe('docker-compose.yml, profile kyma: the cluster names', () => {
  it("the emulator's aliases are the Services of the scenario's CRs (crServices), plus Kyma's connectivity proxy", () => {
    const crs = destinationCustomResourcesOf(parseScenarioText(readFileSync(scenarioFile, 'utf8'), scenarioFile));
    const names = crs.flatMap((cr) => crServices(cr).map((s) => `${s.name}.${s.namespace}`));
    expect(names).toEqual(['orders.default', 'orders-subscriber1.default', 'erp.default']);
    const networks = composeFile.services['btp-emulator-kyma'].networks as Record<string, { aliases: string[] }>;
    expect(networks.kyma.aliases.sort()).toEqual(
      [...names, 'connectivity-proxy.kyma-system'].flatMap((n) => [n, `${n}.svc.cluster.local`]).sort(),
    );
  });

  it('runs the emulator as the non-root image user on the user-defined network, with those aliases', async () => {
    expect(await docker('inspect', '--format', '{{.Config.User}}', emulator)).toBe('node');
    const attached = JSON.parse(await docker('inspect', '--format', '{{json .NetworkSettings.Networks}}', emulator)) as Record<
      string,
      { Aliases: string[] | null }
    >;
    expect(Object.keys(attached)).toEqual([`${project}_kyma`]);
    expect(attached[`${project}_kyma`].Aliases).toEqual(expect.arrayContaining(['orders.default', 'erp.default.svc.cluster.local']));
    // The Transparent Proxy on the CR Services' port 80, as the ready line says.
    expect(composeFile.services['btp-emulator-kyma'].command.join(' ')).toContain('--transparent-proxy-port 80');
    const logs = await run('docker', ['logs', emulator]);
    // Port 80, then either the next item or the CR Services' own ports (each HTTP CR has one, for clients without Host).
    expect(logs.stdout + logs.stderr).toMatch(
      /Transparent Proxy http:\/\/btp-emulator-kyma:80( \(CR ports: [^)]*orders\.default \d+[^)]*\))?,/,
    );
  });

  it('the app container calls the CRs by their cluster names; the fake backend got what the proxies added', () => {
    expect(appExit, appOutput).toBe('0');
    const lines = appOutput.trim().split('\n');
    // Internet: the Transparent Proxy looked ORDERS up and added its Basic header; the path is appended to its URL.
    expect(lines).toContain(
      `kyma-app: GET http://orders.default/orders?top=2 -> 200 path=/orders-api/orders host=btp-emulator-kyma:20010 authorization=${basic('orders-user', 'orders-password')}`,
    );
    // The tenant-subdomains annotation's Service: the subscriber's own ORDERS (no auth).
    expect(lines).toContain(
      'kyma-app: GET http://orders-subscriber1.default.svc.cluster.local/orders -> 200 path=/subscriber1/orders-api/orders host=btp-emulator-kyma:20010 authorization=-',
    );
    // OnPremise: through the connectivity proxy's pipeline and the Cloud Connector mapping; the backend sees the virtual host.
    expect(lines).toContain(
      `kyma-app: GET http://erp.default/sap/opu/odata/orders -> 200 path=/sap/opu/odata/orders host=erp.internal:44300 authorization=${basic('erp-user', 'erp-password')}`,
    );
    // The connectivity proxy in trusted mode: no Proxy-Authorization, the mapping answers.
    expect(lines).toContain(
      'kyma-app: GET http://erp.internal:44300/sap/bc/echo via connectivity-proxy.kyma-system:20003 -> 200 path=/sap/bc/echo host=erp.internal:44300 authorization=-',
    );
  });
});
