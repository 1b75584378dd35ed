/**
 * IAS across the stack, with SAP's clients unmodified over real sockets: destinations whose token service is the
 * emulator's identity service (`getDestination` of the SAP Cloud SDK; the token checked with @sap/xssec's
 * IdentityService as the provider application), the Destination Service REST API called with an IAS token over mTLS
 * by an application that consumes the destination instance, XSUAA's jwt-bearer with an IAS user token (xssec's
 * XsuaaService and the SDK's `iasToXsuaaTokenExchange`), principal propagation of an IAS user through the
 * connectivity proxy, and the journal's call chains over the identity hops. Bad input is refused with the real error
 * shape and changes nothing.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { IdentityService, XsuaaService } from '@sap/xssec';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import forge from 'node-forge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';
import { issueClientCertificate } from '../emulator/server/client-certificates.ts';
import { ensureTlsMaterial } from '../emulator/server/tls-material.ts';
import { binding, serviceToken } from './helpers.ts';
import { echoRoundTrip, sapSocksConnect } from './socks5-client.ts';

interface IdentityCredentials {
  clientid: string;
  clientsecret?: string;
  certificate?: string;
  key?: string;
  url: string;
}

let emu: EmulatorHandle;
const ias: Record<string, IdentityCredentials> = {};
const ordersClient = '5b0c2f4e-1d3a-4c6b-8e7f-0a9b8c7d6e51';
const resource = 'urn:sap:identity:application:provider:name:stock';

const iasDestination = (name: string, props: Record<string, string>): Record<string, string> => ({
  Name: name,
  Type: 'HTTP',
  URL: 'http://stock.example.test',
  ProxyType: 'Internet',
  tokenServiceURL: '{{identity}}/oauth2/token',
  clientId: ordersClient,
  clientSecret: 'orders-secret',
  'tokenService.body.resource': resource,
  ...props,
});

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  const base = emu.core.scenario;
  emu.core.loadScenario({
    ...base,
    tenants: base.tenants.map((t, i) =>
      i === 0
        ? {
            ...t,
            destinations: [
              ...t.destinations,
              iasDestination('IAS_CC', { Authentication: 'OAuth2ClientCredentials' }),
              iasDestination('IAS_JWT', { Authentication: 'OAuth2JWTBearer', 'x_user_token.jwks_uri': '{{identity}}/oauth2/certs' }),
              {
                Name: 'SAML_EMAIL',
                Type: 'HTTP',
                URL: 'https://saml.example.test',
                Authentication: 'SAMLAssertion',
                ProxyType: 'Internet',
                nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
              },
              iasDestination('IAS_UNKNOWN_RESOURCE', {
                Authentication: 'OAuth2ClientCredentials',
                'tokenService.body.resource': 'urn:sap:identity:application:provider:name:nobody',
              }),
            ],
          }
        : t,
    ),
    bindings: [
      ...base.bindings.filter((b) => b.service !== 'identity' && b.service !== 'connectivity'),
      { name: 'my-connectivity', service: 'connectivity', tokenType: ['xsuaa', 'ias'] },
      { name: 'my-ias', service: 'identity' },
      { name: 'orders-ias', service: 'identity', clientid: ordersClient, clientsecret: 'orders-secret' },
      { name: 'stock-ias', service: 'identity' },
      { name: 'app-ias', service: 'identity', credentialType: 'X509_GENERATED' },
      { name: 'lone-ias', service: 'identity', credentialType: 'X509_GENERATED' },
    ],
    identity: {
      applications: [
        { binding: 'orders-ias', name: 'orders', consumes: ['stock'] },
        { binding: 'stock-ias', name: 'stock' },
        { binding: 'app-ias', name: 'app', consumedServices: ['my-destination', 'my-connectivity'] },
        { binding: 'lone-ias', name: 'lone' },
      ],
    },
  });
  const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { name: string; credentials: IdentityCredentials }[]>;
  for (const b of vcap.identity) ias[b.name] = b.credentials;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(() => {
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

const identityService = (creds: IdentityCredentials): IdentityService =>
  new IdentityService({ ...creds } as never, { tokenfetch: { cache: { enabled: false } } } as never);

/** An IAS user token signed with a key the identity service never had, otherwise like the real one. */
async function foreignIasToken(real: string): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = `foreign-${(await exportJWK(publicKey)).n!.slice(0, 8)}`;
  return new SignJWT(decodeJwt(real)).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
}

const identityTokenCalls = (): number => emu.journal({ service: 'identity' }).filter((e) => e.path === '/oauth2/token').length;

/** A find (or any call) on the services port over TLS, presenting `creds`' client certificate when it has one. */
function overTls(
  path: string,
  token: string,
  creds?: IdentityCredentials,
  init: { method?: string; body?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: emu.ports.services,
        path,
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
        ...(creds?.certificate ? { cert: creds.certificate, key: creds.key } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('a destination whose token service is the identity service (app-to-app)', () => {
  it('OAuth2ClientCredentials: getDestination carries an IAS token for the provider application, which xssec accepts as stock', async () => {
    const destination = await getDestination({ destinationName: 'IAS_CC', useCache: false });
    const token = destination!.authTokens![0];
    expect(token).toMatchObject({ type: 'Bearer', error: null });
    const ctx = await identityService(ias['stock-ias']).createSecurityContext(token.value);
    expect(ctx.token.payload).toMatchObject({ aud: [ias['stock-ias'].clientid], azp: ordersClient, sap_id_type: 'app' });
    const grant = emu
      .journal({ service: 'identity' })
      .filter((e) => e.path === '/oauth2/token')
      .at(-1);
    expect(grant).toMatchObject({ status: 200, clientId: ordersClient, grantType: 'client_credentials' });
  });

  it('OAuth2JWTBearer with an IAS user token: the user reaches the provider application', async () => {
    const jwt = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: ordersClient });
    const destination = await getDestination({ destinationName: 'IAS_JWT', jwt, useCache: false });
    const token = destination!.authTokens![0];
    expect(token.error).toBeNull();
    const ctx = await identityService(ias['stock-ias']).createSecurityContext(token.value);
    expect(ctx.token.payload).toMatchObject({ aud: [ias['stock-ias'].clientid], email: 'alice@example.com', sap_id_type: 'user' });
    const grant = emu
      .journal({ service: 'identity' })
      .filter((e) => e.path === '/oauth2/token')
      .at(-1);
    expect(grant).toMatchObject({ status: 200, grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer' });
  });

  it('the call chain links the identity grant as the token flow of the lookup (jti like XSUAA)', async () => {
    await getDestination({ destinationName: 'IAS_CC', useCache: false });
    const chain = emu.lastCall('IAS_CC')!;
    const flow = chain.steps.find((s) => s.role === 'token-flow');
    expect(flow?.entry).toMatchObject({ service: 'identity', path: '/oauth2/token', status: 200 });
    expect(chain.steps.map((s) => s.role)).toEqual(expect.arrayContaining(['service-token', 'lookup', 'token-flow']));
    expect(chain.failed).toBeUndefined();
  });

  it('an IAS user token from a foreign key in X-user-token: an authTokens error, and the identity service is never called', async () => {
    const real = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: ordersClient });
    const before = identityTokenCalls();
    const res = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/IAS_JWT`, {
      headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}`, 'x-user-token': await foreignIasToken(real) },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { authTokens: { error?: string; value: string }[] };
    expect(body.authTokens[0].value).toBe('');
    expect(body.authTokens[0].error).toMatch(/user token is not accepted: IAS user token: .*signed with key "foreign-/);
    expect(identityTokenCalls()).toBe(before);
    expect(emu.lastCall('IAS_JWT')?.failed?.reason).toMatch(/not accepted/);
  });

  it('SAMLAssertion for an IAS user (X-user-token): the assertion names the IAS user; a foreign key is refused', async () => {
    const find = async (jwt: string): Promise<{ error?: string; value: string }> => {
      const res = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/SAML_EMAIL`, {
        headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}`, 'x-user-token': jwt },
      });
      return ((await res.json()) as { authTokens: { error?: string; value: string }[] }).authTokens[0];
    };
    const user = await emu.issueUserToken({ service: 'identity', user: 'alice' });
    const saml = await find(user);
    expect(saml.error).toBeUndefined();
    expect(Buffer.from(saml.value, 'base64').toString('utf8')).toMatch(/<saml2?:NameID[^>]*>alice@example.com</);
    expect((await find(await foreignIasToken(user))).error).toMatch(/user token is not accepted: IAS user token: /);
  });

  it("a resource the identity service does not know: the identity service's invalid_target in authTokens", async () => {
    const res = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/IAS_UNKNOWN_RESOURCE`, {
      headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}` },
    });
    const body = (await res.json()) as { authTokens: { error?: string }[] };
    expect(body.authTokens[0].error).toMatch(/responded with 400: .*invalid_target/);
  });
});

describe('the Destination Service REST API with IAS tokens', () => {
  const find = '/destination-configuration/v1/destinations/BACKEND_NOAUTH';

  it('accepts an IAS token over mTLS from an application that consumes the destination instance (cnf bound)', async () => {
    const { access_token } = await identityService(ias['app-ias']).fetchClientCredentialsToken();
    expect(decodeJwt(access_token).cnf).toBeDefined();
    const res = await overTls(find, access_token, ias['app-ias']);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      owner: { SubaccountId: emu.core.state.provider.subaccountId, InstanceId: null },
      destinationConfiguration: { Name: 'BACKEND_NOAUTH' },
    });
    // The journal links the lookup to the identity service's grant of its token (jti), as it does for XSUAA's.
    const grantStep = emu.lastCall('BACKEND_NOAUTH')!.steps.find((step) => step.role === 'service-token');
    expect(grantStep?.entry).toMatchObject({ service: 'identity', path: '/oauth2/token', issuedJti: decodeJwt(access_token).jti });
    expect(emu.journal({ service: 'destination' }).at(-1)).toMatchObject({
      status: 200,
      tenant: 'provider',
      callerClientId: ias['app-ias'].clientid,
    });
  });

  it('refuses it without mTLS (plain http, or TLS without a client certificate) with 401 and ErrorMessage', async () => {
    const { access_token } = await identityService(ias['app-ias']).fetchClientCredentialsToken();
    const plain = await fetch(`${emu.urls.services}${find}`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(plain.status).toBe(401);
    expect(((await plain.json()) as { ErrorMessage: string }).ErrorMessage).toMatch(/only over mTLS/);
    const noCert = await overTls(find, access_token);
    expect(noCert.status).toBe(401);
    expect(noCert.body.ErrorMessage).toMatch(/only over mTLS/);
  });

  it('refuses an application that does not consume the destination instance, and changes nothing', async () => {
    const { access_token } = await identityService(ias['lone-ias']).fetchClientCredentialsToken();
    const denied = await overTls(find, access_token, ias['lone-ias']);
    expect(denied.status).toBe(401);
    expect(denied.body.ErrorMessage).toMatch(/"lone" does not consume a destination service instance: add one of "my-destination"/);
    const post = await overTls('/destination-configuration/v1/subaccountDestinations', access_token, ias['lone-ias'], {
      method: 'POST',
      body: JSON.stringify({
        Name: 'FROM_LONE',
        Type: 'HTTP',
        URL: 'http://x.test',
        Authentication: 'NoAuthentication',
        ProxyType: 'Internet',
      }),
    });
    expect(post.status).toBe(401);
    const check = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/FROM_LONE`, {
      headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}` },
    });
    expect(check.status).toBe(404);
  });

  it("a token bound to the application's certificate (cnf) is refused with another certificate of the same client", async () => {
    const tls = ensureTlsMaterial();
    const app = ias['app-ias'];
    const other = issueClientCertificate(
      { certPem: tls.caPem, keyPem: tls.caKeyPem },
      { commonName: app.clientid, organizationalUnit: 'elsewhere' },
    );
    const otherCreds = { ...app, certificate: other.certificate, key: other.key };
    const { access_token: bound } = await identityService(app).fetchClientCredentialsToken();
    const refused = await overTls(find, bound, otherCreds);
    expect(refused.status).toBe(401);
    expect(refused.body.ErrorMessage).toMatch(/bound to another client certificate/);
    // Without cnf (a token fetched with the secret) any certificate the CA issued to the client will do.
    const bySecret = await fetch(`${app.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientid, client_secret: 'app-ias-secret' }),
    });
    const unbound = ((await bySecret.json()) as { access_token: string }).access_token;
    expect(decodeJwt(unbound).cnf).toBeUndefined();
    expect((await overTls(find, unbound, otherCreds)).status).toBe(200);
  });

  it("refuses another application's certificate, a foreign key, and the v2 consume API (422)", async () => {
    const { access_token } = await identityService(ias['app-ias']).fetchClientCredentialsToken();
    const otherCert = await overTls(find, access_token, ias['lone-ias']);
    expect(otherCert.status).toBe(401);
    expect(otherCert.body.ErrorMessage).toMatch(/is not the one of identity application "app"/);
    const foreign = await overTls(find, await foreignIasToken(access_token), ias['app-ias']);
    expect(foreign.status).toBe(401);
    expect(foreign.body.ErrorMessage).toMatch(/IAS token is not accepted: .*foreign-/);
    const v2 = await overTls('/destination-configuration/v2/destinations/BACKEND_NOAUTH', access_token, ias['app-ias']);
    expect(v2.status).toBe(422);
    expect(v2.body.ErrorMessage).toMatch(/not accepted by the v2 consume API/);
  });
});

describe("XSUAA's jwt-bearer with an IAS user token (IAS → XSUAA)", () => {
  it("xssec's XsuaaService.fetchJwtBearerToken: an XSUAA token for the scenario user, with its scopes", async () => {
    const iasToken = await emu.issueUserToken({ service: 'identity', user: 'alice' });
    const xsuaa = new XsuaaService(binding(emu, 'xsuaa') as never);
    const { access_token } = await xsuaa.fetchJwtBearerToken(iasToken);
    const claims = decodeJwt(access_token);
    expect(claims).toMatchObject({
      user_name: 'alice',
      email: 'alice@example.com',
      zid: emu.core.state.provider.zid,
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    });
    expect((await xsuaa.createSecurityContext(access_token)).token.payload.user_name).toBe('alice');
  });

  it('an IAS user unknown to the scenario becomes the XSUAA user as IAS names it', async () => {
    const iasToken = await emu.issueUserToken({ service: 'identity', user: 'carol@example.com' });
    const { access_token } = await new XsuaaService(binding(emu, 'xsuaa') as never).fetchJwtBearerToken(iasToken);
    expect(decodeJwt(access_token)).toMatchObject({
      user_name: 'carol@example.com',
      email: 'carol@example.com',
      user_id: decodeJwt(iasToken).user_uuid,
    });
  });

  it("the SAP Cloud SDK's iasToXsuaaTokenExchange: the destination lookup runs with the exchanged XSUAA token", async () => {
    const jwt = await emu.issueUserToken({ service: 'identity', user: 'alice' });
    const destination = await getDestination({ destinationName: 'BACKEND_USER', jwt, iasToXsuaaTokenExchange: true, useCache: false });
    expect(destination?.authTokens?.[0].error).toBeNull();
    expect(decodeJwt(destination!.authTokens![0].value)).toMatchObject({ user_name: 'alice' });
    const exchange = emu
      .journal({ service: 'xsuaa' })
      .find((e) => e.grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && e.status === 200);
    expect(exchange).toBeDefined();
  });

  it("an IAS token from a foreign key is refused with XSUAA's 401 invalid_token, and no token is issued", async () => {
    const forged = await foreignIasToken(await emu.issueUserToken({ service: 'identity', user: 'alice' }));
    const creds = binding(emu, 'xsuaa');
    const before = emu.journal({ service: 'xsuaa' }).filter((e) => e.status === 200).length;
    const res = await fetch(`${emu.urls.services}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: forged,
        client_id: creds.clientid,
        client_secret: creds.clientsecret,
      }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_token');
    expect(body.error_description).toMatch(/The assertion is not accepted: IAS token: .*foreign-/);
    expect(emu.journal({ service: 'xsuaa' }).filter((e) => e.status === 200).length).toBe(before);
  });
});

describe('principal propagation of an IAS user through the connectivity proxy', () => {
  it('the fake backend sees the IAS user as the principal certificate (SDK, SAP-Connectivity-Authentication)', async () => {
    const jwt = await emu.issueUserToken({ service: 'identity', user: 'alice' });
    const res = await executeHttpRequest({ destinationName: 'ONPREM_PP', jwt, useCache: false }, { method: 'get', url: '/echo' });
    const echo = res.data as EchoBody;
    const der = forge.util.decode64(String(echo.headers.ssl_client_cert));
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(der));
    expect(cert.subject.getField('CN').value).toBe('alice@example.com');
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 200, principal: 'alice@example.com' });
  });

  it('an IAS user token from a foreign key is refused with 401 at the proxy and never reaches the backend', async () => {
    const forged = await foreignIasToken(await emu.issueUserToken({ service: 'identity', user: 'alice' }));
    const stubCalls = emu.journal({ service: 'backend' }).length;
    const error = await executeHttpRequest(
      { destinationName: 'ONPREM_PP', jwt: forged, useCache: false },
      { method: 'get', url: '/echo' },
    ).then(
      () => undefined,
      (err: { response?: { status: number }; cause?: { response?: { status: number } } }) => err.response ?? err.cause?.response,
    );
    expect(error?.status).toBe(401);
    const entry = emu.journal({ service: 'connectivity-proxy' }).at(-1);
    expect(entry).toMatchObject({ status: 401, check: 'principal' });
    expect(String(entry?.reason)).toMatch(/IAS user token is not accepted: .*foreign-/);
    expect(emu.journal({ service: 'backend' }).length).toBe(stubCalls);
  });
});

describe('a connectivity binding with token-type ias: the proxy token from the identity service', () => {
  const connectivity = (): { instance_guid: string; credentials: Record<string, unknown> } =>
    (JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { instance_guid: string; credentials: Record<string, unknown> }[]>)
      .connectivity[0];
  const proxyResource = (): string => `urn:sap:identity:application:service:id:${connectivity().instance_guid}`;

  /** GET http://erp.internal:44300/echo through the HTTP proxy (20003) with these headers. */
  function viaProxy(headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: emu.ports.httpProxy, path: 'http://erp.internal:44300/echo', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('the binding shows token-type; an IAS token for the instance opens the proxy, the IAS user is the principal', async () => {
    expect(connectivity().credentials['token-type']).toEqual(['xsuaa', 'ias']);
    const { access_token } = await identityService(ias['app-ias']).fetchClientCredentialsToken({ resource: proxyResource() } as never);
    expect(decodeJwt(access_token).aud).toEqual([connectivity().credentials.clientid]);
    const user = await emu.issueUserToken({ service: 'identity', user: 'alice' });
    const res = await viaProxy({ 'proxy-authorization': `Bearer ${access_token}`, 'sap-connectivity-authentication': `Bearer ${user}` });
    expect(res.status).toBe(200);
    const echo = JSON.parse(res.body) as EchoBody;
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.decode64(String(echo.headers.ssl_client_cert))));
    expect(cert.subject.getField('CN').value).toBe('alice@example.com');
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({
      status: 200,
      tenant: 'provider',
      tokenJti: decodeJwt(access_token).jti,
    });
  });

  it('SOCKS5 takes the IAS proxy token as its 0x80 token (TCP echo through the Cloud Connector)', async () => {
    const { access_token } = await identityService(ias['app-ias']).fetchClientCredentialsToken({ resource: proxyResource() } as never);
    const socket = await sapSocksConnect(emu.ports.socks5, access_token, { host: 'tcp.internal', port: 7000 }, { timeout: 5000 });
    expect(await echoRoundTrip(socket, 'ping over ias')).toBe('ping over ias');
    const lone = (await identityService(ias['lone-ias']).fetchClientCredentialsToken()).access_token;
    await expect(sapSocksConnect(emu.ports.socks5, lone, { host: 'tcp.internal', port: 7000 }, { timeout: 5000 })).rejects.toThrow();
  });

  it('an IAS token without the resource is a 407; an application that does not consume the instance gets invalid_target', async () => {
    const { access_token } = await identityService(ias['app-ias']).fetchClientCredentialsToken();
    const res = await viaProxy({ 'proxy-authorization': `Bearer ${access_token}` });
    expect(res.status).toBe(407);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)?.reason).toMatch(
      /not for a connectivity instance: request it with resource=/,
    );
    const before = identityTokenCalls();
    await expect(identityService(ias['lone-ias']).fetchClientCredentialsToken({ resource: proxyResource() } as never)).rejects.toThrow(
      /400/,
    );
    const refused = emu.journal({ service: 'identity' }).at(-1);
    expect(refused).toMatchObject({ status: 400, path: '/oauth2/token' });
    expect(String(refused?.reason)).toMatch(/"lone" does not consume service instance "my-connectivity"/);
    expect(identityTokenCalls()).toBe(before + 1);
  });
});

describe('scenario checks of the IAS relations', () => {
  it('refuses consumedServices naming no destination/connectivity binding and tokenType off a connectivity binding, changing nothing', () => {
    const before = emu.env.VCAP_SERVICES;
    const base = emu.core.scenario;
    expect(() =>
      emu.core.loadScenario({ ...base, identity: { applications: [{ binding: 'app-ias', consumedServices: ['my-xsuaa'] }] } }),
    ).toThrow(/consumedServices.*"my-xsuaa" is not a destination or connectivity binding/s);
    expect(() =>
      emu.core.loadScenario({
        ...base,
        bindings: base.bindings.map((b) => (b.service === 'destination' ? { ...b, tokenType: ['ias'] } : b)),
      }),
    ).toThrow(/tokenType is a connectivity binding's/);
    expect(emu.env.VCAP_SERVICES).toBe(before);
  });
});
