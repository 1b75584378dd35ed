/**
 * The v2 consume API (`/v2/destinations/{name}[@{level}]`: explicit levels without fallback, fragment levels,
 * `$includeMetadata=owner`, `$skipCredentials`, ETags) and the subaccount trust certificate routes
 * (`/v1/saml2Metadata…`), with bodies checked against SAP's OpenAPI document.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';
import { expectSpecConform, responseValidator, specTest } from './openapi.ts';

let emu: EmulatorHandle;
let providerToken: string;
let subscriberToken: string;
let provider: { zid: string; subaccountId: string };
let subscriber: { zid: string; subaccountId: string };
let instanceId: string;

const dest = (name: string, url: string, extra: Record<string, string> = {}): Record<string, string> => ({
  Name: name,
  Type: 'HTTP',
  URL: url,
  Authentication: 'NoAuthentication',
  ProxyType: 'Internet',
  ...extra,
});

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'v2',
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            dest('SUB_ONLY', 'https://subaccount.example', { Authentication: 'BasicAuthentication', User: 'u', Password: 'secret' }),
            dest('BOTH', 'https://both-subaccount.example'),
            dest('CERT', 'https://cert.example', {
              Authentication: 'ClientCertificateAuthentication',
              KeyStoreLocation: 'shared.pem',
              KeyStorePassword: 'pw',
            }),
          ],
          fragments: [{ FragmentName: 'frag-sub', 'URL.headers.from': 'subaccount' }],
          certificates: [
            {
              Name: 'shared.pem',
              Type: 'CERTIFICATE',
              Content: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64'),
            },
          ],
          instances: {
            'my-destination': {
              destinations: [dest('BOTH', 'https://both-instance.example'), dest('INST_ONLY', 'https://instance.example')],
              fragments: [{ FragmentName: 'frag-inst', 'URL.headers.from': 'instance' }],
            },
          },
        },
        { subdomain: 'subscriber1', destinations: [dest('SUBSCRIBER_DEST', 'https://subscriber.example')] },
      ],
    },
  });
  provider = emu.core.state.tenants[0];
  subscriber = emu.core.state.tenants[1];
  instanceId = emu.core.state.bindings.find((b) => b.service === 'destination')!.instanceid;
  providerToken = await serviceToken(emu, 'destination');
  subscriberToken = await serviceToken(emu, 'destination', subscriber.zid);
});

afterAll(() => emu?.stop());
beforeEach(() => emu.reset());

interface Reply {
  status: number;
  etag: string | null;
  body: { destinationConfiguration: Record<string, unknown>; certificates?: { Name: string }[]; owner?: unknown; ErrorMessage?: string };
}

async function call(
  path: string,
  options: { token?: string; headers?: Record<string, string>; method?: string; body?: string } = {},
): Promise<Reply> {
  const res = await fetch(`${emu.urls.services}/destination-configuration${path}`, {
    method: options.method ?? 'GET',
    headers: { authorization: `Bearer ${options.token ?? providerToken}`, ...options.headers },
    body: options.body,
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), body: text ? JSON.parse(text) : {} };
}

describe('v2 consume: levels', () => {
  it('defaults to the instance level without falling back to the subaccount', async () => {
    expect((await call('/v2/destinations/SUB_ONLY')).status).toBe(404);
    const found = await call('/v2/destinations/BOTH');
    expect(found.body.destinationConfiguration.URL).toBe('https://both-instance.example');
  });

  it('@subaccount and @instance pick that level; the response has no owner', async () => {
    const subaccount = await call('/v2/destinations/BOTH@subaccount');
    expect(subaccount.body.destinationConfiguration.URL).toBe('https://both-subaccount.example');
    expect(subaccount.body.owner).toBeUndefined();
    expect((await call('/v2/destinations/INST_ONLY@instance')).status).toBe(200);
    expect((await call('/v2/destinations/INST_ONLY@subaccount')).status).toBe(404);
  });

  it('an unknown level is a 400 naming it', async () => {
    const found = await call('/v2/destinations/BOTH@tenant');
    expect(found.status).toBe(400);
    expect(found.body.ErrorMessage).toMatch(/Unknown level "tenant".*provider_subaccount/);
  });

  it('a subscriber reaches the provider with provider_subaccount and provider_instance, its own subaccount with subaccount', async () => {
    expect((await call('/v2/destinations/SUB_ONLY@subaccount', { token: subscriberToken })).status).toBe(404);
    const fromProvider = await call('/v2/destinations/SUB_ONLY@provider_subaccount?$includeMetadata=owner', { token: subscriberToken });
    expect(fromProvider.status).toBe(200);
    expect((fromProvider.body.destinationConfiguration.$metadata as { owner: { destinations: unknown[] } }).owner.destinations).toEqual([
      { Name: 'SUB_ONLY', SubaccountId: provider.subaccountId, InstanceId: null },
    ]);
    expect((await call('/v2/destinations/INST_ONLY@provider_instance', { token: subscriberToken })).status).toBe(200);
    expect((await call('/v2/destinations/SUBSCRIBER_DEST@subaccount', { token: subscriberToken })).status).toBe(200);
  });

  it('a subscriber may not mix its subaccount level with another level in one request', async () => {
    const found = await call('/v2/destinations/SUBSCRIBER_DEST@subaccount', {
      token: subscriberToken,
      headers: { 'X-fragment-name': 'frag-inst@provider_instance' },
    });
    expect(found.status).toBe(400);
    expect(found.body.ErrorMessage).toMatch(/may not combine the subaccount level/);
  });
});

describe('v2 consume: fragments, metadata, credentials, ETags', () => {
  it('takes the fragment from the destination level by default and from name@level when given', async () => {
    const own = await call('/v2/destinations/BOTH', { headers: { 'X-fragment-name': 'frag-inst' } });
    expect([own.body.destinationConfiguration['URL.headers.from'], own.body.destinationConfiguration.FragmentName]).toEqual([
      'instance',
      'frag-inst',
    ]);
    expect((await call('/v2/destinations/BOTH', { headers: { 'X-fragment-name': 'frag-sub' } })).status).toBe(404);
    const other = await call('/v2/destinations/BOTH', { headers: { 'X-fragment-name': 'frag-sub@subaccount' } });
    expect(other.body.destinationConfiguration['URL.headers.from']).toBe('subaccount');
  });

  it('$includeMetadata=owner (and includeMetadata=owner) names the owner of destination, fragments and certificates', async () => {
    for (const param of ['$includeMetadata', 'includeMetadata']) {
      const found = await call(`/v2/destinations/CERT@subaccount?${param}=owner`, { headers: { 'X-fragment-name': 'frag-inst@instance' } });
      expect(found.status).toBe(200);
      expect(found.body.destinationConfiguration.$metadata).toEqual({
        owner: {
          destinations: [{ Name: 'CERT', SubaccountId: provider.subaccountId, InstanceId: null }],
          certificates: [{ Name: 'shared.pem', SubaccountId: provider.subaccountId, InstanceId: null }],
          fragments: [{ FragmentName: 'frag-inst', SubaccountId: provider.subaccountId, InstanceId: instanceId }],
        },
      });
      expect(found.body.certificates?.map((c) => c.Name)).toEqual(['shared.pem']);
    }
    expect((await call('/v2/destinations/BOTH?$includeMetadata=etag')).status).toBe(400);
  });

  it('$skipCredentials removes the password; authTokens are still built', async () => {
    const found = await call('/v2/destinations/SUB_ONLY@subaccount?$skipCredentials=true');
    expect(found.body.destinationConfiguration.Password).toBeUndefined();
    expect((found.body as unknown as { authTokens: { type: string }[] }).authTokens[0].type).toBe('Basic');
  });

  it('answers a matching If-None-Match with 304', async () => {
    const first = await call('/v2/destinations/BOTH@subaccount');
    expect(first.etag).toMatch(/^[0-9a-f]{64}$/);
    expect((await call('/v2/destinations/BOTH@subaccount', { headers: { 'If-None-Match': first.etag! } })).status).toBe(304);
  });

  specTest('consume responses (default level, name@level, $skipCredentials) match the OpenAPI document', async () => {
    const consumeSpec = responseValidator('/v2/destinations/{name}', 'get', '200');
    const consumeLevelSpec = responseValidator('/v2/destinations/{name}@{level}', 'get', '200');
    const byDefault = await call('/v2/destinations/BOTH');
    expect(byDefault.status).toBe(200);
    expectSpecConform(consumeSpec, byDefault.body);
    for (const path of [
      '/v2/destinations/BOTH@subaccount',
      '/v2/destinations/SUB_ONLY@subaccount?$skipCredentials=true',
      '/v2/destinations/CERT@subaccount?$includeMetadata=owner',
    ]) {
      const found = await call(path);
      expect(found.status).toBe(200);
      expectSpecConform(consumeLevelSpec, found.body);
    }
  });
});

describe('subaccount trust certificate (/v1/saml2Metadata)', () => {
  const pemOf = async (path: string, method = 'GET'): Promise<string> =>
    ((await call(path, { method })).body as unknown as { certificate: string }).certificate;

  it('serves a stable PEM certificate per subaccount, named after it, and IdP metadata containing it', async () => {
    const reply = await call('/v1/saml2Metadata/certificate');
    const pem = (reply.body as unknown as { certificate: string }).certificate;
    expect(new X509Certificate(pem).subject).toContain(`CN=${provider.subaccountId}`);
    expect(await pemOf('/v1/saml2Metadata/certificate')).toBe(pem);
    expect(new X509Certificate(await pemOf('/v1/saml2Metadata/certificate')).publicKey.equals(new X509Certificate(pem).publicKey)).toBe(
      true,
    );
    const metadata = (await call('/v1/saml2Metadata')).body as unknown as { idpMetadata: string };
    const xml = Buffer.from(metadata.idpMetadata, 'base64').toString('utf8');
    expect(xml).toContain('entityID="https://provider.');
    expect(xml).toContain(pem.split('\n').slice(1, -1).join(''));
  });

  specTest('the certificate and the IdP metadata match the OpenAPI document', async () => {
    expectSpecConform(responseValidator('/v1/saml2Metadata/certificate', 'get', '200'), (await call('/v1/saml2Metadata/certificate')).body);
    expectSpecConform(responseValidator('/v1/saml2Metadata', 'get', '200'), (await call('/v1/saml2Metadata')).body);
  });

  it('POST renews the key pair; a reset brings back the default', async () => {
    const before = await pemOf('/v1/saml2Metadata/certificate');
    const renewed = await pemOf('/v1/saml2Metadata/certificate', 'POST');
    expect(renewed).not.toBe(before);
    expect(await pemOf('/v1/saml2Metadata/certificate')).toBe(renewed);
    expect(
      (await call('/v1/saml2Metadata/certificate', { method: 'POST', body: '{"x":1}', headers: { 'content-type': 'application/json' } }))
        .status,
    ).toBe(400);
    emu.reset();
    expect(await pemOf('/v1/saml2Metadata/certificate')).toBe(before);
  });

  it('passive certificate: 404 until generated, rotation swaps, DELETE removes it', async () => {
    expect((await call('/v1/saml2Metadata/certificate/passive')).status).toBe(404);
    expect((await call('/v1/saml2Metadata/rotateCertificate', { method: 'POST' })).status).toBe(404);
    const active = await pemOf('/v1/saml2Metadata/certificate');
    const passive = await pemOf('/v1/saml2Metadata/certificate/passive', 'POST');
    const rotated = (await call('/v1/saml2Metadata/rotateCertificate', { method: 'POST' })).body as unknown as {
      activeCertificate: string;
      passiveCertificate: string;
    };
    expect([rotated.activeCertificate, rotated.passiveCertificate]).toEqual([passive, active]);
    const deleted = await call('/v1/saml2Metadata/certificate/passive', { method: 'DELETE' });
    expect([deleted.status, deleted.body]).toEqual([200, { Count: 1 }]);
    expect((await call('/v1/saml2Metadata/certificate/passive')).status).toBe(404);
  });

  it('DELETE /maintenance/v1/caches/ias answers 200', async () => {
    const res = await fetch(`${emu.urls.services}/destination-configuration/maintenance/v1/caches/ias`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${providerToken}` },
    });
    expect(res.status).toBe(200);
  });

  it('each tenant has its own certificate', async () => {
    const own = await pemOf('/v1/saml2Metadata/certificate');
    const reply = await call('/v1/saml2Metadata/certificate', { token: subscriberToken });
    const theirs = (reply.body as unknown as { certificate: string }).certificate;
    expect(theirs).not.toBe(own);
    expect(new X509Certificate(theirs).subject).toContain(`CN=${subscriber.subaccountId}`);
  });
});
