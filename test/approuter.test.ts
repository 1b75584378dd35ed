/**
 * `@sap/approuter` (unmodified, in this process) started with the adapters' output: VCAP_SERVICES with the
 * emulator's xsuaa binding and the `destinations` variable. It validates a user token the emulator issued
 * (JWKS over https from the uaadomain) and forwards requests to a local target, with and without the token.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { approuterDestinationsEnv, selectBindings, userToken, vcapServicesJson } from '../sdk-adapters/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';
import { serviceToken } from './helpers.ts';
import { expiredUserToken } from './refused-tokens.ts';

interface Approuter {
  cmdParser?: unknown;
  /** The approuter's own server wrapper around the node server. */
  _server?: { _server: Server };
  start(options: Record<string, unknown>, callback: (err?: Error) => void): void;
  close(callback: () => void): void;
}

const require = createRequire(import.meta.url);
let emu: EmulatorHandle;
let echo: EchoServer;
let approuter: Approuter;
let base: string;
let workDir: string;
const savedEnv = {
  VCAP_SERVICES: process.env.VCAP_SERVICES,
  destinations: process.env.destinations,
  XS_APP_LOG_LEVEL: process.env.XS_APP_LOG_LEVEL,
};

const xsApp = {
  authenticationMethod: 'route',
  routes: [
    { source: '^/public/(.*)$', target: '/$1', destination: 'PUBLIC', authenticationType: 'none' },
    { source: '^/api/(.*)$', target: '/$1', destination: 'BACKEND', authenticationType: 'xsuaa' },
  ],
};

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({
    port: 0,
    scenario: { name: 'approuter', tenants: [{ subdomain: 'provider' }], users: [{ name: 'alice', scopes: ['Display'] }] },
  });
  workDir = mkdtempSync(join(tmpdir(), 'approuter-'));
  writeFileSync(join(workDir, 'xs-app.json'), JSON.stringify(xsApp));
  Object.assign(
    process.env,
    { VCAP_SERVICES: vcapServicesJson(selectBindings(emu, ['xsuaa'])), XS_APP_LOG_LEVEL: 'error' },
    approuterDestinationsEnv([
      { name: 'PUBLIC', url: `${echo.url}/public-target` },
      { name: 'BACKEND', url: `${echo.url}/backend`, forwardAuthToken: true },
    ]),
  );
  approuter = (require('@sap/approuter') as () => Approuter)();
  approuter.cmdParser = undefined; // do not parse vitest's argv
  await new Promise<void>((resolve, reject) => approuter.start({ port: 0, workingDir: workDir }, (err) => (err ? reject(err) : resolve())));
  base = `http://127.0.0.1:${(approuter._server!._server.address() as { port: number }).port}`;
});

afterAll(async () => {
  if (approuter?._server) await new Promise<void>((resolve) => approuter.close(resolve));
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await emu?.stop();
  await echo?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('@sap/approuter with the destinations env and the emulator xsuaa binding', () => {
  it('forwards a public route to the destination URL from the destinations variable', async () => {
    const res = await fetch(`${base}/public/hello?x=1`);
    expect(res.status).toBe(200);
    expect(echo.last().url).toBe('/public-target/hello?x=1');
    expect(echo.last().headers.authorization).toBeUndefined();
  });

  it('accepts the emulator user token on an xsuaa route and forwards it to a forwardAuthToken destination', async () => {
    const jwt = await userToken(emu, 'alice');
    const res = await fetch(`${base}/api/orders`, { headers: { 'x-approuter-authorization': `Bearer ${jwt}` } });
    expect(res.status).toBe(200);
    expect(echo.last().url).toBe('/backend/orders');
    const forwarded = decodeJwt(String(echo.last().headers.authorization).replace(/^Bearer /, ''));
    expect(forwarded.user_name).toBe('alice');
    expect(emu.journal({ service: 'xsuaa' }).some((e) => e.path.startsWith('/token_keys'))).toBe(true);
  });

  it('rejects a token whose signature does not match the emulator keys', async () => {
    const jwt = await userToken(emu, 'alice');
    const [header, payload] = jwt.split('.');
    const res = await fetch(`${base}/api/orders`, {
      headers: { 'x-approuter-authorization': `Bearer ${header}.${payload}.${'A'.repeat(86)}` },
    });
    expect(res.status).toBe(401);
  });

  it('rejects tokens the emulator itself refuses (expired on its clock; issued to another client), never reaching the target', async () => {
    const before = echo.received.length;
    const expired = await fetch(`${base}/api/orders`, {
      headers: { 'x-approuter-authorization': `Bearer ${await expiredUserToken(emu, 'alice')}` },
    });
    expect(expired.status).toBe(401);
    const otherClient = await serviceToken(emu, 'destination');
    const foreign = await fetch(`${base}/api/orders`, { headers: { 'x-approuter-authorization': `Bearer ${otherClient}` } });
    expect(foreign.status).toBe(401);
    expect(echo.received.length).toBe(before);
  });

  it('answers an xsuaa route without a token with the login redirect to the emulator, never the target', async () => {
    const before = echo.received.length;
    const page = await fetch(`${base}/api/orders`);
    const { clientid } = (JSON.parse(emu.env.VCAP_SERVICES) as { xsuaa: { credentials: { clientid: string } }[] }).xsuaa[0].credentials;
    expect(await page.text()).toContain(`location="${emu.urls.services}/oauth/authorize?response_type=code&client_id=${clientid}&`);
    const xhr = await fetch(`${base}/api/orders`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
    expect(xhr.status).toBe(401);
    expect(echo.received.length).toBe(before);
  });
});
