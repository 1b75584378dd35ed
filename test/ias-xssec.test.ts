/**
 * @sap/xssec 4's IdentityService, unmodified, against the emulator's identity service over real sockets: it reads
 * discovery and the JWKS from the binding's `url` (trusting the emulator CA through NODE_EXTRA_CA_CERTS), checks
 * signature, expiry, audience and the issuer against `domains`, and binds tokens to a client certificate (x5t).
 * Tokens are fetched through IdentityService itself: client credentials (secret and mTLS), password, JWT bearer.
 */
import { IdentityService, errors as xssecErrors } from '@sap/xssec';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { resolveLocalhostSubdomains } from '../sdk-adapters/index.ts';

interface IdentityCredentials {
  clientid: string;
  clientsecret?: string;
  certificate?: string;
  key?: string;
  url: string;
  domains: string[];
  app_tid: string;
}

let emu: EmulatorHandle;
let orders: IdentityCredentials;
let stock: IdentityCredentials;
let billing: IdentityCredentials;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'ias-xssec',
      tenants: [{ subdomain: 'provider' }, { subdomain: 'subscriber1' }],
      bindings: [
        { name: 'orders-ias', service: 'identity' },
        { name: 'stock-ias', service: 'identity', credentialType: 'X509_GENERATED' },
        { name: 'billing-ias', service: 'identity', credentialType: 'X509_GENERATED' },
      ],
      identity: {
        applications: [
          { binding: 'orders-ias', name: 'orders', consumes: ['stock'] },
          { binding: 'stock-ias', name: 'stock' },
        ],
      },
      users: [{ name: 'alice', password: 'alice-pw', email: 'alice@example.com', roleCollections: ['Viewer'] }],
    },
  });
  const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { name: string; credentials: IdentityCredentials }[]>;
  const byName = (n: string): IdentityCredentials => vcap.identity.find((b) => b.name === n)!.credentials;
  [orders, stock, billing] = [byName('orders-ias'), byName('stock-ias'), byName('billing-ias')];
});
afterAll(() => emu?.stop());

/** A fresh IdentityService per test: no JWKS or token cache shared between tests. */
const serviceFor = (creds: IdentityCredentials, config: Record<string, unknown> = {}): IdentityService =>
  new IdentityService({ ...creds } as never, { tokenfetch: { cache: { enabled: false } }, ...config } as never);

describe('IdentityService.createSecurityContext', () => {
  it('accepts an emulator IAS user token and exposes its user and tenant', async () => {
    const jwt = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: orders.clientid });
    const ctx = await serviceFor(orders).createSecurityContext(jwt);
    const user = emu.core.state.users.get('alice')!;
    expect(ctx.token.payload.email).toBe('alice@example.com');
    expect(ctx.token.scimId).toBe(user.userId);
    expect(ctx.token.appTid).toBe(emu.core.state.provider.zid);
    expect(ctx.token.idType).toBe('user');
    // xssec fetched discovery and the JWKS from the identity port, with its client id.
    const certs = emu.journal({ service: 'identity' }).filter((e) => e.path === '/oauth2/certs');
    expect(certs.at(-1)?.status).toBe(200);
  });

  it('rejects a tampered token (signature)', async () => {
    const jwt = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: orders.clientid });
    const [h, p, sig] = jwt.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, email: 'mallory@example.com' })).toString('base64url')}.${sig}`;
    await expect(serviceFor(orders).createSecurityContext(tampered)).rejects.toThrow(/signature/i);
  });

  it('rejects a token for another application (wrong audience)', async () => {
    const jwt = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: stock.clientid });
    await expect(serviceFor(orders).createSecurityContext(jwt)).rejects.toBeInstanceOf(xssecErrors.WrongAudienceError);
  });

  it('rejects a token from a foreign issuer, and one with the right issuer but a foreign key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const claims = { aud: [orders.clientid], azp: orders.clientid, sub: 'x', app_tid: orders.app_tid, iat: now, exp: now + 600 };
    const sign = (iss: string, kid: string) => new SignJWT({ ...claims, iss }).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    const foreign = await sign('https://evil.accounts.ondemand.com', 'evil');
    await expect(serviceFor(orders).createSecurityContext(foreign)).rejects.toBeInstanceOf(xssecErrors.UntrustedIssuerError);
    const ownKid = emu.core.identity.minter.keys.active.kid;
    const forged = await sign(orders.url, ownKid);
    await expect(serviceFor(orders).createSecurityContext(forged)).rejects.toThrow(/signature/i);
  });

  it("validates a subscriber tenant's token: issuer one label below domains, JWKS from that tenant's host (DNS helper)", async () => {
    const undo = resolveLocalhostSubdomains();
    try {
      const jwt = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: orders.clientid, tenant: 'subscriber1' });
      expect(decodeJwt(jwt).ias_iss).toBe(`https://subscriber1.localhost:${emu.ports.identity}`);
      const ctx = await serviceFor(orders).createSecurityContext(jwt);
      expect(ctx.token.appTid).toBe(emu.core.state.tenants[1].zid);
    } finally {
      undo();
    }
  });
});

describe('x5t: tokens bound to the client certificate', () => {
  it('passes with the certificate the token was fetched with, fails with another', async () => {
    const { access_token } = await serviceFor(stock).fetchClientCredentialsToken();
    expect(decodeJwt(access_token).cnf).toBeDefined();
    const checking = serviceFor(stock, { validation: { x5t: { enabled: true } } });
    const ctx = await checking.createSecurityContext(access_token, { clientCertificatePem: stock.certificate });
    expect(ctx.token.azp).toBe(stock.clientid);
    await expect(checking.createSecurityContext(access_token, { clientCertificatePem: billing.certificate })).rejects.toBeInstanceOf(
      xssecErrors.X5tError,
    );
    // A token fetched with a secret carries no cnf, so it cannot pass the check.
    const secretToken = (await serviceFor(orders).fetchClientCredentialsToken()).access_token;
    const ordersChecking = serviceFor(orders, { validation: { x5t: { enabled: true } } });
    await expect(ordersChecking.createSecurityContext(secretToken, { clientCertificatePem: stock.certificate })).rejects.toBeInstanceOf(
      xssecErrors.X5tError,
    );
  });
});

describe('token fetches through IdentityService', () => {
  it('fetchClientCredentialsToken with a secret and over mTLS, app_tid and resource as xssec sends them', async () => {
    const bySecret = await serviceFor(orders).fetchClientCredentialsToken({ resource: 'urn:sap:identity:application:provider:name:stock' });
    expect(decodeJwt(bySecret.access_token)).toMatchObject({ aud: [stock.clientid], azp: orders.clientid, app_tid: orders.app_tid });
    const byCertificate = await serviceFor(billing).fetchClientCredentialsToken();
    expect(decodeJwt(byCertificate.access_token)).toMatchObject({ aud: [billing.clientid], sap_id_type: 'app' });
    const call = emu
      .journal({ service: 'identity' })
      .filter((e) => e.path === '/oauth2/token')
      .at(-1);
    expect(call).toMatchObject({ status: 200, clientId: billing.clientid, grantType: 'client_credentials' });
  });

  it('fetchPasswordToken and fetchJwtBearerToken (app-to-app); the result validates at the provider application', async () => {
    const login = await serviceFor(orders).fetchPasswordToken('alice', 'alice-pw');
    expect(login.id_token).toBeDefined();
    const ctx = await serviceFor(orders).createSecurityContext(login.access_token);
    expect(ctx.token.payload.email).toBe('alice@example.com');
    const forStock = await serviceFor(orders).fetchJwtBearerToken(login.access_token, {
      resource: 'urn:sap:identity:application:provider:name:stock',
      refresh_expiry: 0,
    });
    expect(forStock.refresh_token).toBeUndefined();
    const atStock = await serviceFor(stock).createSecurityContext(forStock.access_token);
    expect(atStock.token.payload).toMatchObject({ azp: orders.clientid, email: 'alice@example.com' });
  });

  it('a wrong secret fails the fetch with the 401 the emulator answers', async () => {
    const wrong = serviceFor({ ...orders, clientsecret: 'wrong' });
    await expect(wrong.fetchClientCredentialsToken()).rejects.toThrow(/401/);
  });
});
