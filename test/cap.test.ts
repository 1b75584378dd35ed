/**
 * CAP (`@sap/cds`, unmodified) resolves remote services configured by `capRemoteService()`: `cds.connect.to`
 * hands the destination name to the SAP Cloud SDK, which finds it in the emulator's Destination Service and
 * calls the emulator's fake backend — over the Internet (OData V4) and on-premise through the connectivity
 * proxy and Cloud Connector (OData V2).
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { capRemoteService, vcapServicesJson } from '../sdk-adapters/index.ts';

interface RemoteService {
  send(request: { method: string; path: string }): Promise<unknown>;
}
interface Cds {
  env: { requires: Record<string, unknown> };
  connect: { to(name: string): Promise<RemoteService> };
  services: Record<string, unknown>;
}

const cds = createRequire(import.meta.url)('@sap/cds') as Cds;
let emu: EmulatorHandle;
const savedVcap = process.env.VCAP_SERVICES;

interface Product {
  ProductID: string;
  Name: string;
}

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'cap',
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            { Name: 'SAMPLE', Type: 'HTTP', URL: '{{backend}}', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
            { Name: 'ERP_GW', Type: 'HTTP', URL: 'http://gw.internal:44300', Authentication: 'NoAuthentication', ProxyType: 'OnPremise' },
          ],
          cloudConnectors: [
            {
              locationId: '',
              systems: [
                {
                  virtualHost: 'gw.internal',
                  virtualPort: 44300,
                  internalHost: '{{backendHost}}',
                  internalPort: '{{backendHttpPort}}',
                  protocol: 'HTTP',
                  resources: [{ path: '/sap/opu/odata', exactMatchOnly: false }],
                },
              ],
            },
          ],
        },
      ],
    },
  });
  process.env.VCAP_SERVICES = vcapServicesJson(emu);
  cds.env.requires.SampleV4 = capRemoteService({
    destination: 'SAMPLE',
    kind: 'odata',
    path: '/odata/v4/sample',
    destinationOptions: { useCache: false },
  });
  cds.env.requires.ErpV2 = capRemoteService({
    destination: 'ERP_GW',
    kind: 'odata-v2',
    path: '/sap/opu/odata/sap/API_SAMPLE_SRV',
    destinationOptions: { useCache: false },
  });
  cds.env.requires.Missing = capRemoteService({ destination: 'NOT_THERE', kind: 'odata' });
});

afterAll(async () => {
  for (const name of ['SampleV4', 'ErpV2', 'Missing']) {
    delete cds.env.requires[name];
    delete cds.services[name];
  }
  if (savedVcap === undefined) delete process.env.VCAP_SERVICES;
  else process.env.VCAP_SERVICES = savedVcap;
  await emu?.stop();
});

describe('CAP remote services through destinations', () => {
  it('OData V4 over the Internet: the destination comes from the Destination Service', async () => {
    const sample = await cds.connect.to('SampleV4');
    const products = (await sample.send({ method: 'GET', path: '/Products?$top=2' })) as Product[];
    expect(products.map((p) => p.ProductID)).toEqual(['P1', 'P2']);
    expect(emu.journal({ service: 'destination' }).some((e) => e.destination === 'SAMPLE' && e.status === 200)).toBe(true);
  });

  it('OData V2 on-premise: through the connectivity proxy and the Cloud Connector mapping', async () => {
    const erp = await cds.connect.to('ErpV2');
    const product = (await erp.send({ method: 'GET', path: "/Products('P3')" })) as Product;
    expect(product).toMatchObject({ ProductID: 'P3', Name: 'Flat Screen 24' });
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 200, virtualTarget: 'gw.internal:44300' });
  });

  it('a destination the Destination Service does not know fails the call', async () => {
    const missing = await cds.connect.to('Missing');
    await expect(missing.send({ method: 'GET', path: '/Products' })).rejects.toThrow(/NOT_THERE/);
  });
});
