/**
 * Labels on the instance level's fragments and certificates (`/v1/instanceDestinationFragments/{name}/labels`,
 * `/v1/instanceCertificates/{name}/labels`; GET, PUT, PATCH), over real requests: created through the CRUD API,
 * kept between requests, kept apart from the subaccount entity of the same name, filtering the certificate
 * list, refused when bad, 404 for an unknown entity, and gone with the entity after a reset.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
let token: string;
const v1 = (): string => `${emu.urls.services}/destination-configuration/v1`;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'instance-labels',
      tenants: [{ subdomain: 'provider', fragments: [{ FragmentName: 'F1', URL: 'https://subaccount-f1.example' }] }],
      bindings: [{ name: 'my-destination', service: 'destination' }],
    },
  });
  token = await serviceToken(emu, 'destination');
});
afterAll(() => emu?.stop());

beforeEach(async () => {
  emu.reset();
  const validity = { TimeUnit: 'DAYS', Value: 1 };
  for (const [path, body] of [
    ['instanceDestinationFragments', { FragmentName: 'F1', URL: 'https://instance-f1.example' }],
    ['instanceDestinationFragments', { FragmentName: 'F2', URL: 'https://instance-f2.example' }],
    ['instanceCertificates', { Name: 'c1.pem', Attributes: { CN: 'c1', Validity: validity } }],
    ['instanceCertificates', { Name: 'c2.pem', Attributes: { CN: 'c2', Validity: validity } }],
  ] as const) {
    const res = await send('POST', path, body);
    expect(res.status, `POST ${path}`).toBe(201);
  }
});

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${v1()}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const labels = (path: string, method = 'GET', body?: unknown) => send(method, `${path}/labels`, body);

describe('labels on instance-level fragments and certificates', () => {
  for (const [kind, path] of [
    ['fragment', 'instanceDestinationFragments/F1'],
    ['certificate', 'instanceCertificates/c1.pem'],
  ] as const) {
    it(`${kind}: start empty, PUT replaces, PATCH ADD merges and DELETE removes, and a later request sees it`, async () => {
      expect(await labels(path)).toEqual({ status: 200, body: [] });
      expect(
        await labels(path, 'PUT', [
          { key: 'env', values: ['qa', 'eu'] },
          { key: 'team', values: ['a'] },
        ]),
      ).toEqual({
        status: 200,
        body: [
          { key: 'env', values: ['qa', 'eu'] },
          { key: 'team', values: ['a'] },
        ],
      });
      await labels(path, 'PATCH', { action: 'ADD', labels: [{ key: 'env', values: ['us'] }] });
      await labels(path, 'PATCH', {
        action: 'DELETE',
        labels: [
          { key: 'env', values: ['eu'] },
          { key: 'team', values: [] },
        ],
      });
      expect(await labels(path)).toEqual({ status: 200, body: [{ key: 'env', values: ['qa', 'us'] }] });
    });

    it(`${kind}: a bad body is a 400 naming the field and changes nothing`, async () => {
      await labels(path, 'PUT', [{ key: 'env', values: ['qa'] }]);
      expect(await labels(path, 'PUT', [{ key: 'env', values: [1] }])).toEqual({
        status: 400,
        body: { ErrorMessage: 'body[0].values must be an array of strings' },
      });
      expect(
        (
          await labels(
            path,
            'PUT',
            Array.from({ length: 11 }, (_, i) => ({ key: `k${i}`, values: [] })),
          )
        ).status,
      ).toBe(400);
      expect(await labels(path)).toEqual({ status: 200, body: [{ key: 'env', values: ['qa'] }] });
    });
  }

  it('are kept apart from the subaccount fragment of the same name, and from the other entities of the level', async () => {
    await labels('instanceDestinationFragments/F1', 'PUT', [{ key: 'level', values: ['instance'] }]);
    await labels('subaccountDestinationFragments/F1', 'PUT', [{ key: 'level', values: ['subaccount'] }]);
    expect((await labels('instanceDestinationFragments/F1')).body).toEqual([{ key: 'level', values: ['instance'] }]);
    expect((await labels('subaccountDestinationFragments/F1')).body).toEqual([{ key: 'level', values: ['subaccount'] }]);
    expect((await labels('instanceDestinationFragments/F2')).body).toEqual([]);
    expect((await labels('instanceCertificates/c2.pem')).body).toEqual([]);
  });

  it("filter the instance certificate list with Label['k'] HAS (...)", async () => {
    await labels('instanceCertificates/c1.pem', 'PUT', [{ key: 'use', values: ['mtls'] }]);
    await labels('instanceCertificates/c2.pem', 'PUT', [{ key: 'use', values: ['saml'] }]);
    const res = await fetch(`${v1()}/instanceCertificates?$filter=${encodeURIComponent("Label['use'] HAS ('mtls')")}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { Name: string }[]).map((c) => c.Name)).toEqual(['c1.pem']);
  });

  it('answer 404 for an unknown instance fragment or certificate', async () => {
    expect((await labels('instanceDestinationFragments/NOPE')).status).toBe(404);
    expect((await labels('instanceCertificates/nope.pem', 'PUT', [])).status).toBe(404);
  });

  it('are gone after a reset, with the entities created at run time', async () => {
    await labels('instanceCertificates/c1.pem', 'PUT', [{ key: 'k', values: ['v'] }]);
    emu.reset();
    expect((await labels('instanceCertificates/c1.pem')).status).toBe(404);
    expect(
      (await send('POST', 'instanceCertificates', { Name: 'c1.pem', Attributes: { CN: 'c1', Validity: { TimeUnit: 'DAYS', Value: 1 } } }))
        .status,
    ).toBe(201);
    expect((await labels('instanceCertificates/c1.pem')).body).toEqual([]);
  });
});
