/**
 * The Destination Service find API over a real socket with plain fetch: the exact not-found body, levels,
 * tenants, header rules, authTokens of each supported authentication type (the token flows really call the
 * emulator's XSUAA), fragments, certificates, $skipCredentials, ETags and authentication errors.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { postForm, serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
let providerToken: string;
let subscriberToken: string;
const subscriberZid = '22222222-3333-4444-8555-666666666666';

const oauth = {
  Type: 'HTTP',
  URL: 'https://backend.example',
  ProxyType: 'Internet',
  tokenServiceURL: '{{services}}/oauth/token',
  clientId: 'backend-client',
  clientSecret: 'backend-secret',
};

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            { Name: 'NOAUTH', Type: 'HTTP', URL: 'https://a.example', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
            {
              Name: 'BASIC',
              Type: 'HTTP',
              URL: 'https://b.example',
              Authentication: 'BasicAuthentication',
              ProxyType: 'Internet',
              User: 'u',
              Password: 'p',
            },
            { ...oauth, Name: 'CC', Authentication: 'OAuth2ClientCredentials' },
            { ...oauth, Name: 'CC_COMMON', Authentication: 'OAuth2ClientCredentials', tokenServiceURLType: 'Common' },
            {
              ...oauth,
              Name: 'CC_HEADERS',
              Authentication: 'OAuth2ClientCredentials',
              'tokenServiceURL.headers.x-custom': 'yes',
              'tokenService.body.scope': 'backend!t2.Read',
              'tokenService.addClientCredentialsInBody': 'false',
            },
            { ...oauth, Name: 'PASSWORD', Authentication: 'OAuth2Password', User: 'alice', Password: 'alice-pw' },
            { ...oauth, Name: 'PASSWORD_WRONG', Authentication: 'OAuth2Password', User: 'alice', Password: 'nope' },
            { ...oauth, Name: 'UTE', Authentication: 'OAuth2UserTokenExchange' },
            { ...oauth, Name: 'REFRESH', Authentication: 'OAuth2RefreshToken' },
            { ...oauth, Name: 'UNREACHABLE', Authentication: 'OAuth2ClientCredentials', tokenServiceURL: 'http://127.0.0.1:9/oauth/token' },
            {
              Name: 'CERT',
              Type: 'HTTP',
              URL: 'https://c.example',
              Authentication: 'ClientCertificateAuthentication',
              ProxyType: 'Internet',
              KeyStoreLocation: 'client.p12',
              KeyStorePassword: 'secret',
            },
          ],
          fragments: [{ FragmentName: 'frag-a', URL: 'https://fragment.example', 'URL.headers.x-from': 'frag-a' }],
          certificates: [{ Name: 'client.p12', Type: 'CERTIFICATE', Content: 'MIIB' }],
        },
        {
          subdomain: 'subscriber1',
          zid: subscriberZid,
          destinations: [
            { Name: 'ONLY_SUB', Type: 'HTTP', URL: 'https://s.example', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
          ],
        },
      ],
      clients: [
        {
          clientid: 'backend-client',
          clientsecret: 'backend-secret',
          xsappname: 'backend!t2',
          authorities: ['backend!t2.Read', 'backend!t2.Write'],
        },
      ],
      users: [{ name: 'alice', password: 'alice-pw' }],
    },
  });
  providerToken = await serviceToken(emu, 'destination');
  subscriberToken = await serviceToken(emu, 'destination', subscriberZid);
});

afterAll(() => emu?.stop());

async function find(
  name: string,
  headers: Record<string, string> = {},
  query = '',
): Promise<{ status: number; body: Record<string, unknown>; etag: string | null }> {
  const res = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/${encodeURIComponent(name)}${query}`, {
    headers: { authorization: `Bearer ${providerToken}`, ...headers },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, etag: res.headers.get('etag') };
}

type Token = { type: string; value: string; error?: string; expires_in?: string; http_header: { key: string; value: string } };
const tokensOf = (body: Record<string, unknown>): Token[] => body.authTokens as Token[];

describe('find a destination', () => {
  it('answers 404 with the exact body the SAP Cloud SDK compares', async () => {
    const { status, body } = await find('MISSING');
    expect(status).toBe(404);
    expect(body).toEqual({ ErrorMessage: 'Configuration with the specified name was not found' });
  });

  it('returns owner, configuration and a 64-hex ETag; no authTokens for NoAuthentication', async () => {
    const { status, body, etag } = await find('NOAUTH');
    expect(status).toBe(200);
    expect(body.owner).toEqual({ SubaccountId: emu.core.state.provider.subaccountId, InstanceId: null });
    expect(body.destinationConfiguration).toMatchObject({ Name: 'NOAUTH', URL: 'https://a.example' });
    expect(body).not.toHaveProperty('authTokens');
    expect(etag).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers 304 for a matching If-None-Match and 412 for a stale If-Match', async () => {
    const { etag } = await find('NOAUTH');
    expect((await find('NOAUTH', { 'if-none-match': etag! })).status).toBe(304);
    expect((await find('NOAUTH', { 'if-match': 'stale' })).status).toBe(412);
    expect((await find('NOAUTH', { 'if-match': etag! })).status).toBe(200);
  });

  it('separates tenants: a subscriber token sees the subscriber subaccount only', async () => {
    const res = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/ONLY_SUB`, {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { owner: { SubaccountId: string } }).owner.SubaccountId).toBe(subscriberZid);
    expect((await find('ONLY_SUB')).status).toBe(404);
  });

  it('BasicAuthentication: a Basic authToken', async () => {
    const [token] = tokensOf((await find('BASIC')).body);
    expect(token).toEqual({ type: 'Basic', value: 'dTpw', http_header: { key: 'Authorization', value: 'Basic dTpw' } });
  });

  it('$skipTokenRetrieval leaves authTokens out but keeps the credentials', async () => {
    const { body } = await find('BASIC', {}, '?$skipTokenRetrieval=true');
    expect(body).not.toHaveProperty('authTokens');
    expect(body.destinationConfiguration).toMatchObject({ User: 'u', Password: 'p' });
  });

  it('$skipCredentials removes secrets from the configuration', async () => {
    const { body } = await find('CC', {}, '?$skipCredentials=true');
    expect(body.destinationConfiguration).not.toHaveProperty('clientSecret');
    expect(tokensOf(body)[0].value).toBeTruthy();
  });

  it('OAuth2ClientCredentials: a Bearer token of the destination client, with expires_in as a string', async () => {
    const [token] = tokensOf((await find('CC')).body);
    expect(token.type).toBe('Bearer');
    expect(token.http_header).toEqual({ key: 'Authorization', value: `Bearer ${token.value}` });
    expect(token.expires_in).toBe('43199');
    expect(decodeJwt(token.value)).toMatchObject({ client_id: 'backend-client', zid: emu.core.state.provider.zid });
  });

  it('OAuth2ClientCredentials Common: X-tenant selects the tenant of the token; Dedicated refuses X-tenant', async () => {
    const [token] = tokensOf((await find('CC_COMMON', { 'x-tenant': 'subscriber1' })).body);
    expect(decodeJwt(token.value).zid).toBe(subscriberZid);
    const dedicated = await find('CC', { 'x-tenant': 'subscriber1' });
    expect(dedicated.status).toBe(400);
    expect(dedicated.body.ErrorMessage).toMatch(/X-tenant/);
  });

  it('applies tokenServiceURL.headers, tokenService.body and Basic client authentication', async () => {
    const [token] = tokensOf((await find('CC_HEADERS')).body);
    expect(decodeJwt(token.value).scope).toEqual(['backend!t2.Read']);
  });

  it('X-user-token together with X-tenant is a 400', async () => {
    const user = await emu.issueUserToken({ user: 'alice' });
    expect((await find('CC_COMMON', { 'x-tenant': 'provider', 'x-user-token': user })).status).toBe(400);
  });

  it('OAuth2Password: a user token for the destination user; a wrong password becomes authTokens[0].error', async () => {
    const [token] = tokensOf((await find('PASSWORD')).body);
    expect(decodeJwt(token.value)).toMatchObject({ user_name: 'alice', grant_type: 'password' });
    const { status, body } = await find('PASSWORD_WRONG');
    expect(status).toBe(200);
    expect(tokensOf(body)[0]).toMatchObject({ type: '', value: '', expires_in: '0', http_header: { key: '', value: '' } });
    expect(tokensOf(body)[0].error).toMatch(/401/);
  });

  it('OAuth2UserTokenExchange: exchanges the X-user-token; without a user the element carries an error', async () => {
    const user = await emu.issueUserToken({ user: 'alice' });
    const [token] = tokensOf((await find('UTE', { 'x-user-token': user })).body);
    expect(decodeJwt(token.value)).toMatchObject({ user_name: 'alice', client_id: 'backend-client' });
    const [missing] = tokensOf((await find('UTE')).body);
    expect(missing.error).toMatch(/user token/);
  });

  it('OAuth2RefreshToken: uses X-refresh-token', async () => {
    const login = await postForm(`${emu.urls.services}/oauth/token`, {
      grant_type: 'password',
      username: 'alice',
      password: 'alice-pw',
      client_id: 'backend-client',
      client_secret: 'backend-secret',
    });
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    const [token] = tokensOf((await find('REFRESH', { 'x-refresh-token': refresh_token })).body);
    expect(decodeJwt(token.value)).toMatchObject({ user_name: 'alice', grant_type: 'refresh_token' });
    expect(tokensOf((await find('REFRESH')).body)[0].error).toMatch(/X-refresh-token/);
  });

  it('an unreachable token service is a 200 with an error element, not an HTTP error', async () => {
    const { status, body } = await find('UNREACHABLE');
    expect(status).toBe(200);
    expect(tokensOf(body)[0].error).toMatch(/could not be reached/);
  });

  it('ClientCertificateAuthentication returns the keystore in certificates[]', async () => {
    const { body } = await find('CERT');
    expect(body.certificates).toEqual([{ Name: 'client.p12', Content: 'MIIB', Type: 'CERTIFICATE' }]);
    expect(body).not.toHaveProperty('authTokens');
  });

  it('merges a fragment named in X-fragment-name; a missing one is 404 unless optional', async () => {
    const merged = await find('NOAUTH', { 'x-fragment-name': 'frag-a' });
    expect(merged.body.destinationConfiguration).toMatchObject({
      Name: 'NOAUTH',
      URL: 'https://fragment.example',
      'URL.headers.x-from': 'frag-a',
      FragmentName: 'frag-a',
    });
    expect((await find('NOAUTH', { 'x-fragment-name': 'nope' })).status).toBe(404);
    const optional = await find('NOAUTH', { 'x-fragment-name': 'nope', 'x-fragment-optional': 'true' });
    expect(optional.status).toBe(200);
    expect(optional.body.destinationConfiguration).not.toHaveProperty('FragmentName');
  });
});

describe('authentication of the caller', () => {
  const call = (authorization?: string): Promise<Response> =>
    fetch(`${emu.urls.services}/destination-configuration/v1/destinations/NOAUTH`, { headers: authorization ? { authorization } : {} });

  it('answers 401 without a token and 400 for a token that is not a JWT', async () => {
    expect((await call()).status).toBe(401);
    const garbage = await call('Bearer not-a-jwt');
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toEqual({ ErrorMessage: 'Unable to parse the JWT in Authorization Header.' });
  });

  it('answers 401 for an expired token, saying how long ago it expired', async () => {
    emu.core.clock.freeze(Date.now() - 13 * 3600_000);
    const old = await serviceToken(emu, 'destination');
    emu.core.clock.useRealTime();
    const res = await call(`Bearer ${old}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { ErrorMessage: string }).ErrorMessage).toMatch(/expired \d+ s ago/);
  });

  it('answers 403 for a token of a client that is not bound to the destination service', async () => {
    const res = await call(`Bearer ${await serviceToken(emu, 'xsuaa')}`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { ErrorMessage: string }).ErrorMessage).toMatch(/not bound to a destination service instance/);
  });
});
