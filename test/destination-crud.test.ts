/**
 * The Destination Service CRUD API (destinations, fragments, certificates on subaccount and instance level)
 * over a real socket, with response bodies checked against SAP's OpenAPI document for the service.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import forge from 'node-forge';
import { createClock, startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { ensureTlsMaterial } from '../emulator/server/tls-material.ts';
import { serviceToken } from './helpers.ts';
import { expectSpecConform, responseValidator, specTest, type Json } from './openapi.ts';

// ---------------------------------------------------------------------------------------------------
// The emulator under test and small request helpers.
// ---------------------------------------------------------------------------------------------------
const http = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({
  Name: name,
  Type: 'HTTP',
  URL: `https://${name.toLowerCase().replace(/[^a-z0-9]/g, '-')}.example.com`,
  Authentication: 'NoAuthentication',
  ProxyType: 'Internet',
  ...extra,
});
/** Base64 of a real self-signed PEM certificate whose CN is `text` (uploads must hold parsable files); cached. */
const pemKey = forge.pki.privateKeyFromPem(
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
) as forge.pki.rsa.PrivateKey;
const pems = new Map<string, string>();
const pem = (text: string): string => {
  const known = pems.get(text);
  if (known) return known;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(pemKey.n, pemKey.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: text.slice(0, 64) }]);
  cert.setIssuer([{ name: 'commonName', value: text.slice(0, 64) }]);
  cert.sign(pemKey, forge.md.sha256.create());
  const content = Buffer.from(forge.pki.certificateToPem(cert)).toString('base64');
  pems.set(text, content);
  return content;
};

const clock = createClock();
let emu: EmulatorHandle;
let providerToken: string;
let subscriberToken: string;
let subscriberZid: string;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    clock,
    scenario: {
      name: 'crud',
      tenants: [
        {
          subdomain: 'provider',
          destinations: [http('SEEDED'), http('TEMPLATED', { URL: '{{services}}/backend' })],
          instances: { 'my-destination': { destinations: [http('INSTANCE_SEEDED')] } },
        },
        { subdomain: 'subscriber1' },
      ],
      bindings: [{ name: 'my-destination', service: 'destination' }],
    },
  });
  subscriberZid = emu.core.state.tenants[1].zid;
  providerToken = await serviceToken(emu, 'destination');
  subscriberToken = await serviceToken(emu, 'destination', subscriberZid);
});
afterAll(() => emu.stop());
beforeEach(() => emu.reset());

interface Call {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Call> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? providerToken : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const res = await fetch(`${emu.urls.services}/destination-configuration${path}`, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, text, body };
}

const names = (body: unknown): string[] => (body as { Name?: string; FragmentName?: string }[]).map((d) => d.Name ?? d.FragmentName ?? '');
const errorMessage = (c: Call): string => (c.body as { ErrorMessage: string }).ErrorMessage;
/** For specTest: the reply has `status`, and its body matches that response of the operation in SAP's OpenAPI document. */
async function expectConformingReply(
  request: Promise<Call>,
  status: number,
  specPath: string,
  method: string,
  oneOfBranch?: number,
): Promise<void> {
  const reply = await request;
  expect(reply.status).toBe(status);
  expectSpecConform(responseValidator(specPath, method, String(status), oneOfBranch), reply.body);
}

// ---------------------------------------------------------------------------------------------------
describe('OpenAPI validation itself', () => {
  specTest('rejects bodies of the wrong shape, so the checks below can fail', () => {
    const bulk = responseValidator('/v1/subaccountDestinations', 'post', '207');
    expect(bulk([{ name: 'a', status: 201, etag: 'x' }])).toBe(true);
    expect(bulk([{ Name: 'a', Status: 201 }])).toBe(false);
    expect(bulk([{ name: 'a', status: '201' }])).toBe(false);
    const single = responseValidator('/v1/subaccountDestinations/{destination name}', 'get', '200');
    expect(single({ Name: 'a', URL: 'x' })).toBe(false);
    const summary = responseValidator('/v1/subaccountDestinations', 'delete', '200');
    expect(summary({ Count: 1, Summary: [{ name: 'a', status: 'GONE' }] })).toBe(false);
  });
});

describe.each(['subaccount', 'instance'] as const)('destinations on %s level', (level) => {
  const collection = `/v1/${level}Destinations`;

  it('creates, reads, overwrites and deletes a destination', async () => {
    const created = await call('POST', collection, { body: http('ORDERS', { 'sap-client': '100' }) });
    expect(created.status).toBe(201);
    expect(created.text).toBe('');

    const read = await call('GET', `${collection}/ORDERS`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(http('ORDERS', { 'sap-client': '100' }));
    expect(read.headers.get('etag')).toMatch(/^[0-9a-f]{64}$/);

    const updated = await call('PUT', collection, { body: http('ORDERS', { URL: 'https://new.example.com' }) });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ Count: 1 });
    const reread = await call('GET', `${collection}/ORDERS`);
    expect(reread.body).toEqual(http('ORDERS', { URL: 'https://new.example.com' }));
    expect((reread.body as Json)['sap-client']).toBeUndefined();
    expect(reread.headers.get('etag')).not.toBe(read.headers.get('etag'));

    const deleted = await call('DELETE', `${collection}/ORDERS`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ Count: 1 });
    const gone = await call('GET', `${collection}/ORDERS`);
    expect(gone.status).toBe(404);
    expect(errorMessage(gone)).toBe('Configuration with the specified name was not found');
  });

  it('answers 409 for a duplicate name, 404 for updating or deleting a missing one', async () => {
    await call('POST', collection, { body: http('DUP') });
    const again = await call('POST', collection, { body: http('DUP', { URL: 'https://other.example.com' }) });
    expect(again.status).toBe(409);
    expect(errorMessage(again)).toContain('DUP');
    expect((await call('GET', `${collection}/DUP`)).body).toEqual(http('DUP'));

    const put = await call('PUT', collection, { body: http('MISSING') });
    expect(put.status).toBe(404);
    expect(errorMessage(put)).toBeTruthy();
    const del = await call('DELETE', `${collection}/MISSING`);
    expect(del.status).toBe(404);
    expect(errorMessage(del)).toBeTruthy();
  });

  it('rejects an invalid body with 400 naming the field and changes nothing', async () => {
    const before = (await call('GET', collection)).body;
    const noType = await call('POST', collection, { body: { Name: 'NO_TYPE', URL: 'https://x' } });
    expect(noType.status).toBe(400);
    expect(errorMessage(noType)).toMatch(/\bType\b/);
    const badType = await call('POST', collection, { body: http('BAD_TYPE', { Type: 'FTP' }) });
    expect(badType.status).toBe(400);
    expect(errorMessage(badType)).toMatch(/Type.*HTTP/);
    const noName = await call('POST', collection, { body: { Type: 'HTTP' } });
    expect(noName.status).toBe(400);
    expect(errorMessage(noName)).toMatch(/\bName\b/);
    const objectValue = await call('PUT', collection, { body: { ...http('SEEDED'), URL: { nested: true } } });
    expect(objectValue.status).toBe(400);
    expect(errorMessage(objectValue)).toMatch(/\bURL\b/);
    const notJson = await call('POST', collection, { body: '{"Name": "BROKEN",' });
    expect(notJson.status).toBe(400);
    expect(errorMessage(notJson)).toMatch(/JSON/);
    const empty = await call('POST', collection, { body: '' });
    expect(empty.status).toBe(400);
    expect((await call('GET', collection)).body).toEqual(before);
  });

  it('answers If-None-Match with 304 and a stale If-Match with 412', async () => {
    await call('POST', collection, { body: http('TAGGED') });
    const read = await call('GET', `${collection}/TAGGED`);
    const etag = read.headers.get('etag')!;
    const notModified = await call('GET', `${collection}/TAGGED`, { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.get('etag')).toBe(etag);
    expect((await call('GET', `${collection}/TAGGED`, { headers: { 'if-match': etag } })).status).toBe(200);

    await call('PUT', collection, { body: http('TAGGED', { Description: 'changed' }) });
    expect((await call('GET', `${collection}/TAGGED`, { headers: { 'if-none-match': etag } })).status).toBe(200);
    const stale = await call('GET', `${collection}/TAGGED`, { headers: { 'if-match': etag } });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('etag')).not.toBe(etag);
    expect(errorMessage(stale)).toBeTruthy();
  });

  it('creates several destinations at once: 201, or 207 with a result per item', async () => {
    const all = await call('POST', collection, { body: [http('BULK_A'), http('BULK_B')] });
    expect(all.status).toBe(201);
    expect(all.body).toEqual([
      { name: 'BULK_A', status: 201, etag: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { name: 'BULK_B', status: 201, etag: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    const etagA = (all.body as { etag: string }[])[0].etag;
    expect((await call('GET', `${collection}/BULK_A`)).headers.get('etag')).toBe(etagA);

    const mixed = await call('POST', collection, { body: [http('BULK_C'), http('BULK_A'), { Name: 'BULK_D', Type: 'SMTP' }, 'nonsense'] });
    expect(mixed.status).toBe(207);
    const results = mixed.body as { name: string; status: number; cause?: string; etag?: string }[];
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['BULK_C', 201],
      ['BULK_A', 409],
      ['BULK_D', 400],
      ['', 400],
    ]);
    expect(results[2].cause).toMatch(/\bType\b/);
    expect(results[1].cause).toBeTruthy();
    expect(results[1].etag).toBeUndefined();
    expect((await call('GET', `${collection}/BULK_C`)).status).toBe(200);
    expect((await call('GET', `${collection}/BULK_D`)).status).toBe(404);
  });

  it('overwrites several destinations at once: 200, or 207 naming the missing ones', async () => {
    await call('POST', collection, { body: [http('P1'), http('P2')] });
    const ok = await call('PUT', collection, { body: [http('P1', { Description: 'one' }), http('P2', { Description: 'two' })] });
    expect(ok.status).toBe(200);
    expect((ok.body as { status: number }[]).map((r) => r.status)).toEqual([200, 200]);

    const partly = await call('PUT', collection, { body: [http('P1', { Description: 'again' }), http('P3'), { Name: 'P2' }] });
    expect(partly.status).toBe(207);
    const results = partly.body as { name: string; status: number; cause?: string }[];
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['P1', 200],
      ['P3', 404],
      ['P2', 400],
    ]);
    expect(results[2].cause).toMatch(/\bType\b/);
    expect(((await call('GET', `${collection}/P1`)).body as Json).Description).toBe('again');
    expect(((await call('GET', `${collection}/P2`)).body as Json).Description).toBe('two');
    expect((await call('GET', `${collection}/P3`)).status).toBe(404);
  });

  it('lists destinations as a plain array', async () => {
    const list = await call('GET', collection);
    expect(list.status).toBe(200);
    expect(names(list.body)).toEqual(level === 'subaccount' ? ['SEEDED', 'TEMPLATED'] : ['INSTANCE_SEEDED']);
  });

  it('deletes by an in-list $filter and reports each name', async () => {
    await call('POST', collection, { body: [http('DEL_A'), http('DEL_B')] });
    const filter = encodeURIComponent("Name in ('DEL_A', 'DEL_B', 'DEL_C')");
    const res = await call('DELETE', `${collection}?$filter=${filter}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      Count: 2,
      Summary: [
        { name: 'DEL_A', status: 'DELETED' },
        { name: 'DEL_B', status: 'DELETED' },
        { name: 'DEL_C', status: 'NOT_FOUND', reason: 'Could not find configuration' },
      ],
    });
    expect((await call('GET', `${collection}/DEL_A`)).status).toBe(404);

    const noFilter = await call('DELETE', collection);
    expect(noFilter.status).toBe(400);
    expect(errorMessage(noFilter)).toContain('$filter');
    const prefix = await call('DELETE', `${collection}?$filter=${encodeURIComponent("startswith(Name, 'D')")}`);
    expect(prefix.status).toBe(400);
  });

  specTest('single and bulk create, read, overwrite, list and delete answers match the OpenAPI document', async () => {
    await expectConformingReply(call('POST', collection, { body: [http('SPEC_A'), http('SPEC_B')] }), 201, collection, 'post');
    await expectConformingReply(
      call('POST', collection, { body: [http('SPEC_C'), http('SPEC_A'), { Name: 'SPEC_D', Type: 'SMTP' }] }),
      207,
      collection,
      'post',
    );
    await expectConformingReply(call('GET', `${collection}/SPEC_A`), 200, `${collection}/{destination name}`, 'get');
    await expectConformingReply(call('PUT', collection, { body: http('SPEC_A', { Description: 'one' }) }), 200, collection, 'put');
    await expectConformingReply(call('PUT', collection, { body: [http('SPEC_A'), http('SPEC_B')] }), 200, collection, 'put');
    await expectConformingReply(
      call('PUT', collection, { body: [http('SPEC_A'), http('SPEC_MISSING'), { Name: 'SPEC_B' }] }),
      207,
      collection,
      'put',
    );
    await expectConformingReply(call('GET', collection), 200, collection, 'get', 0);
    await expectConformingReply(
      call('DELETE', `${collection}?$filter=${encodeURIComponent("Name in ('SPEC_A', 'SPEC_GONE')")}`),
      200,
      collection,
      'delete',
    );
  });
});

describe('levels and tenants', () => {
  it('keeps the instance level apart from the subaccount level', async () => {
    await call('POST', '/v1/instanceDestinations', { body: http('ONLY_ON_INSTANCE') });
    expect((await call('GET', '/v1/subaccountDestinations/ONLY_ON_INSTANCE')).status).toBe(404);
    expect(names((await call('GET', '/v1/subaccountDestinations')).body)).not.toContain('ONLY_ON_INSTANCE');
    expect((await call('GET', '/v1/instanceDestinations/SEEDED')).status).toBe(404);

    // The same name may exist on both levels; the find API prefers the instance level.
    await call('POST', '/v1/instanceDestinations', { body: http('SEEDED', { URL: 'https://instance.example.com' }) });
    const found = await call('GET', '/v1/destinations/SEEDED?$skipTokenRetrieval=true');
    expect((found.body as { destinationConfiguration: Json }).destinationConfiguration.URL).toBe('https://instance.example.com');
    expect((found.body as { owner: { InstanceId: string | null } }).owner.InstanceId).not.toBeNull();
    expect(((await call('GET', '/v1/subaccountDestinations/SEEDED')).body as Json).URL).toBe('https://seeded.example.com');
  });

  it('keeps a subscriber tenant apart from the provider on both levels', async () => {
    const asSubscriber = { token: subscriberToken };
    expect((await call('GET', '/v1/subaccountDestinations', asSubscriber)).body).toEqual([]);
    expect((await call('GET', '/v1/instanceDestinations', asSubscriber)).body).toEqual([]);

    await call('POST', '/v1/subaccountDestinations', { ...asSubscriber, body: http('SUB_DEST') });
    await call('POST', '/v1/instanceDestinations', { ...asSubscriber, body: http('SUB_SUBSCRIPTION') });
    expect(names((await call('GET', '/v1/subaccountDestinations', asSubscriber)).body)).toEqual(['SUB_DEST']);
    expect(names((await call('GET', '/v1/instanceDestinations', asSubscriber)).body)).toEqual(['SUB_SUBSCRIPTION']);
    expect(names((await call('GET', '/v1/subaccountDestinations')).body)).toEqual(['SEEDED', 'TEMPLATED']);
    expect(names((await call('GET', '/v1/instanceDestinations')).body)).toEqual(['INSTANCE_SEEDED']);
    expect((await call('DELETE', '/v1/subaccountDestinations/SEEDED', asSubscriber)).status).toBe(404);
    expect(emu.journal({ tenant: 'subscriber1' }).length).toBeGreaterThan(0);
  });

  it('refuses calls without a bearer token and changes nothing', async () => {
    const res = await call('POST', '/v1/subaccountDestinations', { token: null, body: http('NO_TOKEN') });
    expect(res.status).toBe(401);
    expect(errorMessage(res)).toBeTruthy();
    expect(names((await call('GET', '/v1/subaccountDestinations')).body)).not.toContain('NO_TOKEN');
  });

  it('shows scenario placeholders expanded, as the find API does', async () => {
    const read = await call('GET', '/v1/subaccountDestinations/TEMPLATED');
    expect((read.body as Json).URL).toBe(`${emu.urls.services}/backend`);
  });
});

describe('list queries', () => {
  const collection = '/v1/subaccountDestinations';

  it('filters by an in-list whose names are percent-encoded inside the quotes (double encoding on the wire)', async () => {
    await call('POST', collection, {
      body: [http("our-team's-app"), http("SAP_John's_destination"), http('workflow (new)'), http('other')],
    });
    // Exactly the wire form of SAP's documentation: `'` → %27 inside the quotes, then the whole value URL-encoded again.
    const wire = '$filter=Name+in+%28%27our-team%2527s-app%27%2C+%27SAP_John%2527s_destination%27%29';
    const res = await call('GET', `${collection}?${wire}`);
    expect(res.status).toBe(200);
    expect(names(res.body)).toEqual(["our-team's-app", "SAP_John's_destination"]);

    const logical = `Name in ('${encodeURIComponent('workflow (new)').replace(/[()]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)}','SEEDED')`;
    const spaced = await call('GET', `${collection}?${new URLSearchParams({ $filter: logical })}`);
    expect(names(spaced.body)).toEqual(['SEEDED', 'workflow (new)']);
  });

  it('filters with startswith and endswith, a doubled quote standing for one quote', async () => {
    await call('POST', collection, { body: [http("SAP_John's_destination"), http('SAP_Mary'), http('John_SAP')] });
    const starts = await call('GET', `${collection}?${new URLSearchParams({ $filter: "startswith(Name, 'SAP_John''s')" })}`);
    expect(names(starts.body)).toEqual(["SAP_John's_destination"]);
    const prefix = await call('GET', `${collection}?${new URLSearchParams({ $filter: "startswith(Name,'SAP_')" })}`);
    expect(names(prefix.body)).toEqual(["SAP_John's_destination", 'SAP_Mary']);
    const ends = await call('GET', `${collection}?${new URLSearchParams({ $filter: "endswith(Name, 'John''s_destination')" })}`);
    expect(names(ends.body)).toEqual(["SAP_John's_destination"]);
    const none = await call('GET', `${collection}?${new URLSearchParams({ $filter: "endswith(Name, 'nothing')" })}`);
    expect(none.body).toEqual([]);
  });

  it('filters by modification time on the emulator clock', async () => {
    await call('POST', collection, { body: http('EARLY') });
    clock.advance(31 * 60_000);
    await call('POST', collection, { body: http('LATE') });
    await call('PUT', collection, { body: http('SEEDED', { Description: 'touched' }) });
    const recent = await call('GET', `${collection}?${new URLSearchParams({ $filter: "modifiedwithin('30', 'minutes')" })}`);
    expect(recent.status).toBe(200);
    expect(names(recent.body)).toEqual(['SEEDED', 'LATE']);
    const wider = await call('GET', `${collection}?${new URLSearchParams({ $filter: "modifiedwithin('40', 'minutes')" })}`);
    expect(names(wider.body)).toEqual(['SEEDED', 'TEMPLATED', 'EARLY', 'LATE']);
  });

  it('returns only names with $select=Name', async () => {
    const res = await call('GET', `${collection}?$select=Name`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ Name: 'SEEDED' }, { Name: 'TEMPLATED' }]);
    expect((await call('GET', `${collection}?$select=URL`)).status).toBe(400);
  });

  it('adds modification time and etag with $includeMetadata', async () => {
    const res = await call(
      'GET',
      `${collection}?$includeMetadata=modification_time;etag&${new URLSearchParams({ $filter: "Name in ('SEEDED')" })}`,
    );
    expect(res.status).toBe(200);
    const [item] = res.body as (Json & { $metadata: { modification_time: string; etag: string } })[];
    expect(item.Name).toBe('SEEDED');
    expect(Number.isNaN(Date.parse(item.$metadata.modification_time))).toBe(false);
    expect(item.$metadata.etag).toBe((await call('GET', `${collection}/SEEDED`)).headers.get('etag'));
    expect((await call('GET', `${collection}?$includeMetadata=owner`)).status).toBe(400);
    // An item read with its $metadata can be written back unchanged.
    const writeBack = await call('PUT', collection, { body: { ...item, Description: 'round trip' } });
    expect(writeBack.status).toBe(200);
    expect((await call('GET', `${collection}/SEEDED`)).body).toEqual({ ...http('SEEDED'), Description: 'round trip' });
  });

  it('pages with Page-Count, Entity-Count and Link headers', async () => {
    const many = Array.from({ length: 23 }, (_, i) => http(`D${String(i + 1).padStart(2, '0')}`));
    expect((await call('POST', collection, { body: many })).status).toBe(201);
    // 2 seeded + 23 created = 25 entries → 3 pages of 10.
    const middle = await call('GET', `${collection}?$page=2&$pageSize=10&$pageCount=true&$entityCount=true`);
    expect(middle.status).toBe(200);
    expect(names(middle.body)).toEqual(['D09', 'D10', 'D11', 'D12', 'D13', 'D14', 'D15', 'D16', 'D17', 'D18']);
    expect(middle.headers.get('page-count')).toBe('3');
    expect(middle.headers.get('entity-count')).toBe('25');
    expect(middle.headers.get('link')).toBe(
      "</subaccountDestinations?$page=1&$pageSize=10>; rel='previous', </subaccountDestinations?$page=3&$pageSize=10>; rel='next'",
    );

    const first = await call('GET', `${collection}?$page=1`);
    expect(names(first.body)).toHaveLength(10);
    expect(first.headers.get('page-count')).toBeNull();
    expect(first.headers.get('entity-count')).toBeNull();
    expect(first.headers.get('link')).toBe("</subaccountDestinations?$page=2&$pageSize=10>; rel='next'");
    const last = await call('GET', `${collection}?$page=3&$pageSize=10`);
    expect(names(last.body)).toEqual(['D19', 'D20', 'D21', 'D22', 'D23']);
    expect(last.headers.get('link')).toBe("</subaccountDestinations?$page=2&$pageSize=10>; rel='previous'");
    const whole = await call('GET', '/v1/instanceDestinations?$page=1&$pageSize=1000');
    expect(names(whole.body)).toEqual(['INSTANCE_SEEDED']);
    expect(whole.headers.get('link')).toBeNull();
  });

  it.each([
    ['$page=0', /\$page/],
    ['$page=abc', /\$page/],
    ['$page=4&$pageSize=1', /page/],
    ['$page=1&$pageSize=0', /\$pageSize/],
    ['$page=1&$pageSize=1001', /\$pageSize/],
    ['$page=1&$pageCount=yes', /\$pageCount/],
  ])('rejects the bad page request %s with 400', async (query, message) => {
    const res = await call('GET', `${collection}?${query}`);
    expect(res.status).toBe(400);
    expect(errorMessage(res)).toMatch(message);
  });

  it.each([
    `$select=Name&$filter=${encodeURIComponent("Name in ('SEEDED')")}`,
    '$select=Name&$page=1',
    '$includeMetadata=etag&$page=1',
    `$filter=${encodeURIComponent("startswith(Name, 'S')")}&$page=1&$pageSize=5`,
    '$pageSize=5',
  ])('rejects mixing modes (%s) with 400', async (query) => {
    const res = await call('GET', `${collection}?${query}`);
    expect(res.status).toBe(400);
    expect(errorMessage(res)).toMatch(/mode/);
  });

  it.each([
    "URL in ('x')",
    "startswith(URL, 'x')",
    "modifiedwithin('30', 'hours')",
    "modifiedwithin('1441', 'minutes')",
    "Name in ('a%ZZ')",
    'Name in (a, b)',
    "Name eq 'SEEDED'",
  ])('rejects the bad filter %s with 400', async (filter) => {
    const res = await call('GET', `${collection}?${new URLSearchParams({ $filter: filter })}`);
    expect(res.status).toBe(400);
    expect(errorMessage(res)).toBeTruthy();
  });

  specTest('filtered, $select=Name, $includeMetadata and paged lists match the OpenAPI document', async () => {
    await call('POST', collection, { body: Array.from({ length: 12 }, (_, i) => http(`D${String(i + 1).padStart(2, '0')}`)) });
    await expectConformingReply(
      call('GET', `${collection}?${new URLSearchParams({ $filter: "Name in ('SEEDED', 'D01')" })}`),
      200,
      collection,
      'get',
      0,
    );
    await expectConformingReply(call('GET', `${collection}?$select=Name`), 200, collection, 'get', 1);
    await expectConformingReply(
      call('GET', `${collection}?$includeMetadata=modification_time;etag&${new URLSearchParams({ $filter: "Name in ('SEEDED')" })}`),
      200,
      collection,
      'get',
      0,
    );
    await expectConformingReply(
      call('GET', `${collection}?$page=2&$pageSize=10&$pageCount=true&$entityCount=true`),
      200,
      collection,
      'get',
      0,
    );
  });
});

describe.each(['subaccount', 'instance'] as const)('fragments on %s level', (level) => {
  const collection = `/v1/${level}DestinationFragments`;
  const fragment = { FragmentName: 'extra-headers', 'URL.headers.x-tenant': 'acme', Description: 'from a fragment' };

  it('creates, reads, overwrites and deletes a fragment', async () => {
    expect((await call('POST', collection, { body: fragment })).status).toBe(201);
    const list = await call('GET', collection);
    expect(list.body).toEqual([fragment]);

    const read = await call('GET', `${collection}/extra-headers`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(fragment);
    const etag = read.headers.get('etag')!;
    expect(etag).toMatch(/^[0-9a-f]{64}$/);
    expect((await call('GET', `${collection}/extra-headers`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const put = await call('PUT', collection, { body: { FragmentName: 'extra-headers', Description: 'replaced' } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ Count: 1 });
    expect((await call('GET', `${collection}/extra-headers`)).body).toEqual({ FragmentName: 'extra-headers', Description: 'replaced' });
    expect((await call('GET', `${collection}/extra-headers`, { headers: { 'if-match': etag } })).status).toBe(412);

    expect((await call('DELETE', `${collection}/extra-headers`)).body).toEqual({ Count: 1 });
    expect((await call('GET', `${collection}/extra-headers`)).status).toBe(404);
    expect((await call('DELETE', `${collection}/extra-headers`)).status).toBe(404);
  });

  it('answers 409 for a duplicate, 404 for updating a missing fragment, 400 for Name or Type', async () => {
    await call('POST', collection, { body: fragment });
    const dup = await call('POST', collection, { body: fragment });
    expect(dup.status).toBe(409);
    expect(errorMessage(dup)).toContain('extra-headers');
    expect((await call('PUT', collection, { body: { FragmentName: 'missing' } })).status).toBe(404);

    const withName = await call('POST', collection, { body: { FragmentName: 'bad', Name: 'x' } });
    expect(withName.status).toBe(400);
    expect(errorMessage(withName)).toMatch(/\bName\b/);
    const withType = await call('PUT', collection, { body: { ...fragment, Type: 'HTTP' } });
    expect(withType.status).toBe(400);
    expect(errorMessage(withType)).toMatch(/\bType\b/);
    const noName = await call('POST', collection, { body: { Description: 'x' } });
    expect(noName.status).toBe(400);
    expect(errorMessage(noName)).toMatch(/FragmentName/);
    const array = await call('POST', collection, { body: [fragment] });
    expect(array.status).toBe(400);
    expect((await call('GET', collection)).body).toEqual([fragment]);
    expect((await call('GET', `${collection}?$select=Name`)).status).toBe(400);
  });

  it('is merged by the find API when named in X-fragment-name', async () => {
    await call('POST', collection, { body: fragment });
    await call('POST', `/v1/${level}Destinations`, { body: http('WITH_FRAGMENT') });
    const found = await call('GET', '/v1/destinations/WITH_FRAGMENT?$skipTokenRetrieval=true', {
      headers: { 'x-fragment-name': 'extra-headers' },
    });
    expect(found.status).toBe(200);
    expect((found.body as { destinationConfiguration: Json }).destinationConfiguration).toMatchObject({
      Description: 'from a fragment',
      FragmentName: 'extra-headers',
    });
  });

  specTest('the list and a read match the OpenAPI document', async () => {
    await call('POST', collection, { body: fragment });
    await expectConformingReply(call('GET', collection), 200, '/v1/subaccountDestinationFragments', 'get');
    await expectConformingReply(
      call('GET', `${collection}/extra-headers`),
      200,
      '/v1/subaccountDestinationFragments/{fragment name}',
      'get',
    );
  });
});

describe.each(['subaccount', 'instance'] as const)('certificates on %s level', (level) => {
  const collection = `/v1/${level}Certificates`;
  const cert = (name: string, text = name): Json => ({ Name: name, Type: 'CERTIFICATE', Content: pem(text) });

  it('uploads, reads, overwrites and deletes a certificate', async () => {
    expect((await call('POST', collection, { body: cert('client.pem') })).status).toBe(201);
    const read = await call('GET', `${collection}/client.pem`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(cert('client.pem'));
    const etag = read.headers.get('etag')!;
    expect((await call('GET', `${collection}/client.pem`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const put = await call('PUT', collection, { body: cert('client.pem', 'renewed') });
    expect(put.body).toEqual({ Count: 1 });
    expect(((await call('GET', `${collection}/client.pem`)).body as Json).Content).toBe(pem('renewed'));
    expect((await call('GET', `${collection}/client.pem`, { headers: { 'if-match': etag } })).status).toBe(412);

    expect((await call('POST', collection, { body: cert('client.pem') })).status).toBe(409);
    expect((await call('DELETE', `${collection}/client.pem`)).body).toEqual({ Count: 1 });
    expect((await call('DELETE', `${collection}/client.pem`)).status).toBe(404);
    expect((await call('PUT', collection, { body: cert('client.pem') })).status).toBe(404);
  });

  it('uploads several at once and lists, selects, pages and deletes them by an in-list filter', async () => {
    const bulk = await call('POST', collection, {
      body: [cert('a.pem'), cert("our team's app.pem"), cert('workflow (new).pem'), { Name: 'broken.pem' }],
    });
    expect(bulk.status).toBe(207);
    const results = bulk.body as { name: string; status: number; cause?: string }[];
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 400]);
    expect(results[3].cause).toMatch(/\bContent\b/);

    const list = await call('GET', collection);
    expect(names(list.body)).toEqual(['a.pem', "our team's app.pem", 'workflow (new).pem']);
    expect((await call('GET', `${collection}?$select=Name`)).body).toEqual([
      { Name: 'a.pem' },
      { Name: "our team's app.pem" },
      { Name: 'workflow (new).pem' },
    ]);
    const paged = await call('GET', `${collection}?$page=2&$pageSize=2&$entityCount=true`);
    expect(names(paged.body)).toEqual(['workflow (new).pem']);
    expect(paged.headers.get('entity-count')).toBe('3');
    expect(paged.headers.get('link')).toBe(`</${level}Certificates?$page=1&$pageSize=2>; rel='previous'`);

    // The wire form of SAP's documentation example (lower-case hex escapes).
    const wire = '$filter=Name+in+%28%27our%2520team%2527s%2520app.pem%27%2c+%27workflow%2520%2528new%2529.pem%27%29';
    expect(names((await call('GET', `${collection}?${wire}`)).body)).toEqual(["our team's app.pem", 'workflow (new).pem']);
    expect((await call('GET', `${collection}?${new URLSearchParams({ $filter: "startswith(Name, 'a')" })}`)).status).toBe(400);
    expect((await call('GET', `${collection}?$includeMetadata=etag`)).status).toBe(400);

    const deleted = await call('DELETE', `${collection}?${wire}`);
    expect(deleted.body).toEqual({
      Count: 2,
      Summary: [
        { name: "our team's app.pem", status: 'DELETED' },
        { name: 'workflow (new).pem', status: 'DELETED' },
      ],
    });
    expect(names((await call('GET', collection)).body)).toEqual(['a.pem']);
  });

  it('rejects bodies without Content, or with Content that is not the file its Name says, with 400', async () => {
    const noContent = await call('POST', collection, { body: { Name: 'x.pem' } });
    expect(noContent.status).toBe(400);
    expect(errorMessage(noContent)).toMatch(/\bContent\b/);
    const fake = await call('POST', collection, {
      body: { Name: 'x.pem', Content: Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString('base64') },
    });
    expect(fake.status).toBe(400);
    expect(errorMessage(fake)).toMatch(/\bContent\b/);
    expect((await call('GET', collection)).body).toEqual([]);
  });

  /** The emulator's TLS leaf and CA as a PEM chain and as PKCS#12 keystores (`password` '' = unprotected). */
  const tls = ensureTlsMaterial();
  const leaf = forge.pki.certificateFromPem(tls.certPem);
  const chainPem = (): Json => ({
    Name: 'chain.pem',
    Type: 'CERTIFICATE',
    Content: Buffer.from(tls.certPem + tls.caPem).toString('base64'),
  });
  const p12 = (name: string, password: string): Json => {
    const asn1 = forge.pkcs12.toPkcs12Asn1(
      forge.pki.privateKeyFromPem(tls.keyPem),
      [leaf, forge.pki.certificateFromPem(tls.caPem)],
      password,
      { friendlyName: 'server', algorithm: '3des' },
    );
    return { Name: name, Type: 'CERTIFICATE', Content: forge.util.encode64(forge.asn1.toDer(asn1).getBytes()) };
  };

  it('returns the public chain of a PEM certificate and of an unprotected PKCS#12 keystore', async () => {
    const leafDn = `CN=${String(leaf.subject.getField('CN').value)}`;
    await call('POST', collection, { body: [chainPem(), p12('server.p12', ''), p12('locked.p12', 'secret')] });

    const pemKeys = await call('GET', `${collection}/chain.pem/publicKeys`);
    expect(pemKeys.status).toBe(200);
    const [pemEntry] = pemKeys.body as { Alias?: string; Content: string; SubjectDN: string }[];
    expect(pemEntry.Alias).toBeUndefined();
    expect(pemEntry.SubjectDN).toBe(leafDn);
    expect(pemEntry.Content.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(forge.pki.certificateFromPem(pemEntry.Content).serialNumber).toBe(leaf.serialNumber);
    const etag = pemKeys.headers.get('etag')!;
    expect((await call('GET', `${collection}/chain.pem/publicKeys`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const keystore = await call('GET', `${collection}/server.p12/publicKeys`);
    expect(keystore.status).toBe(200);
    expect(keystore.body).toEqual([
      { Alias: 'server', Content: expect.stringContaining('-----BEGIN CERTIFICATE-----'), SubjectDN: leafDn },
    ]);

    const locked = await call('GET', `${collection}/locked.p12/publicKeys`);
    expect(locked.status).toBe(400);
    expect(errorMessage(locked)).toBe('The keystore is password-protected and public keys cannot be retrieved');
    expect((await call('GET', `${collection}/missing.pem/publicKeys`)).status).toBe(404);
  });

  it('addresses certificates whose names need percent-encoding in the path', async () => {
    await call('POST', collection, { body: cert("our team's app (v2).pem") });
    const read = await call('GET', `${collection}/${encodeURIComponent("our team's app (v2).pem")}`);
    expect(read.status).toBe(200);
    expect((read.body as Json).Name).toBe("our team's app (v2).pem");
    expect((await call('DELETE', `${collection}/${encodeURIComponent("our team's app (v2).pem")}`)).body).toEqual({ Count: 1 });
  });

  it('serves an uploaded keystore to the find API of a ClientCertificateAuthentication destination', async () => {
    await call('POST', collection, { body: cert('client.pem') });
    await call('POST', `/v1/${level}Destinations`, {
      body: http('MTLS', { Authentication: 'ClientCertificateAuthentication', KeyStoreLocation: 'client.pem', KeyStorePassword: 'secret' }),
    });
    const found = await call('GET', '/v1/destinations/MTLS');
    expect(found.status).toBe(200);
    expect((found.body as { certificates: Json[] }).certificates).toEqual([
      { Name: 'client.pem', Type: 'CERTIFICATE', Content: pem('client.pem') },
    ]);
  });

  specTest('read, bulk upload, list, delete and public keys answers match the OpenAPI document', async () => {
    const specPath = '/v1/subaccountCertificates';
    await expectConformingReply(
      call('POST', collection, { body: [cert('a.pem'), chainPem(), p12('server.p12', ''), { Name: 'broken.pem' }] }),
      207,
      specPath,
      'post',
    );
    await expectConformingReply(call('GET', `${collection}/a.pem`), 200, `${specPath}/{certificate name}`, 'get');
    await expectConformingReply(call('GET', collection), 200, specPath, 'get', 0);
    for (const name of ['chain.pem', 'server.p12'])
      await expectConformingReply(call('GET', `${collection}/${name}/publicKeys`), 200, `${specPath}/{certificate name}/publicKeys`, 'get');
    await expectConformingReply(
      call('DELETE', `${collection}?${new URLSearchParams({ $filter: "Name in ('a.pem', 'gone.pem')" })}`),
      200,
      specPath,
      'delete',
    );
  });
});
