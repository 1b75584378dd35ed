/**
 * Every authentication type of the Destination Service, end to end: through the SAP Cloud SDK
 * (`getDestination` + `executeHttpRequest` to a local echo target) where the SDK supports the type, through
 * plain calls of the find API (then the target with the returned `http_header`) where it does not. Each row
 * asserts the header the target receives. Token-service properties, client assertions, SAML assertion
 * contents and the failure paths are checked against a recording token service on a loopback socket
 * (test/token-service-server.ts) and a port that refuses connections.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { DOMParser } from '@xmldom/xmldom';
import { decodeJwt } from 'jose';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedXml } from 'xml-crypto';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';
import { componentValidator, expectSpecConform, specTest } from './openapi.ts';
import { postForm, serviceToken } from './helpers.ts';
import { refusedPort, startRecordingTokenService, type RecordingTokenService, type TokenServiceCall } from './token-service-server.ts';

let emu: EmulatorHandle;
let echo: EchoServer;
let providerToken: string;
let trustPem: string;

/** The external token service destinations name (PROPS, TS_USER, CA_*, SAML_PROPS, …): a real loopback server. */
let tokens: RecordingTokenService;
/** A token service URL whose port refuses connections (DOWN). */
let downURL: string;
const lastExternalCall = (): TokenServiceCall => tokens.last();

const xsuaa = { tokenServiceURL: '{{services}}/oauth/token', clientId: 'backend-client', clientSecret: 'backend-secret' };
const samlXsuaa = {
  tokenServiceURL: '{{services}}/oauth/token',
  clientKey: 'backend-client',
  tokenServiceUser: 'backend-client',
  tokenServicePassword: 'backend-secret',
};
const external = (path: string): Record<string, string> => ({
  tokenServiceURL: `${tokens.origin}${path}`,
  clientId: 'ext-client',
  clientSecret: 'ext-secret',
});
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/** A self-signed signing keystore of the destination's own (KeyStoreLocation), as PKCS#12 and as PEM. */
function signingKeystore(): { p12: string; pem: string; certPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2025-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2035-01-01T00:00:00Z');
  cert.setSubject([{ name: 'commonName', value: 'saml-signer' }]);
  cert.setIssuer([{ name: 'commonName', value: 'saml-signer' }]);
  cert.sign(key, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const p12 = forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(key, [cert], 'ks-pw', { algorithm: '3des' })).getBytes();
  return { p12: forge.util.encode64(p12), pem: Buffer.from(certPem + keyPem).toString('base64'), certPem };
}
const keystore = signingKeystore();

beforeAll(async () => {
  echo = await startEchoServer();
  tokens = await startRecordingTokenService();
  downURL = `http://127.0.0.1:${await refusedPort()}/down`;
  const http = (name: string, authentication: string, extra: Record<string, string> = {}): Record<string, string> => ({
    Name: name,
    Type: 'HTTP',
    URL: `${echo.url}/${name.toLowerCase()}`,
    Authentication: authentication,
    ProxyType: 'Internet',
    ...extra,
  });
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'auth-types',
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            http('NOAUTH', 'NoAuthentication'),
            http('BASIC', 'BasicAuthentication', { User: 'jane', Password: 'secret' }),
            http('CC', 'OAuth2ClientCredentials', xsuaa),
            http('PASSWORD', 'OAuth2Password', { ...xsuaa, User: 'alice', Password: 'alice-pw' }),
            http('JWTBEARER', 'OAuth2JWTBearer', xsuaa),
            http('UTE', 'OAuth2UserTokenExchange', xsuaa),
            http('REFRESH', 'OAuth2RefreshToken', xsuaa),
            http('SAMLBEARER', 'OAuth2SAMLBearerAssertion', { ...samlXsuaa, audience: 'urn:emulator:xsuaa' }),
            http('SAMLBEARER_COMMON', 'OAuth2SAMLBearerAssertion', { ...samlXsuaa, tokenServiceURLType: 'Common' }),
            http('SAMLBEARER_SYSTEM', 'OAuth2SAMLBearerAssertion', { ...samlXsuaa, SystemUser: 'alice' }),
            http('SAMLBEARER_CLIENT', 'OAuth2SAMLBearerAssertion', { ...samlXsuaa, SAMLAssertionProvider: 'ClientProvided' }),
            http('SAMLASSERTION', 'SAMLAssertion', { audience: 'urn:target', assertionRecipient: 'https://target.example/acs' }),
            http('TECHUSER', 'OAuth2TechnicalUserPropagation', { ...xsuaa, ProxyType: 'OnPremise' }),
            http('TOKENEXCHANGE', 'OAuth2TokenExchange', xsuaa),
            http('AUTHCODE', 'OAuth2AuthorizationCode', xsuaa),
            // against the recording external token service (a loopback server)
            http('PROPS', 'OAuth2ClientCredentials', {
              ...external('/props'),
              scope: 'read',
              'tokenServiceURL.headers.x-api-key': 'k1',
              'tokenServiceURL.queries.resource': 'urn:res',
              'tokenService.body.audience': 'aud-1',
            }),
            http('TS_USER', 'OAuth2ClientCredentials', {
              ...external('/ts-user'),
              tokenServiceUser: 'ts-user',
              tokenServicePassword: 'ts-pw',
            }),
            http('IN_HEADER', 'OAuth2ClientCredentials', { ...external('/in-header'), 'tokenService.addClientCredentialsInBody': 'false' }),
            http('COMMON_TE', 'OAuth2TokenExchange', { ...external('/te'), tokenServiceURLType: 'Common' }),
            http('ASSERTION_PROVIDER', 'OAuth2ClientCredentials', {
              ...external('/assertion'),
              'clientAssertion.type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            }),
            http('CA_PLAIN', 'OAuth2Password', { tokenServiceURL: `${tokens.origin}/ca`, clientId: 'ca-client', User: 'u', Password: 'p' }),
            http('CA_PROPERTY', 'OAuth2ClientCredentials', {
              tokenServiceURL: `${tokens.origin}/ca`,
              clientId: 'ca-client',
              'clientAssertion.destinationName': 'ASSERTION_PROVIDER',
            }),
            http('CA_BAD_PROVIDER', 'OAuth2ClientCredentials', {
              tokenServiceURL: `${tokens.origin}/ca`,
              clientId: 'ca-client',
              'clientAssertion.destinationName': 'BASIC',
            }),
            http('SAML_PROPS', 'OAuth2SAMLBearerAssertion', {
              ...external('/saml'),
              clientKey: 'sf-client-key',
              companyId: 'ACME',
              audience: 'www.successfactors.com',
              assertionRecipient: 'https://api.sf.example/oauth/token',
              assertionIssuer: 'my-issuer',
              nameQualifier: 'www.acme.example',
              authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:X509',
              nameIdFormat: EMAIL,
            }),
            http('SAML_USERID', 'SAMLAssertion', {
              userIdSource: '$.ext_attr.zdn',
              skipUserAttributesPrefixInSAMLAttributes: 'true',
              skipUserUuidInSAMLAttributes: 'true',
              samlAssertionEncoding: 'base64url',
            }),
            http('SAML_NO_USERID', 'SAMLAssertion', { userIdSource: 'no_such_claim' }),
            http('SAML_P12', 'SAMLAssertion', { KeyStoreLocation: 'saml-signer.p12', KeyStorePassword: 'ks-pw' }),
            http('SAML_PEM', 'OAuth2SAMLBearerAssertion', { ...external('/saml-pem'), KeyStoreLocation: 'saml-signer.pem' }),
            http('SAML_P12_WRONG_PW', 'SAMLAssertion', { KeyStoreLocation: 'saml-signer.p12', KeyStorePassword: 'nope' }),
            http('DOWN', 'OAuth2ClientCredentials', { ...external('/down'), tokenServiceURL: downURL }),
            http('UNAUTHORIZED', 'OAuth2ClientCredentials', external('/unauthorized')),
          ],
          certificates: [
            { Name: 'saml-signer.p12', Type: 'CERTIFICATE', Content: keystore.p12 },
            { Name: 'saml-signer.pem', Type: 'CERTIFICATE', Content: keystore.pem },
          ],
        },
        { subdomain: 'subscriber1' },
      ],
      clients: [{ clientid: 'backend-client', clientsecret: 'backend-secret', xsappname: 'backend!t2', authorities: ['backend!t2.Read'] }],
      users: [{ name: 'alice', password: 'alice-pw', email: 'alice@example.com', attributes: { Country: ['DE'] } }],
    },
  });
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
  providerToken = await serviceToken(emu, 'destination');
  const res = await fetch(`${emu.urls.services}/destination-configuration/v1/saml2Metadata/certificate`, {
    headers: { authorization: `Bearer ${providerToken}` },
  });
  trustPem = ((await res.json()) as { certificate: string }).certificate;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
  await echo?.close();
  await tokens?.close();
});

type Token = {
  type: string;
  value: string;
  error?: string;
  expires_in?: string;
  issued_token_type?: string;
  http_header: { key: string; value: string };
};
interface Found {
  status: number;
  body: { destinationConfiguration: Record<string, string>; authTokens?: Token[]; ErrorMessage?: string };
}

async function find(name: string, headers: Record<string, string> = {}, token = providerToken): Promise<Found> {
  const res = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/${name}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return { status: res.status, body: (await res.json()) as Found['body'] };
}

/** Find over the REST API, then call the target with the returned header; returns what the target received. */
async function callViaRestApi(
  name: string,
  headers: Record<string, string> = {},
): Promise<{ key: string; received: string; token: Token }> {
  const found = await find(name, headers);
  expect(found.status).toBe(200);
  const token = found.body.authTokens![0];
  expect(token.error).toBeUndefined();
  await fetch(found.body.destinationConfiguration.URL, { headers: { [token.http_header.key]: token.http_header.value } });
  return { key: token.http_header.key, received: String(echo.last().headers[token.http_header.key.toLowerCase()]), token };
}

const bearerClaims = (header: unknown): Record<string, unknown> => decodeJwt(String(header).replace(/^Bearer /, ''));
const decodeB64 = (text: string): string => Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');

function parseAssertion(xml: string): {
  doc: Document;
  text: (tag: string) => string;
  attr: (tag: string, name: string) => string | null;
  attributes: Record<string, string[]>;
} {
  const doc = parseXmlStrictly(xml);
  const first = (tag: string): Element => doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', tag)[0];
  const attributes: Record<string, string[]> = {};
  for (const a of Array.from(doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Attribute'))) {
    attributes[a.getAttribute('Name')!] = Array.from(
      a.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'AttributeValue'),
    ).map((v) => v.textContent ?? '');
  }
  return { doc, text: (tag) => first(tag)?.textContent ?? '', attr: (tag, name) => first(tag)?.getAttribute(name) ?? null, attributes };
}

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

/** Parses XML and fails on any parse error or warning, so that a malformed assertion never reaches a check. */
function parseXmlStrictly(xml: string): Document {
  return new DOMParser({
    onError: (level, message) => {
      throw new Error(`the assertion is not well-formed XML (${level}): ${message}`);
    },
  }).parseFromString(xml, 'text/xml') as unknown as Document;
}

/**
 * Checks the assertion's enveloped signature with xml-crypto against `certificate` (default: the subaccount trust
 * certificate). Returns 'valid', or xml-crypto's reason for refusing it. A document that does not parse or does
 * not carry exactly one Signature fails the test here, so a refusal always means the signature does not verify.
 */
function signatureVerdict(xml: string, certificate = trustPem): string {
  const signatures = parseXmlStrictly(xml).getElementsByTagNameNS(DSIG, 'Signature');
  expect(signatures.length, 'the assertion carries one enveloped Signature').toBe(1);
  const verifier = new SignedXml({ publicCert: certificate, getCertFromKeyInfo: () => null });
  verifier.loadSignature(signatures[0] as unknown as Node);
  try {
    return verifier.checkSignature(xml) ? 'valid' : 'a reference (digest) does not validate';
  } catch (err) {
    return (err as Error).message; // xml-crypto throws for a signature value that does not match the key
  }
}

describe('authentication types through the SAP Cloud SDK', () => {
  it('NoAuthentication: the target receives no Authorization header', async () => {
    expect((await getDestination({ destinationName: 'NOAUTH', useCache: false }))?.url).toBe(`${echo.url}/noauth`);
    await executeHttpRequest({ destinationName: 'NOAUTH', useCache: false }, { method: 'get', url: '/x' });
    expect(echo.last().url).toBe('/noauth/x');
    expect(echo.last().headers.authorization).toBeUndefined();
  });

  it('BasicAuthentication: the target receives Basic User:Password', async () => {
    await executeHttpRequest({ destinationName: 'BASIC', useCache: false }, { method: 'get', url: '/x' });
    expect(echo.last().headers.authorization).toBe(`Basic ${Buffer.from('jane:secret').toString('base64')}`);
  });

  it('OAuth2ClientCredentials: the target receives a client-credentials token of the destination client', async () => {
    await executeHttpRequest({ destinationName: 'CC', useCache: false }, { method: 'get', url: '/x' });
    const claims = bearerClaims(echo.last().headers.authorization);
    expect([claims.client_id, claims.grant_type]).toEqual(['backend-client', 'client_credentials']);
  });

  it('OAuth2Password: the target receives a user token of the destination user', async () => {
    await executeHttpRequest({ destinationName: 'PASSWORD', useCache: false }, { method: 'get', url: '/x' });
    const claims = bearerClaims(echo.last().headers.authorization);
    expect([claims.user_name, claims.grant_type, claims.client_id]).toEqual(['alice', 'password', 'backend-client']);
  });

  it.each(['JWTBEARER', 'UTE'])(
    '%s: the target receives a user token of the JWT user, exchanged with the destination client',
    async (name) => {
      const jwt = await emu.issueUserToken({ user: 'alice' });
      await executeHttpRequest({ destinationName: name, jwt, useCache: false }, { method: 'get', url: '/x' });
      const claims = bearerClaims(echo.last().headers.authorization);
      expect([claims.user_name, claims.grant_type, claims.client_id]).toEqual([
        'alice',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        'backend-client',
      ]);
    },
  );

  it('OAuth2RefreshToken: the SDK sends X-refresh-token, the target receives a token for the refresh token user', async () => {
    const grant = await postForm(`${emu.urls.services}/oauth/token`, {
      grant_type: 'password',
      username: 'alice',
      password: 'alice-pw',
      client_id: 'backend-client',
      client_secret: 'backend-secret',
    });
    const { refresh_token } = (await grant.json()) as { refresh_token: string };
    await executeHttpRequest({ destinationName: 'REFRESH', refreshToken: refresh_token, useCache: false }, { method: 'get', url: '/x' });
    const claims = bearerClaims(echo.last().headers.authorization);
    expect([claims.user_name, claims.grant_type]).toEqual(['alice', 'refresh_token']);
  });

  it('OAuth2SAMLBearerAssertion: the emulator signs an assertion for the JWT user and its XSUAA exchanges it (saml2-bearer)', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    expect((await getDestination({ destinationName: 'SAMLBEARER', jwt, useCache: false }))?.authTokens?.[0].http_header.value).toMatch(
      /^Bearer ey/,
    );
    await executeHttpRequest({ destinationName: 'SAMLBEARER', jwt, useCache: false }, { method: 'get', url: '/x' });
    const claims = bearerClaims(echo.last().headers.authorization);
    expect([claims.user_name, claims.email, claims.grant_type, claims.client_id]).toEqual([
      'alice',
      'alice@example.com',
      'urn:ietf:params:oauth:grant-type:saml2-bearer',
      'backend-client',
    ]);
  });

  it('OAuth2SAMLBearerAssertion for a subscriber user (X-user-token) with tokenServiceURLType Common: a token in the subscriber zone', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice', tenant: 'subscriber1' });
    await executeHttpRequest({ destinationName: 'SAMLBEARER_COMMON', jwt, useCache: false }, { method: 'get', url: '/x' });
    const claims = bearerClaims(echo.last().headers.authorization);
    expect([claims.user_name, (claims.ext_attr as { zdn: string }).zdn, claims.grant_type]).toEqual([
      'alice',
      'subscriber1',
      'urn:ietf:params:oauth:grant-type:saml2-bearer',
    ]);
  });

  it('OAuth2SAMLBearerAssertion with SystemUser: no user token needed, the target receives a token for the system user', async () => {
    await executeHttpRequest({ destinationName: 'SAMLBEARER_SYSTEM', useCache: false }, { method: 'get', url: '/x' });
    expect(bearerClaims(echo.last().headers.authorization).user_name).toBe('alice');
  });

  it('SAMLAssertion: the target receives "SAML2.0 <base64 assertion>" signed with the subaccount trust certificate', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    expect((await getDestination({ destinationName: 'SAMLASSERTION', jwt, useCache: false }))?.authTokens?.[0].type).toBe('SAML2.0');
    await executeHttpRequest({ destinationName: 'SAMLASSERTION', jwt, useCache: false }, { method: 'get', url: '/x' });
    const header = String(echo.last().headers.authorization);
    expect(header).toMatch(/^SAML2\.0 [A-Za-z0-9+/]+=*$/);
    expect(echo.last().headers['x-sap-security-session']).toBe('create');
    const xml = decodeB64(header.slice('SAML2.0 '.length));
    expect(signatureVerdict(xml)).toBe('valid');
    const assertion = parseAssertion(xml);
    expect(assertion.text('NameID')).toBe('alice');
    expect(assertion.text('Audience')).toBe('urn:target');
    expect(assertion.attr('SubjectConfirmationData', 'Recipient')).toBe('https://target.example/acs');
    expect(assertion.attributes).toMatchObject({ email: ['alice@example.com'], 'user_attributes.Country': ['DE'] });
  });
});

describe('authentication types the SDK does not support, through the REST API', () => {
  it('OAuth2TechnicalUserPropagation: the token goes into SAP-Connectivity-Technical-Authentication', async () => {
    const { key, received } = await callViaRestApi('TECHUSER');
    expect(key).toBe('SAP-Connectivity-Technical-Authentication');
    expect(bearerClaims(received).grant_type).toBe('client_credentials');
  });

  it('OAuth2TokenExchange: X-subject-token is exchanged (RFC 8693) and the element names issued_token_type', async () => {
    const subject = await emu.issueUserToken({ user: 'alice' });
    const { received, token } = await callViaRestApi('TOKENEXCHANGE', { 'X-subject-token': subject, 'X-subject-token-type': JWT_TYPE });
    expect(token.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    const claims = bearerClaims(received);
    expect([claims.user_name, claims.grant_type, claims.client_id]).toEqual([
      'alice',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'backend-client',
    ]);
  });

  it('OAuth2TokenExchange sends subject and actor to the token service, with tokenServiceURLType ignored', async () => {
    const found = await find('COMMON_TE', {
      'X-subject-token': 's-1',
      'X-subject-token-type': JWT_TYPE,
      'X-actor-token': 'a-1',
      'X-actor-token-type': JWT_TYPE,
    });
    expect(found.body.authTokens![0].error).toBeUndefined();
    const call = lastExternalCall();
    expect(call.url.origin).toBe(tokens.origin);
    expect(call.url.pathname).toBe('/te');
    expect(Object.fromEntries(call.form)).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 's-1',
      subject_token_type: JWT_TYPE,
      actor_token: 'a-1',
      actor_token_type: JWT_TYPE,
    });
  });

  it('OAuth2AuthorizationCode: X-code and the URL-encoded X-redirect-uri are redeemed for a user token', async () => {
    const redirect = 'https://app.example/callback';
    const authorize = await fetch(
      `${emu.urls.services}/oauth/authorize?response_type=code&client_id=backend-client&user=alice&redirect_uri=${encodeURIComponent(redirect)}`,
      { redirect: 'manual' },
    );
    const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
    const { received } = await callViaRestApi('AUTHCODE', { 'X-code': code, 'X-redirect-uri': encodeURIComponent(redirect) });
    expect([bearerClaims(received).user_name, bearerClaims(received).grant_type]).toEqual(['alice', 'authorization_code']);
  });

  it('OAuth2AuthorizationCode with PKCE: X-code-verifier is passed on; a wrong one is an error element', async () => {
    const { createHash } = await import('node:crypto');
    const verifier = 'a-verifier-that-is-long-enough-for-pkce-0123456789';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const codeFor = async (): Promise<string> => {
      const res = await fetch(
        `${emu.urls.services}/oauth/authorize?response_type=code&client_id=backend-client&user=alice&redirect_uri=https://app.example/cb&code_challenge=${challenge}&code_challenge_method=S256`,
        { redirect: 'manual' },
      );
      return new URL(res.headers.get('location')!).searchParams.get('code')!;
    };
    const redirect = encodeURIComponent('https://app.example/cb');
    const { received } = await callViaRestApi('AUTHCODE', {
      'X-code': await codeFor(),
      'X-redirect-uri': redirect,
      'X-code-verifier': verifier,
    });
    expect(bearerClaims(received).user_name).toBe('alice');
    const wrong = await find('AUTHCODE', { 'X-code': await codeFor(), 'X-redirect-uri': redirect, 'X-code-verifier': 'wrong' });
    expect(wrong.body.authTokens![0].error).toMatch(/PKCE error/);
  });

  it('OAuth2SAMLBearerAssertion with SAMLAssertionProvider=ClientProvided exchanges the X-samlAssertion it is given', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const saml = (await find('SAMLASSERTION', { 'X-user-token': jwt })).body.authTokens![0].value;
    const { received } = await callViaRestApi('SAMLBEARER_CLIENT', { 'X-samlAssertion': saml });
    expect([bearerClaims(received).user_name, bearerClaims(received).grant_type]).toEqual([
      'alice',
      'urn:ietf:params:oauth:grant-type:saml2-bearer',
    ]);
  });

  specTest('find responses of every flow match the DestinationLookUpResult schema of the OpenAPI document', async () => {
    const validate = componentValidator('DestinationLookUpResult');
    const jwt = await emu.issueUserToken({ user: 'alice' });
    for (const [name, headers] of [
      ['BASIC', {}],
      ['CC', {}],
      ['SAMLBEARER', { 'X-user-token': jwt }],
      ['SAMLASSERTION', { 'X-user-token': jwt }],
      ['DOWN', {}],
      ['REFRESH', {}],
    ] as const) {
      expectSpecConform(validate, (await find(name, headers)).body);
    }
  });
});

describe('token service properties and client authentication', () => {
  it('sends tokenServiceURL.headers.*, tokenServiceURL.queries.*, tokenService.body.*, scope and the client secret in the body', async () => {
    await find('PROPS');
    const call = lastExternalCall();
    expect(call.url.searchParams.get('resource')).toBe('urn:res');
    expect(call.headers.get('x-api-key')).toBe('k1');
    expect(Object.fromEntries(call.form)).toEqual({
      grant_type: 'client_credentials',
      audience: 'aud-1',
      scope: 'read',
      client_id: 'ext-client',
      client_secret: 'ext-secret',
    });
  });

  it('tokenServiceUser/tokenServicePassword authenticate with Basic instead of the client secret', async () => {
    await find('TS_USER');
    expect(lastExternalCall().headers.get('authorization')).toBe(`Basic ${Buffer.from('ts-user:ts-pw').toString('base64')}`);
    expect(lastExternalCall().form.has('client_secret')).toBe(false);
  });

  it('tokenService.addClientCredentialsInBody=false sends clientId:clientSecret as Basic', async () => {
    await find('IN_HEADER');
    expect(lastExternalCall().headers.get('authorization')).toBe(`Basic ${Buffer.from('ext-client:ext-secret').toString('base64')}`);
    expect(lastExternalCall().form.has('client_id')).toBe(false);
  });

  it('X-client-assertion and X-client-assertion-type replace the client secret', async () => {
    const found = await find('CA_PLAIN', {
      'X-client-assertion': 'eyJ.assert.ion',
      'X-client-assertion-type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    });
    expect(found.body.authTokens![0].error).toBeUndefined();
    expect(Object.fromEntries(lastExternalCall().form)).toEqual({
      grant_type: 'password',
      username: 'u',
      password: 'p',
      client_id: 'ca-client',
      client_assertion: 'eyJ.assert.ion',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    });
  });

  it('X-client-assertion-destination-name: the provider destination token becomes the client assertion', async () => {
    await find('CA_PLAIN', { 'X-client-assertion-destination-name': 'ASSERTION_PROVIDER' });
    expect(tokens.calls.at(-2)!.url.pathname).toBe('/assertion');
    expect(lastExternalCall().form.get('client_assertion')).toBe('assertion-from-provider');
    expect(lastExternalCall().form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  });

  it('the property clientAssertion.destinationName does the same', async () => {
    await find('CA_PROPERTY');
    expect(lastExternalCall().form.get('client_assertion')).toBe('assertion-from-provider');
  });

  it('a client assertion destination that is not OAuth2ClientCredentials is an error element', async () => {
    const found = await find('CA_BAD_PROVIDER');
    expect(found.body.authTokens![0].error).toMatch(/"BASIC" must use OAuth2ClientCredentials/);
  });

  it('X-client-assertion together with X-client-assertion-destination-name is a 400', async () => {
    const found = await find('CA_PLAIN', {
      'X-client-assertion': 'a',
      'X-client-assertion-type': 't',
      'X-client-assertion-destination-name': 'ASSERTION_PROVIDER',
    });
    expect(found.status).toBe(400);
    expect(found.body.ErrorMessage).toMatch(/X-client-assertion-destination-name/);
  });

  it('OAuth2SAMLBearerAssertion: grant, clientKey, companyId and an assertion built from the SAML properties', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const found = await find('SAML_PROPS', { 'X-user-token': jwt });
    expect(found.body.authTokens![0].http_header.value).toMatch(/^Bearer external-token-\d+$/);
    const form = lastExternalCall().form;
    expect([form.get('grant_type'), form.get('client_id'), form.get('company_id')]).toEqual([
      'urn:ietf:params:oauth:grant-type:saml2-bearer',
      'ext-client',
      'ACME',
    ]);
    const encoded = form.get('assertion')!;
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    const xml = decodeB64(encoded);
    expect(signatureVerdict(xml)).toBe('valid');
    const a = parseAssertion(xml);
    expect(a.text('NameID')).toBe('alice@example.com');
    expect(a.attr('NameID', 'Format')).toBe(EMAIL);
    expect(a.attr('NameID', 'NameQualifier')).toBe('www.acme.example');
    expect(a.text('Issuer')).toBe('my-issuer');
    expect(a.text('Audience')).toBe('www.successfactors.com');
    expect(a.attr('SubjectConfirmationData', 'Recipient')).toBe('https://api.sf.example/oauth/token');
    expect(a.text('AuthnContextClassRef')).toBe('urn:oasis:names:tc:SAML:2.0:ac:classes:X509');
    expect(a.attributes.user_uuid).toHaveLength(1);
  });

  it('SAMLAssertion: userIdSource as JsonPath, attributes without prefix and user_uuid, base64url on request', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const token = (await find('SAML_USERID', { 'X-user-token': jwt })).body.authTokens![0];
    expect(token.type).toBe('SAML2.0');
    expect(token.value).toMatch(/^[A-Za-z0-9_-]+$/);
    const a = parseAssertion(decodeB64(token.value));
    expect(a.text('NameID')).toBe('provider');
    expect(a.attributes.Country).toEqual(['DE']);
    expect(a.attributes.user_uuid).toBeUndefined();
  });
});

describe('SAML signing with the destination keystore (KeyStoreLocation)', () => {
  const certBody = (pem: string): string => pem.replace(/-----[^-]+-----|\s/g, '');

  it('PKCS#12 with KeyStorePassword: the assertion is signed with the keystore, which KeyInfo carries', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const xml = decodeB64((await find('SAML_P12', { 'X-user-token': jwt })).body.authTokens![0].value);
    expect(signatureVerdict(xml, keystore.certPem)).toBe('valid');
    expect(signatureVerdict(xml), 'signed with the keystore, so the trust certificate does not verify it').toMatch(
      /^invalid signature: the signature value \S+ is incorrect$/,
    );
    expect(parseAssertion(xml).doc.getElementsByTagNameNS(DSIG, 'X509Certificate')[0].textContent).toBe(certBody(keystore.certPem));
  });

  it('PEM (certificate and key in one file) for OAuth2SAMLBearerAssertion', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    await find('SAML_PEM', { 'X-user-token': jwt });
    expect(signatureVerdict(decodeB64(lastExternalCall().form.get('assertion')!), keystore.certPem)).toBe('valid');
  });

  it('JKS generated by the certificates API, on a destination created through the CRUD API', async () => {
    const api = (method: string, path: string, body: unknown): Promise<Response> =>
      fetch(`${emu.urls.services}/destination-configuration/v1/${path}`, {
        method,
        headers: { authorization: `Bearer ${providerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (
        await api('POST', 'subaccountCertificates', {
          Name: 'signer.jks',
          Attributes: { CN: 'jks-signer', Validity: { Value: 30, TimeUnit: 'DAYS' }, Password: 'jks-pw' },
        })
      ).status,
    ).toBe(201);
    const destination = {
      Name: 'SAML_JKS',
      Type: 'HTTP',
      URL: 'https://t.example',
      Authentication: 'SAMLAssertion',
      ProxyType: 'Internet',
      KeyStoreLocation: 'signer.jks',
      KeyStorePassword: 'jks-pw',
    };
    expect((await api('POST', 'subaccountDestinations', destination)).status).toBe(201);
    try {
      const jwt = await emu.issueUserToken({ user: 'alice' });
      const xml = decodeB64((await find('SAML_JKS', { 'X-user-token': jwt })).body.authTokens![0].value);
      const keyInfoCert = parseAssertion(xml).doc.getElementsByTagNameNS(DSIG, 'X509Certificate')[0].textContent!;
      const pem = `-----BEGIN CERTIFICATE-----\n${keyInfoCert.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
      expect(new X509Certificate(pem).subject).toContain('CN=jks-signer');
      expect(signatureVerdict(xml, pem)).toBe('valid');
    } finally {
      emu.reset();
    }
  });

  it('a wrong KeyStorePassword is an error element naming the keystore', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const found = await find('SAML_P12_WRONG_PW', { 'X-user-token': jwt });
    expect(found.body.authTokens![0].error).toMatch(/keystore "saml-signer.p12" \(KeyStoreLocation\) cannot sign/);
  });
});

describe('failure paths', () => {
  it.each([
    ['REFRESH', {}, /X-refresh-token/],
    ['AUTHCODE', {}, /X-code/],
    ['TOKENEXCHANGE', {}, /X-subject-token/],
    ['TOKENEXCHANGE', { 'X-subject-token': 'x' }, /X-subject-token-type/],
    ['SAMLBEARER_CLIENT', {}, /X-samlAssertion/],
    ['SAMLASSERTION', {}, /needs a user token/],
    ['SAMLBEARER', {}, /needs a user token.*SystemUser/],
    ['JWTBEARER', {}, /needs a user token/],
  ] as const)('%s without its mandatory header %j: 200 with authTokens[0].error', async (name, headers, message) => {
    const found = await find(name, headers);
    expect(found.status).toBe(200);
    expect(found.body.authTokens).toHaveLength(1);
    expect(found.body.authTokens![0]).toMatchObject({ type: '', value: '', expires_in: '0', http_header: { key: '', value: '' } });
    expect(found.body.authTokens![0].error).toMatch(message);
  });

  it('a token service that cannot be reached: authTokens[0].error says so', async () => {
    const found = await find('DOWN');
    expect(found.status).toBe(200);
    expect(found.body.authTokens![0].error).toBe(
      `Retrieval of OAuth token failed: token service ${downURL} could not be reached: connect ECONNREFUSED ${new URL(downURL).host}`,
    );
  });

  it('a token service answering 401: authTokens[0].error carries the status and its answer', async () => {
    const found = await find('UNAUTHORIZED');
    expect(found.body.authTokens![0].error).toMatch(/responded with 401: .*invalid_client/);
  });

  it('a user token this XSUAA did not issue is refused for SAML flows', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const forged = `${jwt.slice(0, jwt.lastIndexOf('.'))}.AAAA`;
    const found = await find('SAMLASSERTION', { 'X-user-token': forged });
    expect(found.body.authTokens![0].error).toMatch(/user token is not accepted: the token signature is invalid/);
  });

  it('userIdSource naming a claim the token lacks: "user ID could not be determined"', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const found = await find('SAML_NO_USERID', { 'X-user-token': jwt });
    expect(found.body.authTokens![0].error).toMatch(/user ID could not be determined.*no_such_claim/);
  });

  it('a client-provided assertion changed after signing is refused by the XSUAA (digest mismatch)', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const saml = (await find('SAMLASSERTION', { 'X-user-token': jwt })).body.authTokens![0].value;
    const tampered = Buffer.from(decodeB64(saml).replace('>alice<', '>mallory<')).toString('base64');
    const found = await find('SAMLBEARER_CLIENT', { 'X-samlAssertion': tampered });
    expect(found.body.authTokens![0].error).toMatch(/responded with 401: .*digest does not match/);
  });
});

describe('XSUAA grants for assertions', () => {
  const client = { client_id: 'backend-client', client_secret: 'backend-secret' };
  it('saml2-bearer refuses an assertion signed by a key that is not a trust certificate of the emulator', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const xml =
      '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x1" IssueInstant="2026-01-01T00:00:00Z" Version="2.0">' +
      '<saml2:Issuer>evil</saml2:Issuer><saml2:Subject><saml2:NameID>alice</saml2:NameID></saml2:Subject></saml2:Assertion>';
    const signer = new SignedXml({
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    });
    signer.addReference({
      xpath: "/*[local-name()='Assertion']",
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    });
    signer.computeSignature(xml, { location: { reference: "/*[local-name()='Assertion']/*[local-name()='Issuer']", action: 'after' } });
    const res = await postForm(`${emu.urls.services}/oauth/token`, {
      ...client,
      grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
      assertion: Buffer.from(signer.getSignedXml()).toString('base64'),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(/signature is invalid|not a trust certificate/);
  });

  it('token-exchange can answer with a SAML assertion (requested_token_type saml2) that saml2-bearer accepts', async () => {
    const subject = await emu.issueUserToken({ user: 'alice' });
    const exchange = await postForm(`${emu.urls.services}/oauth/token`, {
      ...client,
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subject,
      subject_token_type: JWT_TYPE,
      requested_token_type: 'urn:ietf:params:oauth:token-type:saml2',
    });
    const body = (await exchange.json()) as { access_token: string; issued_token_type: string; token_type: string };
    expect([exchange.status, body.issued_token_type, body.token_type]).toEqual([200, 'urn:ietf:params:oauth:token-type:saml2', 'N_A']);
    const bearer = await postForm(`${emu.urls.services}/oauth/token`, {
      ...client,
      grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
      assertion: body.access_token,
    });
    expect(bearer.status).toBe(200);
    expect(bearerClaims(((await bearer.json()) as { access_token: string }).access_token).user_name).toBe('alice');
  });

  it('saml2-bearer refuses an expired assertion; token-exchange refuses a subject token it did not issue', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const saml = (await find('SAMLASSERTION', { 'X-user-token': jwt })).body.authTokens![0].value;
    emu.core.clock.advance(60 * 60_000);
    try {
      const res = await postForm(`${emu.urls.services}/oauth/token`, {
        ...client,
        grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
        assertion: saml,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error_description: string }).error_description).toMatch(/expired/);
    } finally {
      emu.core.clock.advance(-60 * 60_000);
    }
    const res = await postForm(`${emu.urls.services}/oauth/token`, {
      ...client,
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'not-a-jwt',
      subject_token_type: JWT_TYPE,
    });
    expect(res.status).toBe(401);
  });
});
