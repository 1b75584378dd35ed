/**
 * High availability of a location's Cloud Connector: a shadow installation (`…/shadow` on the admin port) that
 * takes over when the master is switched (`ha/master/state` SWITCH) or goes offline. The HTTP proxy fails while
 * the switch or the takeover lasts and then serves again; every duration runs on the emulator clock (frozen here
 * and advanced by the test), so nothing waits for real time.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';

const subaccount = '0c9f4a8e-2b57-4f6e-9d3c-7a1e5b6d8f20';
const auth = 'Basic ' + btoa('admin:secret-pass');
let emu: EmulatorHandle;
let token: string;

function scenario(backendPort: number) {
  return {
    name: 'scc-ha',
    tenants: [
      {
        subdomain: 'provider',
        subaccountId: subaccount,
        cloudConnectors: [
          { systems: [{ virtualHost: 'erp.virtual', virtualPort: 80, internalHost: '127.0.0.1', internalPort: backendPort }] },
        ],
      },
    ],
    bindings: [{ name: 'conn', service: 'connectivity' }],
    cloudConnectorApi: {
      users: [{ name: 'admin', password: 'secret-pass' }],
      instances: [
        { locationId: '', ha: { haEnabled: true, shadow: { ownHost: 'scc-shadow.corp' }, takeoverDelaySeconds: 30, switchSeconds: 10 } },
      ],
    },
  };
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: { tenants: [{ subdomain: 'provider' }] } });
});
afterAll(async () => emu?.stop());
beforeEach(async () => {
  emu.loadScenario(scenario(emu.ports.backendHttp));
  emu.clearFaults();
  emu.clock({ action: 'freeze' });
  token = await serviceToken(emu, 'connectivity');
});

const api = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${emu.urls.cloudConnectorApi}${path}`, { ...init, headers: { authorization: auth, 'content-type': 'application/json' } });
const role = async (prefix: string): Promise<string> =>
  (await (await api(`${prefix}/api/v1/configuration/connector/haRole`)).json()) as string;

function viaProxy(): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: emu.ports.httpProxy,
        method: 'GET',
        path: 'http://erp.virtual:80/echo',
        headers: { 'proxy-authorization': `Bearer ${token}` },
      },
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

describe('Cloud Connector high availability', () => {
  it('a switch makes the shadow master: calls fail for switchSeconds, then recover', async () => {
    expect(await role('')).toBe('master');
    expect(await role('/shadow')).toBe('shadow');
    expect(await (await api('/api/v1/configuration/connector/ha/master/state')).json()).toEqual({
      state: 'CONNECTED',
      shadowHost: 'scc-shadow.corp',
    });
    expect((await viaProxy()).status).toBe(200);

    expect(
      (await api('/api/v1/configuration/connector/ha/master/state', { method: 'POST', body: JSON.stringify({ op: 'SWITCH' }) })).status,
    ).toBe(204);
    const during = await viaProxy();
    expect(during.status).toBe(503);
    expect(during.body).toContain('There is no SAP Cloud Connector (SCC) connected');
    const entry = emu.journal({ service: 'connectivity-proxy' }).at(-1)!;
    expect(entry.reason).toContain('switching between master and shadow');

    expect(await role('')).toBe('shadow');
    expect(await role('/shadow')).toBe('master');
    // The master's configuration is now on the former shadow; the former master refuses it with 400.
    expect((await api('/shadow/api/v1/configuration/subaccounts')).status).toBe(200);
    const refused = await api('/api/v1/configuration/subaccounts');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { type: string }).type).toBe('INVALID_REQUEST');

    emu.clock({ action: 'advance', by: 9_000 });
    expect((await viaProxy()).status).toBe(503);
    emu.clock({ action: 'advance', by: 1_000 });
    expect((await viaProxy()).status).toBe(200);
  });

  it('the shadow takes over takeoverDelaySeconds after the master goes offline', async () => {
    emu.onPrem.setConnectorOnline({ online: false });
    const down = await viaProxy();
    expect(down.status).toBe(503);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)!.reason).toContain('its shadow takes over');
    emu.clock({ action: 'advance', by: 29_000 });
    expect((await viaProxy()).status).toBe(503);
    emu.clock({ action: 'advance', by: 1_000 });
    expect((await viaProxy()).status).toBe(200);
    expect(await role('/shadow')).toBe('master');
    const sub = (await (await api(`/shadow/api/v1/configuration/subaccounts/cf.eu10.hana.ondemand.com/${subaccount}`)).json()) as {
      tunnel: { state: string };
    };
    expect(sub.tunnel.state).toBe('Connected');
  });

  it('an offline fault counts as the master going offline', async () => {
    emu.addFault({ target: { locationId: '' }, effect: { offline: true } });
    expect((await viaProxy()).status).toBe(503);
    emu.clock({ action: 'advance', by: 30_000 });
    expect((await viaProxy()).status).toBe(200);
  });

  it('without a connected shadow the connector just stays offline; a switch is refused', async () => {
    await api('/api/v1/configuration/connector/ha/master/config', { method: 'PUT', body: JSON.stringify({ haEnabled: false }) });
    expect(await (await api('/api/v1/configuration/connector/ha/master/state')).json()).toMatchObject({ state: 'BROKEN' });
    const switched = await api('/api/v1/configuration/connector/ha/master/state', {
      method: 'POST',
      body: JSON.stringify({ op: 'SWITCH' }),
    });
    expect(switched.status).toBe(409);
    emu.onPrem.setConnectorOnline({ online: false });
    emu.clock({ action: 'advance', by: 3_600_000 });
    expect((await viaProxy()).status).toBe(503);
  });

  it('the master refuses the shadow settings with 403; the shadow shows them', async () => {
    expect((await api('/api/v1/configuration/connector/ha/shadow/config')).status).toBe(403);
    const config = await api('/shadow/api/v1/configuration/connector/ha/shadow/config');
    expect(config.status).toBe(200);
    expect(await config.json()).toMatchObject({ ownHost: 'scc-shadow.corp', takeoverDelayInSeconds: 30 });
  });
});
