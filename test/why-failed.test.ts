/**
 * "Why did my call fail?": every refusal carries a reason a person can act on, in the journal and, where BTP
 * has no room for it in the body, in an `X-Emulator-Reason` header. A destination lookup miss names the nearest
 * existing names of both levels while the 404 body stays exactly what the SAP Cloud SDK compares.
 */
import { request as httpRequest } from 'node:http';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { didYouMean, levenshtein, nearestNames } from '../emulator/core/name-hints.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, serviceToken } from './helpers.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  emu.core.loadScenario({
    ...emu.core.scenario,
    tenants: emu.core.scenario.tenants.map((t, i) =>
      i === 0 ? { ...t, destinations: [...t.destinations, { Name: 'ERP_QAS', Type: 'HTTP', URL: 'http://erp.internal:44300', Authentication: 'NoAuthentication', ProxyType: 'OnPremise' }] } : t,
    ),
  });
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(() => {
  emu.reset();
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

describe('name hints', () => {
  it('edit distance', () => {
    expect(levenshtein('ERP_QA', 'ERP_QAS')).toBe(1);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
  });

  it('nearest names: typos, casing and missing suffixes; nothing for unrelated names', () => {
    const names = ['ERP_QAS', 'ERP_PRD', 'BACKEND_NOAUTH', 'S4_ODATA'];
    expect(nearestNames('ERP_QA', names)).toEqual(['ERP_QAS']);
    expect(nearestNames('erp_qas', names)).toEqual(['ERP_QAS']);
    expect(nearestNames('ERP_PXS', names)).toEqual(['ERP_PRD', 'ERP_QAS']);
    expect(nearestNames('BACKEND', names)).toEqual(['BACKEND_NOAUTH']);
    expect(nearestNames('WEATHER', names)).toEqual([]);
    expect(didYouMean('ERP_QA', names)).toBe('did you mean `ERP_QAS`?');
    expect(didYouMean('ERP_PXS', names)).toBe('did you mean `ERP_PRD` or `ERP_QAS`?');
    expect(didYouMean('WEATHER', names)).toBe('');
  });
});

describe('a destination lookup miss', () => {
  const lookup = async (name: string): Promise<Response> =>
    fetch(`${emu.urls.services}/destination-configuration/v1/destinations/${name}`, { headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}` } });

  it('keeps the 404 body the SDK compares and puts "did you mean" into X-Emulator-Reason and the journal', async () => {
    const res = await lookup('ERP_QA');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"ErrorMessage":"Configuration with the specified name was not found"}');
    const reason = decodeURI(res.headers.get('x-emulator-reason')!);
    expect(reason).toBe('destination `ERP_QA` exists neither on the instance level nor on the subaccount level of `provider`; did you mean `ERP_QAS`?');
    expect(emu.journal({ destination: 'ERP_QA' })).toMatchObject([{ status: 404, reason }]);
  });

  it('the SAP Cloud SDK still reads the miss as "not found" (null), and the journal says what was meant', async () => {
    expect(await getDestination({ destinationName: 'backend_noauth', useCache: false })).toBeNull();
    expect(emu.journal({ destination: 'backend_noauth' }).at(-1)).toMatchObject({ status: 404, reason: expect.stringContaining('did you mean `BACKEND_NOAUTH`?') });
  });

  it('looks at both levels: a name on the instance level is suggested too', async () => {
    const res = await lookup('INSTANCE_NOAUT');
    expect(decodeURI(res.headers.get('x-emulator-reason')!)).toContain('did you mean `INSTANCE_NOAUTH`?');
  });

  it('without a near name it says that names are case-sensitive', async () => {
    const res = await lookup('WEATHER_API');
    expect(decodeURI(res.headers.get('x-emulator-reason')!)).toBe('destination `WEATHER_API` exists neither on the instance level nor on the subaccount level of `provider` (names are case-sensitive)');
  });
});

describe('refusals of the connectivity proxy name the cause', () => {
  function viaProxy(token: string): Promise<{ status: number; reason: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: emu.ports.httpProxy, path: 'http://erp.internal:44300/x', headers: { 'proxy-authorization': `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: decodeURI(String(res.headers['x-emulator-reason'])) }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('a token of another binding: "issued to client …, not to the connectivity binding"', async () => {
    const result = await viaProxy(await serviceToken(emu, 'destination'));
    expect(result.status).toBe(407);
    expect(result.reason).toBe(`the token was issued to client \`${binding(emu, 'destination').clientid}\`, not to the connectivity binding's client (\`${binding(emu, 'connectivity').clientid}\`)`);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 407, check: 'auth', reason: result.reason });
  });
});
