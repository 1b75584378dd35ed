/**
 * x509 bindings and mTLS to token services, over real sockets: bindings with `credential-type: x509`
 * (certificate and key issued by the emulator CA, `certurl`), @sap/xssec and the SAP Cloud SDK fetching
 * tokens with the client certificate only, XSUAA refusing certificates of other clients and forged headers,
 * and destinations whose `tokenService.KeyStoreLocation` keystore the Destination Service presents.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest, createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { XsuaaService } from '@sap/xssec';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { EmulatorCore } from '../emulator/app/emulator-core.ts';
import { CLIENT_CERT_SUBJECT_HEADER } from '../emulator/core/client-certificate.ts';
import { binding, postForm } from './helpers.ts';

const subscriberZid = '5d1c2e0a-3b4f-4a6e-9c8d-7e6f5a4b3c21';
let emu: EmulatorHandle;
let caPem: string;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'x509',
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            { Name: 'NOAUTH', Type: 'HTTP', URL: 'http://localhost:1/noauth', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
          ],
        },
        { subdomain: 'subscriber1', zid: subscriberZid },
      ],
      bindings: [
        { name: 'my-xsuaa', service: 'xsuaa', credentialType: 'x509' },
        { name: 'my-destination', service: 'destination', credentialType: 'x509' },
      ],
      clients: [{ clientid: 'orders-client', clientsecret: 'orders-secret', xsappname: 'orders!t1', authorities: ['orders!t1.Read'] }],
    },
  });
  caPem = readFileSync(emu.caFile, 'utf8');
});
afterAll(() => emu.stop());

/** POST /oauth/token over TLS with an optional client certificate; returns status and JSON body. */
function tlsTokenRequest(
  form: Record<string, string>,
  cert?: { certificate: string; key: string },
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${emu.urls.servicesTls}/oauth/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        ca: caPem,
        agent: false,
        ...(cert ? { cert: cert.certificate, key: cert.key } : {}),
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('x509 bindings', () => {
  it('carry certificate, key and certurl instead of a client secret; the certificate is issued by the emulator CA to the client id', async () => {
    const creds = binding(emu, 'destination');
    expect(creds['credential-type']).toBe('x509');
    expect(creds.clientsecret).toBeUndefined();
    expect(creds.certurl).toBe(`https://${emu.urls.uaaDomain}`);
    expect(creds.key).toMatch(/-----BEGIN PRIVATE KEY-----/);
    const { X509Certificate } = await import('node:crypto');
    const leaf = new X509Certificate(creds.certificate);
    expect(leaf.subject).toContain(`CN=${creds.clientid}`);
    expect(leaf.verify(new X509Certificate(caPem).publicKey)).toBe(true);
    // The secret binding next to it stays as it was.
    expect(binding(emu, 'connectivity')['credential-type']).toBe('binding-secret');
    // Stable: the env shows the same certificate every time.
    expect(binding(emu, 'destination').certificate).toBe(creds.certificate);
  });

  it('@sap/xssec fetches client-credentials tokens with the certificate only, for the provider (certurl) and for a subscriber (x-zid on uaadomain)', async () => {
    const creds = binding(emu, 'xsuaa');
    const xsuaa = new XsuaaService(creds as never);
    const afterId = emu.journal().at(-1)?.id ?? 0; // only this test's token requests
    const provider = await xsuaa.fetchClientCredentialsToken();
    const claims = decodeJwt(provider.access_token);
    expect(claims.client_id).toBe(creds.clientid);
    expect(claims.zid).toBe(emu.core.state.provider.zid);

    const subscriber = await xsuaa.fetchClientCredentialsToken({ zid: subscriberZid });
    expect(decodeJwt(subscriber.access_token).zid).toBe(subscriberZid);
    const tokenCalls = emu.journal({ service: 'xsuaa', afterId }).filter((e) => e.path === '/oauth/token');
    expect(tokenCalls.map((e) => e.status)).toEqual([200, 200]);
    expect(tokenCalls[1].tenant).toBe('subscriber1');
  });

  it('the SAP Cloud SDK finds a destination with an x509 destination binding', async () => {
    process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
    try {
      const destination = await getDestination({ destinationName: 'NOAUTH', useCache: false });
      expect(destination?.url).toBe('http://localhost:1/noauth');
      const tokenCall = emu.journal({ service: 'xsuaa' }).find((e) => e.path === '/oauth/token');
      expect(tokenCall?.status).toBe(200);

      // With a subscriber user token the SDK also fetches the subscriber's service token (mTLS on uaadomain, x-zid).
      emu.reset();
      const jwt = await emu.issueUserToken({ user: 'alice', tenant: 'subscriber1' });
      const viaSubscriber = await getDestination({ destinationName: 'NOAUTH', jwt, useCache: false });
      expect(viaSubscriber?.url).toBe('http://localhost:1/noauth');
      const tenants = emu
        .journal({ service: 'xsuaa' })
        .filter((e) => e.path === '/oauth/token' && e.status === 200)
        .map((e) => e.tenant);
      expect(tenants).toEqual(expect.arrayContaining(['provider', 'subscriber1']));
    } finally {
      delete process.env.VCAP_SERVICES;
    }
  });

  it('refuses a certificate issued to another client, a missing certificate, and a forged certificate header', async () => {
    const xsuaaCreds = binding(emu, 'xsuaa');
    const destinationCreds = binding(emu, 'destination');
    const cert = { certificate: xsuaaCreds.certificate, key: xsuaaCreds.key };

    const ok = await tlsTokenRequest({ grant_type: 'client_credentials', client_id: xsuaaCreds.clientid }, cert);
    expect(ok.status).toBe(200);

    const other = await tlsTokenRequest({ grant_type: 'client_credentials', client_id: destinationCreds.clientid }, cert);
    expect(other.status).toBe(401);
    expect(other.body).toMatchObject({ error: 'invalid_client' });
    expect(String(other.body.error_description)).toMatch(/was not issued to client/);

    const none = await tlsTokenRequest({ grant_type: 'client_credentials', client_id: xsuaaCreds.clientid });
    expect(none.status).toBe(401);
    expect(String(none.body.error_description)).toMatch(/no client_secret and no TLS client certificate/);

    const forgedHeader = { [CLIENT_CERT_SUBJECT_HEADER]: encodeURIComponent(`CN=${xsuaaCreds.clientid}`) };
    const forgedTls = await tlsTokenRequest({ grant_type: 'client_credentials', client_id: xsuaaCreds.clientid }, undefined, forgedHeader);
    expect(forgedTls.status).toBe(401);
    const forgedHttp = await postForm(
      `${emu.urls.services}/oauth/token`,
      { grant_type: 'client_credentials', client_id: xsuaaCreds.clientid },
      forgedHeader,
    );
    expect(forgedHttp.status).toBe(401);
  });

  it('a core without a verifying face (MSW, direct core.fetch) ignores the certificate header', async () => {
    const core = await EmulatorCore.create({ scenario: { tenants: [{ subdomain: 'provider' }] } });
    const clientid = core.state.bindings.find((b) => b.service === 'xsuaa')!.clientid;
    const res = await core.fetch(
      new Request('http://localhost:20000/oauth/token', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          [CLIENT_CERT_SUBJECT_HEADER]: encodeURIComponent(`CN=${clientid}`),
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientid }),
      }),
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(
      /no client_secret and no TLS client certificate/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// tokenService.KeyStoreLocation: mTLS from the Destination Service to a token service
// ---------------------------------------------------------------------------------------------------------

interface TokenServer {
  url: string;
  /** CN of the client certificate and the form of each request. */
  calls: { cn: string; form: URLSearchParams }[];
  close(): Promise<void>;
}

/** An external OAuth token endpoint that requires a client certificate issued by the emulator CA. */
async function startMtlsTokenServer(): Promise<TokenServer> {
  const { ensureTlsMaterial } = await import('../emulator/server/tls-material.ts');
  const tls = ensureTlsMaterial();
  const calls: TokenServer['calls'] = [];
  const server: Server = createServer(
    { key: tls.keyPem, cert: tls.certPem, requestCert: true, rejectUnauthorized: true, ca: [tls.caPem] },
    (req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const cn = String((req.socket as TLSSocket).getPeerCertificate().subject.CN);
        calls.push({ cn, form: new URLSearchParams(text) });
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ access_token: `token-for-${cn}`, token_type: 'bearer', expires_in: 600 }));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://localhost:${(server.address() as { port: number }).port}/oauth/token`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('tokenService.KeyStoreLocation', () => {
  let token: string;
  let tokenServer: TokenServer;

  beforeAll(async () => {
    tokenServer = await startMtlsTokenServer();
  });
  afterAll(() => tokenServer?.close());
  beforeEach(async () => {
    emu.reset();
    // The destination binding is x509 here: its own token comes from the TLS side with the binding certificate.
    const creds = binding(emu, 'destination');
    const res = await tlsTokenRequest(
      { grant_type: 'client_credentials', client_id: creds.clientid },
      { certificate: creds.certificate, key: creds.key },
    );
    token = String(res.body.access_token);
  });

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${emu.urls.services}/destination-configuration${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  const mtlsDestination = (
    name: string,
    tokenServiceURL: string,
    keystore: string,
    extra: Record<string, string> = {},
  ): Record<string, string> => ({
    Name: name,
    Type: 'HTTP',
    URL: 'https://backend.example.com',
    ProxyType: 'Internet',
    Authentication: 'OAuth2ClientCredentials',
    tokenServiceURL,
    clientId: 'orders-client',
    'tokenService.KeyStoreLocation': keystore,
    ...extra,
  });
  const generate = (name: string, cn: string, password?: string): Record<string, unknown> => ({
    Name: name,
    Attributes: { CN: cn, Validity: { TimeUnit: 'DAYS', Value: 7 }, ...(password ? { Password: password } : {}) },
  });

  it('the emulator XSUAA (on its TLS side) issues the token to the client the keystore certificate names', async () => {
    expect((await call('POST', '/v1/subaccountCertificates', generate('orders.p12', 'orders-client', 'ks-pass'))).status).toBe(201);
    const tokenServiceURL = `https://${emu.urls.uaaDomain}/oauth/token`;
    expect(
      (
        await call(
          'POST',
          '/v1/subaccountDestinations',
          mtlsDestination('ORDERS_MTLS', tokenServiceURL, 'orders.p12', { 'tokenService.KeyStorePassword': 'ks-pass' }),
        )
      ).status,
    ).toBe(201);
    const found = await call('GET', '/v1/destinations/ORDERS_MTLS');
    expect(found.status).toBe(200);
    const [authToken] = found.body.authTokens as { type: string; value: string; error?: string }[];
    expect(authToken.error).toBeUndefined();
    expect(authToken.type).toBe('Bearer');
    expect(decodeJwt(authToken.value).client_id).toBe('orders-client');
    expect(found.body.certificates).toBeUndefined();

    const skipped = await call('GET', '/v1/destinations/ORDERS_MTLS?$skipTokenRetrieval=true');
    expect(skipped.body.authTokens).toBeUndefined();
    expect((skipped.body.certificates as { Name: string }[]).map((c) => c.Name)).toEqual(['orders.p12']);
  });

  it('an external token service that requires mTLS receives the keystore (PEM and JKS) and only client_id', async () => {
    await call('POST', '/v1/subaccountCertificates', [
      generate('ext.pem', 'ext-pem-client'),
      generate('ext.jks', 'ext-jks-client', 'jks-pass'),
    ]);
    await call('POST', '/v1/subaccountDestinations', [
      mtlsDestination('EXT_PEM', tokenServer.url, 'ext.pem', { clientSecret: 'not-sent-with-mtls' }),
      mtlsDestination('EXT_JKS', tokenServer.url, 'ext.jks', { 'tokenService.KeyStorePassword': 'jks-pass' }),
    ]);
    const pem = await call('GET', '/v1/destinations/EXT_PEM');
    expect((pem.body.authTokens as { value: string }[])[0].value).toBe('token-for-ext-pem-client');
    const jks = await call('GET', '/v1/destinations/EXT_JKS');
    expect((jks.body.authTokens as { value: string }[])[0].value).toBe('token-for-ext-jks-client');
    expect(tokenServer.calls.slice(-2).map((c) => [c.cn, c.form.get('client_id'), c.form.get('client_secret')])).toEqual([
      ['ext-pem-client', 'orders-client', null],
      ['ext-jks-client', 'orders-client', null],
    ]);
  });

  it('failures become authTokens errors: a certificate of another client, a missing keystore, a wrong keystore password', async () => {
    await call('POST', '/v1/subaccountCertificates', [generate('stranger.p12', 'someone-else'), generate('locked.jks', 'locked', 'right')]);
    const tokenServiceURL = `https://${emu.urls.uaaDomain}/oauth/token`;
    await call('POST', '/v1/subaccountDestinations', [
      mtlsDestination('WRONG_CLIENT', tokenServiceURL, 'stranger.p12'),
      mtlsDestination('NO_KEYSTORE', tokenServiceURL, 'missing.p12'),
      mtlsDestination('WRONG_PASSWORD', tokenServer.url, 'locked.jks', { 'tokenService.KeyStorePassword': 'wrong' }),
    ]);
    const errorOf = async (name: string): Promise<string> => {
      const found = await call('GET', `/v1/destinations/${name}`);
      expect(found.status).toBe(200);
      const [authToken] = found.body.authTokens as { value: string; error?: string }[];
      expect(authToken.value).toBe('');
      return String(authToken.error);
    };
    expect(await errorOf('WRONG_CLIENT')).toMatch(/401.*was not issued to client/s);
    expect(await errorOf('NO_KEYSTORE')).toMatch(/tokenService\.KeyStoreLocation "missing\.p12"/);
    expect(await errorOf('WRONG_PASSWORD')).toMatch(/password/i);
  });
});
