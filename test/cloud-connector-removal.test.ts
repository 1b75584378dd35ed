/**
 * Removing a Cloud Connector at run time, by each of the three faces: the control API (`DELETE
 * /_emulator/cloud-connectors?locationId=…&tenant=…`, 204 / 404 / 400), the handle (`emu.onPrem.removeConnector`)
 * and the typed client (`emu.control.removeCloudConnector`). A connector is added first (`putCloudConnector`), a
 * real client reaches its systems, and after the removal the proxies refuse that location as
 * docs/connectivity-proxy.md says: the HTTP proxy (the SAP Cloud SDK) 503 "no SAP Cloud Connector …", SOCKS5
 * (the `socks` client with SAP's 0x80 method) reply 03.
 */
import type { Socket } from 'node:net';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ControlApiError } from '../emulator/client/index.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';
import { serviceToken } from './helpers.ts';
import { echoRoundTrip, sapSocksConnect } from './socks5-client.ts';

let emu: EmulatorHandle;
const location = 'LOC_REMOVE';

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  emu.loadScenario({
    ...emu.core.scenario,
    tenants: emu.core.scenario.tenants.map((t, i) =>
      i === 0
        ? {
            ...t,
            destinations: [
              ...t.destinations,
              {
                Name: 'ONPREM_REMOVE',
                Type: 'HTTP',
                URL: 'http://erp.internal:44300',
                Authentication: 'NoAuthentication',
                ProxyType: 'OnPremise',
                CloudConnectorLocationId: location,
              },
            ],
          }
        : t,
    ),
  });
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(async () => {
  emu.reset();
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
  // Through the typed client: a connector with an HTTP and a TCP mapping to the fake backend.
  const stored = await emu.control.putCloudConnector({
    locationId: location,
    online: true,
    systems: [
      {
        virtualHost: 'erp.internal',
        virtualPort: 44300,
        internalHost: '{{backendHost}}',
        internalPort: '{{backendHttpPort}}',
        protocol: 'HTTP',
      },
      {
        virtualHost: 'tcp.internal',
        virtualPort: 7000,
        internalHost: '{{backendHost}}',
        internalPort: '{{backendTcpPort}}',
        protocol: 'TCP',
      },
    ],
  });
  expect(stored.locationId).toBe(location);
});

async function socksConnect(locationId: string): Promise<Socket> {
  return sapSocksConnect(
    emu.ports.socks5,
    await serviceToken(emu, 'connectivity'),
    { host: 'tcp.internal', port: 7000 },
    { locationId, timeout: 10_000 },
  );
}

/** The SDK's call through the HTTP proxy to the connector's HTTP mapping: the echo body, or the refusal. */
async function viaHttpProxy(): Promise<{ ok: true; body: EchoBody } | { ok: false; status?: number; body?: unknown }> {
  try {
    const res = await executeHttpRequest({ destinationName: 'ONPREM_REMOVE', useCache: false }, { method: 'get', url: '/echo' });
    return { ok: true, body: res.data as EchoBody };
  } catch (err) {
    const e = err as { response?: { status: number; data: unknown }; cause?: { response?: { status: number; data: unknown } } };
    const response = e.response ?? e.cause?.response;
    return { ok: false, status: response?.status, body: response?.data };
  }
}

/** Both proxies serve the connector before the removal. */
async function expectServed(): Promise<void> {
  const served = await viaHttpProxy();
  expect(served.ok && served.body.path).toBe('/echo');
  expect(await echoRoundTrip(await socksConnect(location), 'still there')).toBe('still there');
}

/** Both proxies refuse the location after it: 503 with SAP's text, SOCKS5 reply 03 (network unreachable). */
async function expectRefused(): Promise<void> {
  expect(await viaHttpProxy()).toEqual({
    ok: false,
    status: 503,
    body: `There is no SAP Cloud Connector (SCC) connected to your subaccount with location ID '${location}'`,
  });
  expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 503, check: 'location', locationId: location });
  const refused = await socksConnect(location).then(
    () => 'connected',
    (err: Error) => err.message,
  );
  expect(refused).toBe('Socks5 proxy rejected connection - NetworkUnreachable');
  expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 3, locationId: location, check: 'location' });
}

const providerConnectors = (): string[] =>
  emu.onPrem
    .connectors()
    .find((t) => t.tenant === 'provider')!
    .connectors.map((c) => c.locationId);

describe('removing a Cloud Connector', () => {
  it('through the control API: 204, then 404 for the same location; the proxies refuse it', async () => {
    await expectServed();
    const url = `${emu.urls.control}/cloud-connectors?locationId=${location}&tenant=provider`;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
    expect(providerConnectors()).not.toContain(location);
    const again = await fetch(url, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: 'not_found', message: `no Cloud Connector with location ID "${location}"` });
    await expectRefused();
  });

  it('through the control API: an unknown tenant is a 400 naming it, and changes nothing', async () => {
    const res = await fetch(`${emu.urls.control}/cloud-connectors?locationId=${location}&tenant=nobody`, { method: 'DELETE' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: 'invalid_request',
      issues: [{ path: 'tenant', message: '"nobody" is not a subdomain or zid of this emulator' }],
    });
    expect(providerConnectors()).toContain(location);
    await expectServed();
  });

  it('through the handle: true, then false; the proxies refuse it', async () => {
    await expectServed();
    expect(emu.onPrem.removeConnector(location)).toBe(true);
    expect(emu.onPrem.removeConnector(location)).toBe(false);
    expect(providerConnectors()).not.toContain(location);
    await expectRefused();
  });

  it('through the typed client (by the tenant’s zid): resolves, then a ControlApiError 404; the proxies refuse it', async () => {
    await expectServed();
    await emu.control.removeCloudConnector({ locationId: location, tenant: emu.core.state.provider.zid });
    const missing = await emu.control.removeCloudConnector({ locationId: location }).catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(ControlApiError);
    expect((missing as ControlApiError).status).toBe(404);
    expect((await emu.control.cloudConnectors()).find((t) => t.tenant === 'provider')!.connectors.map((c) => c.locationId)).not.toContain(
      location,
    );
    await expectRefused();
  });

  it("removes only that tenant's connector: the same location ID of another tenant stays", async () => {
    await emu.control.putCloudConnector({ locationId: location, online: true, systems: [] }, 'subscriber1');
    await emu.control.removeCloudConnector({ locationId: location, tenant: 'subscriber1' });
    expect(providerConnectors()).toContain(location);
    expect(
      emu.onPrem
        .connectors()
        .find((t) => t.tenant === 'subscriber1')!
        .connectors.map((c) => c.locationId),
    ).not.toContain(location);
    await expectServed();
  });
});
