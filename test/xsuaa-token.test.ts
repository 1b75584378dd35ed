/**
 * The XSUAA token endpoint over a real socket: every grant, client authentication by body and Basic header,
 * tenant selection by x-zid and host, the claims SAP's clients read, JWKS and discovery, and the OAuth errors.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, postForm } from './helpers.ts';

let emu: EmulatorHandle;
let tokenUrl: string;
let app: Record<string, string>;
const subscriberZid = '11111111-2222-4333-8444-555555555555';

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      tenants: [{ subdomain: 'provider' }, { subdomain: 'subscriber1', zid: subscriberZid }],
      clients: [{ clientid: 'web-app', clientsecret: 'web-secret', redirectUris: ['http://localhost:5000/login/callback'] }],
      users: [
        {
          name: 'alice',
          password: 'alice-pw',
          email: 'alice@example.com',
          scopes: ['Display', 'other!t7.Admin'],
          attributes: { Country: ['DE'] },
        },
        { name: 'carol', password: 'carol-pw', tenants: ['subscriber1'] },
      ],
    },
  });
  tokenUrl = `${emu.urls.services}/oauth/token`;
  app = binding(emu, 'xsuaa');
});

afterAll(() => emu?.stop());

const clientForm = (): Record<string, string> => ({ client_id: app.clientid, client_secret: app.clientsecret });

async function tokenOf(
  res: Response,
): Promise<{ access_token: string; refresh_token?: string; id_token?: string; expires_in: number; scope: string }> {
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as never;
}

describe('client_credentials', () => {
  it('issues an RS256 JWT with the claims XSUAA puts there (client authentication in the body)', async () => {
    const body = await tokenOf(await postForm(tokenUrl, { grant_type: 'client_credentials', ...clientForm() }));
    expect(body.expires_in).toBe(43199);
    const header = decodeProtectedHeader(body.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', jku: `https://${emu.urls.uaaDomain}/token_keys` });
    expect(header.kid).toBeTruthy();
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({
      client_id: app.clientid,
      cid: app.clientid,
      azp: app.clientid,
      grant_type: 'client_credentials',
      zid: app.tenantid,
      ext_attr: { enhancer: 'XSUAA', zdn: 'provider', subaccountid: app.subaccountid },
    });
    expect(Array.isArray(claims.scope)).toBe(true);
    expect(claims.aud).toContain(app.clientid);
    expect(claims.exp! - claims.iat!).toBe(43200);
  });

  it('accepts a Basic Authorization header instead of body credentials', async () => {
    const basic = Buffer.from(`${app.clientid}:${app.clientsecret}`).toString('base64');
    await tokenOf(await postForm(tokenUrl, { grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` }));
  });

  it('selects the tenant by x-zid, and refuses an unknown zone', async () => {
    const body = await tokenOf(await postForm(tokenUrl, { grant_type: 'client_credentials', ...clientForm() }, { 'x-zid': subscriberZid }));
    expect(decodeJwt(body.access_token)).toMatchObject({ zid: subscriberZid, ext_attr: { zdn: 'subscriber1' } });
    const unknown = await postForm(tokenUrl, { grant_type: 'client_credentials', ...clientForm() }, { 'x-zid': 'nope' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('selects the tenant by the first label of the host', async () => {
    // fetch may not set Host, node:http may: this is what a client calling https://subscriber1.<uaadomain> sends
    const port = Number(new URL(emu.urls.services).port);
    const body = new URLSearchParams({ grant_type: 'client_credentials', ...clientForm() }).toString();
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/oauth/token',
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', host: `subscriber1.localhost:${port}` },
        },
        (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString()));
          res.on('end', () => resolve(data));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(decodeJwt((JSON.parse(text) as { access_token: string }).access_token).zid).toBe(subscriberZid);
  });

  it('answers 401 invalid_client with WWW-Authenticate for a wrong secret or an unknown client', async () => {
    const wrong = await postForm(tokenUrl, { grant_type: 'client_credentials', client_id: app.clientid, client_secret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic realm="UAA\/client"/);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    const unknown = await postForm(tokenUrl, { grant_type: 'client_credentials', client_id: 'ghost', client_secret: 'x' });
    expect(unknown.status).toBe(401);
    expect((await unknown.json()).error_description).toMatch(/ghost/);
  });
});

describe('user grants', () => {
  it('password: a user token with user claims, local scopes prefixed with the xsappname, and a refresh token', async () => {
    const body = await tokenOf(
      await postForm(tokenUrl, { grant_type: 'password', username: 'alice', password: 'alice-pw', ...clientForm() }),
    );
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({
      grant_type: 'password',
      user_name: 'alice',
      email: 'alice@example.com',
      origin: 'sap.default',
      'xs.user.attributes': { Country: ['DE'] },
      ext_attr: { enhancer: 'XSUAA', zdn: 'provider' },
    });
    expect(claims.user_id).toBeTruthy();
    expect(claims.scope).toEqual(expect.arrayContaining(['openid', `${app.xsappname}.Display`, 'other!t7.Admin']));
    expect(claims.aud).toEqual(expect.arrayContaining([app.clientid, app.xsappname, 'other!t7']));
    expect(body.refresh_token).toBeTruthy();
    expect(body.id_token).toBeTruthy();
  });

  it('password: a wrong password is 401, a user outside its tenants is refused', async () => {
    const wrong = await postForm(tokenUrl, { grant_type: 'password', username: 'alice', password: 'x', ...clientForm() });
    expect(wrong.status).toBe(401);
    const carol = await postForm(tokenUrl, { grant_type: 'password', username: 'carol', password: 'carol-pw', ...clientForm() });
    expect(carol.status).toBe(401);
    await tokenOf(
      await postForm(
        tokenUrl,
        { grant_type: 'password', username: 'carol', password: 'carol-pw', ...clientForm() },
        { 'x-zid': subscriberZid },
      ),
    );
  });

  it('jwt-bearer: exchanges a user token for one of another client, same user and zone', async () => {
    const userJwt = await emu.issueUserToken({ user: 'alice' });
    const dest = binding(emu, 'destination');
    const body = await tokenOf(
      await postForm(
        tokenUrl,
        {
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: userJwt,
          client_id: dest.clientid,
          client_secret: dest.clientsecret,
        },
        { 'x-zid': app.tenantid },
      ),
    );
    expect(decodeJwt(body.access_token)).toMatchObject({
      user_name: 'alice',
      client_id: dest.clientid,
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    });
  });

  it("jwt-bearer: a dotted host that names no tenant (127.0.0.1) keeps the assertion's zone", async () => {
    const userJwt = await emu.issueUserToken({ user: 'alice', tenant: 'subscriber1' });
    const url = `http://127.0.0.1:${new URL(emu.urls.services).port}/oauth/token`;
    const body = await tokenOf(
      await postForm(url, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: userJwt, ...clientForm() }),
    );
    expect(decodeJwt(body.access_token).zid).toBe(subscriberZid);
  });

  it('jwt-bearer: refuses an assertion of another zone and an assertion that is not ours', async () => {
    const userJwt = await emu.issueUserToken({ user: 'alice' });
    const otherZone = await postForm(
      tokenUrl,
      { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: userJwt, ...clientForm() },
      { 'x-zid': subscriberZid },
    );
    expect(otherZone.status).toBe(400);
    expect(await otherZone.json()).toMatchObject({ error: 'invalid_grant' });
    const garbage = await postForm(tokenUrl, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: 'a.b.c',
      ...clientForm(),
    });
    expect(garbage.status).toBe(401);
  });

  it('refresh_token: a refresh token gives a new access token for the same user; an unknown one is refused', async () => {
    const first = await tokenOf(
      await postForm(tokenUrl, { grant_type: 'password', username: 'alice', password: 'alice-pw', ...clientForm() }),
    );
    const refreshed = await tokenOf(
      await postForm(tokenUrl, { grant_type: 'refresh_token', refresh_token: first.refresh_token!, ...clientForm() }),
    );
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ user_name: 'alice', grant_type: 'refresh_token' });
    const unknown = await postForm(tokenUrl, { grant_type: 'refresh_token', refresh_token: 'nope', ...clientForm() });
    expect(unknown.status).toBe(401);
  });

  it('authorization_code with PKCE: /oauth/authorize signs the user in without a form and redirects with a code', async () => {
    const verifier = 'a-long-enough-code-verifier-for-pkce-0123456789';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirect = 'http://localhost:5000/login/callback';
    const authorize = await fetch(
      `${emu.urls.services}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'web-app', redirect_uri: redirect, state: 's1', user: 'alice', code_challenge: challenge, code_challenge_method: 'S256' })}`,
      { redirect: 'manual' },
    );
    expect(authorize.status).toBe(302);
    const location = new URL(authorize.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(redirect);
    expect(location.searchParams.get('state')).toBe('s1');
    const code = location.searchParams.get('code')!;
    const form = { grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: 'web-app', client_secret: 'web-secret' };
    const badVerifier = await postForm(tokenUrl, { ...form, code_verifier: 'wrong' });
    expect(badVerifier.status).toBe(400);
    // a code is single-use: after the failed attempt it is gone
    const reused = await postForm(tokenUrl, { ...form, code_verifier: verifier });
    expect(reused.status).toBe(400);
  });

  it('authorization_code: the right verifier gets a user token for the signed-in user', async () => {
    const verifier = 'another-long-enough-code-verifier-0123456789';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirect = 'http://localhost:5000/login/callback';
    const authorize = await fetch(
      `${emu.urls.services}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'web-app', redirect_uri: redirect, user: 'alice', code_challenge: challenge, code_challenge_method: 'S256' })}`,
      { redirect: 'manual' },
    );
    const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
    const body = await tokenOf(
      await postForm(tokenUrl, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirect,
        code_verifier: verifier,
        client_id: 'web-app',
        client_secret: 'web-secret',
      }),
    );
    expect(decodeJwt(body.access_token)).toMatchObject({ user_name: 'alice', client_id: 'web-app', grant_type: 'authorization_code' });
  });

  it('authorize refuses a redirect_uri the client did not register', async () => {
    const res = await fetch(
      `${emu.urls.services}/oauth/authorize?response_type=code&client_id=web-app&redirect_uri=http://evil.example/cb`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
  });
});

describe('errors and metadata', () => {
  it('answers 400 for a missing and for an unsupported grant type, 405 for GET', async () => {
    const missing = await postForm(tokenUrl, { ...clientForm() });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'invalid_request', error_description: 'Missing grant type' });
    const unsupported = await postForm(tokenUrl, { grant_type: 'implicit', ...clientForm() });
    expect(unsupported.status).toBe(400);
    expect(await unsupported.json()).toMatchObject({ error: 'unsupported_grant_type' });
    expect((await fetch(tokenUrl)).status).toBe(405);
  });

  it('a 401 whose message quotes binary garbage still answers: WWW-Authenticate carries printable ASCII only', async () => {
    // fuzzing found this: an assertion that decodes to bytes outside Latin-1 made the header unsendable (500)
    const res = await postForm(tokenUrl, {
      grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
      assertion: 'AA/-PA',
      ...clientForm(),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('invalid_token');
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Basic realm="UAA\/client", error="invalid_token", error_description="[\x20-\x7e]+"$/,
    );
  });

  it('refuses a JSON body: token requests are form-encoded', async () => {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error_description).toMatch(/x-www-form-urlencoded/);
  });

  it('serves /token_keys with kid, n, e and a PEM value; 400 for an unknown zid', async () => {
    const jwks = (await (await fetch(`${emu.urls.services}/token_keys`)).json()) as { keys: Record<string, string>[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(jwks.keys[0].value).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect((await fetch(`${emu.urls.services}/token_keys?zid=unknown`)).status).toBe(400);
  });

  it('serves OIDC discovery pointing at its own endpoints', async () => {
    const doc = (await (await fetch(`${emu.urls.services}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(doc.token_endpoint).toBe(`${emu.urls.services}/oauth/token`);
    expect(doc.jwks_uri).toBe(`${emu.urls.services}/token_keys`);
  });

  it('keeps the same signing key across restarts', async () => {
    const kidOf = async (e: EmulatorHandle): Promise<string> =>
      ((await (await fetch(`${e.urls.services}/token_keys`)).json()) as { keys: { kid: string; n: string }[] }).keys
        .map((k) => k.kid + k.n)
        .join();
    const second = await startEmulator({ port: 0 });
    try {
      expect(await kidOf(second)).toBe(await kidOf(emu));
    } finally {
      await second.stop();
    }
  });
});
