/**
 * The Connectivity Service REST API over a real socket: an `api_access` connectivity binding names the API in
 * `connectivity_service`; `GET <url><scc_info_path>` with its token answers the tenant's connected Cloud
 * Connectors from the Cloud Connector model, all values strings; refusals assert status and body.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { postForm } from './helpers.ts';

const subscriberZid = '9c8b7a65-4d3e-4f2a-8b1c-0d9e8f7a6b54';
let emu: EmulatorHandle;

interface Binding {
  name: string;
  credentials: Record<string, unknown> & {
    clientid: string;
    clientsecret: string;
    url: string;
    connectivity_service?: { url: string; scc_info_path: string };
  };
}
const bindingNamed = (service: string, name: string): Binding =>
  (JSON.parse(emu.env.VCAP_SERVICES) as Record<string, Binding[]>)[service].find((b) => b.name === name)!;

async function tokenOf(b: Binding, zid?: string): Promise<string> {
  const res = await postForm(
    `${b.credentials.url}/oauth/token`,
    { grant_type: 'client_credentials', client_id: b.credentials.clientid, client_secret: b.credentials.clientsecret },
    zid ? { 'x-zid': zid } : {},
  );
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function sccInfo(token?: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const api = bindingNamed('connectivity', 'conn-api').credentials.connectivity_service!;
  const res = await fetch(`${api.url}${api.scc_info_path}`, {
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'connectivity-api',
      tenants: [
        {
          subdomain: 'provider',
          cloudConnectors: [
            {
              locationId: '',
              systems: [
                {
                  virtualHost: 'erp.internal',
                  virtualPort: 44300,
                  internalHost: 'localhost',
                  internalPort: 8080,
                  protocol: 'HTTP',
                  description: 'ERP',
                },
                { virtualHost: 'abap.internal', virtualPort: 3300, internalHost: 'localhost', internalPort: 3300, protocol: 'RFC' },
              ],
            },
            {
              locationId: 'LOC2',
              systems: [{ virtualHost: 'ldap.internal', virtualPort: 389, internalHost: 'localhost', internalPort: 389, protocol: 'LDAP' }],
            },
            { locationId: 'OFFLINE', online: false },
          ],
        },
        { subdomain: 'subscriber1', zid: subscriberZid, cloudConnectors: [{ locationId: 'SUB', systems: [] }] },
        { subdomain: 'subscriber2' },
      ],
      bindings: [
        { name: 'my-connectivity', service: 'connectivity' },
        { name: 'conn-api', service: 'connectivity', plan: 'api_access' },
      ],
    },
  });
});
afterAll(() => emu.stop());
beforeEach(() => emu.reset());

describe('Connectivity Service REST API', () => {
  it('the api_access binding names the API in connectivity_service; the lite binding does not', () => {
    const api = bindingNamed('connectivity', 'conn-api');
    expect(api.credentials.connectivity_service).toEqual({ url: emu.urls.services, scc_info_path: expect.stringMatching(/^\//) });
    expect(bindingNamed('connectivity', 'my-connectivity').credentials.connectivity_service).toBeUndefined();
  });

  it('answers one element per connected Cloud Connector of the token’s subaccount, every value a string', async () => {
    const res = await sccInfo(await tokenOf(bindingNamed('connectivity', 'conn-api')));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const list = res.body as { attributes: Record<string, unknown> }[];
    expect(list.map((c) => c.attributes.location_id)).toEqual(['', 'LOC2']);
    for (const { attributes } of list) {
      expect(Object.values(attributes).every((v) => typeof v === 'string')).toBe(true);
      expect(Object.keys(attributes)).toEqual(
        expect.arrayContaining([
          'connected_by',
          'connected_since',
          'security_status',
          'agent_version',
          'agent_type',
          'client_id',
          'exposed_systems',
          'jvm_vendor_version',
          'agent_recent_start_ms',
          'java_version',
        ]),
      );
      expect(attributes.connected_since).toMatch(/^\d{13}$/);
      expect(JSON.parse(attributes.security_status as string)).toMatchObject({ summary: 'low_risk' });
    }
    expect(JSON.parse(list[0].attributes.exposed_systems as string)).toEqual([
      { protocol: 'HTTP', host: 'erp.internal:44300', description: 'ERP', type: 'nonSAPsys', status: 'exposed' },
      { protocol: 'RFC', host: 'abap.internal:3300', description: '', type: 'abapSys', status: 'exposed' },
    ]);
    expect(JSON.parse(list[1].attributes.exposed_systems as string)).toEqual([
      { protocol: 'LDAP', host: 'ldap.internal:389', description: '', type: 'nonSAPsys', status: 'exposed' },
    ]);
    // Stable between calls.
    expect((await sccInfo(await tokenOf(bindingNamed('connectivity', 'conn-api')))).body).toEqual(res.body);
  });

  it('follows the Cloud Connector model: a connector taken offline disappears; a subscriber token sees its own connectors', async () => {
    const token = await tokenOf(bindingNamed('connectivity', 'conn-api'));
    emu.onPrem.setConnectorOnline({ locationId: 'LOC2', online: false });
    expect(((await sccInfo(token)).body as { attributes: { location_id: string } }[]).map((c) => c.attributes.location_id)).toEqual(['']);
    const subscriber = await sccInfo(await tokenOf(bindingNamed('connectivity', 'conn-api'), subscriberZid));
    expect(
      (subscriber.body as { attributes: { location_id: string; exposed_systems: string } }[]).map((c) => [
        c.attributes.location_id,
        c.attributes.exposed_systems,
      ]),
    ).toEqual([['SUB', '[]']]);
    const empty = await sccInfo(await tokenOf(bindingNamed('connectivity', 'conn-api'), emu.core.state.tenants[2].zid));
    expect(empty).toMatchObject({ status: 200, body: [] });
  });

  it('refuses a missing or invalid token (401) and tokens of other bindings (403), naming the reason', async () => {
    const missing = await sccInfo();
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ error: 'unauthorized' });
    const invalid = await sccInfo('not-a-jwt');
    expect(invalid.status).toBe(401);
    expect(invalid.body).toMatchObject({ error: 'invalid_token' });

    const lite = await sccInfo(await tokenOf(bindingNamed('connectivity', 'my-connectivity')));
    expect(lite.status).toBe(403);
    expect((lite.body as { error_description: string }).error_description).toMatch(/plan "lite".*"api_access"/);
    const destination = await sccInfo(await tokenOf(bindingNamed('destination', 'my-destination')));
    expect(destination.status).toBe(403);
    expect((destination.body as { error_description: string }).error_description).toMatch(/destination binding/);
  });
});
