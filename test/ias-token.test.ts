/**
 * The identity service (IAS) over real sockets, with node:https and fetch: its binding (secret and X509_GENERATED),
 * discovery on its own TLS port (XSUAA's stays on the services port), every grant, app-to-app `resource`, the
 * subscriber tenant (by app_tid and by Host with the `*.localhost` helper), mTLS and `cnf`, the OAuth errors with no
 * state change, and the control API and handle (user tokens, applications, key rotation, snapshots, bindings).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { CLIENT_CERT_X5T_HEADER } from '../emulator/core/client-certificate.ts';
import { resolveLocalhostSubdomains } from '../sdk-adapters/index.ts';
import { defaultEnvContent } from '../sdk-adapters/default-env-file.ts';
import { serviceBindingFiles } from '../sdk-adapters/service-binding-root.ts';

const subscriberZid = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const iasScenario = {
  name: 'ias',
  tenants: [{ subdomain: 'provider' }, { subdomain: 'subscriber1', zid: subscriberZid }],
  bindings: [
    { name: 'orders-ias', service: 'identity' as const },
    { name: 'stock-ias', service: 'identity' as const, credentialType: 'X509_GENERATED' as const },
    { name: 'lonely-ias', service: 'identity' as const },
  ],
  identity: {
    applications: [
      { binding: 'orders-ias', name: 'orders', consumes: ['stock'] },
      { binding: 'stock-ias', name: 'stock' },
    ],
  },
  users: [{ name: 'alice', password: 'alice-pw', email: 'alice@example.com', roleCollections: ['Viewer'] }],
};

let emu: EmulatorHandle;
let caPem: string;
type Creds = {
  clientid: string;
  clientsecret?: string;
  certificate?: string;
  key?: string;
  url: string;
  domains: string[];
  app_tid: string;
};
let orders: Creds;
let stock: Creds;
let lonely: Creds;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: iasScenario });
  caPem = readFileSync(emu.caFile, 'utf8');
  const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { name: string; credentials: Creds }[]>;
  const byName = (n: string): Creds => vcap.identity.find((b) => b.name === n)!.credentials;
  [orders, stock, lonely] = [byName('orders-ias'), byName('stock-ias'), byName('lonely-ias')];
});
afterAll(() => emu?.stop());
beforeEach(() => emu.reset());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** An https request to the identity port (or `url`), optionally with a client certificate. */
function tls(
  path: string,
  opts: {
    form?: Record<string, string | string[]>;
    cert?: { certificate: string; key: string };
    headers?: Record<string, string>;
    url?: string;
  } = {},
): Promise<Answer> {
  const body = opts.form
    ? new URLSearchParams(Object.entries(opts.form).flatMap(([k, v]) => [v].flat().map((x) => [k, x]))).toString()
    : undefined;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${opts.url ?? emu.urls.identity}${path}`,
      {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), ...opts.headers },
        ca: caPem,
        agent: false,
        ...(opts.cert ? { cert: opts.cert.certificate, key: opts.cert.key } : {}),
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const secretOf = (c: Creds) => ({ client_id: c.clientid, client_secret: c.clientsecret! });
const certOf = (c: Creds) => ({ certificate: c.certificate!, key: c.key! });
const x5tOf = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

describe('the identity binding', () => {
  it('has url on the identity port (127.0.0.1: the SDK needs a dot), domains, app_tid, and a secret or an X509_GENERATED certificate of the emulator CA', () => {
    expect(emu.urls.identity).toBe(`https://127.0.0.1:${emu.ports.identity}`);
    expect(orders).toMatchObject({ url: emu.urls.identity, app_tid: emu.core.state.provider.zid, clientsecret: 'orders-ias-secret' });
    expect(orders.domains).toEqual([`127.0.0.1:${emu.ports.identity}`, `localhost:${emu.ports.identity}`]);
    expect(orders.clientid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(stock.clientsecret).toBeUndefined();
    expect((stock as Record<string, unknown>)['credential-type']).toBe('X509_GENERATED');
    const leaf = new X509Certificate(stock.certificate!);
    expect(leaf.subject).toContain(`CN=${stock.clientid}`);
    expect(leaf.verify(new X509Certificate(caPem).publicKey)).toBe(true);
  });

  it('is in default-env.json and the Kubernetes binding layout like the others', () => {
    const env = defaultEnvContent(emu);
    expect((env.VCAP_SERVICES as Record<string, { name: string }[]>).identity.map((b) => b.name)).toEqual([
      'orders-ias',
      'stock-ias',
      'lonely-ias',
    ]);
    const dirs = serviceBindingFiles({ vcapServices: JSON.parse(emu.env.VCAP_SERVICES) as never });
    const dir = dirs.find((d) => d.binding.name === 'orders-ias')!;
    expect(dir.files).toMatchObject({ type: 'identity', clientid: orders.clientid, url: orders.url, app_tid: orders.app_tid });
    expect(JSON.parse(dir.files.domains)).toEqual(orders.domains);
  });
});

describe('discovery and JWKS', () => {
  it("the identity port answers IAS discovery; the services port still answers XSUAA's", async () => {
    const ias = await tls('/.well-known/openid-configuration');
    expect(ias.status).toBe(200);
    expect(ias.body).toMatchObject({
      issuer: emu.urls.identity,
      token_endpoint: `${emu.urls.identity}/oauth2/token`,
      jwks_uri: `${emu.urls.identity}/oauth2/certs`,
    });
    expect(ias.body.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer']),
    );
    const xsuaa = (await (await fetch(`${emu.urls.services}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
    expect(xsuaa.token_endpoint).toBe(`${emu.urls.services}/oauth/token`);
    expect(emu.journal().map((e) => e.service)).toEqual(['identity', 'xsuaa']);
    const viaControl = (await (await fetch(`${emu.urls.control}/journal?service=identity`)).json()) as { entries: { path: string }[] };
    expect(viaControl.entries.map((e) => e.path)).toEqual(['/.well-known/openid-configuration']);
  });

  it('the IAS paths are not served on the services port, and the identity port speaks TLS only', async () => {
    const res = await fetch(`${emu.urls.services}/oauth2/token`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain(emu.urls.identity);
    await expect(fetch(`http://127.0.0.1:${emu.ports.identity}/oauth2/certs`)).rejects.toThrow();
  });

  it("publishes its own kid, not XSUAA's; refuses an unknown x-client_id (xssec's online validation)", async () => {
    const jwks = await tls('/oauth2/certs');
    const kids = (jwks.body.keys as { kid: string }[]).map((k) => k.kid);
    expect(kids).toEqual(emu.core.identity.minter.keys.list().map((k) => k.kid));
    expect(kids).toContain(emu.core.identity.minter.keys.active.kid);
    expect(kids).not.toContain(emu.core.keys.active.kid);
    expect((await tls('/oauth2/certs', { headers: { 'x-client_id': orders.clientid } })).status).toBe(200);
    const foreign = await tls('/oauth2/certs', { headers: { 'x-client_id': 'someone-else' } });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('invalid_client');
  });
});

describe('grants', () => {
  it('client_credentials with a secret: an app token with the claims xssec and the SDK read, no cnf', async () => {
    const res = await tls('/oauth2/token', { form: { grant_type: 'client_credentials', ...secretOf(orders) } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const claims = decodeJwt(res.body.access_token as string);
    expect(claims).toMatchObject({
      iss: emu.urls.identity,
      ias_iss: emu.urls.identity,
      aud: [orders.clientid],
      azp: orders.clientid,
      sub: orders.clientid,
      app_tid: emu.core.state.provider.zid,
      sap_id_type: 'app',
    });
    expect(claims.cnf).toBeUndefined();
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(decodeProtectedHeader(res.body.access_token as string).kid).toBe(emu.core.identity.minter.keys.active.kid);
    expect(emu.journal().at(-1)).toMatchObject({ service: 'identity', status: 200, clientId: orders.clientid, tenant: 'provider' });
  });

  it('client_credentials over mTLS with the binding\'s certificate: cnf["x5t#S256"] is the certificate\'s thumbprint; a forged header is ignored', async () => {
    const res = await tls('/oauth2/token', {
      form: { grant_type: 'client_credentials', client_id: stock.clientid },
      cert: certOf(stock),
      headers: { [CLIENT_CERT_X5T_HEADER]: 'A'.repeat(43) },
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string).cnf).toEqual({ 'x5t#S256': x5tOf(stock.certificate!) });
    // Another application's certificate does not authenticate this one.
    const wrong = await tls('/oauth2/token', {
      form: { grant_type: 'client_credentials', client_id: orders.clientid },
      cert: certOf(stock),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    // Without a certificate, the forged thumbprint header gets no one anywhere.
    const forged = await tls('/oauth2/token', {
      form: { grant_type: 'client_credentials', client_id: stock.clientid },
      headers: { 'x-btp-emulator-client-cert-subject': encodeURIComponent(`CN=${stock.clientid}`) },
    });
    expect(forged.status).toBe(401);
  });

  it('password: a user token (scim_id, user_uuid, email, groups) with an id_token and a refresh token that refreshes', async () => {
    const res = await tls('/oauth2/token', {
      form: { grant_type: 'password', username: 'alice', password: 'alice-pw', ...secretOf(orders) },
    });
    expect(res.status).toBe(200);
    const user = emu.core.state.users.get('alice')!;
    expect(decodeJwt(res.body.access_token as string)).toMatchObject({
      sub: user.userId,
      scim_id: user.userId,
      user_uuid: user.userId,
      email: 'alice@example.com',
      given_name: 'Alice',
      groups: ['Viewer'],
      sap_id_type: 'user',
      aud: [orders.clientid],
    });
    expect(decodeJwt(res.body.id_token as string)).toMatchObject({ aud: [orders.clientid], email: 'alice@example.com' });
    const refreshed = await tls('/oauth2/token', {
      form: { grant_type: 'refresh_token', refresh_token: res.body.refresh_token as string, ...secretOf(orders) },
    });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token as string).scim_id).toBe(user.userId);
    // The same login by e-mail; a wrong password is invalid_grant.
    expect(
      (
        await tls('/oauth2/token', {
          form: { grant_type: 'password', username: 'alice@example.com', password: 'alice-pw', ...secretOf(orders) },
        })
      ).status,
    ).toBe(200);
    const bad = await tls('/oauth2/token', { form: { grant_type: 'password', username: 'alice', password: 'nope', ...secretOf(orders) } });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('authorization_code (with PKCE) through /oauth2/authorize; the code is good once', async () => {
    const verifier = 'v'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirect = 'http://localhost:5000/callback';
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: orders.clientid,
      redirect_uri: redirect,
      user: 'alice',
      state: 's1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const authorize = await tls(`/oauth2/authorize?${query}`);
    expect(authorize.status).toBe(302);
    const location = new URL(authorize.headers.location as string);
    expect(location.searchParams.get('state')).toBe('s1');
    const code = location.searchParams.get('code')!;
    const form = { grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, ...secretOf(orders) };
    expect((await tls('/oauth2/token', { form: { ...form, code_verifier: 'x'.repeat(50) } })).body.error).toBe('invalid_grant');
    const res = await tls('/oauth2/token', { form });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string).email).toBe('alice@example.com');
    expect((await tls('/oauth2/token', { form })).body.error).toBe('invalid_grant');
  });

  it('jwt-bearer and token exchange: a user token of the caller for another app (resource), app-to-app', async () => {
    const assertion = await emu.issueUserToken({ service: 'identity', user: 'alice', clientid: orders.clientid });
    const res = await tls('/oauth2/token', {
      form: {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion,
        resource: 'urn:sap:identity:application:provider:name:stock',
        refresh_expiry: '0',
        ...secretOf(orders),
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(decodeJwt(res.body.access_token as string)).toMatchObject({
      aud: [stock.clientid],
      azp: orders.clientid,
      email: 'alice@example.com',
    });
    const exchanged = await tls('/oauth2/token', {
      form: {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: assertion,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource: `urn:sap:identity:application:provider:clientid:${stock.clientid}:apptid:${emu.core.state.provider.zid}`,
        ...secretOf(orders),
      },
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(decodeJwt(exchanged.body.access_token as string).aud).toEqual([stock.clientid]);
    // An assertion issued to another client is not the caller's to exchange.
    const stolen = await tls('/oauth2/token', {
      form: { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, ...secretOf(lonely) },
    });
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // An XSUAA token is not an IAS assertion.
    const xsuaaToken = await emu.issueUserToken({ user: 'alice' });
    const foreign = await tls('/oauth2/token', {
      form: { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: xsuaaToken, ...secretOf(orders) },
    });
    expect(foreign.body.error).toBe('invalid_grant');
    expect(String(foreign.body.error_description)).toContain('identity service does not know');
  });

  it('a subscriber tenant: by app_tid on the provider host, and by its own host <subdomain>.localhost (with the DNS helper)', async () => {
    const byAppTid = await tls('/oauth2/token', {
      form: { grant_type: 'client_credentials', app_tid: subscriberZid, ...secretOf(orders) },
    });
    const issuer = `https://subscriber1.localhost:${emu.ports.identity}`;
    expect(decodeJwt(byAppTid.body.access_token as string)).toMatchObject({ app_tid: subscriberZid, iss: issuer, ias_iss: issuer });
    const undo = resolveLocalhostSubdomains();
    try {
      const discovery = await tls('/.well-known/openid-configuration', { url: issuer });
      expect(discovery.body.token_endpoint).toBe(`${issuer}/oauth2/token`);
      const byHost = await tls('/oauth2/token', { url: issuer, form: { grant_type: 'client_credentials', ...secretOf(orders) } });
      expect(decodeJwt(byHost.body.access_token as string)).toMatchObject({ app_tid: subscriberZid, iss: issuer });
      expect(emu.journal().at(-1)?.tenant).toBe('subscriber1');
      const unknown = await tls('/oauth2/token', {
        url: `https://nobody.localhost:${emu.ports.identity}`,
        form: { grant_type: 'client_credentials', ...secretOf(orders) },
      });
      expect(unknown.body.error).toBe('invalid_request');
    } finally {
      undo();
    }
  });
});

describe('bad input: the OAuth error shape, and nothing changes', () => {
  const state = () => ({ refresh: emu.core.state.identity.refreshTokens.size, codes: emu.core.state.identity.authCodes.size });

  it('a wrong client secret: 401 invalid_client with WWW-Authenticate; no token issued', async () => {
    const before = state();
    const res = await tls('/oauth2/token', {
      form: { grant_type: 'password', username: 'alice', password: 'alice-pw', client_id: orders.clientid, client_secret: 'wrong' },
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.stringContaining('wrong client_secret') });
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    expect(state()).toEqual(before);
    expect(emu.journal().at(-1)).toMatchObject({ service: 'identity', status: 401 });
    expect(emu.journal().at(-1)?.issuedJti).toBeUndefined();
  });

  it('an unknown grant: 400 unsupported_grant_type naming the grants served', async () => {
    const res = await tls('/oauth2/token', { form: { grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer', ...secretOf(orders) } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
    expect(String(res.body.error_description)).toContain('client_credentials');
    expect((await tls('/oauth2/token', { form: secretOf(orders) })).body.error).toBe('invalid_request');
  });

  it('an unknown resource, one the caller does not consume, and a malformed one: 400 invalid_target; no refresh token, the code still usable', async () => {
    const before = state();
    const login = { grant_type: 'password', username: 'alice', password: 'alice-pw' };
    const unknown = await tls('/oauth2/token', {
      form: { ...login, resource: 'urn:sap:identity:application:provider:name:nope', ...secretOf(orders) },
    });
    expect(unknown).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    expect(String(unknown.body.error_description)).toContain('orders');
    const notConsumed = await tls('/oauth2/token', {
      form: { ...login, resource: 'urn:sap:identity:application:provider:name:stock', ...secretOf(lonely) },
    });
    expect(notConsumed.body).toMatchObject({
      error: 'invalid_target',
      error_description: expect.stringContaining('does not consume "stock"'),
    });
    const malformed = await tls('/oauth2/token', {
      form: { grant_type: 'client_credentials', resource: 'https://stock.example', ...secretOf(orders) },
    });
    expect(malformed.body.error).toBe('invalid_target');
    const badTenant = await tls('/oauth2/token', {
      form: {
        grant_type: 'client_credentials',
        resource: `urn:sap:identity:application:provider:clientid:${stock.clientid}:apptid:no-such`,
        ...secretOf(orders),
      },
    });
    expect(badTenant.body.error).toBe('invalid_target');
    expect(state()).toEqual(before);
    // A refused resource at the code redemption leaves the code as it was.
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: orders.clientid,
      redirect_uri: 'http://localhost:1/cb',
      user: 'alice',
    });
    const code = new URL((await tls(`/oauth2/authorize?${query}`)).headers.location as string).searchParams.get('code')!;
    const form = { grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:1/cb', ...secretOf(orders) };
    expect(
      (await tls('/oauth2/token', { form: { ...form, resource: 'urn:sap:identity:application:provider:name:nope' } })).body.error,
    ).toBe('invalid_target');
    expect((await tls('/oauth2/token', { form })).status).toBe(200);
  });

  it('a bad scenario is refused naming the field, and changes nothing', () => {
    const before = emu.core.scenario;
    expect(() => emu.loadScenario({ ...iasScenario, identity: { applications: [{ binding: 'nope' }] } })).toThrow(
      /identity\.applications\[0\]\.binding/,
    );
    expect(() =>
      emu.loadScenario({ ...iasScenario, identity: { applications: [{ binding: 'orders-ias', consumes: ['ghost'] }] } }),
    ).toThrow(/identity\.applications\[0\]\.consumes\[0\]/);
    expect(emu.core.scenario).toBe(before);
  });
});

describe('the control API and the handle', () => {
  it('faults can target the identity service (service: identity)', async () => {
    emu.addFault({ target: { service: 'identity', path: '/oauth2/token' }, effect: { status: 503 }, times: 1 });
    const form = { grant_type: 'client_credentials', ...secretOf(orders) };
    expect((await tls('/oauth2/token', { form })).status).toBe(503);
    expect((await tls('/oauth2/token', { form })).status).toBe(200);
  });

  it('issues IAS user tokens (also for a subscriber and app-to-app), like the handle', async () => {
    const answer = (await (
      await fetch(`${emu.urls.control}/users/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          service: 'identity',
          user: 'alice',
          tenant: 'subscriber1',
          resource: ['urn:sap:identity:application:provider:name:stock'],
        }),
      })
    ).json()) as { access_token: string; claims: Record<string, unknown> };
    expect(answer.claims).toMatchObject({
      app_tid: subscriberZid,
      aud: [stock.clientid],
      azp: orders.clientid,
      email: 'alice@example.com',
    });
    const details = await emu.issueUserTokenDetails({ service: 'identity', user: 'bob', clientid: stock.clientid });
    expect(details.claims).toMatchObject({ azp: stock.clientid, sap_id_type: 'user', email: 'bob@example.com' });
    const refused = await fetch(`${emu.urls.control}/users/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'identity', user: 'alice', clientid: 'not-an-app' }),
    });
    expect(refused.status).toBe(400);
  });

  it('lists the IAS applications with their relations', async () => {
    const apps = await emu.control.identityApplications();
    expect(apps).toEqual([
      {
        name: 'orders',
        clientid: orders.clientid,
        binding: 'orders-ias',
        credentialType: 'binding-secret',
        consumes: ['stock'],
        consumedBy: [],
      },
      {
        name: 'stock',
        clientid: stock.clientid,
        binding: 'stock-ias',
        credentialType: 'X509_GENERATED',
        consumes: [],
        consumedBy: ['orders'],
      },
      {
        name: 'lonely-ias',
        clientid: lonely.clientid,
        binding: 'lonely-ias',
        credentialType: 'binding-secret',
        consumes: [],
        consumedBy: [],
      },
    ]);
    expect(emu.identityApplications()).toEqual(apps);
  });

  it("rotates the IAS keys on their own: XSUAA's stay, old IAS tokens verify during the grace period on the one clock", async () => {
    const xsuaaKid = emu.core.keys.active.kid;
    const old = await emu.issueUserToken({ service: 'identity', user: 'alice' });
    const before = (await emu.control.keys('identity')).keys.map((k) => k.kid);
    const view = await emu.control.rotateSigningKey({ service: 'identity', kid: 'ias-next', grace: '10m' });
    expect(view.active).toBe('ias-next');
    expect(before[0]).toBe(decodeProtectedHeader(old).kid);
    expect((await emu.control.keys('identity')).keys.map((k) => k.kid)).toEqual(['ias-next', ...before]);
    expect((await emu.control.keys()).active).toBe(xsuaaKid);
    const jwks = await tls('/oauth2/certs');
    expect((jwks.body.keys as { kid: string }[]).map((k) => k.kid)).toContain('ias-next');
    const fresh = await tls('/oauth2/token', { form: { grant_type: 'client_credentials', ...secretOf(orders) } });
    expect(decodeProtectedHeader(fresh.body.access_token as string).kid).toBe('ias-next');
    expect((await emu.core.identity.minter.verify(old)).ok).toBe(true);
    emu.clock({ action: 'advance', by: '11m' });
    expect(await emu.core.identity.minter.verify(old)).toMatchObject({ ok: false });
    emu.clock({ action: 'real' });
    const bad = await fetch(`${emu.urls.control}/keys/rotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'ias' }),
    });
    expect(bad.status).toBe(400);
    expect((await emu.control.keys('identity')).active).toBe('ias-next');
  });

  it('a snapshot keeps the IAS keys and refresh tokens; restoring it brings them back', async () => {
    await emu.rotateSigningKey({ service: 'identity', kid: 'ias-saved' });
    const login = await tls('/oauth2/token', {
      form: { grant_type: 'password', username: 'alice', password: 'alice-pw', ...secretOf(orders) },
    });
    const snapshot = await emu.snapshot();
    expect(snapshot.identity?.signingKeys?.[0].kid).toBe('ias-saved');
    await emu.rotateSigningKey({ service: 'identity', kid: 'ias-later', keepOld: false });
    emu.core.state.identity.refreshTokens.clear();
    await emu.restoreSnapshot(snapshot);
    expect(emu.core.identity.minter.keys.active.kid).toBe('ias-saved');
    const refreshed = await tls('/oauth2/token', {
      form: { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string, ...secretOf(orders) },
    });
    expect(refreshed.status).toBe(200);
  });
});

describe('resolveLocalhostSubdomains (sdk-adapters)', () => {
  it('resolves <name>.localhost to 127.0.0.1 while on, leaves other names to the system, and undoes', async () => {
    const dns = (await import('node:dns')).default;
    const lookup = (host: string, all = false) =>
      new Promise<unknown>((resolve) => dns.lookup(host, { all }, (err, address) => resolve(err ? err.code : address)));
    const system = dns.lookup;
    const undo = resolveLocalhostSubdomains();
    try {
      expect(dns.lookup).not.toBe(system);
      expect(await lookup('subscriber1.localhost')).toBe('127.0.0.1');
      expect(await lookup('a.b.localhost', true)).toEqual([{ address: '127.0.0.1', family: 4 }]);
      expect(await lookup('127.0.0.1')).toBe('127.0.0.1');
      expect(await lookup('localhost.example.invalid')).not.toBe('127.0.0.1');
      expect(resolveLocalhostSubdomains).not.toThrow(); // a second call is harmless
    } finally {
      undo();
    }
    expect(dns.lookup).toBe(system);
  });
});
