/**
 * The Cloud Connector REST configuration API on its TLS port (8443 by default; a free one here), without the
 * recorded fixtures: the initial password, a subaccount and a system mapping added through the API and enforced by
 * the HTTP proxy (20003) at once, the one model shared with /_emulator/cloud-connectors and snapshots, the tunnel
 * state following the offline fault, bad input, roles, and the Origin rule that keeps other sites out.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';

const subaccount = '6f1c1c3e-7c7a-4d38-9c55-3b1d5f2f0a01';
const admin = 'Basic ' + btoa('admin:secret-pass');
let emu: EmulatorHandle;

const scenario = {
  name: 'scc-api',
  tenants: [{ subdomain: 'provider', subaccountId: subaccount }],
  bindings: [{ name: 'conn', service: 'connectivity' }],
  cloudConnectorApi: {
    users: [
      { name: 'admin', password: 'secret-pass' },
      { name: 'viewer', password: 'view-only', roles: ['sccdisplay'] },
    ],
  },
};

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario });
});
afterAll(async () => emu?.stop());
beforeEach(() => emu.loadScenario(scenario));

const api = (path: string, init: RequestInit & { auth?: string } = {}): Promise<Response> =>
  fetch(`${emu.urls.cloudConnectorApi}${path}`, {
    ...init,
    headers: {
      authorization: init.auth ?? admin,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.headers as object),
    },
  });
const sub = `/api/v1/configuration/subaccounts/cf.eu10.hana.ondemand.com/${subaccount}`;

function viaProxy(target: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: emu.ports.httpProxy, method: 'GET', path: target, headers: { 'proxy-authorization': `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function addSubaccount(): Promise<Response> {
  return api('/api/v1/configuration/subaccounts', {
    method: 'POST',
    body: JSON.stringify({
      regionHost: 'cf.eu10.hana.ondemand.com',
      subaccount,
      cloudUser: 'me@example.com',
      cloudPassword: 'x',
      locationID: '',
    }),
  });
}

describe('Cloud Connector REST API', () => {
  it('serves TLS on its own port and answers the version', async () => {
    expect(emu.urls.cloudConnectorApi).toMatch(/^https:\/\/localhost:\d+$/);
    const res = await api('/api/v1/connector/version');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ version: '2.19.0.2' });
    expect((await api('/api/v1/connector/version', { auth: 'Basic ' + btoa('admin:wrong') })).status).toBe(401);
    expect((await api('/api/v1/connector/version', { auth: '' })).headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('a subaccount and a system mapping added through the API are enforced by the HTTP proxy at once; deleting it refuses', async () => {
    const created = await addSubaccount();
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${emu.urls.cloudConnectorApi}${sub}`);
    const body = (await created.json()) as { tunnel: { state: string }; subaccount: string };
    expect(body).toMatchObject({ subaccount, tunnel: { state: 'Connected' } });

    const mapping = await api(`${sub}/systemMappings`, {
      method: 'POST',
      body: JSON.stringify({
        virtualHost: 'erp.virtual',
        virtualPort: '8000',
        localHost: '127.0.0.1',
        localPort: String(emu.ports.backendHttp),
        protocol: 'HTTP',
        backendType: 'abapSys',
        hostInHeader: 'VIRTUAL',
        authenticationMode: 'NONE',
      }),
    });
    expect(mapping.status).toBe(201);
    expect(await mapping.text()).toBe('');
    const token = await serviceToken(emu, 'connectivity');
    // A new mapping exposes no resource yet, as on a real Cloud Connector.
    expect((await viaProxy('http://erp.virtual:8000/echo', token)).status).toBe(403);
    const resource = await api(`${sub}/systemMappings/erp.virtual:8000/resources`, {
      method: 'POST',
      body: JSON.stringify({ id: '/', enabled: 'true', exactMatchOnly: 'false' }),
    });
    expect(resource.status).toBe(201);
    expect(resource.headers.get('location')).toMatch(/\/resources\/-$/);
    const through = await viaProxy('http://erp.virtual:8000/echo', token);
    expect(through.status).toBe(200);
    expect(JSON.parse(through.body)).toMatchObject({ path: '/echo' });

    // The same state through the control API.
    const control = (await (await fetch(`${emu.urls.control}/cloud-connectors`)).json()) as {
      tenants: { connectors: { systems: { virtualHost: string }[] }[] }[];
    };
    expect(control.tenants[0].connectors[0].systems.map((s) => s.virtualHost)).toEqual(['erp.virtual']);

    expect((await api(`${sub}/systemMappings/erp.virtual:8000`, { method: 'DELETE' })).status).toBe(204);
    const refused = await viaProxy('http://erp.virtual:8000/echo', token);
    expect(refused.status).toBe(403);
    expect(refused.body).toBe('Access denied to system erp.virtual:8000');
  });

  it('reads a scenario connector, and its tunnel state follows the control API and the offline fault', async () => {
    emu.loadScenario({
      ...scenario,
      tenants: [
        {
          ...scenario.tenants[0],
          cloudConnectors: [
            {
              regionHost: 'cf.eu12.hana.ondemand.com',
              systems: [{ virtualHost: 'a.virtual', virtualPort: 80, internalHost: 'localhost', internalPort: 1 }],
            },
          ],
        },
      ],
    });
    const path = `/api/v1/configuration/subaccounts/cf.eu12.hana.ondemand.com/${subaccount}`;
    const state = async () => ((await (await api(path)).json()) as { tunnel: { state: string } }).tunnel.state;
    expect(await state()).toBe('Connected');
    const mappings = (await (await api(`${path}/systemMappings`)).json()) as Record<string, unknown>[];
    expect(mappings[0]).toMatchObject({
      virtualHost: 'a.virtual',
      virtualPort: '80',
      localHost: 'localhost',
      localPort: '1',
      hostInHeader: 'VIRTUAL',
    });
    expect(((await (await api(`${path}/systemMappings/a.virtual:80/resources`)).json()) as { id: string }[]).map((r) => r.id)).toEqual([
      '/',
    ]);

    emu.onPrem.setConnectorOnline({ online: false });
    expect(await state()).toBe('Disconnected');
    emu.onPrem.setConnectorOnline({ online: true });
    emu.addFault({ target: { locationId: '' }, effect: { offline: true } });
    expect(await state()).toBe('ConnectFailure');
    emu.clearFaults();
    const put = await api(`${path}/state`, { method: 'PUT', body: JSON.stringify({ connected: false }) });
    expect(put.status).toBe(204);
    expect(emu.onPrem.connectors()[0].connectors[0].online).toBe(false);
  });

  it('refuses bad input naming the field, and changes nothing', async () => {
    await addSubaccount();
    const bad = await api(`${sub}/systemMappings`, {
      method: 'POST',
      body: JSON.stringify({ virtualHost: 'x', virtualPort: 'eighty', localHost: 'y', localPort: '1' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ type: 'INVALID_REQUEST', message: expect.stringContaining('virtualPort') });
    const unknown = await api('/api/v1/configuration/subaccounts', {
      method: 'POST',
      body: JSON.stringify({ regionHost: 'r', subaccount: 'nope', cloudUser: 'u', cloudPassword: 'p' }),
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { message: string }).message).toContain('subaccountId');
    const missing = await api('/api/v1/configuration/subaccounts/cf.eu10.hana.ondemand.com/missing/systemMappings');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      type: 'NOT_FOUND',
      message: "Subaccount with value 'missing@cf.eu10.hana.ondemand.com' does not exist",
    });
    expect(((await (await api(`${sub}/systemMappings`)).json()) as unknown[]).length).toBe(0);
  });

  it('a display role may read, not change', async () => {
    await addSubaccount();
    const viewer = 'Basic ' + btoa('viewer:view-only');
    expect((await api(sub, { auth: viewer })).status).toBe(200);
    const refused = await api(sub, { method: 'DELETE', auth: viewer });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { type: string }).type).toBe('FORBIDDEN_REQUEST');
  });

  it('refuses another web origin (CSRF) and a foreign Host (DNS rebinding)', async () => {
    const fromSite = await api('/api/v1/configuration/subaccounts', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: '{}',
    });
    expect(fromSite.status).toBe(403);
    expect(((await fromSite.json()) as { message: string }).message).toContain('web origin https://evil.example');
    const crossSite = await api('/api/v1/connector/version', { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    const own = await api('/api/v1/connector/version', { headers: { origin: emu.urls.cloudConnectorApi } });
    expect(own.status).toBe(200);
  });

  it('snapshots keep what the API changed', async () => {
    await addSubaccount();
    await api('/api/v1/configuration/connector/proxy', { method: 'PUT', body: JSON.stringify({ host: 'proxy.corp', port: 3128 }) });
    const snapshot = await emu.snapshot();
    emu.reset();
    expect((await api(sub)).status).toBe(404);
    await emu.restoreSnapshot(snapshot);
    expect((await api(sub)).status).toBe(200);
    expect(await (await api('/api/v1/configuration/connector/proxy')).json()).toMatchObject({ host: 'proxy.corp', port: '3128' });
  });
});

describe('the state directory', () => {
  it('keeps a subaccount, a mapping and a changed password across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scc-state-'));
    try {
      let kept = await startEmulator({
        port: 0,
        scenario: { tenants: [{ subdomain: 'provider', subaccountId: subaccount }] },
        stateDir: dir,
      });
      const base = kept.urls.cloudConnectorApi;
      const call = (path: string, auth: string, init: RequestInit = {}) =>
        fetch(`${base}${path}`, { ...init, headers: { authorization: 'Basic ' + btoa(auth), 'content-type': 'application/json' } });
      expect(
        (
          await call('/api/v1/configuration/connector/authentication/basic', 'Administrator:manage', {
            method: 'PUT',
            body: JSON.stringify({ oldPassword: 'manage', newPassword: 'kept-password' }),
          })
        ).status,
      ).toBe(204);
      const body = JSON.stringify({ regionHost: 'cf.eu10.hana.ondemand.com', subaccount, cloudUser: 'u', cloudPassword: 'p' });
      expect((await call('/api/v1/configuration/subaccounts', 'Administrator:kept-password', { method: 'POST', body })).status).toBe(201);
      await kept.stop();
      kept = await startEmulator({ port: 0, stateDir: dir });
      const again = await fetch(`${kept.urls.cloudConnectorApi}${sub}`, {
        headers: { authorization: 'Basic ' + btoa('Administrator:kept-password') },
      });
      expect(again.status).toBe(200);
      await kept.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a fresh installation', () => {
  let fresh: EmulatorHandle;
  beforeAll(async () => {
    fresh = await startEmulator({ port: 0, scenario: { tenants: [{ subdomain: 'provider' }] } });
  });
  afterAll(async () => fresh?.stop());

  it('refuses Administrator/manage until the password is changed', async () => {
    const call = (auth: string, init: RequestInit = {}) =>
      fetch(`${fresh.urls.cloudConnectorApi}/api/v1/connector/version`, { ...init, headers: { authorization: 'Basic ' + btoa(auth) } });
    const first = await call('Administrator:manage');
    expect(first.status).toBe(403);
    expect(await first.json()).toEqual({ type: 'FORBIDDEN_REQUEST', message: expect.stringContaining('initial password') });
    const change = await fetch(`${fresh.urls.cloudConnectorApi}/api/v1/configuration/connector/authentication/basic`, {
      method: 'PUT',
      headers: { authorization: 'Basic ' + btoa('Administrator:manage'), 'content-type': 'application/json' },
      body: JSON.stringify({ oldPassword: 'manage', newPassword: 'a-new-password' }),
    });
    expect(change.status).toBe(204);
    expect((await call('Administrator:manage')).status).toBe(401);
    expect((await call('Administrator:a-new-password')).status).toBe(200);
  });
});
