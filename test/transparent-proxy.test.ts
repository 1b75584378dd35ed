/**
 * The Kyma Transparent Proxy on its own port, called the way apps in a cluster call it: plain `node:http` requests
 * with `Host: <cr>.<namespace>` (what DNS and the CR's Service do in Kubernetes). Concrete and dynamic CRs,
 * dedicated and shared tenants, every authentication family, OnPremise through the connectivity proxy's pipeline
 * (Basic, location IDs, principal propagation through an X509 mapping) checked on the fake backend's echo, every
 * error with SAP's headers, CRs through the scenario, files and the control API (a bad one changes nothing), the
 * journal's chain, and that the port reaches only destinations (never an open proxy).
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ControlApiError } from '../emulator/client/index.ts';
import { defaultScenarioFile, startEmulator, ValidationError, type EmulatorHandle } from '../emulator/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';
import { postForm } from './helpers.ts';

const subscriberZid = '0c2b5a6e-7d41-4f0a-8e3b-2d9c1f4e5b02';
const apiVersion = 'destination.connectivity.api.sap/v1';
const tenantAnnotation = 'transparent-proxy.connectivity.api.sap/tenant-subdomains';
const oauth = { tokenServiceURL: '{{services}}/oauth/token', clientId: 'backend-client', clientSecret: 'backend-client-secret' };

type Json = Record<string, unknown>;

const cr = (name: string, destination: string, extra: Json = {}, metadata: Json = {}): Json => ({
  apiVersion,
  kind: 'Destination',
  metadata: { name, ...metadata },
  spec: { destinationRef: { name: destination }, ...extra },
});

/** The bundled scenario with the destinations and CRs these tests call. */
function tpScenario(transparentProxy: Json = {}): Json {
  const scenario = parseYaml(readFileSync(defaultScenarioFile, 'utf8')) as Json & { tenants: Json[]; backend: { stubs: Json[] } };
  const provider = scenario.tenants[0] as { destinations: Json[]; fragments?: Json[] };
  const http = (Name: string, Authentication: string, extra: Json = {}): Json => ({
    Name,
    Type: 'HTTP',
    URL: `{{backend}}/${Name.toLowerCase()}`,
    Authentication,
    ProxyType: 'Internet',
    ...extra,
  });
  provider.destinations.push(
    http('REFRESH', 'OAuth2RefreshToken', oauth),
    http('AUTHCODE', 'OAuth2AuthorizationCode', oauth),
    http('TOKEN_EXCHANGE', 'OAuth2TokenExchange', oauth),
    http('WITH_PARAMS', 'NoAuthentication', { 'URL.headers.x-api-key': 'k1', 'URL.queries.sap-client': '100' }),
    http('SLOW', 'NoAuthentication'),
    http('DOWN', 'NoAuthentication', { URL: 'http://127.0.0.1:1/down' }),
    { Name: 'ONPREM_GW', Type: 'HTTP', URL: 'http://gw.internal:44300', Authentication: 'NoAuthentication', ProxyType: 'OnPremise' },
  );
  provider.fragments = [{ FragmentName: 'FRAG_HEADERS', 'URL.headers.x-fragment': 'applied' }];
  scenario.backend.stubs.push({ id: 'slow', method: 'GET', path: '/slow', delayMs: 1500, body: 'late' });
  scenario.transparentProxy = transparentProxy;
  scenario.destinationCustomResources = [
    cr('orders', 'BACKEND_NOAUTH', {}, { annotations: { [tenantAnnotation]: '["subscriber1"]' } }),
    cr('basic', 'BACKEND_BASIC', {}, { namespace: 'shop' }),
    cr('oauth', 'BACKEND_OAUTH'),
    cr('user', 'BACKEND_USER'),
    cr('refresh', 'REFRESH'),
    cr('authcode', 'AUTHCODE'),
    cr('exchange', 'TOKEN_EXCHANGE'),
    cr('params', 'WITH_PARAMS'),
    cr('slow', 'SLOW'),
    cr('down', 'DOWN'),
    cr('frag', 'BACKEND_NOAUTH', { fragmentRef: { name: 'FRAG_HEADERS' } }),
    cr('inst', 'INSTANCE_NOAUTH', { destinationRef: { name: 'INSTANCE_NOAUTH', level: 'instance' } }),
    cr('erp', 'ONPREM_BASIC'),
    cr('erp-loc1', 'ONPREM_LOC1'),
    cr('erp-pp', 'ONPREM_PP'),
    cr('any', '*'),
  ];
  return scenario;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Json>(): T;
}

/** One request to the proxy's port with this Host, as a pod's HTTP client sends it. */
function call(
  emu: EmulatorHandle,
  host: string,
  path = '/',
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: emu.ports.transparentProxy,
        path,
        method: options.method ?? 'GET',
        headers: { host, ...options.headers },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The fake backend's echo of what arrived. */
interface Echo {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | undefined>;
  body: string;
}
const echoOf = (answer: Answer): Echo => {
  expect(answer.status, answer.text).toBe(200);
  return answer.json<Echo>();
};
const bearerClaims = (authorization: string | undefined): Json => decodeJwt(/^Bearer (.+)$/.exec(authorization ?? '')![1]);

/** The error headers SAP documents, all present and consistent. */
function expectTpError(answer: Answer, status: number, origin: string, internalCode: number, message: RegExp | string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers['x-proxy-server']).toBe('Transparent Proxy');
  expect(answer.headers['x-error-origin']).toBe(origin);
  expect(answer.headers['x-internal-error-code']).toBe(String(internalCode));
  expect(answer.headers['x-error-internal-code']).toBe(String(internalCode));
  expect(answer.headers['x-request-id']).toMatch(/\S/);
  expect(answer.headers['x-error-message']).toMatch(message);
  expect(answer.text.trim()).toBe(answer.headers['x-error-message']);
}

let emu: EmulatorHandle;
let alice: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: tpScenario() });
});

afterAll(() => emu?.stop());

beforeEach(async () => {
  emu.reset();
  alice = await emu.issueUserToken({ user: 'alice' });
});

describe('routing by Host', () => {
  it('serves a concrete CR as <cr>.<namespace>, with .svc.cluster.local, with a port, and as <cr> alone', async () => {
    for (const host of ['orders.default', 'orders.default.svc.cluster.local', 'orders.default:80', 'orders', 'ORDERS.default.svc']) {
      const echo = echoOf(await call(emu, host, '/items?top=2'));
      expect(echo.path, host).toBe('/items');
      expect(echo.query).toEqual({ top: '2' });
    }
    expect(echoOf(await call(emu, 'basic.shop', '/x')).headers.authorization).toMatch(/^Basic /);
  });

  it('<cr> alone names one CR only while one namespace has it; then it is a 404 listing <cr>.<namespace>', async () => {
    await emu.control.putDestinationCr(cr('orders', 'BACKEND_BASIC', {}, { namespace: 'shop' }) as never);
    const answer = await call(emu, 'orders', '/x');
    expectTpError(answer, 404, 'Transparent Proxy', 404, "The host 'orders' names Destination CRs in several namespaces");
    expect(decodeURI(String(answer.headers['x-emulator-reason']))).toBe('use one of orders.default, orders.shop');
    expect(echoOf(await call(emu, 'orders.shop', '/x')).headers.authorization).toMatch(/^Basic /);
  });

  it('appends path and query to the destination URL; `/` alone is the destination URL itself', async () => {
    expect(echoOf(await call(emu, 'params.default', '/')).path).toBe('/with_params');
    expect(echoOf(await call(emu, 'params.default', '/a/b')).path).toBe('/with_params/a/b');
  });

  it('answers 404 with the proxy headers for a host no CR serves, naming the CRs it knows', async () => {
    const answer = await call(emu, 'invoices.default', '/x');
    expectTpError(answer, 404, 'Transparent Proxy', 404, "No Destination CR serves the host 'invoices.default'");
    expect(decodeURI(String(answer.headers['x-emulator-reason']))).toContain('orders.default');
  });
});

describe('authentication', () => {
  it('NoAuthentication: the app’s own Authorization is not forwarded, and the proxy’s own headers stay behind', async () => {
    const echo = echoOf(
      await call(emu, 'orders.default', '/x', {
        headers: { authorization: `Bearer ${alice}`, 'x-tenant-id': subscriberZid, 'x-app': 'kept', 'x-request-id': 'req-1' },
      }),
    );
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers['x-tenant-id']).toBeUndefined();
    expect(echo.headers['x-app']).toBe('kept');
    expect(echo.headers['x-request-id']).toBe('req-1');
  });

  it('BasicAuthentication: the destination’s user', async () => {
    const echo = echoOf(await call(emu, 'basic.shop', '/x'));
    expect(Buffer.from(echo.headers.authorization!.slice(6), 'base64').toString()).toBe('backend-user:backend-password');
  });

  it('OAuth2ClientCredentials: a token of the destination’s client', async () => {
    const claims = bearerClaims(echoOf(await call(emu, 'oauth.default', '/x')).headers.authorization);
    expect([claims.client_id, claims.grant_type]).toEqual(['backend-client', 'client_credentials']);
  });

  it('OAuth2JWTBearer: the user JWT in Authorization becomes the user token of the lookup, exchanged for the target', async () => {
    const echo = echoOf(await call(emu, 'user.default', '/x', { headers: { authorization: `Bearer ${alice}` } }));
    const claims = bearerClaims(echo.headers.authorization);
    expect([claims.user_name, claims.client_id, claims.grant_type]).toEqual([
      'alice',
      'backend-client',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ]);
    expect(echo.headers.authorization).not.toBe(`Bearer ${alice}`);
  });

  it('OAuth2JWTBearer without a user token: the auth token error is a 502 of the Destination Service', async () => {
    const answer = await call(emu, 'user.default', '/x');
    expectTpError(answer, 502, 'Destination Service', 500, /auth token of destination 'BACKEND_USER' could not be retrieved.*user token/);
  });

  it('OAuth2RefreshToken: the refresh token in Authorization', async () => {
    const grant = await postForm(`${emu.urls.services}/oauth/token`, {
      grant_type: 'password',
      username: 'alice',
      password: 'alice-password',
      client_id: 'backend-client',
      client_secret: 'backend-client-secret',
    });
    const { refresh_token } = (await grant.json()) as { refresh_token: string };
    const claims = bearerClaims(
      echoOf(await call(emu, 'refresh.default', '/x', { headers: { authorization: `Bearer ${refresh_token}` } })).headers.authorization,
    );
    expect([claims.user_name, claims.grant_type]).toEqual(['alice', 'refresh_token']);
  });

  it('OAuth2AuthorizationCode: the code in Authorization, the redirect URI in X-redirect-uri', async () => {
    const redirect = 'https://app.example/callback';
    const authorize = await fetch(
      `${emu.urls.services}/oauth/authorize?response_type=code&client_id=backend-client&user=alice&redirect_uri=${encodeURIComponent(redirect)}`,
      { redirect: 'manual' },
    );
    const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
    const echo = echoOf(
      await call(emu, 'authcode.default', '/x', {
        headers: { authorization: `Bearer ${code}`, 'x-redirect-uri': encodeURIComponent(redirect) },
      }),
    );
    const claims = bearerClaims(echo.headers.authorization);
    expect([claims.user_name, claims.grant_type]).toEqual(['alice', 'authorization_code']);
    expect(echo.headers['x-redirect-uri']).toBeUndefined();
  });

  it('OAuth2TokenExchange: the app’s token is the subject, X-Subject-Token-Type its type; actor headers come in pairs', async () => {
    const echo = echoOf(
      await call(emu, 'exchange.default', '/x', {
        headers: { authorization: `Bearer ${alice}`, 'x-subject-token-type': 'urn:ietf:params:oauth:token-type:jwt' },
      }),
    );
    expect(bearerClaims(echo.headers.authorization).user_name).toBe('alice');
    const half = await call(emu, 'exchange.default', '/x', { headers: { authorization: `Bearer ${alice}`, 'x-actor-token': alice } });
    expectTpError(half, 400, 'Transparent Proxy', 400, 'X-Actor-Token and X-Actor-Token-Type are sent together');
  });

  it('client assertions: X-Client-Assertion with X-Client-Assertion-Destination-Name is a 400', async () => {
    const answer = await call(emu, 'oauth.default', '/x', {
      headers: { 'x-client-assertion': 'a', 'x-client-assertion-type': 't', 'x-client-assertion-destination-name': 'BACKEND_OAUTH' },
    });
    expectTpError(answer, 400, 'Transparent Proxy', 400, /must not be sent together/);
  });

  it('X-Token-Service-Tenant is for tokenServiceURLType Common only: 400 from the Destination Service otherwise', async () => {
    const answer = await call(emu, 'oauth.default', '/x', { headers: { 'x-token-service-tenant': 'subscriber1' } });
    expectTpError(answer, 400, 'Destination Service', 400, /X-tenant may only be sent for destinations with tokenServiceURLType "Common"/);
  });
});

describe('URL.headers.* and URL.queries.*', () => {
  it('are added even when the app sent the same key: both values reach the target', async () => {
    const echo = echoOf(await call(emu, 'params.default', '/p?sap-client=200&x=1', { headers: { 'x-api-key': 'mine' } }));
    expect(echo.headers['x-api-key']).toBe('mine, k1');
    expect(echo.query).toEqual({ 'sap-client': ['200', '100'], x: '1' });
  });
});

describe('dynamic CRs and lookups', () => {
  it('X-Destination-Name picks the destination; the dynamic headers do not reach the target', async () => {
    const echo = echoOf(await call(emu, 'any.default', '/d', { headers: { 'x-destination-name': 'BACKEND_BASIC' } }));
    expect(echo.path).toBe('/d');
    expect(echo.headers.authorization).toMatch(/^Basic /);
    expect(echo.headers['x-destination-name']).toBeUndefined();
  });

  it('X-Fragment-Name and X-Fragment-Optional: the fragment’s properties apply; a missing optional one is skipped', async () => {
    const withFragment = echoOf(
      await call(emu, 'any.default', '/f', { headers: { 'x-destination-name': 'BACKEND_NOAUTH', 'x-fragment-name': 'FRAG_HEADERS' } }),
    );
    expect(withFragment.headers['x-fragment']).toBe('applied');
    const optional = await call(emu, 'any.default', '/f', {
      headers: { 'x-destination-name': 'BACKEND_NOAUTH', 'x-fragment-name': 'NOPE', 'x-fragment-optional': 'true' },
    });
    expect(echoOf(optional).headers['x-fragment']).toBeUndefined();
    const missing = await call(emu, 'any.default', '/f', {
      headers: { 'x-destination-name': 'BACKEND_NOAUTH', 'x-fragment-name': 'NOPE' },
    });
    expectTpError(missing, 502, 'Destination Service', 404, /Fragment "NOPE" was not found/);
  });

  it('a CR’s fragmentRef and destinationRef.level apply as the headers would', async () => {
    expect(echoOf(await call(emu, 'frag.default', '/x')).headers['x-fragment']).toBe('applied');
    expect(echoOf(await call(emu, 'inst.default', '/x')).path).toBe('/instance/x');
  });

  it('X-Destination-Level: the instance level has INSTANCE_NOAUTH, the subaccount level does not', async () => {
    const onInstance = await call(emu, 'any.default', '/x', {
      headers: { 'x-destination-name': 'INSTANCE_NOAUTH', 'x-destination-level': 'instance' },
    });
    expect(echoOf(onInstance).path).toBe('/instance/x');
    const onSubaccount = await call(emu, 'any.default', '/x', {
      headers: { 'x-destination-name': 'INSTANCE_NOAUTH', 'x-destination-level': 'subaccount' },
    });
    expectTpError(
      onSubaccount,
      502,
      'Destination Service',
      404,
      "Destination 'INSTANCE_NOAUTH' referred in Destination CR 'default/any' is not found in tenant 'provider'",
    );
  });

  it('refuses bad dynamic headers with a 400 that says why', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /X-Destination-Name/],
      [{ 'x-destination-name': 'x'.repeat(201) }, /at most 200/],
      [
        { 'x-destination-name': 'BACKEND_NOAUTH', 'x-destination-level': 'global' },
        /X-Destination-Level must be one of provider_subaccount/,
      ],
      [
        { 'x-destination-name': 'BACKEND_NOAUTH', 'x-fragment-name': 'F', 'x-fragment-optional': 'maybe' },
        /X-Fragment-Optional must be true or false/,
      ],
      [{ 'x-destination-name': 'BACKEND_NOAUTH', 'x-chain-var-usertoken': 'u' }, /X-Chain-Var-\* headers need the header X-Chain-Name/],
    ];
    for (const [headers, message] of cases)
      expectTpError(await call(emu, 'any.default', '/x', { headers }), 400, 'Transparent Proxy', 400, message);
  });

  it('a chain the Destination Service does not know is its 400', async () => {
    const answer = await call(emu, 'any.default', '/x', {
      headers: { 'x-destination-name': 'BACKEND_NOAUTH', 'x-chain-name': 'com.example.none' },
    });
    expectTpError(answer, 400, 'Destination Service', 400, /not a predefined destination chain/);
  });

  it('dynamic headers sent to a CR bound to a concrete destination are a 400', async () => {
    for (const header of ['x-destination-name', 'x-fragment-name', 'x-chain-name', 'x-chain-var-usertoken']) {
      const answer = await call(emu, 'orders.default', '/x', { headers: { [header]: 'BACKEND_BASIC' } });
      expectTpError(answer, 400, 'Transparent Proxy', 400, /this endpoint is bound to a concrete destination \('BACKEND_NOAUTH'/);
    }
  });

  it('a destination of another type (MAIL) is not served on the HTTP port', async () => {
    const answer = await call(emu, 'any.default', '/x', { headers: { 'x-destination-name': 'ONPREM_MAIL' } });
    expectTpError(answer, 400, 'Transparent Proxy', 400, /is of type MAIL/);
  });

  it('a destination that does not exist: 502 with internal code 404 (the Java SDK’s DestinationNotFoundException), also for HEAD', async () => {
    const head = await call(emu, 'any.default', '/', {
      method: 'HEAD',
      headers: { 'x-destination-name': 'NOPE', 'x-tenant-id': subscriberZid },
    });
    expect([head.status, head.headers['x-error-internal-code'], head.headers['x-error-origin']]).toEqual([
      502,
      '404',
      'Destination Service',
    ]);
    expect(head.headers['x-error-message']).toBe(
      "Destination 'NOPE' referred in Destination CR 'default/any' is not found in tenant 'provider'",
    );
    expect(head.text).toBe('');
  });
});

describe('tenants', () => {
  it('dedicated: every request is the provider’s (X-Tenant-Id, which the Java SDK always sends, changes nothing)', async () => {
    expect(echoOf(await call(emu, 'orders.default', '/t', { headers: { 'x-tenant-id': subscriberZid } })).path).toBe('/t');
  });

  it('a per-tenant Service of the tenant-subdomains annotation (<cr>-<tenant>) is that tenant’s', async () => {
    expect(echoOf(await call(emu, 'orders-subscriber1.default', '/t')).path).toBe('/subscriber1/t');
  });

  describe('shared', () => {
    let shared: EmulatorHandle;
    beforeAll(async () => {
      shared = await startEmulator({ port: 0, scenario: tpScenario({ tenantMode: 'shared', timeouts: { readSeconds: 1 } }) });
    });
    afterAll(() => shared?.stop());

    it('X-Tenant-Subdomain or X-Tenant-Id (the zid) names the tenant whose destination is used', async () => {
      expect(echoOf(await call(shared, 'orders.default', '/t', { headers: { 'x-tenant-subdomain': 'subscriber1' } })).path).toBe(
        '/subscriber1/t',
      );
      expect(echoOf(await call(shared, 'orders.default', '/t', { headers: { 'x-tenant-id': subscriberZid } })).path).toBe('/subscriber1/t');
      expect(echoOf(await call(shared, 'orders.default', '/t', { headers: { 'x-tenant-subdomain': 'provider' } })).path).toBe('/t');
      const entry = shared.journal({ service: 'transparent-proxy' }).at(-1)!;
      expect(entry).toMatchObject({ tenant: 'provider', destination: 'BACKEND_NOAUTH', cr: 'default/orders', status: 200 });
    });

    it('both headers, or neither: 400; an unknown tenant: 500 from XSUAA with internal code 404', async () => {
      const both = await call(shared, 'orders.default', '/t', {
        headers: { 'x-tenant-subdomain': 'subscriber1', 'x-tenant-id': subscriberZid },
      });
      expectTpError(both, 400, 'Transparent Proxy', 400, 'Only one of the headers X-Tenant-Subdomain and X-Tenant-Id may be sent');
      expectTpError(await call(shared, 'orders.default', '/t'), 400, 'Transparent Proxy', 400, /shared tenant mode/);
      const unknown = await call(shared, 'orders.default', '/t', { headers: { 'x-tenant-id': 'no-such-zone' } });
      expectTpError(unknown, 500, 'XSUAA', 404, "Tenant 'no-such-zone' (X-Tenant-Id) is not known");
    });

    it('a target that does not answer within timeouts.readSeconds: 504', async () => {
      const answer = await call(shared, 'slow.default', '/', { headers: { 'x-tenant-subdomain': 'provider' } });
      expectTpError(answer, 504, 'Transparent Proxy', 504, /did not answer within 1 s/);
    });

    it('a target that refuses the connection: 502', async () => {
      const answer = await call(shared, 'down.default', '/', { headers: { 'x-tenant-subdomain': 'provider' } });
      expectTpError(answer, 502, 'Transparent Proxy', 502, /Failed to reach the target of the destination \(127\.0\.0\.1:1\)/);
    });

    it('without a connectivity proxy (connectivityProxy: false): OnPremise is 502 "On-Premise technical connectivity is not configured"', async () => {
      shared.loadScenario(tpScenario({ tenantMode: 'shared', connectivityProxy: false }));
      try {
        const answer = await call(shared, 'erp.default', '/x', { headers: { 'x-tenant-subdomain': 'provider' } });
        expectTpError(answer, 502, 'Transparent Proxy', 502, /^On-Premise technical connectivity is not configured/);
        expect(echoOf(await call(shared, 'orders.default', '/t', { headers: { 'x-tenant-subdomain': 'provider' } })).path).toBe('/t');
      } finally {
        shared.loadScenario(tpScenario({ tenantMode: 'shared', timeouts: { readSeconds: 1 } }));
      }
    });
  });
});

describe('OnPremise through the connectivity proxy', () => {
  it('BasicAuthentication: the backend gets the destination’s user, the virtual Host, no connectivity headers', async () => {
    const echo = echoOf(await call(emu, 'erp.default', '/sap/opu/odata/x?$top=1', { headers: { authorization: `Bearer ${alice}` } }));
    expect(echo.path).toBe('/sap/opu/odata/x');
    expect(Buffer.from(echo.headers.authorization!.slice(6), 'base64').toString()).toBe('erp-user:erp-password');
    expect(echo.headers.host).toBe('erp.internal:44300');
    expect(Object.keys(echo.headers).filter((h) => h.startsWith('sap-connectivity') || h.startsWith('proxy-'))).toEqual([]);
    const hop = emu.journal({ service: 'connectivity-proxy' }).at(-1)!;
    expect(hop).toMatchObject({ via: 'transparent-proxy', status: 200, virtualTarget: 'erp.internal:44300', tenant: 'provider' });
  });

  it('the location ID: the destination’s CloudConnectorLocationId, overridden by SAP-Connectivity-SCC-Location_ID', async () => {
    // LOC1's mapping sends the internal host in Host.
    expect(echoOf(await call(emu, 'erp-loc1.default', '/x')).headers['x-forwarded-host']).toBe('erp.internal:44300');
    const overridden = echoOf(await call(emu, 'erp.default', '/x', { headers: { 'sap-connectivity-scc-location_id': 'LOC1' } }));
    expect(overridden.headers['x-forwarded-host']).toBe('erp.internal:44300');
    expect(overridden.headers['sap-connectivity-scc-location_id']).toBeUndefined();
    const noConnector = await call(emu, 'erp.default', '/x', { headers: { 'sap-connectivity-scc-location_id': 'NOWHERE' } });
    expectTpError(noConnector, 503, 'Connectivity Proxy', 503, /The Connectivity Proxy refused the request/);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ locationId: 'NOWHERE', status: 503, check: 'location' });
  });

  it('principal propagation: the user JWT becomes the Cloud Connector’s X.509 certificate for the user; nothing else of it reaches the backend', async () => {
    const echo = echoOf(await call(emu, 'erp-pp.default', '/x', { headers: { authorization: `Bearer ${alice}` } }));
    const certificate = new X509Certificate(Buffer.from(echo.headers.ssl_client_cert!, 'base64'));
    expect(certificate.subject).toContain('CN=alice');
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers['sap-connectivity-authentication']).toBeUndefined();
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ principal: 'alice', via: 'transparent-proxy' });
  });

  it('principal propagation with a token the emulator did not sign: 401 from the Connectivity Proxy', async () => {
    const [head, payload] = alice.split('.');
    const answer = await call(emu, 'erp-pp.default', '/x', { headers: { authorization: `Bearer ${head}.${payload}.AAAA` } });
    expectTpError(answer, 401, 'Connectivity Proxy', 401, /Principal propagation failed/);
  });

  it('a resource the Cloud Connector does not expose: the proxy’s 403, passed on as the Connectivity Proxy’s', async () => {
    expect(echoOf(await call(emu, 'any.default', '/sap/opu/odata/x', { headers: { 'x-destination-name': 'ONPREM_GW' } })).path).toBe(
      '/sap/opu/odata/x',
    );
    const answer = await call(emu, 'any.default', '/sap/secret', { headers: { 'x-destination-name': 'ONPREM_GW' } });
    expectTpError(answer, 403, 'Connectivity Proxy', 403, /The Connectivity Proxy refused the request/);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ check: 'resource', status: 403 });
  });

  it('a connection the connectivity proxy drops (a fault): 502 "Failed to establish connection to the Connectivity Proxy"', async () => {
    emu.addFault({ target: { service: 'connectivity-proxy' }, effect: { drop: true }, times: 1 });
    const answer = await call(emu, 'erp.default', '/x');
    expectTpError(answer, 502, 'Connectivity Proxy', 502, 'Failed to establish connection to the Connectivity Proxy');
  });
});

describe('the journal', () => {
  it('one entry per request, and the call’s chain: instance token, lookup, proxy hop, then the Transparent Proxy', async () => {
    await call(emu, 'erp.default', '/x', { headers: { 'x-correlation-id': 'tp-chain-1' } });
    const chain = emu.chain('tp-chain-1')!;
    expect(chain.steps.map((s) => s.role)).toEqual(['service-token', 'lookup', 'proxy', 'transparent-proxy']);
    expect(chain.failed).toBeUndefined();
    expect(emu.journal({ service: 'transparent-proxy' })).toHaveLength(1);
    expect(emu.journal({ service: 'transparent-proxy' })[0]).toMatchObject({
      method: 'GET',
      path: '/x',
      host: 'erp.default',
      cr: 'default/erp',
      destination: 'ONPREM_BASIC',
      tenant: 'provider',
      proxyType: 'OnPremise',
      target: 'erp.internal:44300',
      correlationId: 'tp-chain-1',
      status: 200,
    });
  });

  it('"why did my call fail": the last call to a destination shows where, the lookup or the proxy’s own refusal', async () => {
    await call(emu, 'any.default', '/x', { headers: { 'x-destination-name': 'NOT_THERE' } });
    const notFound = emu.lastCall('NOT_THERE')!;
    expect(notFound.failed).toMatchObject({ role: 'lookup', status: 404 });
    expect(notFound.steps.at(-1)).toMatchObject({ role: 'transparent-proxy', entry: { status: 502, origin: 'Destination Service' } });

    await call(emu, 'orders.default', '/x', { headers: { 'x-destination-name': 'X' } });
    const refused = emu.lastCall('BACKEND_NOAUTH')!;
    expect(refused.steps.map((s) => s.role)).toEqual(['transparent-proxy']);
    expect(refused.failed).toMatchObject({ role: 'transparent-proxy', status: 400 });
    const text = await (await fetch(`${emu.urls.control}/journal/last-call?destination=BACKEND_NOAUTH&format=text`)).text();
    expect(text).toMatch(/^failed at transparent-proxy \(400\)/);
  });

  it('the instance token is kept: the second call makes no new grant', async () => {
    await call(emu, 'orders.default', '/1');
    await call(emu, 'orders.default', '/2');
    expect(emu.journal({ service: 'xsuaa' })).toHaveLength(1);
    expect(emu.journal({ service: 'destination' })).toHaveLength(2);
  });
});

describe('never an open proxy', () => {
  let outside: EchoServer;
  beforeAll(async () => {
    outside = await startEchoServer();
  });
  afterAll(() => outside?.close());

  it('an absolute-form request to any host is refused, even with the Host of a CR, and nothing is sent out', async () => {
    const answer = await call(emu, 'orders.default', `${outside.url}/steal`);
    expectTpError(answer, 400, 'Transparent Proxy', 400, /not a forward proxy/);
    const viaHost = await call(emu, outside.url.slice('http://'.length), '/steal');
    expectTpError(viaHost, 404, 'Transparent Proxy', 404, /No Destination CR serves the host '127\.0\.0\.1:\d+'/);
    for (const host of ['example.com', 'localhost', '169.254.169.254', 'erp.internal:44300']) {
      expect((await call(emu, host, '/')).status, host).toBe(404);
    }
    expect(outside.received).toEqual([]);
    expect(emu.journal({ service: 'destination' })).toEqual([]);
    expect(emu.journal({ service: 'connectivity-proxy' })).toEqual([]);
  });

  it('CONNECT is refused with 405', async () => {
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(emu.ports.transparentProxy, '127.0.0.1', () =>
        socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'),
      );
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(head).toMatch(/^HTTP\/1\.1 405 /);
    expect(head).toMatch(/x-proxy-server: Transparent Proxy/i);
    expect(emu.journal({ service: 'transparent-proxy' }).at(-1)).toMatchObject({ method: 'CONNECT', status: 405 });
  });
});

describe('Destination CRs: scenario, control API, files', () => {
  const yamlCr = `apiVersion: ${apiVersion}\nkind: Destination\nmetadata:\n  name: added\n  namespace: team\nspec:\n  destinationRef:\n    name: BACKEND_BASIC\n  service:\n    port: 8080\n`;

  it('the control API lists, adds (YAML as kubectl takes it), replaces and removes CRs; a reset brings back the scenario’s', async () => {
    const before = (await emu.control.destinationCrs()).length;
    expect(before).toBe(16);
    const stored = await emu.control.putDestinationCr(yamlCr);
    expect(stored).toMatchObject({ metadata: { name: 'added', namespace: 'team' }, spec: { service: { port: 8080 } } });
    expect(echoOf(await call(emu, 'added.team', '/y')).headers.authorization).toMatch(/^Basic /);
    await emu.control.putDestinationCr(cr('added', 'BACKEND_NOAUTH', {}, { namespace: 'team' }) as never);
    expect(echoOf(await call(emu, 'added.team', '/y')).headers.authorization).toBeUndefined();
    expect(await emu.control.destinationCrs()).toHaveLength(before + 1);
    await emu.control.removeDestinationCr('added', 'team');
    expect((await call(emu, 'added.team', '/y')).status).toBe(404);
    const gone = await emu.control.removeDestinationCr('added', 'team').catch((e: unknown) => e);
    expect((gone as ControlApiError).status).toBe(404);
    await emu.control.putDestinationCr(yamlCr);
    await emu.control.reset();
    expect((await call(emu, 'added.team', '/y')).status).toBe(404);
  });

  it('a CR that does not fit is refused naming the field, and changes nothing', async () => {
    const before = JSON.stringify(await emu.control.destinationCrs());
    const bad: [Json, string][] = [
      [{ ...cr('x', 'A'), apiVersion: 'v1' }, 'apiVersion'],
      [{ ...cr('x', 'A'), kind: 'Service' }, 'kind'],
      [cr('Bad_Name', 'A'), 'metadata.name'],
      [{ ...cr('x', 'A'), spec: {} }, 'spec.destinationRef'],
      [cr('x', 'A', { destinationServiceInstanceName: 'nope' }), 'spec.destinationServiceInstanceName'],
      [cr('x', 'A', {}, { annotations: { [tenantAnnotation]: '["nowhere"]' } }), `metadata.annotations.${tenantAnnotation}`],
      [cr('x', 'A', {}, { annotations: { [tenantAnnotation]: 'subscriber1' } }), `metadata.annotations.${tenantAnnotation}`],
      [cr('x', '*', { fragmentRef: { name: 'F' } }), 'spec.fragmentRef'],
      [cr('x', 'A', { chainRef: { name: 'com.example.chain' } }), 'spec.chainRef.name'],
      [cr('x', 'A', { service: { port: 70000 } }), 'spec.service.port'],
      [cr('x', 'A', { destinatonRef: { name: 'A' } }), 'spec.destinatonRef'],
    ];
    for (const [body, field] of bad) {
      const err = (await emu.control.putDestinationCr(body as never).catch((e: unknown) => e)) as ControlApiError;
      expect(err, field).toBeInstanceOf(ControlApiError);
      expect(err.status, field).toBe(400);
      expect(
        (err.body as { issues: { path: string }[] }).issues.map((i) => i.path),
        field,
      ).toContain(field);
    }
    expect(JSON.stringify(await emu.control.destinationCrs())).toBe(before);
  });

  it('a scenario with a bad CR is refused naming it, and the loaded scenario stays', () => {
    const scenario = tpScenario();
    (scenario.destinationCustomResources as Json[]).push(cr('orders', 'BACKEND_BASIC'));
    expect(() => emu.loadScenario(scenario)).toThrow(ValidationError);
    expect(() => emu.loadScenario(scenario)).toThrow(
      /destinationCustomResources\[16\]\.metadata\.name: a Destination CR "orders" already exists/,
    );
    expect(emu.core.state.transparentProxy.resources.size).toBe(16);
  });

  it('a snapshot keeps the CRs added at run time', async () => {
    await emu.control.putDestinationCr(yamlCr);
    const snapshot = await emu.snapshot();
    emu.reset();
    expect((await call(emu, 'added.team', '/')).status).toBe(404);
    await emu.restoreSnapshot(snapshot);
    expect((await call(emu, 'added.team', '/')).status).toBe(200);
  });

  it('CR files at start: multi-document YAML and directories; other kinds are skipped, a bad CR names its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-crs-'));
    writeFileSync(
      join(dir, 'app.yaml'),
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n---\n${yamlCr}---\n${yamlCr.replace('name: added', 'name: second')}`,
    );
    const withFiles = await startEmulator({ port: 0, scenario: 'default', destinationCrs: [dir] });
    try {
      expect((await withFiles.control.destinationCrs()).map((c) => `${c.metadata.namespace}/${c.metadata.name}`)).toEqual([
        'team/added',
        'team/second',
      ]);
      expect(echoOf(await call(withFiles, 'second.team', '/z')).path).toBe('/z');
    } finally {
      await withFiles.stop();
    }
    const badFile = join(dir, 'bad.yaml');
    writeFileSync(badFile, yamlCr.replace('name: BACKEND_BASIC', 'nam: BACKEND_BASIC'));
    await expect(startEmulator({ port: 0, scenario: 'default', destinationCrs: [badFile] })).rejects.toThrow(
      new RegExp(
        `Destination CR file ${badFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is invalid: .*spec.destinationRef.nam: unknown key; did you mean \`name\``,
      ),
    );
    // The command line says the same and exits 2; a missing file is named too.
    const cli = join(import.meta.dirname, '..', 'emulator', 'cli', 'main.ts');
    for (const [path, message] of [
      [badFile, `Destination CR file ${badFile} is invalid`],
      [join(dir, 'missing.yaml'), `cannot read the Destination CR file ${join(dir, 'missing.yaml')}: no such file`],
    ]) {
      const run = spawnSync(process.execPath, [cli, 'start', '--port', '0', '--destination-crs', path], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toContain(message);
    }
  });
});
