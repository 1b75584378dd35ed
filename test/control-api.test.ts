/**
 * The control API under /_emulator over a real socket: health, reset, loading a scenario, issuing user
 * tokens, the request journal and the env. Each test gets its own emulator on a free port.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle, type JournalEntry } from '../emulator/index.ts';
import { binding, postForm, serviceToken } from './helpers.ts';

const subscriberZid = '0c2b5a6e-7d41-4f0a-8e3b-2d9c1f4e5b02';

let emu: EmulatorHandle;
let control: string;

beforeEach(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  control = emu.urls.control;
});

afterEach(async () => {
  await emu.stop();
});

async function health(): Promise<{ status: string; scenario: string; tenants: number }> {
  const res = await fetch(`${control}/health`);
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; scenario: string; tenants: number };
}

/** A password-grant token response for a scenario user, through the app's xsuaa binding. */
function passwordGrant(user: string, password: string): Promise<Response> {
  const creds = binding(emu, 'xsuaa');
  return postForm(`${emu.urls.services}/oauth/token`, {
    grant_type: 'password',
    username: user,
    password,
    client_id: creds.clientid,
    client_secret: creds.clientsecret,
  });
}

function refreshGrant(refreshToken: string): Promise<Response> {
  const creds = binding(emu, 'xsuaa');
  return postForm(`${emu.urls.services}/oauth/token`, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: creds.clientid,
    client_secret: creds.clientsecret,
  });
}

async function journal(query = ''): Promise<JournalEntry[]> {
  const res = await fetch(`${control}/journal${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { entries: JournalEntry[] }).entries;
}

describe('GET /_emulator/health', () => {
  it('reports ok, the scenario name and the tenant count', async () => {
    expect(await health()).toEqual({ status: 'ok', scenario: 'default', tenants: 2 });
  });
});

describe('POST /_emulator/reset', () => {
  it('drops state created through the APIs: a refresh token issued before the reset no longer works', async () => {
    const granted = await passwordGrant('alice', 'alice-password');
    expect(granted.status).toBe(200);
    const { refresh_token: refreshToken } = (await granted.json()) as { refresh_token: string };
    expect(refreshToken).toBeTruthy();
    expect((await refreshGrant(refreshToken)).status).toBe(200);

    const reset = await fetch(`${control}/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toEqual({ status: 'reset', scenario: 'default' });

    const refused = await refreshGrant(refreshToken);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('drops a destination created through the Destination Service CRUD API', async () => {
    const headers = { authorization: `Bearer ${await serviceToken(emu, 'destination')}`, 'content-type': 'application/json' };
    const api = `${emu.urls.services}/destination-configuration/v1`;
    const created = await fetch(`${api}/subaccountDestinations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        Name: 'CREATED_AT_RUNTIME',
        Type: 'HTTP',
        URL: 'http://localhost:1',
        Authentication: 'NoAuthentication',
        ProxyType: 'Internet',
      }),
    });
    expect(created.status).toBe(201);
    expect((await fetch(`${api}/destinations/CREATED_AT_RUNTIME`, { headers })).status).toBe(200);

    expect((await fetch(`${control}/reset`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${api}/destinations/CREATED_AT_RUNTIME`, { headers })).status).toBe(404);
    expect((await fetch(`${api}/destinations/BACKEND_NOAUTH`, { headers })).status).toBe(200);
  });

  it('keeps the loaded scenario and clears the journal', async () => {
    await passwordGrant('alice', 'alice-password');
    expect(await journal()).not.toHaveLength(0);
    await fetch(`${control}/reset`, { method: 'POST' });
    expect(await health()).toMatchObject({ scenario: 'default', tenants: 2 });
    // The reset itself is journalled after the clear.
    expect((await journal()).map((e) => e.path)).toEqual(['/_emulator/reset']);
  });

  it('resets to the scenario loaded last, not to the one the emulator started with', async () => {
    const loaded = await fetch(`${control}/scenario`, {
      method: 'POST',
      body: JSON.stringify({ name: 'later', tenants: [{ subdomain: 'only' }] }),
    });
    expect(loaded.status).toBe(200);
    await fetch(`${control}/reset`, { method: 'POST' });
    expect(await health()).toEqual({ status: 'ok', scenario: 'later', tenants: 1 });
  });
});

describe('POST /_emulator/scenario', () => {
  const otherScenario = [
    'name: other',
    'tenants:',
    '  - subdomain: solo',
    '    destinations:',
    '      - { Name: ONLY_HERE, Type: HTTP, URL: "http://localhost:1", Authentication: NoAuthentication }',
  ].join('\n');

  it('loads a valid YAML scenario: 200, and the emulator serves it from then on', async () => {
    const res = await fetch(`${control}/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: otherScenario,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'loaded', scenario: 'other' });
    expect(await health()).toMatchObject({ scenario: 'other', tenants: 1 });

    const scenario = (await (await fetch(`${control}/scenario`)).json()) as { name: string; tenants: { subdomain: string }[] };
    expect(scenario.name).toBe('other');
    expect(scenario.tenants.map((t) => t.subdomain)).toEqual(['solo']);

    // The new scenario's destination is found with a token of the (new) destination binding.
    const token = await serviceToken(emu, 'destination');
    const found = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/ONLY_HERE`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ destinationConfiguration: { Name: 'ONLY_HERE' } });
  });

  it('loads a JSON scenario too', async () => {
    const res = await fetch(`${control}/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'json-one', tenants: [{ subdomain: 'a' }, { subdomain: 'b' }] }),
    });
    expect(res.status).toBe(200);
    expect(await health()).toMatchObject({ scenario: 'json-one', tenants: 2 });
  });

  it('refuses an invalid scenario with 400 naming the field, and keeps the old scenario active', async () => {
    const invalid = ['name: broken', 'tenants:', '  - subdomain: ok', '    destinations:', '      - { Name: X, Type: SMTP }'].join('\n');
    const res = await fetch(`${control}/scenario`, { method: 'POST', body: invalid });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string; issues: { path: string }[] };
    expect(body.error).toBe('invalid_request');
    expect(body.message).toContain('tenants[0].destinations[0].Type');
    expect(body.issues.map((i) => i.path)).toContain('tenants[0].destinations[0].Type');
    expect(await health()).toEqual({ status: 'ok', scenario: 'default', tenants: 2 });
    // State of the old scenario survives too: its users still sign in.
    expect((await passwordGrant('alice', 'alice-password')).status).toBe(200);
  });

  it('refuses text that is neither YAML nor JSON with 400', async () => {
    const res = await fetch(`${control}/scenario`, { method: 'POST', body: '{ "tenants": [' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('not valid JSON');
    expect((await health()).scenario).toBe('default');
  });
});

describe('POST /_emulator/users/token', () => {
  it('issues a user token signed with the key /token_keys publishes', async () => {
    const res = await fetch(`${control}/users/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number; claims: Record<string, unknown> };
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBeGreaterThan(0);

    const keys = createRemoteJWKSet(new URL(`${emu.urls.services}/token_keys`));
    const { payload } = await jwtVerify(body.access_token, keys, { algorithms: ['RS256'] });
    expect(payload).toMatchObject({ user_name: 'alice', email: 'alice@example.com', zid: binding(emu, 'xsuaa').identityzoneid });
    expect(payload.scope).toEqual(expect.arrayContaining(['emu-app!t1.Display', 'emu-app!t1.Edit']));
    expect(body.claims).toMatchObject({ user_name: 'alice' });
  });

  it('issues a token for another tenant and scopes, and for a user the scenario does not declare', async () => {
    const res = await fetch(`${control}/users/token`, {
      method: 'POST',
      body: JSON.stringify({ user: 'carol', tenant: 'subscriber1', scopes: ['Admin'] }),
    });
    expect(res.status).toBe(200);
    const claims = decodeJwt(((await res.json()) as { access_token: string }).access_token);
    expect(claims).toMatchObject({ user_name: 'carol', zid: subscriberZid, ext_attr: { zdn: 'subscriber1' } });
    expect(claims.scope).toContain('emu-app!t1.Admin');
  });

  it('refuses a body without user with 400 naming user', async () => {
    const res = await fetch(`${control}/users/token`, { method: 'POST', body: JSON.stringify({ tenant: 'provider' }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string; issues: { path: string }[] };
    expect(body.issues.map((i) => i.path)).toContain('user');
    expect(body.message).toContain('user');
  });

  it('refuses a body that is not JSON with 400', async () => {
    const res = await fetch(`${control}/users/token`, { method: 'POST', body: 'user=alice' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('not JSON');
  });
});

describe('/_emulator/journal', () => {
  it('lists the requests served, filters by service and status, and clears', async () => {
    expect((await fetch(`${control}/journal`, { method: 'DELETE' })).status).toBe(204);
    expect(await journal()).toEqual([]);

    const token = await serviceToken(emu, 'destination');
    const found = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(found.status).toBe(200);
    expect((await passwordGrant('alice', 'wrong-password')).status).toBe(401);

    const all = await journal();
    expect(all.map((e) => [e.service, e.method, e.path.split('?')[0], e.status])).toEqual([
      ['xsuaa', 'POST', '/oauth/token', 200],
      ['destination', 'GET', '/destination-configuration/v1/destinations/BACKEND_NOAUTH', 200],
      ['xsuaa', 'POST', '/oauth/token', 401],
    ]);
    expect(all[1].destination).toBe('BACKEND_NOAUTH');
    expect(all[2].reason).toContain('alice');
    for (const entry of all) expect(Date.parse(entry.time)).not.toBeNaN();

    expect((await journal('?service=xsuaa')).map((e) => e.status)).toEqual([200, 401]);
    expect((await journal('?service=destination')).map((e) => e.path)).toEqual([
      '/destination-configuration/v1/destinations/BACKEND_NOAUTH',
    ]);
    const refused = await journal('?status=401');
    expect(refused).toHaveLength(1);
    expect(refused[0].service).toBe('xsuaa');
    expect(await journal('?service=destination&status=401')).toEqual([]);
    expect(await journal('?limit=1')).toEqual([all[2]]);

    expect((await fetch(`${control}/journal`, { method: 'DELETE' })).status).toBe(204);
    expect(await journal()).toEqual([]);
  });

  it('refuses a bad filter with 400 naming it', async () => {
    const res = await fetch(`${control}/journal?status=teapot`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('status');
  });
});

describe('GET /_emulator/env', () => {
  it('returns the env of the handle: VCAP_SERVICES pointing at this emulator and NODE_EXTRA_CA_CERTS', async () => {
    const res = await fetch(`${control}/env`);
    expect(res.status).toBe(200);
    const env = (await res.json()) as Record<string, string>;
    expect(env).toEqual(emu.env);
    expect(env.NODE_EXTRA_CA_CERTS).toBe(emu.caFile);
    const vcap = JSON.parse(env.VCAP_SERVICES) as Record<string, { credentials: Record<string, string> }[]>;
    expect(Object.keys(vcap).sort()).toEqual(['connectivity', 'destination', 'identity', 'xsuaa']);
    expect(vcap.identity[0].credentials.url).toBe(emu.urls.identity);
    expect(vcap.xsuaa[0].credentials.uaadomain).toBe(emu.urls.uaaDomain);
    expect(vcap.destination[0].credentials.uri).toBe(emu.urls.services);
  });
});
