/** Labels of destinations, fragments and certificates (`…/{name}/labels` GET, PUT, PATCH) on both levels. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
let token: string;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'labels',
      tenants: [
        {
          subdomain: 'provider',
          destinations: ['D1', 'D2', 'D3'].map((Name) => ({
            Name,
            Type: 'HTTP',
            URL: 'https://d.example',
            Authentication: 'NoAuthentication',
            ProxyType: 'Internet',
          })),
          fragments: [{ FragmentName: 'F1', URL: 'https://f1.example' }],
          certificates: [
            { Name: 'c.pem', Content: 'MIIB' },
            { Name: 'D1', Content: 'MIIB' },
          ],
        },
      ],
    },
  });
  token = await serviceToken(emu, 'destination');
});
afterAll(() => emu?.stop());
beforeEach(() => emu.reset());

async function labels(path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${emu.urls.services}/destination-configuration/v1/${path}/labels`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('labels', () => {
  it('start empty, are replaced by PUT and merged or removed by PATCH', async () => {
    expect(await labels('subaccountDestinations/D1')).toEqual({ status: 200, body: [] });
    await labels('subaccountDestinations/D1', 'PUT', [
      { key: 'env', values: ['prod', 'eu'] },
      { key: 'team', values: ['a'] },
    ]);
    await labels('subaccountDestinations/D1', 'PATCH', {
      action: 'ADD',
      labels: [
        { key: 'env', values: ['us'] },
        { key: 'tier', values: ['1'] },
      ],
    });
    await labels('subaccountDestinations/D1', 'PATCH', {
      action: 'DELETE',
      labels: [
        { key: 'env', values: ['eu'] },
        { key: 'team', values: [] },
      ],
    });
    expect((await labels('subaccountDestinations/D1')).body).toEqual([
      { key: 'env', values: ['prod', 'us'] },
      { key: 'tier', values: ['1'] },
    ]);
  });

  it('exist for fragments and certificates, per level', async () => {
    await labels('subaccountDestinationFragments/F1', 'PUT', [{ key: 'k', values: ['v'] }]);
    await labels('subaccountCertificates/c.pem', 'PUT', [{ key: 'k', values: ['w'] }]);
    expect((await labels('subaccountDestinationFragments/F1')).body).toEqual([{ key: 'k', values: ['v'] }]);
    expect((await labels('subaccountCertificates/c.pem')).body).toEqual([{ key: 'k', values: ['w'] }]);
    expect((await labels('instanceDestinations/D1')).status).toBe(404);
  });

  it('refuses bad bodies and too many labels or values with 400 naming the problem, changing nothing', async () => {
    await labels('subaccountDestinations/D1', 'PUT', [{ key: 'env', values: ['prod'] }]);
    const bad = await labels('subaccountDestinations/D1', 'PUT', [{ key: '', values: [] }]);
    expect(bad).toEqual({ status: 400, body: { ErrorMessage: 'body[0].key must be a non-empty string' } });
    const many = Array.from({ length: 11 }, (_, i) => ({ key: `k${i}`, values: ['v'] }));
    expect((await labels('subaccountDestinations/D1', 'PUT', many)).status).toBe(400);
    const values = await labels('subaccountDestinations/D1', 'PATCH', {
      action: 'ADD',
      labels: [{ key: 'env', values: Array.from({ length: 10 }, (_, i) => `v${i}`) }],
    });
    expect((values.body as { ErrorMessage: string }).ErrorMessage).toMatch(/"env" would have 11 values/);
    expect((await labels('subaccountDestinations/D1', 'PATCH', { action: 'REPLACE', labels: [] })).status).toBe(400);
    // A body that is JSON but not an object (null, an array, a number) is a 400 that says what the body must be.
    for (const body of [null, [], 7]) {
      const refused = await labels('subaccountDestinations/D1', 'PATCH', body);
      expect(refused.status).toBe(400);
      expect((refused.body as { ErrorMessage: string }).ErrorMessage).toMatch(/the body must be an object/);
    }
    expect((await labels('subaccountDestinations/D1')).body).toEqual([{ key: 'env', values: ['prod'] }]);
  });

  it('are kept apart per entity kind: a certificate named like a destination has its own', async () => {
    await labels('subaccountDestinations/D1', 'PUT', [{ key: 'k', values: ['dest'] }]);
    expect((await labels('subaccountCertificates/D1')).body).toEqual([]);
  });

  it("filter lists with Label['k'] HAS (...), any of the values, joined with AND and with name conditions", async () => {
    await labels('subaccountDestinations/D1', 'PUT', [
      { key: 'env', values: ['prod'] },
      { key: 'team', values: ['a'] },
    ]);
    await labels('subaccountDestinations/D2', 'PUT', [
      { key: 'env', values: ['dev'] },
      { key: 'team', values: ['a'] },
    ]);
    await labels('subaccountCertificates/c.pem', 'PUT', [{ key: 'env', values: ['prod'] }]);
    const list = async (collection: string, filter: string): Promise<string[]> => {
      const res = await fetch(`${emu.urls.services}/destination-configuration/v1/${collection}?$filter=${encodeURIComponent(filter)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { Name: string }[]).map((d) => d.Name);
    };
    expect(await list('subaccountDestinations', "Label['env'] HAS ('prod', 'test')")).toEqual(['D1']);
    expect(await list('subaccountDestinations', "Label['team'] HAS ('a') AND Label['env'] HAS ('dev')")).toEqual(['D2']);
    expect(await list('subaccountDestinations', "Label['team'] HAS ('a') AND startswith(Name, 'D1')")).toEqual(['D1']);
    expect(await list('subaccountCertificates', "Label['env'] HAS ('prod')")).toEqual(['c.pem']);
    const bad = await fetch(
      `${emu.urls.services}/destination-configuration/v1/subaccountDestinations?$filter=${encodeURIComponent("Label['env'] HAS ()")}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(bad.status).toBe(400);
  });

  it('on the instance level stay put between requests, and filter its lists', async () => {
    const created = await fetch(`${emu.urls.services}/destination-configuration/v1/instanceDestinations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        Name: 'I1',
        Type: 'HTTP',
        URL: 'https://i1.example',
        Authentication: 'NoAuthentication',
        ProxyType: 'Internet',
      }),
    });
    expect(created.status).toBe(201);
    expect(await labels('instanceDestinations/I1', 'PUT', [{ key: 'env', values: ['qa'] }])).toEqual({
      status: 200,
      body: [{ key: 'env', values: ['qa'] }],
    });
    // A second request sees them (each request builds a new view of the instance level).
    expect((await labels('instanceDestinations/I1')).body).toEqual([{ key: 'env', values: ['qa'] }]);
    await labels('instanceDestinations/I1', 'PATCH', { action: 'ADD', labels: [{ key: 'env', values: ['eu'] }] });
    expect((await labels('instanceDestinations/I1')).body).toEqual([{ key: 'env', values: ['qa', 'eu'] }]);
    const res = await fetch(
      `${emu.urls.services}/destination-configuration/v1/instanceDestinations?$filter=${encodeURIComponent("Label['env'] HAS ('eu')")}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(((await res.json()) as { Name: string }[]).map((d) => d.Name)).toEqual(['I1']);
  });

  it('answer 404 for an unknown entity', async () => {
    expect((await labels('subaccountDestinations/NOPE')).status).toBe(404);
  });
});
