/**
 * The predefined destination chains of the v1 find API, against the emulator's own XSUAA: the IAS chain
 * (token exchange to a SAML assertion, then OAuth2SAMLBearerAssertion with it as the client-provided
 * assertion) and sequential user propagation (two user token exchanges), plus their failure paths, and
 * fragment lists in `X-fragment-name`.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';
import { serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
let echo: EchoServer;
let providerToken: string;

const IAS_CHAIN = 'com.sap.iasGeneratedOAuth2SamlBearerAssertion';
const SEQUENTIAL_CHAIN = 'com.sap.sequentialUserPropagation';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

beforeAll(async () => {
  echo = await startEchoServer();
  const xsuaa = (clientId: string): Record<string, string> => ({
    tokenServiceURL: '{{services}}/oauth/token',
    clientId,
    clientSecret: `${clientId}-secret`,
  });
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'chains',
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            {
              Name: 'IAS_SAML_PROVIDER',
              Type: 'HTTP',
              URL: 'https://ias.example',
              Authentication: 'OAuth2TokenExchange',
              ProxyType: 'Internet',
              ...xsuaa('ias-client'),
              'tokenServiceURL.queries.requested_token_type': 'urn:ietf:params:oauth:token-type:saml2',
              'tokenServiceURL.queries.resource': 'urn:sap:identity:application:provider:name:backend',
            },
            {
              Name: 'SAML_TARGET',
              Type: 'HTTP',
              URL: `${echo.url}/saml-target`,
              Authentication: 'OAuth2SAMLBearerAssertion',
              ProxyType: 'Internet',
              SAMLAssertionProvider: 'ClientProvided',
              tokenServiceURL: '{{services}}/oauth/token',
              clientKey: 'backend-client',
              tokenServiceUser: 'backend-client',
              tokenServicePassword: 'backend-client-secret',
            },
            {
              Name: 'TRANSFORM',
              Type: 'HTTP',
              URL: 'https://transform.example',
              Authentication: 'OAuth2JWTBearer',
              ProxyType: 'Internet',
              ...xsuaa('transform-client'),
            },
            {
              Name: 'USER_TARGET',
              Type: 'HTTP',
              URL: `${echo.url}/user-target`,
              Authentication: 'OAuth2JWTBearer',
              ProxyType: 'Internet',
              ...xsuaa('backend-client'),
            },
            {
              Name: 'PLAIN',
              Type: 'HTTP',
              URL: 'https://plain.example',
              Authentication: 'NoAuthentication',
              ProxyType: 'Internet',
              'URL.headers.a': 'dest',
              'URL.headers.b': 'dest',
            },
          ],
          fragments: [
            { FragmentName: 'frag-a', 'URL.headers.a': 'frag-a', 'URL.headers.b': 'frag-a' },
            { FragmentName: 'frag-b', 'URL.headers.b': 'frag-b' },
            { FragmentName: 'broken-client', clientSecret: 'wrong' },
          ],
        },
      ],
      clients: ['ias-client', 'transform-client', 'backend-client'].map((clientid) => ({
        clientid,
        clientsecret: `${clientid}-secret`,
        xsappname: `${clientid}!t9`,
        authorities: [],
      })),
      users: [{ name: 'alice', email: 'alice@example.com' }],
    },
  });
  providerToken = await serviceToken(emu, 'destination');
});

afterAll(async () => {
  await emu?.stop();
  await echo?.close();
});

type Token = { type: string; value: string; error?: string; http_header: { key: string; value: string } };
async function find(
  name: string,
  headers: Record<string, string>,
  version = 'v1',
): Promise<{ status: number; body: { authTokens?: Token[]; ErrorMessage?: string; destinationConfiguration: Record<string, string> } }> {
  const res = await fetch(`${emu.urls.services}/destination-configuration/${version}/destinations/${name}`, {
    headers: { authorization: `Bearer ${providerToken}`, ...headers },
  });
  return { status: res.status, body: await res.json() };
}

const iasVars = async (): Promise<Record<string, string>> => ({
  'X-chain-name': IAS_CHAIN,
  'X-chain-var-samlProviderDestinationName': 'IAS_SAML_PROVIDER',
  'X-chain-var-subjectToken': await emu.issueUserToken({ user: 'alice' }),
  'X-chain-var-subjectTokenType': JWT_TYPE,
});

describe(IAS_CHAIN, () => {
  it('exchanges the subject token for a SAML assertion, then for a Bearer token the target receives', async () => {
    const found = await find('SAML_TARGET', await iasVars());
    expect(found.status).toBe(200);
    const token = found.body.authTokens![0];
    expect(token.error).toBeUndefined();
    await fetch(found.body.destinationConfiguration.URL, { headers: { [token.http_header.key]: token.http_header.value } });
    const claims = decodeJwt(String(echo.last().headers.authorization).replace(/^Bearer /, ''));
    expect([claims.user_name, claims.grant_type, claims.client_id]).toEqual([
      'alice',
      'urn:ietf:params:oauth:grant-type:saml2-bearer',
      'backend-client',
    ]);
  });

  it('a step 1 that fails is a 200 whose authTokens[0].error names the chain step', async () => {
    const found = await find('SAML_TARGET', { ...(await iasVars()), 'X-chain-var-subjectToken': 'not-a-token' });
    expect(found.status).toBe(200);
    expect(found.body.authTokens![0].error).toMatch(/step 1 failed: .*responded with 401/);
  });

  it('a provider destination of another type is a 400', async () => {
    const found = await find('SAML_TARGET', { ...(await iasVars()), 'X-chain-var-samlProviderDestinationName': 'TRANSFORM' });
    expect(found.status).toBe(400);
    expect(found.body.ErrorMessage).toMatch(/"TRANSFORM" must use OAuth2TokenExchange/);
  });

  it('missing variables are a 400 naming each', async () => {
    const found = await find('SAML_TARGET', { 'X-chain-name': IAS_CHAIN, 'X-chain-var-samlProviderDestinationName': 'IAS_SAML_PROVIDER' });
    expect(found.status).toBe(400);
    expect(found.body.ErrorMessage).toMatch(/X-chain-var-subjectToken, X-chain-var-subjectTokenType/);
  });
});

describe(SEQUENTIAL_CHAIN, () => {
  const vars = async (): Promise<Record<string, string>> => ({
    'X-chain-name': SEQUENTIAL_CHAIN,
    'X-chain-var-tokenTransformationDestinationName': 'TRANSFORM',
    'X-chain-var-userToken': await emu.issueUserToken({ user: 'alice' }),
  });

  it('exchanges the user token through the transformation destination, then uses the result as the user', async () => {
    emu.core.journal.clear();
    const found = await find('USER_TARGET', await vars());
    const token = found.body.authTokens![0];
    await fetch(found.body.destinationConfiguration.URL, { headers: { [token.http_header.key]: token.http_header.value } });
    const claims = decodeJwt(String(echo.last().headers.authorization).replace(/^Bearer /, ''));
    expect([claims.user_name, claims.client_id]).toEqual(['alice', 'backend-client']);
    expect(emu.journal({ service: 'xsuaa' }).filter((e) => e.path === '/oauth/token' && e.status === 200)).toHaveLength(2);
  });

  it('X-chain-var-tokenTransformationFragmentName applies a fragment to step 1; a missing one is a 400 unless optional', async () => {
    const broken = await find('USER_TARGET', { ...(await vars()), 'X-chain-var-tokenTransformationFragmentName': 'broken-client' });
    expect(broken.body.authTokens![0].error).toMatch(/step 1 failed: .*wrong client_secret/);
    const missing = await find('USER_TARGET', { ...(await vars()), 'X-chain-var-tokenTransformationFragmentName': 'nope' });
    expect(missing.status).toBe(400);
    expect(missing.body.ErrorMessage).toMatch(/X-chain-var-tokenTransformationDestinationName "TRANSFORM": Fragment "nope"/);
    const optional = await find('USER_TARGET', {
      ...(await vars()),
      'X-chain-var-tokenTransformationFragmentName': 'nope',
      'X-chain-var-tokenTransformationFragmentOptional': 'true',
    });
    expect(optional.body.authTokens![0].error).toBeUndefined();
  });

  it('an unknown transformation destination is a 400 naming the variable', async () => {
    const found = await find('USER_TARGET', { ...(await vars()), 'X-chain-var-tokenTransformationDestinationName': 'NOPE' });
    expect(found.status).toBe(400);
    expect(found.body.ErrorMessage).toMatch(/X-chain-var-tokenTransformationDestinationName "NOPE"/);
  });
});

describe('chain names', () => {
  it('an unknown chain is a 400 naming it and the known chains', async () => {
    const found = await find('USER_TARGET', { 'X-chain-name': 'com.sap.nope' });
    expect(found.status).toBe(400);
    expect(found.body.ErrorMessage).toMatch(/"com.sap.nope" is not a predefined destination chain.*com.sap.sequentialUserPropagation/);
  });

  it('an empty X-chain-name counts as absent, like other empty headers', async () => {
    expect((await find('PLAIN', { 'X-chain-name': ' ' })).status).toBe(200);
  });

  it('the v2 consume API refuses chains with a 400', async () => {
    const found = await find('USER_TARGET@subaccount', { 'X-chain-name': SEQUENTIAL_CHAIN }, 'v2');
    expect(found.status).toBe(400);
    expect(found.body.ErrorMessage).toMatch(/v1 find API only/);
  });
});

describe('fragment lists in X-fragment-name', () => {
  it('merges in header order, the later fragment winning, and lists the applied ones in FragmentName', async () => {
    const cfg = (await find('PLAIN', { 'X-fragment-name': 'frag-a, frag-b' })).body.destinationConfiguration;
    expect([cfg['URL.headers.a'], cfg['URL.headers.b'], cfg.FragmentName]).toEqual(['frag-a', 'frag-b', 'frag-a,frag-b']);
    const reversed = (await find('PLAIN', { 'X-fragment-name': 'frag-b,frag-a' })).body.destinationConfiguration;
    expect([reversed['URL.headers.b'], reversed.FragmentName]).toEqual(['frag-a', 'frag-b,frag-a']);
  });

  it('X-fragment-optional skips one missing fragment, but not within a list', async () => {
    const single = await find('PLAIN', { 'X-fragment-name': 'nope', 'X-fragment-optional': 'true' });
    expect([single.status, single.body.destinationConfiguration.FragmentName]).toEqual([200, undefined]);
    const list = await find('PLAIN', { 'X-fragment-name': 'frag-a,nope', 'X-fragment-optional': 'true' });
    expect(list.status).toBe(404);
    expect(list.body.ErrorMessage).toMatch(/Fragment "nope"/);
  });
});
