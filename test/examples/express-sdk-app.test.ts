/**
 * examples/express-sdk-app in this process, bound to the emulator: the user's XSUAA token is checked with
 * @sap/xssec, and the SAP Cloud SDK reads on-prem OData through the connectivity proxy with principal
 * propagation — the backend receives a client certificate for that very user. Also from a Kyma-style binding
 * directory instead of VCAP_SERVICES.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../emulator/index.ts';
import { userToken, vcapServicesJson, writeServiceBindingRoot } from '../../sdk-adapters/index.ts';
import { createApp } from '../../examples/express-sdk-app/app.ts';
import { expiredUserToken } from '../refused-tokens.ts';

const scenarioFile = fileURLToPath(new URL('../../examples/express-sdk-app/emulator.scenario.yaml', import.meta.url));
const savedEnv = { VCAP_SERVICES: process.env.VCAP_SERVICES, SERVICE_BINDING_ROOT: process.env.SERVICE_BINDING_ROOT };
let emu: EmulatorHandle;
let server: Server | undefined;
let bindingDir: string | undefined;

/** Starts the app with the env as it is now and returns its base URL. */
async function startApp(): Promise<string> {
  const app = createApp();
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const get = async (url: string, jwt?: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(url, { headers: jwt ? { authorization: `Bearer ${jwt}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: scenarioFile });
});

afterEach(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

afterAll(async () => {
  await emu?.stop();
  if (bindingDir) rmSync(bindingDir, { recursive: true, force: true });
});

describe('examples/express-sdk-app with VCAP_SERVICES', () => {
  it('reads on-prem products as the calling user, with the principal propagated to the backend', async () => {
    process.env.VCAP_SERVICES = vcapServicesJson(emu);
    const base = await startApp();
    const alice = await userToken(emu, 'alice');

    const products = await get(`${base}/products`, alice);
    expect(products.status).toBe(200);
    expect((products.body.products as { ProductID: string }[]).map((p) => p.ProductID)).toEqual(['P1', 'P2']);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({
      status: 200,
      principal: 'alice',
      virtualTarget: 'erp.internal:44300',
    });

    expect((await get(`${base}/whoami`, alice)).body).toEqual({ user: 'alice', backendUser: 'alice' });
    expect((await get(`${base}/whoami`, await userToken(emu, 'bob'))).body).toEqual({ user: 'bob', backendUser: 'bob' });
  });

  it('answers 401 without a token or with a forged one, before any backend call', async () => {
    process.env.VCAP_SERVICES = vcapServicesJson(emu);
    const base = await startApp();
    emu.reset();
    expect((await get(`${base}/products`)).status).toBe(401);
    const alice = await userToken(emu, 'alice');
    expect((await get(`${base}/products`, `${alice.slice(0, alice.lastIndexOf('.'))}.${'C'.repeat(86)}`)).status).toBe(401);
    expect(emu.journal({ service: 'connectivity-proxy' })).toEqual([]);
  });

  it('answers 401 for a token the emulator issued but refuses itself (expired on its clock), before any backend call', async () => {
    process.env.VCAP_SERVICES = vcapServicesJson(emu);
    const base = await startApp();
    const expired = await expiredUserToken(emu, 'alice');
    const before = emu.journal({ service: 'connectivity-proxy' }).length;
    expect((await get(`${base}/products`, expired)).status).toBe(401);
    expect(emu.journal({ service: 'connectivity-proxy' })).toHaveLength(before);
  });

  it('reports a path the Cloud Connector does not expose as a failed backend call (403 from the proxy)', async () => {
    process.env.VCAP_SERVICES = vcapServicesJson(emu);
    const base = await startApp();
    const alice = await userToken(emu, 'alice');
    emu.loadScenario({
      ...emu.core.scenario,
      tenants: emu.core.scenario.tenants.map((t) => ({
        ...t,
        cloudConnectors: t.cloudConnectors.map((c) => ({
          ...c,
          systems: c.systems.map((s) => ({ ...s, resources: [{ path: '/sap/opu/odata', exactMatchOnly: false }] })),
        })),
      })),
    });
    try {
      const res = await get(`${base}/whoami`, alice);
      expect(res.status).toBe(502);
      expect(res.body.backendStatus).toBe(403);
    } finally {
      emu.loadScenario(scenarioFile);
    }
  });
});

describe('examples/express-sdk-app with a Kyma binding directory', () => {
  it('finds xsuaa, destination and connectivity in SERVICE_BINDING_ROOT, VCAP_SERVICES unset', async () => {
    delete process.env.VCAP_SERVICES;
    bindingDir = mkdtempSync(join(tmpdir(), 'express-sdk-app-bindings-'));
    Object.assign(process.env, writeServiceBindingRoot(emu, { dir: bindingDir }));
    const base = await startApp();
    const res = await get(`${base}/whoami`, await userToken(emu, 'alice'));
    expect(res.body).toEqual({ user: 'alice', backendUser: 'alice' });
  });
});
