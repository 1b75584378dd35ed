/**
 * The emulator image started through `btp-connectivity-emulator/testcontainers`, and the SAP Cloud SDK in this test
 * process resolving OnPremise destinations and reaching the fake on-prem backend through the container's
 * connectivity proxy port — with Basic authentication and with principal propagation (a user token from the
 * control client). Host networking: the module picks free ports, so the container's ports are this machine's.
 * A start that fails (timeout, bad argument, refused control API, no bridge network) leaves no container behind.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtpEmulatorContainer, type StartedBtpEmulatorContainer } from 'btp-connectivity-emulator/testcontainers';
import { docker, emulatorImage, run } from './docker-cli.ts';

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
}

let emulator: StartedBtpEmulatorContainer;
let startMs = 0;

beforeAll(async () => {
  const t0 = performance.now();
  emulator = await new BtpEmulatorContainer(emulatorImage()).withNetworkMode('host').withScenario('fixtures/default.scenario.yaml').start();
  startMs = performance.now() - t0;
  await emulator.trustCaInThisProcess();
  process.env.VCAP_SERVICES = emulator.getEnv().VCAP_SERVICES;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emulator?.stop();
});

describe('BtpEmulatorContainer (Testcontainers module)', () => {
  it('starts the image, waits for /_emulator/health and hands out the env with this machine ports', async () => {
    console.log(`emulator container started and healthy in ${Math.round(startMs)} ms`);
    expect(await emulator.control.health()).toMatchObject({ status: 'ok', scenario: 'default' });
    const vcap = emulator.getVcapServices();
    const ports = emulator.getPorts();
    expect(vcap.xsuaa[0].credentials).toMatchObject({
      url: `http://localhost:${ports.services}`,
      uaadomain: `localhost:${ports.services}`,
    });
    expect(vcap.connectivity[0].credentials).toMatchObject({
      onpremise_proxy_host: 'localhost',
      onpremise_proxy_http_port: String(emulator.getHttpProxyPort()),
      onpremise_socks5_proxy_port: String(emulator.getSocksProxyPort()),
    });
    expect(emulator.getControlUrl()).toBe(`http://localhost:${ports.services}/_emulator`);
    expect(readFileSync(emulator.getEnv().NODE_EXTRA_CA_CERTS, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('the SDK resolves an OnPremise destination with the proxy at the container port', async () => {
    const destination = await getDestination({ destinationName: 'ONPREM_BASIC', useCache: false });
    expect(destination).toMatchObject({ url: 'http://erp.internal:44300', proxyType: 'OnPremise' });
    expect(destination?.proxyConfiguration).toMatchObject({ host: 'localhost', protocol: 'http' });
    expect(Number(destination?.proxyConfiguration?.port)).toBe(emulator.getHttpProxyPort());
  });

  it('the SDK reaches the on-prem backend through the container proxy (Basic authentication)', async () => {
    const res = await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/sap/bc/echo' });
    const echo = res.data as Echo;
    expect(echo.path).toBe('/sap/bc/echo');
    expect(echo.headers.authorization).toBe(`Basic ${Buffer.from('erp-user:erp-password').toString('base64')}`);
    expect(echo.headers.host).toBe('erp.internal:44300');
    const journal = await emulator.control.journal({ service: 'connectivity-proxy' });
    expect(journal.at(-1)).toMatchObject({ status: 200, virtualTarget: 'erp.internal:44300' });
  });

  it('principal propagation: a user token from the control client arrives as the user certificate', async () => {
    const jwt = await emulator.control.issueUserToken({ user: 'alice' });
    const res = await executeHttpRequest({ destinationName: 'ONPREM_PP', jwt, useCache: false }, { method: 'get', url: '/echo' });
    const echo = res.data as Echo;
    expect(echo.headers.ssl_client_cert).toMatch(/^[A-Za-z0-9+/=]{100,}$/);
    expect(echo.headers.authorization).toBeUndefined();
    expect((await emulator.control.journal({ service: 'connectivity-proxy' })).at(-1)).toMatchObject({ status: 200, principal: 'alice' });
  });

  it('an app process with getEnv() (VCAP_SERVICES, NODE_EXTRA_CA_CERTS) gets a JWT-bearer destination over TLS', async () => {
    const jwt = await emulator.control.issueUserToken({ user: 'alice' });
    const app = `
      const { getDestination } = await import('@sap-cloud-sdk/connectivity');
      const d = await getDestination({ destinationName: 'BACKEND_USER', jwt: process.env.USER_JWT, useCache: false });
      console.log(JSON.stringify({ url: d.url, auth: d.authTokens?.[0]?.type }));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', app], {
      env: { ...process.env, ...emulator.getEnv(), USER_JWT: jwt },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ url: emulator.getBackendUrl(), auth: 'Bearer' });
  });

  it('a second container next to the first one gets other ports', async () => {
    const second = await new BtpEmulatorContainer(emulatorImage())
      .withNetworkMode('host')
      .withScenario({ name: 'tiny', tenants: [{ subdomain: 'solo' }] })
      .start();
    try {
      expect(second.getPorts().services).not.toBe(emulator.getPorts().services);
      expect(await second.control.health()).toMatchObject({ status: 'ok', scenario: 'tiny', tenants: 1 });
    } finally {
      await second.stop();
    }
  });
});

describe('BtpEmulatorContainer: a chosen port taken before the container binds it', () => {
  /** Takes the LDAP port this module chose, on the first attempt only, as another process's socket could. */
  class PortThief extends BtpEmulatorContainer {
    readonly ldapPorts: number[] = [];
    readonly thieves: Server[] = [];
    protected override async beforeContainerCreated(): Promise<void> {
      await super.beforeContainerCreated();
      const cmd = this.createOpts.Cmd ?? [];
      const port = Number(cmd[cmd.indexOf('--ldap-port') + 1]);
      this.ldapPorts.push(port);
      if (this.thieves.length === 0) {
        const thief = createServer();
        await new Promise<void>((done) => thief.listen(port, '0.0.0.0', done));
        this.thieves.push(thief);
      }
    }
  }

  it('is tried again with other free ports, and the failed container is gone', async () => {
    const label = `btp-emulator-test=${randomUUID()}`;
    const container = new PortThief(emulatorImage())
      .withNetworkMode('host')
      .withLabels({ [label.split('=')[0]]: label.split('=')[1] })
      .withScenario({ name: 'tiny', tenants: [{ subdomain: 'solo' }] });
    let started: StartedBtpEmulatorContainer | undefined;
    try {
      started = await container.start();
      expect(container.ldapPorts).toHaveLength(2);
      expect(started.getPorts().ldap).toBe(container.ldapPorts[1]);
      expect(started.getPorts().ldap).not.toBe(container.ldapPorts[0]);
      expect(await started.control.health()).toMatchObject({ status: 'ok', scenario: 'tiny' });
      expect((await docker('ps', '-a', '-q', '--filter', `label=${label}`)).split('\n').filter(Boolean)).toHaveLength(1);
    } finally {
      await started?.stop();
      for (const thief of container.thieves) thief.close();
    }
  });

  it('a port given with withHostPorts is not swapped: the start fails and names the flag', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '0.0.0.0', done));
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(new BtpEmulatorContainer(emulatorImage()).withNetworkMode('host').withHostPorts({ ldap: port }).start()).rejects.toThrow(
        new RegExp(`port ${port} \\(--ldap-port\\) is already in use`),
      );
    } finally {
      taken.close();
    }
  });
});

describe('BtpEmulatorContainer: a failed start leaves no container behind', () => {
  /** A container for one start, labelled so that `docker ps -a` can find whatever it left. */
  const labelled = (): { container: BtpEmulatorContainer; leftovers: () => Promise<string> } => {
    const label = `btp-emulator-test=${randomUUID()}`;
    const container = new BtpEmulatorContainer(emulatorImage()).withLabels({ [label.split('=')[0]]: label.split('=')[1] });
    return { container, leftovers: () => docker('ps', '-a', '-q', '--filter', `label=${label}`) };
  };

  it('a start that times out', async () => {
    const { container, leftovers } = labelled();
    await expect(container.withNetworkMode('host').withStartupTimeout(1).start()).rejects.toThrow(/did not become healthy within 1 ms/);
    expect(await leftovers()).toBe('');
  });

  it('a start with a bad argument: the container exits and its message is in the error', async () => {
    const { container, leftovers } = labelled();
    await expect(container.withNetworkMode('host').withEmulatorArgs('--no-such-flag').start()).rejects.toThrow(
      /exited \(code 2\)[\s\S]*--no-such-flag/,
    );
    expect(await leftovers()).toBe('');
  });

  it('a start that fails after the container is healthy (the control API refuses the module)', async () => {
    const { container, leftovers } = labelled();
    // A control token the module does not know about: reading the env after the start is refused.
    await expect(
      container.withNetworkMode('host').withEnvironment({ BTP_EMULATOR_CONTROL_TOKEN: 'not-told-to-the-module' }).start(),
    ).rejects.toThrow(/401/);
    expect(await leftovers()).toBe('');
  });

  it('without host networking on an engine without a bridge network: a message naming the settings', async () => {
    const hasBridge = (await run('docker', ['network', 'inspect', 'bridge'])).code === 0;
    const { container, leftovers } = labelled();
    if (hasBridge) {
      await (await container.start()).stop();
    } else {
      await expect(container.start()).rejects.toThrow(
        "no bridge network (dockerd --bridge=none): use .withNetworkMode('host'), with TESTCONTAINERS_RYUK_DISABLED=true and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1",
      );
    }
    expect(await leftovers()).toBe('');
  });
});
