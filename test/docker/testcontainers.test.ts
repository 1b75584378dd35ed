/**
 * The emulator image started through `btp-connectivity-emulator/testcontainers`, and the SAP Cloud SDK in this test
 * process resolving OnPremise destinations and reaching the fake on-prem backend through the container's
 * connectivity proxy port — with Basic authentication and with principal propagation (a user token from the
 * control client). Host networking: the module picks free ports, so the container's ports are this machine's.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtpEmulatorContainer, type StartedBtpEmulatorContainer } from 'btp-connectivity-emulator/testcontainers';
import { emulatorImage } from './docker-cli.ts';

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
    expect(vcap.xsuaa[0].credentials).toMatchObject({ url: `http://localhost:${ports.services}`, uaadomain: `localhost:${ports.services}` });
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
    const second = await new BtpEmulatorContainer(emulatorImage()).withNetworkMode('host').withScenario({ name: 'tiny', tenants: [{ subdomain: 'solo' }] }).start();
    try {
      expect(second.getPorts().services).not.toBe(emulator.getPorts().services);
      expect(await second.control.health()).toMatchObject({ status: 'ok', scenario: 'tiny', tenants: 1 });
    } finally {
      await second.stop();
    }
  });
});
