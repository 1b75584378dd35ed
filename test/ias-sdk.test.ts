/**
 * The SAP Cloud SDK 4, unmodified, with two identity applications of the emulator (app-to-app): `orders` consumes
 * `stock`. `getDestinationFromServiceBinding` with `iasOptions` fetches the token from the identity service
 * (client credentials and JWT bearer, with `resource`), and `executeHttpRequest` with the result reaches a small
 * local target that checks the token as the `stock` application would, with @sap/xssec's IdentityService.
 */
import { createServer, type Server } from 'node:http';
import { getDestinationFromServiceBinding } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { IdentityService } from '@sap/xssec';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { resolveLocalhostSubdomains } from '../sdk-adapters/index.ts';

interface IdentityCredentials {
  clientid: string;
  certificate?: string;
  url: string;
}

let emu: EmulatorHandle;
let orders: IdentityCredentials;
let stock: IdentityCredentials;
let target: Server;
let targetUrl: string;
const subscriberZid = '3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a';

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'ias-sdk',
      tenants: [{ subdomain: 'provider' }, { subdomain: 'subscriber1', zid: subscriberZid }],
      bindings: [
        { name: 'orders-ias', service: 'identity' },
        { name: 'stock-ias', service: 'identity', credentialType: 'X509_GENERATED' },
      ],
      identity: {
        applications: [
          { binding: 'orders-ias', name: 'orders', consumes: ['stock'] },
          { binding: 'stock-ias', name: 'stock' },
        ],
      },
      users: [{ name: 'alice', email: 'alice@example.com' }],
    },
  });
  const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { name: string; credentials: IdentityCredentials }[]>;
  [orders, stock] = ['orders-ias', 'stock-ias'].map((n) => vcap.identity.find((b) => b.name === n)!.credentials);

  // The provider application's API: accepts a request only with a token xssec validates for `stock`.
  const stockService = new IdentityService({ ...stock } as never);
  target = createServer((req, res) => {
    const jwt = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!jwt) return res.writeHead(401).end('no token');
    stockService.createSecurityContext(jwt).then(
      (ctx) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ctx.token.payload)),
      (err: Error) => res.writeHead(401, { 'content-type': 'text/plain' }).end(`${err.name}: ${err.message}`),
    );
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await new Promise((resolve) => target?.close(resolve));
  await emu?.stop();
});

beforeEach(() => {
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

async function callStock(destination: Awaited<ReturnType<typeof getDestinationFromServiceBinding>>): Promise<Record<string, unknown>> {
  const res = await executeHttpRequest({ ...destination!, url: destination!.url! }, { method: 'get', url: '/api/stock' });
  expect(res.status).toBe(200);
  return res.data as Record<string, unknown>;
}

describe('getDestinationFromServiceBinding with iasOptions, app-to-app', () => {
  it('OAuth2ClientCredentials with resource { name }: the target validates the token as the stock application', async () => {
    const destination = await getDestinationFromServiceBinding({
      destinationName: 'orders-ias',
      useCache: false,
      iasOptions: { authenticationType: 'OAuth2ClientCredentials', resource: { name: 'stock' }, targetUrl, requestAs: 'provider-tenant' },
    });
    expect(destination).toMatchObject({ url: targetUrl, authentication: 'OAuth2ClientCredentials' });
    const claims = await callStock(destination);
    expect(claims).toMatchObject({ aud: [stock.clientid], azp: orders.clientid, sap_id_type: 'app', app_tid: emu.core.state.provider.zid });
    const call = emu
      .journal({ service: 'identity' })
      .filter((e) => e.path === '/oauth2/token')
      .at(-1);
    expect(call).toMatchObject({ status: 200, clientId: orders.clientid, grantType: 'client_credentials' });
  });

  it('OAuth2JWTBearer with resource { providerClientId }: the user reaches the stock application', async () => {
    const assertion = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: orders.clientid });
    const destination = await getDestinationFromServiceBinding({
      destinationName: 'orders-ias',
      useCache: false,
      iasOptions: { authenticationType: 'OAuth2JWTBearer', assertion, resource: { providerClientId: stock.clientid }, targetUrl },
    });
    expect(destination?.authentication).toBe('OAuth2JWTBearer');
    const claims = await callStock(destination);
    expect(claims).toMatchObject({ aud: [stock.clientid], azp: orders.clientid, email: 'alice@example.com', sap_id_type: 'user' });
    const call = emu
      .journal({ service: 'identity' })
      .filter((e) => e.path === '/oauth2/token')
      .at(-1);
    expect(call?.grantType).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
  });

  it("OAuth2JWTBearer for a subscriber user: the token is the subscriber tenant's, validated via its own host (DNS helper)", async () => {
    const undo = resolveLocalhostSubdomains();
    try {
      const assertion = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: orders.clientid, tenant: 'subscriber1' });
      const destination = await getDestinationFromServiceBinding({
        destinationName: 'orders-ias',
        useCache: false,
        iasOptions: { authenticationType: 'OAuth2JWTBearer', assertion, resource: { name: 'stock' }, targetUrl },
      });
      const claims = await callStock(destination);
      expect(claims).toMatchObject({
        app_tid: subscriberZid,
        ias_iss: `https://subscriber1.localhost:${emu.ports.identity}`,
        aud: [stock.clientid],
      });
      expect(
        emu
          .journal({ service: 'identity' })
          .filter((e) => e.path === '/oauth2/token')
          .at(-1)?.tenant,
      ).toBe('subscriber1');
    } finally {
      undo();
    }
  });

  it('an X509_GENERATED binding: the SDK authenticates with the certificate, the token is bound to it, the destination carries the key pair', async () => {
    const destination = await getDestinationFromServiceBinding({
      destinationName: 'stock-ias',
      useCache: false,
      iasOptions: { authenticationType: 'OAuth2ClientCredentials', requestAs: 'provider-tenant' },
    });
    expect(destination?.url).toBe(stock.url);
    expect(destination?.mtlsKeyPair?.cert).toBe(stock.certificate);
    const token = destination!.authTokens![0].value;
    expect(decodeJwt(token)).toMatchObject({ azp: stock.clientid, cnf: { 'x5t#S256': expect.any(String) } });
  });

  it("a resource the consumer does not consume fails with the identity service's invalid_target, and no token is issued", async () => {
    // Tokens issued, not discovery documents: xssec fetches /.well-known/openid-configuration once per process,
    // so whether this test is the first to ask depends on the (shuffled) order.
    const issued = () => emu.journal({ service: 'identity' }).filter((e) => e.status === 200 && e.path === '/oauth2/token').length;
    const before = issued();
    await expect(
      getDestinationFromServiceBinding({
        destinationName: 'stock-ias',
        useCache: false,
        iasOptions: { authenticationType: 'OAuth2ClientCredentials', resource: { name: 'orders' }, requestAs: 'provider-tenant' },
      }),
    ).rejects.toThrow(/IAS/);
    const calls = emu.journal({ service: 'identity' });
    expect(calls.at(-1)).toMatchObject({ status: 400, path: '/oauth2/token' });
    expect(String(calls.at(-1)?.reason)).toContain('does not consume "orders"');
    expect(issued()).toBe(before);
  });
});
