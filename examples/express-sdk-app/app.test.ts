/**
 * `npm test` of this example: `btp-emulator exec --scenario emulator.scenario.yaml -- node --test app.test.ts`, so
 * this process starts with the emulator's VCAP_SERVICES and NODE_EXTRA_CA_CERTS (@sap/xssec fetches the signing
 * keys over TLS) and reaches its control API at BTP_EMULATOR_URL. alice's XSUAA token passes @sap/xssec, and the
 * SAP Cloud SDK reads the on-prem products through the connectivity proxy with her principal propagated (the
 * backend sees a client certificate for alice); no token → 401.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import { ControlClient } from 'btp-connectivity-emulator/client';
import { createApp } from './app.ts';

if (!process.env.BTP_EMULATOR_URL) throw new Error('run this with `npm test` (btp-emulator exec … -- node --test app.test.ts)');
const emulator = new ControlClient(process.env.BTP_EMULATOR_URL);
let server: Server;
let base: string;

before(async () => {
  server = await new Promise<Server>((resolve) => {
    const s = createApp().listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

const get = async (path: string, jwt?: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${base}${path}`, { headers: jwt ? { authorization: `Bearer ${jwt}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

test('reads on-prem products as the calling user, the principal propagated to the backend', async () => {
  const alice = await emulator.issueUserToken({ user: 'alice' });
  const products = await get('/products', alice);
  assert.equal(products.status, 200);
  assert.deepEqual(
    (products.body.products as { ProductID: string }[]).map((p) => p.ProductID),
    ['P1', 'P2'],
  );
  assert.deepEqual((await get('/whoami', alice)).body, { user: 'alice', backendUser: 'alice' });
  assert.equal((await emulator.journal({ service: 'connectivity-proxy' })).at(-1)?.principal, 'alice');
});

test('answers 401 without a token, before any backend call', async () => {
  await emulator.reset();
  assert.equal((await get('/products')).status, 401);
  assert.deepEqual(await emulator.journal({ service: 'connectivity-proxy' }), []);
});
