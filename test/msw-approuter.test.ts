/**
 * The approuter face in Node: an app's relative calls (`http://app.localhost/...`) answered through its
 * xs-app.json routes — first match wins, `target` rewrites, the destination is found through the core's
 * Destination Service, its authTokens header is added, and the fake backend's stubs (directly or behind a
 * Cloud Connector mapping) answer. Real `fetch`, MSW `setupServer`, no socket.
 */
import { decodeJwt } from 'jose';
import { setupServer, type SetupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApprouterHandlers, createBtpHandlers, type BtpHandlers } from '../emulator/msw/index.ts';

const oauth = { tokenServiceURL: '{{services}}/oauth/token', clientId: 'backend-client', clientSecret: 'backend-secret' };

const scenario = {
  name: 'approuter',
  tenants: [
    {
      subdomain: 'provider',
      destinations: [
        {
          Name: 'ORDERS',
          Type: 'HTTP',
          URL: '{{backend}}/sap/opu/odata/sap/ORDERS_SRV',
          Authentication: 'NoAuthentication',
          ProxyType: 'Internet',
        },
        {
          Name: 'ECHO_BASIC',
          Type: 'HTTP',
          URL: '{{backend}}/basic',
          Authentication: 'BasicAuthentication',
          ProxyType: 'Internet',
          User: 'jane',
          Password: 'secret',
        },
        { Name: 'ECHO_USER', Type: 'HTTP', URL: '{{backend}}/user', Authentication: 'OAuth2JWTBearer', ProxyType: 'Internet', ...oauth },
        { Name: 'ERP', Type: 'HTTP', URL: 'http://erp.internal:44300', Authentication: 'NoAuthentication', ProxyType: 'OnPremise' },
        {
          Name: 'ERP_LOC1',
          Type: 'HTTP',
          URL: 'http://erp.internal:44300',
          Authentication: 'NoAuthentication',
          ProxyType: 'OnPremise',
          CloudConnectorLocationId: 'LOC1',
        },
      ],
      cloudConnectors: [
        {
          locationId: '',
          systems: [
            {
              virtualHost: 'erp.internal',
              virtualPort: 44300,
              internalHost: '{{backendHost}}',
              internalPort: '{{backendHttpPort}}',
              resources: [{ path: '/sap/opu/odata' }],
            },
          ],
        },
        { locationId: 'LOC1', online: false },
      ],
    },
    {
      subdomain: 'subscriber1',
      destinations: [
        { Name: 'ORDERS', Type: 'HTTP', URL: '{{backend}}/subscriber-orders', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
      ],
    },
  ],
  clients: [{ clientid: 'backend-client', clientsecret: 'backend-secret', xsappname: 'backend!t2' }],
  users: [{ name: 'alice', email: 'alice@example.com' }],
  backend: { stubs: [{ method: 'GET', path: '/sap/opu/odata/sap/ORDERS_SRV/Orders', body: { d: { results: [{ OrderID: '4711' }] } } }] },
};

const xsApp = {
  welcomeFile: '/index.html',
  authenticationMethod: 'route',
  routes: [
    { source: '^/api/special/(.*)$', target: '/$1', destination: 'ECHO_BASIC', authenticationType: 'none' },
    { source: '^/api/(.*)$', target: '/$1', destination: 'ORDERS', authenticationType: 'none', csrfProtection: false },
    { source: '^/user/(.*)$', target: '/$1', destination: 'ECHO_USER' },
    { source: '^/erp/(.*)$', target: '/sap/opu/odata/$1', destination: 'ERP', authenticationType: 'none' },
    { source: '^/erp-raw/(.*)$', target: '/$1', destination: 'ERP', authenticationType: 'none' },
    { source: '^/erp-loc1/(.*)$', target: '/sap/opu/odata/$1', destination: 'ERP_LOC1', authenticationType: 'none' },
    { source: '^/missing/(.*)$', destination: 'NOT_THERE', authenticationType: 'none' },
    { source: '^/static/api/(.*)$', localDir: 'webapp' },
    { source: '^/static/(.*)$', destination: 'ORDERS', authenticationType: 'none' },
  ],
};

const app = 'http://app.localhost';
let btp: BtpHandlers;
let server: SetupServer;

beforeAll(async () => {
  btp = await createBtpHandlers(scenario);
  server = setupServer(...createApprouterHandlers(btp, { xsApp, user: 'alice', appUrl: app }), ...btp.handlers);
  server.listen({ onUnhandledFrame: 'error' });
});

afterEach(() => btp.reset());
afterAll(() => server?.close());

interface Echo {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

const echoOf = async (path: string, init?: RequestInit): Promise<Echo> => {
  const response = await fetch(`${app}${path}`, init);
  expect(response.status).toBe(200);
  return (await response.json()) as Echo;
};

describe('approuter face: xs-app.json routes to destinations and backend stubs', () => {
  it('a route with target rewrite reaches the backend stub behind the destination', async () => {
    const response = await fetch(`${app}/api/Orders`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ d: { results: [{ OrderID: '4711' }] } });
  });

  it('target replaces the matched part; the query string is kept', async () => {
    const echo = await echoOf('/api/Customers(1)?$top=2&sap-client=100');
    expect(echo.path).toBe('/sap/opu/odata/sap/ORDERS_SRV/Customers(1)');
    expect(echo.query).toEqual({ $top: '2', 'sap-client': '100' });
  });

  it('the first matching route wins', async () => {
    const echo = await echoOf('/api/special/x');
    expect(echo.path).toBe('/basic/x');
    expect(echo.headers.authorization).toBe(`Basic ${btoa('jane:secret')}`);
  });

  it("the app's own Authorization and cookies are not passed on; the body is", async () => {
    const echo = await echoOf('/api/special/post', {
      method: 'POST',
      headers: { authorization: 'Bearer from-the-browser', cookie: 'JSESSIONID=1', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(echo.method).toBe('POST');
    expect(echo.headers.authorization).toBe(`Basic ${btoa('jane:secret')}`);
    expect(echo.headers.cookie).toBeUndefined();
    expect(echo.body).toBe('{"a":1}');
  });

  it('authenticationType xsuaa: the destination gets a token for the signed-in user', async () => {
    const echo = await echoOf('/user/me');
    const claims = decodeJwt(echo.headers.authorization.replace(/^Bearer /, ''));
    expect(claims.user_name).toBe('alice');
    expect(claims.client_id).toBe('backend-client');
  });

  it("the lookups are the approuter's: a destination-binding token from the tenant host, then a find", async () => {
    await echoOf('/user/me');
    const entries = btp.journal().map((e) => `${e.service} ${e.method} ${e.path.split('?')[0]} ${e.status}`);
    expect(entries).toContain('xsuaa POST /oauth/token 200');
    expect(entries).toContain('destination GET /destination-configuration/v1/destinations/ECHO_USER 200');
  });

  it('an OnPremise destination goes through the Cloud Connector mapping to the backend', async () => {
    const response = await fetch(`${app}/erp/sap/ORDERS_SRV/Orders`);
    expect(await response.json()).toEqual({ d: { results: [{ OrderID: '4711' }] } });
  });

  it('the Cloud Connector still decides: a path outside the resources is 403, an offline connector 503', async () => {
    const outside = await fetch(`${app}/erp-raw/secret`);
    expect(outside.status).toBe(403);
    expect(await outside.text()).toBe('Access denied to resource /secret on system erp.internal:44300');
    const offline = await fetch(`${app}/erp-loc1/sap/ORDERS_SRV/Orders`);
    expect(offline.status).toBe(503);
    expect(await offline.text()).toContain("location ID 'LOC1'");
  });

  it('the OnPremise hop is the connectivity proxy: one journal entry per request, as the HTTP proxy writes it', async () => {
    expect((await fetch(`${app}/erp/sap/ORDERS_SRV/Orders`)).status).toBe(200);
    await fetch(`${app}/erp-raw/secret`);
    expect(btp.journal({ service: 'connectivity-proxy' })).toMatchObject([
      {
        via: 'approuter',
        method: 'GET',
        path: 'http://erp.internal:44300/sap/opu/odata/sap/ORDERS_SRV/Orders',
        status: 200,
        tenant: 'provider',
        locationId: '',
        virtualTarget: 'erp.internal:44300',
        internalTarget: expect.stringMatching(/:\d+$/),
      },
      { via: 'approuter', path: 'http://erp.internal:44300/secret', status: 403, check: 'resource' },
    ]);
  });

  it('proxy faults apply to the OnPremise hop: a status answers instead of the backend, a drop fails the fetch', async () => {
    const fault = btp.core.faults.add({
      target: { service: 'connectivity-proxy', path: '/sap/opu/odata' },
      effect: { status: 502, body: 'erp is down' },
      times: 1,
    });
    const faulted = await fetch(`${app}/erp/sap/ORDERS_SRV/Orders`);
    expect(faulted.status).toBe(502);
    expect(await faulted.text()).toBe('erp is down');
    expect(btp.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({
      via: 'approuter',
      status: 502,
      check: 'fault',
      fault: fault.id,
      faultEffect: 'status',
      virtualTarget: 'erp.internal:44300',
    });
    // Only the proxy hop was faulted: the lookup before it went through.
    expect(btp.journal({ service: 'destination', destination: 'ERP' }).at(-1)).toMatchObject({ status: 200 });

    const connectivityClient = btp.core.state.bindings.find((b) => b.service === 'connectivity')!.clientid;
    const drop = btp.core.faults.add({ target: { clientId: connectivityClient, locationId: '' }, effect: { drop: true }, times: 1 });
    await expect(fetch(`${app}/erp/sap/ORDERS_SRV/Orders`)).rejects.toThrow();
    expect(btp.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 0, check: 'fault', fault: drop.id });
    expect((await fetch(`${app}/erp/sap/ORDERS_SRV/Orders`)).status).toBe(200);
  });

  it("the tenant option: a subscriber's app gets the subscriber's destination; an unknown tenant is named", async () => {
    server.use(
      ...createApprouterHandlers(btp, { xsApp, tenant: 'subscriber1', appUrl: 'http://subscriber1.app.localhost' }),
      ...createApprouterHandlers(btp, { xsApp, tenant: 'nobody', appUrl: 'http://nobody.app.localhost' }),
    );
    try {
      const response = await fetch('http://subscriber1.app.localhost/api/x');
      expect(((await response.json()) as Echo).path).toBe('/subscriber-orders/x');
      expect(btp.journal({ destination: 'ORDERS' }).map((e) => e.tenant)).toEqual(['subscriber1']);
      const unknown = await fetch('http://nobody.app.localhost/api/x');
      expect(unknown.status).toBe(500);
      expect(await unknown.text()).toContain('tenant "nobody" is not a subdomain');
    } finally {
      server.resetHandlers(); // a failed assertion must not leave the extra handlers to the next test
    }
  });

  it('an unknown destination is a 404 that names it', async () => {
    const response = await fetch(`${app}/missing/x`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('destination "NOT_THERE" not found');
  });

  it('a first match without a destination (localDir) is left to other handlers', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const failed = await fetch(`${app}/static/api/x`).then(
      () => undefined,
      (err: Error) => err,
    );
    quiet.mockRestore();
    expect(String((failed?.cause as Error | undefined)?.message)).toMatch(/\[MSW\].*"error" strategy/);
  });

  it('an invalid xs-app.json is refused with the route and field named', () => {
    expect(() => createApprouterHandlers(btp, { xsApp: { routes: [{ source: '^/(' }] } })).toThrow(
      /routes\[0\]\.source: not a regular expression/,
    );
    expect(() => createApprouterHandlers(btp, { xsApp: { routes: [{ source: '^/x', authenticationType: 'ias' }] } })).toThrow(
      /routes\[0\]\.authenticationType/,
    );
  });
});
