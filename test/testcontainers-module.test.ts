/**
 * The Testcontainers module (`btp-connectivity-emulator/testcontainers`) without a Docker engine: the command,
 * environment and port bindings it builds before a container is created (host networking and mapped ports), run
 * as they are by the real CLI (`node emulator/cli/main.ts start …`, which is the image's entry point) to show the
 * emulator accepts them and advertises the ports the module chose; and `StartedBtpEmulatorContainer` built over
 * that running emulator. The one stand-in is the engine's side of a started container: `copyArchiveFromContainer`
 * answers with a real tar archive of the file (what `docker cp` returns), made by the system's `tar`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BtpEmulatorContainer,
  EMULATOR_PORTS,
  StartedBtpEmulatorContainer,
  freePort,
  type EmulatorPorts,
} from '../emulator/testcontainers/index.ts';
import { readyLine } from './helpers.ts';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'emulator', 'cli', 'main.ts');
const work = mkdtempSync(join(tmpdir(), 'btp-emulator-tc-'));
const children: ChildProcess[] = [];

/** Exposes what the module prepared for the engine: the command, env, exposed ports and copied contents. */
class InspectableContainer extends BtpEmulatorContainer {
  async prepared(): Promise<{
    cmd: string[];
    env: Record<string, string>;
    exposed: unknown[];
    contents: { content: unknown; target: string }[];
  }> {
    await this.beforeContainerCreated();
    return {
      cmd: [...(this.createOpts.Cmd ?? [])],
      env: { ...this.environment },
      exposed: [...this.exposedPorts],
      contents: this.contentsToCopy.map((c) => ({ content: c.content, target: c.target })),
    };
  }
}

const scenario = {
  name: 'from-testcontainers',
  tenants: [{ subdomain: 'provider' }],
  bindings: [
    { name: 'my-xsuaa', service: 'xsuaa' },
    { name: 'my-connectivity', service: 'connectivity' },
  ],
};

/** The value after a flag (the last one wins, as in the CLI). */
const flag = (cmd: string[], name: string): string | undefined => {
  const i = cmd.lastIndexOf(name);
  return i < 0 ? undefined : cmd[i + 1];
};

/** Runs the CLI with the module's command, the scenario path pointing at a local copy of what would be copied in. */
async function runCli(
  cmd: string[],
  contents: { content: unknown; target: string }[],
  env: Record<string, string>,
  extra: string[] = [],
): Promise<{ child: ChildProcess; ready: string }> {
  const args = [...cmd];
  const scenarioAt = args.indexOf('--scenario');
  if (scenarioAt >= 0) {
    const local = join(mkdtempSync(join(work, 'scenario-')), basename(args[scenarioAt + 1]));
    writeFileSync(local, String(contents.find((c) => c.target === args[scenarioAt + 1])!.content));
    args[scenarioAt + 1] = local;
  }
  const base = { ...process.env };
  delete base.VCAP_SERVICES;
  delete base.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [cli, 'start', ...args, ...extra], {
    cwd: root,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const ready = await readyLine(child);
  return { child, ready };
}

afterAll(async () => {
  await Promise.all(
    children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map((c) => {
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        return exited;
      }),
  );
});

describe('BtpEmulatorContainer before the start', () => {
  it('with host networking: binds every port to a free host port (or the one given) and the CLI listens on exactly those', async () => {
    const services = await freePort();
    const container = new InspectableContainer('any-image')
      .withNetworkMode('host')
      .withScenario(scenario)
      .withHostPorts({ services })
      .withControlToken('tc-token')
      .withEmulatorArgs('--write-env', join(work, 'env'));
    const { cmd, env, exposed, contents } = await container.prepared();
    expect(exposed).toEqual([]);
    expect(contents).toEqual([{ content: JSON.stringify(scenario), target: '/home/node/scenario.json' }]);
    expect(cmd.slice(0, 4)).toEqual(['--scenario', '/home/node/scenario.json', '--advertised-host', 'localhost']);
    expect(cmd.slice(-2)).toEqual(['--write-env', join(work, 'env')]);
    const bound = {
      services: flag(cmd, '--port'),
      httpProxy: flag(cmd, '--http-proxy-port'),
      socks5: flag(cmd, '--socks-proxy-port'),
      backendHttp: flag(cmd, '--backend-http-port'),
      backendTcp: flag(cmd, '--backend-tcp-port'),
      smtp: flag(cmd, '--smtp-port'),
      ldap: flag(cmd, '--ldap-port'),
    };
    expect(bound.services).toBe(String(services));
    expect(new Set(Object.values(bound)).size).toBe(7);
    expect(cmd.some((a) => a.startsWith('--advertised-') && a !== '--advertised-host')).toBe(false);
    expect(env).toEqual({ BTP_EMULATOR_PORT: String(services), BTP_EMULATOR_CONTROL_TOKEN: 'tc-token' });

    const { ready } = await runCli(cmd, contents, env);
    expect(ready).toContain(`scenario "from-testcontainers"`);
    expect(ready).toContain(`services http://localhost:${services}`);
    expect(ready).toContain(
      `HTTP proxy http://localhost:${bound.httpProxy}, SOCKS5 socks5://localhost:${bound.socks5}, backend http://localhost:${bound.backendHttp}`,
    );
    expect((await fetch(`http://127.0.0.1:${services}/_emulator/health`)).status).toBe(200);
    // The control token from the environment is required.
    expect((await fetch(`http://127.0.0.1:${services}/_emulator/env`)).status).toBe(401);
    const vcap = JSON.parse(readFileSync(join(work, 'env', 'vcap-services.json'), 'utf8')) as Record<
      string,
      { credentials: Record<string, string> }[]
    >;
    expect(vcap.connectivity[0].credentials).toMatchObject({
      onpremise_proxy_http_port: bound.httpProxy,
      onpremise_socks5_proxy_port: bound.socks5,
    });
  });

  it('with mapped ports: exposes the image ports on free host ports and advertises those; the emulator hands them out', async () => {
    // A named network mode: without any, the module first asks the engine whether it has a bridge network.
    const container = new InspectableContainer('any-image')
      .withNetworkMode('bridge')
      .withScenario(scenario)
      .withAdvertisedHost('127.0.0.1');
    const { cmd, env, exposed, contents } = await container.prepared();
    const mapped = exposed as { container: number; host: number }[];
    expect(mapped.map((p) => p.container).sort()).toEqual(Object.values(EMULATOR_PORTS).sort());
    const host = Object.fromEntries(mapped.map((p) => [p.container, p.host])) as Record<number, number>;
    expect(flag(cmd, '--advertised-host')).toBe('127.0.0.1');
    expect(flag(cmd, '--advertised-port')).toBe(String(host[EMULATOR_PORTS.services]));
    expect(flag(cmd, '--advertised-http-proxy-port')).toBe(String(host[EMULATOR_PORTS.httpProxy]));
    expect(flag(cmd, '--advertised-socks-proxy-port')).toBe(String(host[EMULATOR_PORTS.socks5]));
    expect(flag(cmd, '--advertised-backend-port')).toBe(String(host[EMULATOR_PORTS.backendHttp]));
    // Inside the container the emulator keeps the image's ports: no bound-port flags, the health check reads 20000.
    expect(flag(cmd, '--port')).toBeUndefined();
    expect(env).toEqual({ BTP_EMULATOR_PORT: '20000' });

    // The CLI with that command (bound ports moved off the image defaults, as a container's would not clash).
    const services = await freePort();
    const { ready } = await runCli(cmd, contents, env, [
      '--port',
      String(services),
      '--http-proxy-port',
      '0',
      '--socks-proxy-port',
      '0',
      '--backend-http-port',
      '0',
      '--backend-tcp-port',
      '0',
      '--smtp-port',
      '0',
      '--ldap-port',
      '0',
      '--transparent-proxy-port',
      '0',
      '--identity-port',
      '0',
    ]);
    expect(ready).toContain(`services http://127.0.0.1:${host[EMULATOR_PORTS.services]}`);
    const served = (await (await fetch(`http://127.0.0.1:${services}/_emulator/env`)).json()) as { VCAP_SERVICES: string };
    const creds = (JSON.parse(served.VCAP_SERVICES) as Record<string, { credentials: Record<string, string> }[]>).connectivity[0]
      .credentials;
    expect(creds).toMatchObject({
      onpremise_proxy_host: '127.0.0.1',
      onpremise_proxy_http_port: String(host[EMULATOR_PORTS.httpProxy]),
      onpremise_socks5_proxy_port: String(host[EMULATOR_PORTS.socks5]),
    });
  });
});

describe('StartedBtpEmulatorContainer over a running emulator', () => {
  it('reads the env through the control client (with its token), copies the CA out of the "container", and builds the URLs', async () => {
    const ports = {} as EmulatorPorts;
    for (const name of Object.keys(EMULATOR_PORTS) as (keyof EmulatorPorts)[]) ports[name] = await freePort();
    const container = new InspectableContainer('any-image')
      .withNetworkMode('host')
      .withHostPorts(ports)
      .withControlToken('started-token')
      .withEmulatorArgs('--tls-dir', join(work, 'started-tls'));
    const { cmd, env, contents } = await container.prepared();
    await runCli(cmd, contents, env);

    const copied: string[] = [];
    const engineSide = {
      copyArchiveFromContainer: async (path: string) => {
        copied.push(path);
        const tar = spawn('tar', ['-cf', '-', '-C', dirname(path), basename(path)], { stdio: ['ignore', 'pipe', 'inherit'] });
        return tar.stdout;
      },
    } as unknown as StartedTestContainer;
    const started = await StartedBtpEmulatorContainer.create(engineSide, ports, 'localhost', 'started-token');

    const caInEmulator = join(work, 'started-tls', 'ca', 'ca.pem');
    expect(copied).toEqual([caInEmulator]);
    expect(await started.getCaPem()).toBe(readFileSync(caInEmulator, 'utf8'));
    expect(started.getCaFile()).not.toBe(caInEmulator);
    expect(started.getEnv()).toEqual({ VCAP_SERVICES: expect.any(String), NODE_EXTRA_CA_CERTS: started.getCaFile() });
    expect(started.getVcapServices().xsuaa[0].credentials).toMatchObject({ url: `http://localhost:${ports.services}` });
    expect(started.getPorts()).toEqual(ports);
    expect(started.getServicesUrl()).toBe(`http://localhost:${ports.services}`);
    expect(started.getControlUrl()).toBe(`http://localhost:${ports.services}/_emulator`);
    expect(started.getHttpProxyUrl()).toBe(`http://localhost:${ports.httpProxy}`);
    expect(started.getSocksProxyUrl()).toBe(`socks5://localhost:${ports.socks5}`);
    expect(await (await fetch(`${started.getBackendUrl()}/sap/bc/ping`)).text()).toBe('pong');
    // Its control client sends the token.
    expect((await started.control.health()).status).toBe('ok');
    expect(await started.control.issueUserToken({ user: 'alice' })).toMatch(/^ey/);
  });
});
