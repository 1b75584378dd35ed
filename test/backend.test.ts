/**
 * The fake on-prem backend and the control API for the on-premise side, over real sockets: echo, stubs
 * (scenario and control API, newest first, delay), the OData sample, connectors switched and replaced at
 * run time (bad input changes nothing, reset restores), and proxy details a raw client sees (keep-alive
 * across locations, HEAD, redirects rewritten to the virtual host, oversized headers).
 */
import { Agent, request as httpRequest } from 'node:http';
import forge from 'node-forge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(() => emu.reset());

const control = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${emu.urls.control}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });

describe('backend HTTP', () => {
  it('echoes method, path, query, headers and body', async () => {
    const res = await fetch(`${emu.urls.backend}/any/path?a=1&a=2&b=x`, { method: 'PUT', body: 'payload', headers: { 'x-test': 'yes' } });
    const echo = await res.json();
    expect(echo).toMatchObject({ method: 'PUT', path: '/any/path', query: { a: ['1', '2'], b: 'x' }, body: 'payload' });
    expect(echo.headers['x-test']).toBe('yes');
  });

  it('takes a path that starts with // as a path, not as a host (found by reliability-fuzz through the proxy: it was a 500)', async () => {
    const echo = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: emu.ports.backendHttp, path: '//double/slash?q=1' }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(echo.status).toBe(200);
    expect(JSON.parse(echo.body)).toMatchObject({ method: 'GET', path: '//double/slash', query: { q: '1' } });
  });

  it('answers scenario stubs and control API stubs (newest first, with delay), and removes them', async () => {
    expect(await (await fetch(`${emu.urls.backend}/sap/bc/ping`)).text()).toBe('pong');
    const created = await control('/backend/stubs', {
      method: 'POST',
      body: JSON.stringify({ method: 'get', path: '/api/*', status: 418, headers: { 'x-stub': '1' }, body: { teapot: true }, delayMs: 50 }),
    });
    expect(created.status).toBe(201);
    const stub = await created.json();
    const started = performance.now();
    const res = await fetch(`${emu.urls.backend}/api/orders/1?x=y`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(res.status).toBe(418);
    expect(res.headers.get('x-stub')).toBe('1');
    expect(await res.json()).toEqual({ teapot: true });
    expect((await fetch(`${emu.urls.backend}/api/orders/1`, { method: 'POST' })).status).toBe(200);
    expect((await control(`/backend/stubs/${stub.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${emu.urls.backend}/api/orders/1`)).status).toBe(200);
    expect((await control('/backend/stubs/nope', { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses an invalid stub with 400 and keeps the others', async () => {
    const res = await control('/backend/stubs', { method: 'POST', body: JSON.stringify({ path: 'relative', status: 9 }) });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/path/);
    expect(((await (await control('/backend/stubs')).json()) as { stubs: unknown[] }).stubs).toHaveLength(1);
  });

  it('streams bulk bytes and discards bulk uploads', async () => {
    const down = await fetch(`${emu.urls.backend}/bytes/300000`);
    expect((await down.arrayBuffer()).byteLength).toBe(300_000);
    const up = await fetch(`${emu.urls.backend}/discard`, { method: 'POST', body: Buffer.alloc(250_000) });
    expect(await up.json()).toEqual({ bytes: 250_000 });
  });

  it('serves the OData sample as V2 and V4', async () => {
    const v2 = await (
      await fetch(`${emu.urls.backend}/sap/opu/odata/sap/API_SAMPLE_SRV/Products?$top=1&$skip=1&$inlinecount=allpages`)
    ).json();
    expect(v2.d.__count).toBe('4');
    expect(v2.d.results.map((p: { ProductID: string }) => p.ProductID)).toEqual(['P2']);
    const one = await fetch(`${emu.urls.backend}/odata/v4/sample/Products('P3')`, { headers: { 'x-csrf-token': 'Fetch' } });
    expect(one.headers.get('x-csrf-token')).toBeTruthy();
    expect((await one.json()).Name).toBe('Flat Screen 24');
    expect((await fetch(`${emu.urls.backend}/odata/v4/sample/$metadata`)).headers.get('content-type')).toContain('xml');
    expect((await fetch(`${emu.urls.backend}/odata/v4/sample/Products('nope')`)).status).toBe(404);
  });
});

describe('control API for Cloud Connectors', () => {
  it('lists connectors, switches one offline, replaces one, and reset restores the scenario', async () => {
    const listed = await (await control('/cloud-connectors')).json();
    expect(listed.tenants[0].connectors.map((c: { locationId: string }) => c.locationId)).toEqual(['', 'LOC1']);
    const off = await control('/cloud-connectors/state', { method: 'PUT', body: JSON.stringify({ locationId: 'LOC1', online: false }) });
    expect((await off.json()).online).toBe(false);
    const put = await control('/cloud-connectors', {
      method: 'PUT',
      body: JSON.stringify({ tenant: 'subscriber1', connector: { locationId: 'X', systems: [] } }),
    });
    expect(put.status).toBe(200);
    expect(emu.onPrem.connectors()[1].connectors).toHaveLength(1);
    emu.reset();
    expect(emu.onPrem.connectors()[0].connectors[1].online).toBe(true);
    expect(emu.onPrem.connectors()[1].connectors).toHaveLength(0);
  });

  it('bad input is a 400 naming the problem and changes nothing', async () => {
    const before = JSON.stringify(emu.onPrem.connectors());
    const cases = [
      ['/cloud-connectors/state', { locationId: 'LOC1' }, /online/],
      ['/cloud-connectors/state', { locationId: 'NOPE', online: false }, /no Cloud Connector with location ID "NOPE"/],
      ['/cloud-connectors/state', { tenant: 'ghost', online: false }, /"ghost" is not a subdomain/],
      ['/cloud-connectors', { connector: { systems: [{ virtualHost: 'a' }] } }, /virtualPort/],
    ] as const;
    for (const [path, body, message] of cases) {
      const res = await control(path, { method: 'PUT', body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect((await res.json()).message).toMatch(message);
    }
    expect((await control('/cloud-connectors/state', { method: 'PUT', body: '{oops' })).status).toBe(400);
    expect(JSON.stringify(emu.onPrem.connectors())).toBe(before);
  });
});

/** Raw requests through the proxy on one keep-alive connection. */
function viaProxy(
  agent: Agent,
  method: string,
  target: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: emu.ports.httpProxy, method, path: target, headers, agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP proxy details', () => {
  it('decides every request on one keep-alive connection on its own (location, mapping)', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const auth = { 'proxy-authorization': `Bearer ${token}` };
    const sockets = new Set<unknown>();
    agent.on('free', (socket) => sockets.add(socket));
    const a = await viaProxy(agent, 'GET', 'http://erp.internal:44300/a', auth);
    const b = await viaProxy(agent, 'GET', 'http://erp.internal:44300/b', { ...auth, 'SAP-Connectivity-SCC-Location_ID': 'LOC1' });
    const c = await viaProxy(agent, 'GET', 'http://unmapped.internal:44300/c', auth);
    const d = await viaProxy(agent, 'HEAD', 'http://erp.internal:44300/d', auth);
    agent.destroy();
    expect([a.status, b.status, c.status, d.status]).toEqual([200, 200, 403, 200]);
    expect(JSON.parse(a.body).headers.host).toBe('erp.internal:44300');
    expect(JSON.parse(b.body).headers['x-forwarded-host']).toBe('erp.internal:44300');
    expect(d.body).toBe('');
    expect(sockets.size).toBe(1);
  });

  it('speaks TLS to the internal host of an HTTPS mapping while the client uses http://', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const [defaultConnector] = emu.onPrem.connectors()[0].connectors;
    emu.onPrem.putConnector({
      ...defaultConnector,
      systems: [
        { virtualHost: 'tls.internal', virtualPort: 443, internalHost: '127.0.0.1', internalPort: emu.ports.services, protocol: 'HTTPS' },
      ],
    });
    const res = await viaProxy(new Agent(), 'GET', 'http://tls.internal:443/_emulator/health', {
      'proxy-authorization': `Bearer ${token}`,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).status).toBe('ok');
  });

  it('rewrites redirects to the internal host back to the virtual host', async () => {
    const token = await serviceToken(emu, 'connectivity');
    emu.onPrem.addStub({ path: '/moved', status: 302, headers: { location: `http://127.0.0.1:${emu.ports.backendHttp}/new?x=1` } });
    const res = await viaProxy(new Agent(), 'GET', 'http://erp.internal:44300/moved', { 'proxy-authorization': `Bearer ${token}` });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://erp.internal:44300/new?x=1');
  });

  it('answers oversized headers with 431 and keeps serving', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const big = await viaProxy(new Agent(), 'GET', 'http://erp.internal:44300/', { 'x-big': 'a'.repeat(20_000) });
    expect(big.status).toBe(431);
    expect((await viaProxy(new Agent(), 'GET', 'http://erp.internal:44300/', { 'proxy-authorization': `Bearer ${token}` })).status).toBe(
      200,
    );
  });

  it('serves 500 concurrent proxied connections without an error', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        viaProxy(agent, 'GET', `http://erp.internal:44300/parallel/${i}`, { 'proxy-authorization': `Bearer ${token}` }),
      ),
    );
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(results.map((r) => JSON.parse(r.body).path)).size).toBe(500);
  });

  it('propagates a technical user (SAP-Connectivity-Technical-Authentication) as a certificate for its client', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const technical = await serviceToken(emu, 'xsuaa');
    const res = await viaProxy(new Agent(), 'GET', 'http://erp.internal:44300/', {
      'proxy-authorization': `Bearer ${token}`,
      'SAP-Connectivity-Technical-Authentication': `Bearer ${technical}`,
    });
    const headers = JSON.parse(res.body).headers as Record<string, string>;
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.decode64(headers.ssl_client_cert)));
    expect(cert.subject.getField('CN').value).toBe('sb-emu-app!t1');
    expect(Object.keys(headers).filter((h) => h.startsWith('sap-connectivity'))).toEqual([]);
  });

  it('sends an empty SSL_CLIENT_CERT on an X.509 mapping when no principal is propagated', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const res = await viaProxy(new Agent(), 'GET', 'http://erp.internal:44300/', { 'proxy-authorization': `Bearer ${token}` });
    expect(JSON.parse(res.body).headers.ssl_client_cert).toBe('');
  });

  it('answers 401 for an invalid user token on an X.509 principal mapping', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const res = await viaProxy(new Agent(), 'GET', 'http://erp.internal:44300/', {
      'proxy-authorization': `Bearer ${token}`,
      'SAP-Connectivity-Authentication': 'Bearer forged',
    });
    expect(res.status).toBe(401);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 401, check: 'principal' });
  });
});
