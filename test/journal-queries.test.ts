/**
 * The request journal through the control API and its typed client: queries by service, destination, tenant,
 * status, method, path, correlation id, time and id; clearing; `waitFor` for apps that call asynchronously; and
 * the correlation id every face echoes (XSUAA, Destination Service, control API, connectivity proxy), sent by
 * the caller or made up, and kept in the journal entry of the request.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../emulator/client/index.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, postForm, serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
let control: ControlClient;
const subscriberZid = '0c2b5a6e-7d41-4f0a-8e3b-2d9c1f4e5b02';

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  control = emu.control;
});

afterAll(() => emu?.stop());

beforeEach(async () => {
  await control.clearJournal();
});

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function clientCredentials(headers: Record<string, string> = {}): Promise<Response> {
  const xsuaa = binding(emu, 'xsuaa');
  return postForm(
    `${emu.urls.services}/oauth/token`,
    { grant_type: 'client_credentials', client_id: xsuaa.clientid, client_secret: xsuaa.clientsecret },
    headers,
  );
}

async function findDestination(name: string, headers: Record<string, string> = {}): Promise<Response> {
  const token = await serviceToken(emu, 'destination');
  const { uri } = binding(emu, 'destination');
  return fetch(`${uri}/destination-configuration/v1/destinations/${name}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
}

/** A request through the HTTP connectivity proxy; resolves with status and headers. */
function viaProxy(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const port = Number(new URL(emu.urls.httpProxy).port);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path: `http://erp.internal:44300${path}`, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('correlation ids', () => {
  it("XSUAA, the Destination Service and the control API echo the caller's x-correlation-id and journal it", async () => {
    const token = await clientCredentials({ 'x-correlation-id': 'corr-token-1' });
    expect(token.headers.get('x-correlation-id')).toBe('corr-token-1');
    const found = await findDestination('BACKEND_BASIC', { 'x-correlation-id': 'corr-find-1' });
    expect(found.status).toBe(200);
    expect(found.headers.get('x-correlation-id')).toBe('corr-find-1');
    const scenario = await fetch(`${emu.urls.control}/scenario`, { headers: { 'x-correlation-id': 'corr-control-1' } });
    expect(scenario.headers.get('x-correlation-id')).toBe('corr-control-1');

    expect((await control.journal({ correlationId: 'corr-token-1' })).map((e) => [e.service, e.path])).toEqual([['xsuaa', '/oauth/token']]);
    expect((await control.journal({ correlationId: 'corr-find-1' })).map((e) => [e.service, e.destination, e.status])).toEqual([
      ['destination', 'BACKEND_BASIC', 200],
    ]);
    expect(await control.journal({ correlationId: 'corr-control-1' })).toHaveLength(1);
  });

  it('makes one up when the caller sends none, echoes it and journals it; x-vcap-request-id counts as one', async () => {
    const res = await clientCredentials();
    const id = res.headers.get('x-correlation-id');
    expect(id).toMatch(uuid);
    const entries = await control.journal({ correlationId: id! });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ service: 'xsuaa', status: 200 });

    const vcap = await findDestination('BACKEND_NOAUTH', { 'x-vcap-request-id': 'vcap-req-7' });
    expect(vcap.headers.get('x-correlation-id')).toBe('vcap-req-7');
    expect(await control.journal({ correlationId: 'vcap-req-7', service: 'destination' })).toHaveLength(1);
  });

  it('a refused request carries one too', async () => {
    const res = await findDestination('NO_SUCH_DESTINATION');
    expect(res.status).toBe(404);
    const id = res.headers.get('x-correlation-id');
    expect(id).toMatch(uuid);
    expect((await control.journal({ correlationId: id! }))[0]).toMatchObject({ status: 404, destination: 'NO_SUCH_DESTINATION' });
  });

  it('the connectivity proxy echoes it on a forwarded answer and on its own refusals', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const ok = await viaProxy('/echo', { 'proxy-authorization': `Bearer ${token}`, 'x-correlation-id': 'corr-proxy-1' });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-correlation-id']).toBe('corr-proxy-1');
    const refused = await viaProxy('/echo', {});
    expect(refused.status).toBe(407);
    const made = String(refused.headers['x-correlation-id']);
    expect(made).toMatch(uuid);
    const entries = await control.journal({ service: 'connectivity-proxy' });
    expect(entries.map((e) => [e.correlationId, e.status])).toEqual([
      ['corr-proxy-1', 200],
      [made, 407],
    ]);
  });
});

describe('journal queries', () => {
  it('filters by service, status, tenant, destination, method and path prefix', async () => {
    await clientCredentials();
    await clientCredentials({ 'x-zid': subscriberZid });
    await findDestination('BACKEND_BASIC');
    await findDestination('MISSING_ONE');
    const all = await control.journal();
    expect(all.map((e) => e.service)).toEqual(['xsuaa', 'xsuaa', 'xsuaa', 'destination', 'xsuaa', 'destination']);

    expect((await control.journal({ service: 'destination' })).map((e) => e.destination)).toEqual(['BACKEND_BASIC', 'MISSING_ONE']);
    expect((await control.journal({ status: 404 })).map((e) => e.destination)).toEqual(['MISSING_ONE']);
    expect((await control.journal({ destination: 'BACKEND_BASIC' })).map((e) => e.status)).toEqual([200]);
    const subscriber = await control.journal({ tenant: 'subscriber1' });
    expect(subscriber).toHaveLength(1);
    expect(subscriber[0].path).toBe('/oauth/token');
    expect(await control.journal({ tenant: subscriberZid }), 'by zid').toEqual(subscriber);
    expect((await control.journal({ method: 'get' })).every((e) => e.method === 'GET')).toBe(true);
    expect((await control.journal({ method: 'GET' })).length).toBe(2);
    expect((await control.journal({ path: '/destination-configuration/v1/destinations/MISS' })).map((e) => e.status)).toEqual([404]);
    expect((await control.journal({ service: 'xsuaa', limit: 2 })).map((e) => e.id)).toEqual(
      all
        .filter((e) => e.service === 'xsuaa')
        .slice(-2)
        .map((e) => e.id),
    );
  });

  it('filters by time on the emulator clock (since inclusive, until exclusive) and by id', async () => {
    emu.clock({ action: 'freeze', at: '2031-03-01T10:00:00Z' });
    try {
      await clientCredentials();
      emu.clock({ action: 'advance', by: '10m' });
      await clientCredentials();
      emu.clock({ action: 'advance', by: '10m' });
      await clientCredentials();
      const at = (iso: string) => control.journal({ service: 'xsuaa', since: iso });
      expect((await at('2031-03-01T10:10:00Z')).map((e) => e.time)).toEqual(['2031-03-01T10:10:00.000Z', '2031-03-01T10:20:00.000Z']);
      const window = await control.journal({
        service: 'xsuaa',
        since: new Date('2031-03-01T10:05:00Z'),
        until: Date.parse('2031-03-01T10:20:00Z'),
      });
      expect(window.map((e) => e.time)).toEqual(['2031-03-01T10:10:00.000Z']);
      const first = (await control.journal({ service: 'xsuaa' }))[0];
      expect((await control.journal({ service: 'xsuaa', afterId: first.id })).length).toBe(2);
    } finally {
      emu.clock({ action: 'real' });
    }
  });

  it('refuses a query it cannot read with a 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['since=last+tuesday', 'since'],
      ['status=teapot', 'status'],
      ['service=mail', 'service'],
      ['limit=0', 'limit'],
      ['colour=blue', 'colour'],
    ]) {
      const res = await fetch(`${emu.urls.control}/journal?${query}`);
      expect(res.status, query).toBe(400);
      expect((await res.json()).message, query).toContain(field);
    }
  });

  it('a control route asked for something that is not there answers 404 and its journal entry says why', async () => {
    for (const [method, path, message] of [
      ['DELETE', '/faults/nope', 'no fault "nope"'],
      ['DELETE', '/backend/stubs/nope', 'no stub "nope"'],
      ['DELETE', '/cloud-connectors?locationId=NOPE', 'no Cloud Connector with location ID "NOPE"'],
    ]) {
      const res = await fetch(`${emu.urls.control}${path}`, { method });
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toEqual({ error: 'not_found', message: expect.stringContaining(message) });
      const [entry] = await control.journal({ service: 'control', method, status: 404, limit: 1 });
      expect(entry.path, path).toBe(`/_emulator${path}`);
      expect(entry.reason, path).toContain(message);
    }
  });

  it('DELETE /journal clears it', async () => {
    await clientCredentials();
    expect((await control.journal()).length).toBeGreaterThan(0);
    await control.clearJournal();
    expect(await control.journal()).toEqual([]);
  });
});

describe('waitFor', () => {
  it("resolves with an entry that arrives later, as an asynchronous app's call does", async () => {
    setTimeout(() => void findDestination('BACKEND_OAUTH').catch(() => undefined), 150);
    const started = Date.now();
    const entry = await control.waitFor((e) => e.service === 'destination' && e.destination === 'BACKEND_OAUTH', { timeoutMs: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(entry).toMatchObject({ method: 'GET', status: 200 });
  });

  it('finds an entry that is already there, and narrows with a server-side query', async () => {
    await findDestination('BACKEND_BASIC');
    const entry = await control.waitFor(() => true, { query: { service: 'destination' }, timeoutMs: 500 });
    expect(entry.destination).toBe('BACKEND_BASIC');
  });

  it('fails after the timeout with what it looked at', async () => {
    await clientCredentials();
    const started = Date.now();
    await expect(control.waitFor((e) => e.status === 418, { timeoutMs: 300, intervalMs: 20 })).rejects.toThrow(
      /no journal entry matched within 300 ms \(\d+ entries looked at\)/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('a ControlClient made from the services URL or the control URL reaches the same API', async () => {
    const a = new ControlClient(emu.urls.services);
    const b = new ControlClient(`${emu.urls.control}/`);
    expect(a.baseUrl).toBe(b.baseUrl);
    expect(await a.health()).toEqual(await b.health());
  });
});
