/**
 * Smoke test of docker-compose.yml: up (with the `example` profile's app container), healthy (the image's
 * HEALTHCHECK), the env files in the `btp-env` volume, the app container and the SDK on this machine using them
 * (host.env from the host's shell), a scenario file missing on the host, down. The engine here has no bridge network, so the test runs the file with
 * host networking: it reads docker-compose.yml and changes only that — network_mode host instead of published
 * ports, and free ports appended to the command (later flags win) — everything else (image, command, scenario mount,
 * volume, health check) is the file's own.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePorts } from 'btp-connectivity-emulator/testcontainers';
import { composeCommand, docker, emulatorImage, run } from './docker-cli.ts';

const root = resolve(import.meta.dirname, '..', '..');
const project = `btpemu${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'btp-emulator-compose-'));
const composeFile = join(work, 'docker-compose.host.yml');
let compose: string[];
let container = '';
let ports: Record<string, number>;
let healthyMs = 0;

/** The compose command on the host-networking copy of the file, for project `name`; `env` is added to this process's. */
function composeCommandRun(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof run> {
  const [command, ...pre] = compose;
  return run(command, [...pre, '-p', name, '-f', composeFile, '--project-directory', root, '--profile', 'example', ...args], {
    env: { ...process.env, BTP_EMULATOR_IMAGE: emulatorImage(), ...env },
    timeoutMs: 120_000,
  });
}

async function composeRun(...args: string[]): Promise<string> {
  const result = await composeCommandRun(project, args);
  if (result.code !== 0) throw new Error(`${compose.join(' ')} ${args.join(' ')} failed (${result.code}):\n${result.stderr}`);
  return result.stdout.trim();
}

beforeAll(async () => {
  const found = await composeCommand();
  if (!found)
    throw new Error(
      'Neither "docker compose" (plugin) nor "docker-compose" is installed: apt-get install docker-compose (bash .ci/docker.sh does)',
    );
  compose = found;
  const names = [
    'services',
    'httpProxy',
    'socks5',
    'backendHttp',
    'backendTcp',
    'smtp',
    'ldap',
    'transparentProxy',
    'cloudConnectorApi',
  ] as const;
  const free = await freePorts(names.length);
  ports = Object.fromEntries(names.map((name, i) => [name, free[i]])) as typeof ports;

  const file = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Record<string, unknown>> };
  const service = file.services['btp-emulator'];
  delete service.ports;
  delete service.build;
  service.network_mode = 'host';
  service.environment = { ...(service.environment as Record<string, string>), BTP_EMULATOR_PORT: String(ports.services) };
  service.command = [
    ...(service.command as string[]),
    ...['--port', ports.services, '--http-proxy-port', ports.httpProxy, '--socks-proxy-port', ports.socks5],
    ...['--backend-http-port', ports.backendHttp, '--backend-tcp-port', ports.backendTcp, '--smtp-port', ports.smtp],
    ...['--ldap-port', ports.ldap],
    ...['--transparent-proxy-port', ports.transparentProxy, '--cloud-connector-api-port', ports.cloudConnectorApi],
  ].map(String);
  writeFileSync(composeFile, stringify(file));

  const t0 = performance.now();
  await composeRun('up', '-d', '--no-build');
  container = await composeRun('ps', '-q', 'btp-emulator');
  for (let status = ''; status !== 'healthy';) {
    status = await docker('inspect', '--format', '{{.State.Health.Status}}', container);
    if (status === 'unhealthy' || performance.now() - t0 > 60_000) {
      throw new Error(`the compose service is ${status}: ${(await run('docker', ['logs', '--tail', '30', container])).stderr}`);
    }
    if (status !== 'healthy') await new Promise((r) => setTimeout(r, 200));
  }
  healthyMs = performance.now() - t0;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  if (compose) await composeRun('down', '-v', '--timeout', '5').catch((err: unknown) => console.error(String(err)));
});

describe('docker-compose.yml', () => {
  it('comes up healthy with the mounted scenario', async () => {
    console.log(`compose up to healthy: ${Math.round(healthyMs)} ms`);
    const health = (await (await fetch(`http://127.0.0.1:${ports.services}/_emulator/health`)).json()) as {
      status: string;
      scenario: string;
    };
    expect(health).toMatchObject({ status: 'ok', scenario: 'default' });
    expect(await docker('inspect', '--format', '{{.Config.User}}', container)).toBe('node');
  });

  it('the app container next to it reads the volume and gets a token over TLS and a destination', async () => {
    const app = await composeRun('ps', '-q', 'app-example');
    expect(app).not.toBe('');
    const code = await docker('wait', app);
    const logs = await run('docker', ['logs', app]);
    expect(code, logs.stdout + logs.stderr).toBe('0');
    expect(logs.stdout).toContain('app-example: token over TLS 200, destination ONPREM_BASIC 200 http://erp.internal:44300');
  });

  it('a scenario file missing on the host fails at once, naming the host path, and leaves nothing in its place', async () => {
    const missing = join(work, 'no-such.scenario.yaml');
    const other = `${project}missing`;
    try {
      const up = await composeCommandRun(other, ['up', '-d', '--no-build', 'btp-emulator'], { BTP_EMULATOR_SCENARIO: missing });
      if (up.code !== 0) {
        // docker-compose v1 (and a compose that honours the long syntax): the engine refuses the bind mount.
        expect(up.stderr).toContain(`bind source path does not exist: ${missing}`);
      } else {
        // A compose that creates the missing path anyway: the emulator refuses the directory, naming the host path.
        const id = (await composeCommandRun(other, ['ps', '-q', 'btp-emulator'])).stdout.trim();
        expect(await docker('wait', id)).toBe('2');
        expect((await run('docker', ['logs', id])).stderr).toContain(
          `bind-mounted from ${missing} on the Docker host, which does not exist there`,
        );
      }
      expect(up.code === 0 || !existsSync(missing)).toBe(true);
    } finally {
      await composeCommandRun(other, ['down', '-v', '--timeout', '1']);
    }
  });

  it('host.env, copied to .btp-env/ as the README says, trusts the CA from the host; .env keeps the container path', async () => {
    const app = join(work, 'host-app');
    mkdirSync(app);
    await docker('cp', `${container}:/btp-env/.`, join(app, '.btp-env'));
    expect(readFileSync(join(app, '.btp-env', '.env'), 'utf8')).toContain("NODE_EXTRA_CA_CERTS='/btp-env/ca.pem'");
    expect(readFileSync(join(app, '.btp-env', 'host.env'), 'utf8')).toContain("NODE_EXTRA_CA_CERTS='.btp-env/ca.pem'");
    // What a user types on the host: source host.env, then run the app. The app fetches over TLS from the emulator.
    const script = `fetch('https://localhost:${ports.services}/_emulator/health').then(async (r) => console.log(r.status, JSON.parse(process.env.VCAP_SERVICES).xsuaa[0].credentials.url), (e) => { console.log(String(e.cause ?? e)); process.exit(1); })`;
    const result = await run('sh', ['-c', `set -a; . .btp-env/host.env; set +a; exec "${process.execPath}" -e "${script}"`], {
      cwd: app,
      env: { PATH: process.env.PATH },
    });
    expect(result.stdout.trim(), result.stderr).toBe(`200 http://localhost:${ports.services}`);
  });

  it('writes ca.pem, vcap-services.json, default-env.json and .env into the btp-env volume', async () => {
    const volume = await docker('volume', 'inspect', '--format', '{{.Name}}', `${project}_btp-env`);
    expect(volume).toBe(`${project}_btp-env`);
    const copy = join(work, 'btp-env');
    await docker('cp', `${container}:/btp-env/.`, copy);
    const dotEnv = readFileSync(join(copy, '.env'), 'utf8');
    const vars = Object.fromEntries(
      dotEnv
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).replace(/^'|'$/g, '')]),
    );
    expect(vars.NODE_EXTRA_CA_CERTS).toBe('/btp-env/ca.pem');
    const vcap = JSON.parse(vars.VCAP_SERVICES) as Record<string, { credentials: Record<string, string> }[]>;
    expect(vcap.xsuaa[0].credentials.url).toBe(`http://localhost:${ports.services}`);
    expect(vcap.connectivity[0].credentials.onpremise_proxy_http_port).toBe(String(ports.httpProxy));
    expect(JSON.parse(readFileSync(join(copy, 'vcap-services.json'), 'utf8'))).toEqual(vcap);
    expect(JSON.parse(readFileSync(join(copy, 'default-env.json'), 'utf8'))).toEqual({ VCAP_SERVICES: vcap });
    expect(readFileSync(join(copy, 'ca.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);

    // The files are what an app needs: the SDK on this machine with them reaches the on-prem backend through the proxy.
    const tls = await import('node:tls');
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), readFileSync(join(copy, 'ca.pem'), 'utf8')]);
    process.env.VCAP_SERVICES = vars.VCAP_SERVICES;
    const destination = await getDestination({ destinationName: 'ONPREM_BASIC', useCache: false });
    expect(Number(destination?.proxyConfiguration?.port)).toBe(ports.httpProxy);
    const res = await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/sap/bc/echo' });
    expect((res.data as { headers: Record<string, string> }).headers.host).toBe('erp.internal:44300');
  });
});
