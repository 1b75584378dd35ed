/**
 * Tenancy in the Destination Service over real sockets: provider and subscriber subaccount levels, the
 * instance level of each destination binding, subscription levels (instance paths with a subscriber token),
 * and the shared zone (`$metadata.shared_with_subscriber`) — plus the SAP Cloud SDK's subscriber-first lookup.
 */
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { postForm } from './helpers.ts';

const sub1 = '3a9e1c52-6f0d-4b8e-a7c4-1d2e3f4a5b61';
const sub2 = '7b1f2d63-8e4a-4c9f-b8d5-2e3f4a5b6c72';
const http = (name: string, url = `http://localhost:1/${name.toLowerCase()}`): Record<string, string> => ({
  Name: name,
  Type: 'HTTP',
  URL: url,
  Authentication: 'NoAuthentication',
  ProxyType: 'Internet',
});

let emu: EmulatorHandle;
const tokens: Record<string, string> = {};

/** A client-credentials token of a destination binding (`my-destination` or `second-destination`) in a zone. */
async function tokenFor(bindingName: string, zid?: string): Promise<string> {
  const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { name: string; credentials: Record<string, string> }[]>;
  const creds = vcap.destination.find((b) => b.name === bindingName)!.credentials;
  const res = await postForm(
    `${emu.urls.services}/oauth/token`,
    { grant_type: 'client_credentials', client_id: creds.clientid, client_secret: creds.clientsecret },
    zid ? { 'x-zid': zid } : {},
  );
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'tenancy',
      tenants: [
        { subdomain: 'provider', destinations: [http('ONLY_PROVIDER'), http('BOTH', 'http://localhost:1/provider-subaccount')] },
        { subdomain: 'subscriber1', zid: sub1, destinations: [http('BOTH', 'http://localhost:1/subscriber-subaccount')] },
        { subdomain: 'subscriber2', zid: sub2 },
      ],
      bindings: [
        { name: 'my-destination', service: 'destination' },
        { name: 'second-destination', service: 'destination' },
      ],
    },
  });
  tokens.provider = await tokenFor('my-destination');
  tokens.sub1 = await tokenFor('my-destination', sub1);
  tokens.sub2 = await tokenFor('my-destination', sub2);
  tokens.second = await tokenFor('second-destination');
});
afterAll(() => emu.stop());
beforeEach(() => emu.reset());

/** A JSON body of any shape the tests read. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are lists, destinations or find responses
type Body = any;

async function call(who: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${emu.urls.services}/destination-configuration${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const names = (body: { Name: string }[]): string[] => body.map((d) => d.Name).sort();
const instanceIdOf = (bindingName: string): string => emu.core.state.bindings.find((b) => b.name === bindingName)!.instanceid;

describe('levels', () => {
  it('each token addresses its own subaccount level and instance (or subscription) level', async () => {
    expect((await call('provider', 'POST', '/v1/instanceDestinations', http('P_INSTANCE'))).status).toBe(201);
    expect((await call('sub1', 'POST', '/v1/instanceDestinations', http('S1_SUBSCRIPTION'))).status).toBe(201);
    expect((await call('sub1', 'POST', '/v1/subaccountDestinations', http('S1_SUBACCOUNT'))).status).toBe(201);
    expect((await call('second', 'POST', '/v1/instanceDestinations', http('SECOND_INSTANCE'))).status).toBe(201);

    expect(names((await call('provider', 'GET', '/v1/instanceDestinations')).body)).toEqual(['P_INSTANCE']);
    expect(names((await call('sub1', 'GET', '/v1/instanceDestinations')).body)).toEqual(['S1_SUBSCRIPTION']);
    expect(names((await call('sub2', 'GET', '/v1/instanceDestinations')).body)).toEqual([]);
    expect(names((await call('second', 'GET', '/v1/instanceDestinations')).body)).toEqual(['SECOND_INSTANCE']);
    expect(names((await call('sub1', 'GET', '/v1/subaccountDestinations')).body)).toEqual(['BOTH', 'S1_SUBACCOUNT']);
    // The second binding's token reads the same provider subaccount level.
    expect(names((await call('second', 'GET', '/v1/subaccountDestinations')).body)).toEqual(['BOTH', 'ONLY_PROVIDER']);
  });

  it('find: subscription level first, then the subscriber subaccount; never the provider', async () => {
    await call('sub1', 'POST', '/v1/instanceDestinations', http('BOTH', 'http://localhost:1/subscription-level'));
    const hit = await call('sub1', 'GET', '/v1/destinations/BOTH');
    expect(hit.body.owner).toEqual({ SubaccountId: emu.core.state.tenants[1].subaccountId, InstanceId: instanceIdOf('my-destination') });
    expect(hit.body.destinationConfiguration.URL).toBe('http://localhost:1/subscription-level');
    await call('sub1', 'DELETE', '/v1/instanceDestinations/BOTH');
    const subaccount = await call('sub1', 'GET', '/v1/destinations/BOTH');
    expect(subaccount.body.owner).toEqual({ SubaccountId: emu.core.state.tenants[1].subaccountId, InstanceId: null });
    expect(subaccount.body.destinationConfiguration.URL).toBe('http://localhost:1/subscriber-subaccount');

    const miss = await call('sub1', 'GET', '/v1/destinations/ONLY_PROVIDER');
    expect(miss).toEqual({ status: 404, body: { ErrorMessage: 'Configuration with the specified name was not found' } });
  });

  it('the SAP Cloud SDK with a subscriber user token finds the subscriber destination first and falls back to the provider', async () => {
    const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { name: string }[]>;
    vcap.destination = vcap.destination.filter((b) => b.name === 'my-destination');
    process.env.VCAP_SERVICES = JSON.stringify(vcap);
    try {
      const jwt = await emu.issueUserToken({ user: 'alice', tenant: 'subscriber1' });
      const both = await getDestination({ destinationName: 'BOTH', jwt, useCache: false });
      expect(both?.url).toBe('http://localhost:1/subscriber-subaccount');
      const fallback = await getDestination({ destinationName: 'ONLY_PROVIDER', jwt, useCache: false });
      expect(fallback?.url).toBe('http://localhost:1/only_provider');
      const provider = await getDestination({ destinationName: 'BOTH', useCache: false });
      expect(provider?.url).toBe('http://localhost:1/provider-subaccount');
      // A destination the application shares on its instance level is found on the subscription level.
      await call('provider', 'POST', '/v1/instanceDestinations', {
        ...http('SHARED_FOR_SDK', 'http://localhost:1/shared'),
        $metadata: { shared_with_subscriber: true },
      });
      const shared = await getDestination({ destinationName: 'SHARED_FOR_SDK', jwt, useCache: false });
      expect(shared?.url).toBe('http://localhost:1/shared');
      const lookups = emu
        .journal({ service: 'destination' })
        .filter((e) => e.path.startsWith('/destination-configuration/v1/destinations/SHARED_FOR_SDK'));
      expect(lookups.map((e) => [e.tenant, e.status])).toEqual([['subscriber1', 200]]);
    } finally {
      delete process.env.VCAP_SERVICES;
    }
  });
});

describe('subscription level zones ($metadata.shared_with_subscriber)', () => {
  const shared = { $metadata: { shared_with_subscriber: true } };

  it('what the application shares on its instance level is visible to every subscription level; private entries are not', async () => {
    const created = await call('provider', 'POST', '/v1/instanceDestinations', [{ ...http('SHARED'), ...shared }, http('PRIVATE')]);
    expect(created.status).toBe(201);
    expect(
      (
        await call('provider', 'POST', '/v1/instanceCertificates', {
          Name: 'shared.pem',
          Attributes: { CN: 'shared', Validity: { TimeUnit: 'DAYS', Value: 1 } },
          ...shared,
        })
      ).status,
    ).toBe(201);
    await call('sub1', 'POST', '/v1/instanceDestinations', http('OWN'));

    expect(names((await call('provider', 'GET', '/v1/instanceDestinations')).body)).toEqual(['PRIVATE', 'SHARED']);
    expect(names((await call('sub1', 'GET', '/v1/instanceDestinations')).body)).toEqual(['OWN', 'SHARED']);
    expect(names((await call('sub2', 'GET', '/v1/instanceDestinations')).body)).toEqual(['SHARED']);
    expect((await call('sub2', 'GET', '/v1/instanceDestinations/SHARED')).status).toBe(200);
    expect((await call('sub2', 'GET', '/v1/instanceDestinations/PRIVATE')).status).toBe(404);
    expect(names((await call('sub2', 'GET', '/v1/instanceCertificates')).body)).toEqual(['shared.pem']);

    const found = await call('sub2', 'GET', '/v1/destinations/SHARED');
    expect(found.status).toBe(200);
    expect(found.body.owner).toEqual({ SubaccountId: emu.core.state.tenants[2].subaccountId, InstanceId: instanceIdOf('my-destination') });
    expect((await call('sub2', 'GET', '/v1/destinations/PRIVATE')).status).toBe(404);
    // The v2 consume API reads the instance level with its shared zone, too.
    const consumed = await call('sub2', 'GET', '/v2/destinations/SHARED@instance');
    expect(consumed.status).toBe(200);
    expect(consumed.body.destinationConfiguration.Name).toBe('SHARED');
    expect((await call('sub2', 'GET', '/v2/destinations/PRIVATE@instance')).status).toBe(404);
    // Another instance does not see the shared zone of this one.
    expect(names((await call('second', 'GET', '/v1/instanceDestinations')).body)).toEqual([]);
  });

  it('a subscriber may modify and delete a shared entry; the application sees the change', async () => {
    await call('provider', 'POST', '/v1/instanceDestinations', { ...http('SHARED'), ...shared });
    expect((await call('sub1', 'PUT', '/v1/instanceDestinations', { ...http('SHARED'), URL: 'http://localhost:1/changed' })).body).toEqual({
      Count: 1,
    });
    expect((await call('provider', 'GET', '/v1/instanceDestinations/SHARED')).body.URL).toBe('http://localhost:1/changed');
    expect((await call('sub2', 'GET', '/v1/instanceDestinations/SHARED')).body.URL).toBe('http://localhost:1/changed');
    expect((await call('sub1', 'DELETE', '/v1/instanceDestinations/SHARED')).body).toEqual({ Count: 1 });
    expect((await call('provider', 'GET', '/v1/instanceDestinations/SHARED')).status).toBe(404);
  });

  it('names are unique across both zones: 409 on either side, nothing changes', async () => {
    await call('provider', 'POST', '/v1/instanceDestinations', { ...http('SHARED'), ...shared });
    const subscriberDuplicate = await call('sub1', 'POST', '/v1/instanceDestinations', http('SHARED'));
    expect(subscriberDuplicate.status).toBe(409);

    await call('sub1', 'POST', '/v1/instanceDestinations', http('SUB_ONLY', 'http://localhost:1/subscriber-own'));
    const share = await call('provider', 'POST', '/v1/instanceDestinations', [
      { ...http('SUB_ONLY'), ...shared },
      http('SUB_ONLY_PRIVATE'),
    ]);
    expect(share.status).toBe(207);
    expect(share.body[0]).toMatchObject({ name: 'SUB_ONLY', status: 409 });
    expect(share.body[0].cause).toMatch(/subscriber1/);
    expect(share.body[1]).toMatchObject({ name: 'SUB_ONLY_PRIVATE', status: 201 });
    // The application may keep a private entry of that name; only sharing it is refused.
    expect((await call('provider', 'POST', '/v1/instanceDestinations', http('SUB_ONLY'))).status).toBe(201);
    const reshare = await call('provider', 'PUT', '/v1/instanceDestinations', { ...http('SUB_ONLY'), ...shared });
    expect(reshare.status).toBe(409);
    expect((await call('sub1', 'GET', '/v1/destinations/SUB_ONLY')).body.destinationConfiguration.URL).toBe(
      'http://localhost:1/subscriber-own',
    );
  });
});

describe('shared zone from the scenario file (instances.<binding>.sharedWithSubscriber)', () => {
  const scenario = (
    providerInstance: Record<string, unknown>,
    subscriberInstance: Record<string, unknown> = {},
  ): Record<string, unknown> => ({
    name: 'shared-scenario',
    tenants: [
      { subdomain: 'provider', instances: { 'my-destination': providerInstance } },
      { subdomain: 'subscriber1', zid: sub1, instances: { 'my-destination': subscriberInstance } },
    ],
  });

  it('seeds shared entries that subscription levels see, and private ones they do not', async () => {
    const seeded = await startEmulator({
      port: 0,
      scenario: scenario({ destinations: [http('SEEDED_SHARED'), http('SEEDED_PRIVATE')], sharedWithSubscriber: ['SEEDED_SHARED'] }),
    });
    try {
      const vcap = JSON.parse(seeded.env.VCAP_SERVICES) as Record<string, { credentials: Record<string, string> }[]>;
      const creds = vcap.destination[0].credentials;
      const res = await postForm(
        `${seeded.urls.services}/oauth/token`,
        { grant_type: 'client_credentials', client_id: creds.clientid, client_secret: creds.clientsecret },
        { 'x-zid': sub1 },
      );
      const token = ((await res.json()) as { access_token: string }).access_token;
      const list = await fetch(`${seeded.urls.services}/destination-configuration/v1/instanceDestinations`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(names((await list.json()) as { Name: string }[])).toEqual(['SEEDED_SHARED']);
    } finally {
      await seeded.stop();
    }
  });

  it('refuses unknown shared names, sharing by a subscriber, and a subscriber entry with a shared name, naming the field', async () => {
    const refusal = (s: Record<string, unknown>): Promise<string> =>
      startEmulator({ port: 0, scenario: s }).then(
        async (started) => {
          await started.stop();
          return 'started';
        },
        (error: Error) => error.message,
      );
    expect(await refusal(scenario({ destinations: [http('A')], sharedWithSubscriber: ['B'] }))).toMatch(
      /tenants\[0\]\.instances\.my-destination\.sharedWithSubscriber\[0\]: "B" is not/,
    );
    expect(await refusal(scenario({}, { destinations: [http('A')], sharedWithSubscriber: ['A'] }))).toMatch(
      /tenants\[1\]\.instances\.my-destination\.sharedWithSubscriber: only the provider/,
    );
    expect(await refusal(scenario({ destinations: [http('A')], sharedWithSubscriber: ['A'] }, { destinations: [http('A')] }))).toMatch(
      /tenants\[1\]\.instances\.my-destination\.destinations\[0\]\.Name: "A" is shared/,
    );
  });
});
