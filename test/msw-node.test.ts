/**
 * The MSW face in Node: the SAP Cloud SDK (`getDestination`, `executeHttpRequest`), unmodified, against
 * `setupServer` with the emulator's handlers — XSUAA, the Destination Service and backend stubs all answered
 * in-process by the same core the servers run. No socket is opened, and MSW fails any request it cannot answer.
 */
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { decodeJwt } from 'jose';
import { setupServer, type SetupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBtpHandlers, type BtpHandlers } from '../emulator/msw/index.ts';

const subscriberZid = '5d7e0a1c-3b2f-4c6d-9e8a-7f1b2c3d4e05';
const oauth = { tokenServiceURL: '{{services}}/oauth/token', clientId: 'backend-client', clientSecret: 'backend-secret' };

const scenario = {
  name: 'msw-node',
  tenants: [
    {
      subdomain: 'provider',
      destinations: [
        { Name: 'ORDERS', Type: 'HTTP', URL: '{{backend}}/sap/orders', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
        {
          Name: 'ECHO_BASIC',
          Type: 'HTTP',
          URL: '{{backend}}/echo',
          Authentication: 'BasicAuthentication',
          ProxyType: 'Internet',
          User: 'jane',
          Password: 'secret',
        },
        {
          Name: 'ECHO_CC',
          Type: 'HTTP',
          URL: '{{backend}}/echo',
          Authentication: 'OAuth2ClientCredentials',
          ProxyType: 'Internet',
          ...oauth,
        },
        { Name: 'ECHO_USER', Type: 'HTTP', URL: '{{backend}}/echo', Authentication: 'OAuth2JWTBearer', ProxyType: 'Internet', ...oauth },
      ],
    },
    {
      subdomain: 'subscriber1',
      zid: subscriberZid,
      destinations: [
        {
          Name: 'SUB_ECHO',
          Type: 'HTTP',
          URL: '{{backend}}/echo',
          Authentication: 'OAuth2ClientCredentials',
          ProxyType: 'Internet',
          tokenServiceURLType: 'Common',
          ...oauth,
        },
      ],
    },
  ],
  clients: [{ clientid: 'backend-client', clientsecret: 'backend-secret', xsappname: 'backend!t2', authorities: ['backend!t2.Read'] }],
  users: [{ name: 'alice', email: 'alice@example.com' }],
  backend: { stubs: [{ method: 'GET', path: '/sap/orders/*', body: { orders: [{ id: 1, item: 'pencil' }] } }] },
};

let btp: BtpHandlers;
let server: SetupServer;
const listeningSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
const socketsBefore = listeningSockets();

beforeAll(async () => {
  btp = await createBtpHandlers(scenario);
  server = setupServer(...btp.handlers);
  server.listen({ onUnhandledFrame: 'error' });
  process.env.VCAP_SERVICES = btp.env.VCAP_SERVICES;
});

afterEach(() => btp.reset());

afterAll(() => {
  server?.close();
  delete process.env.VCAP_SERVICES;
});

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
}

const bearerClaims = (echo: Echo): Record<string, unknown> => decodeJwt(echo.headers.authorization.replace(/^Bearer /, ''));

describe('SAP Cloud SDK against the MSW handlers (no socket)', () => {
  it('the bindings point at the mock hosts, and no emulator server listens', () => {
    const vcap = JSON.parse(btp.env.VCAP_SERVICES) as Record<string, { credentials: { url: string; uaadomain: string } }[]>;
    expect(vcap.destination[0].credentials.url).toBe('http://btp-emulator:20000');
    expect(vcap.xsuaa[0].credentials.uaadomain).toBe('btp-emulator:20000');
    expect(listeningSockets()).toBe(socketsBefore);
  });

  it('getDestination finds the destination, its {{backend}} URL filled in', async () => {
    const destination = await getDestination({ destinationName: 'ORDERS', useCache: false });
    expect(destination?.url).toBe('http://btp-backend:20010/sap/orders');
    expect(destination?.authentication).toBe('NoAuthentication');
  });

  it('executeHttpRequest reaches the backend stub through the destination', async () => {
    const response = await executeHttpRequest({ destinationName: 'ORDERS', useCache: false }, { method: 'get', url: '/open' });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ orders: [{ id: 1, item: 'pencil' }] });
  });

  it('a stub added at run time answers, and reset removes it', async () => {
    btp.addStub({ method: 'POST', path: '/echo/orders', status: 201, body: { created: true } });
    const created = await executeHttpRequest(
      { destinationName: 'ECHO_BASIC', useCache: false },
      { method: 'post', url: '/orders', data: {} },
      { fetchCsrfToken: false },
    );
    expect(created.status).toBe(201);
    expect(created.data).toEqual({ created: true });
    btp.reset();
    const echoed = await executeHttpRequest(
      { destinationName: 'ECHO_BASIC', useCache: false },
      { method: 'post', url: '/orders', data: {} },
      { fetchCsrfToken: false },
    );
    expect(echoed.status).toBe(200);
    expect((echoed.data as Echo).path).toBe('/echo/orders');
  });

  it('BasicAuthentication: the backend receives the Basic header built from User and Password', async () => {
    const response = await executeHttpRequest({ destinationName: 'ECHO_BASIC', useCache: false }, { method: 'get', url: '/b' });
    expect((response.data as Echo).headers.authorization).toBe(`Basic ${btoa('jane:secret')}`);
  });

  it('OAuth2ClientCredentials: the backend receives a token the emulator issued to the destination client', async () => {
    const response = await executeHttpRequest({ destinationName: 'ECHO_CC', useCache: false }, { method: 'get', url: '/c' });
    const claims = bearerClaims(response.data as Echo);
    expect(claims.client_id).toBe('backend-client');
    expect(claims.grant_type).toBe('client_credentials');
    expect(claims.iss).toBe('https://provider.btp-emulator:20000/oauth/token');
  });

  it('OAuth2JWTBearer with a user token: the backend receives a token of that user', async () => {
    const jwt = await btp.issueUserToken({ user: 'alice' });
    const response = await executeHttpRequest({ destinationName: 'ECHO_USER', jwt, useCache: false }, { method: 'get', url: '/u' });
    const claims = bearerClaims(response.data as Echo);
    expect(claims.user_name).toBe('alice');
    expect(claims.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
  });

  it('a subscriber user: the SDK gets its subscriber token over https from the mock uaadomain', async () => {
    const jwt = await btp.issueUserToken({ user: 'alice', tenant: 'subscriber1' });
    const response = await executeHttpRequest({ destinationName: 'SUB_ECHO', jwt, useCache: false }, { method: 'get', url: '/s' });
    expect(bearerClaims(response.data as Echo).zid).toBe(subscriberZid);
    expect(btp.journal({ service: 'xsuaa', tenant: 'subscriber1' }).length).toBeGreaterThan(0);
  });

  it('an unknown destination resolves to null; the journal shows the 404', async () => {
    expect(await getDestination({ destinationName: 'MISSING', useCache: false })).toBeNull();
    const notFound = btp.journal({ service: 'destination', status: 404 });
    expect(notFound.some((e) => e.path.startsWith('/destination-configuration/v1/destinations/MISSING'))).toBe(true);
  });

  it('the control API answers over the mock host too', async () => {
    const health = await fetch(`${btp.urls.services}/_emulator/health`);
    expect(await health.json()).toEqual({ status: 'ok', scenario: 'msw-node', tenants: 2 });
    const issued = await fetch(`${btp.urls.services}/_emulator/users/token`, { method: 'POST', body: JSON.stringify({ user: 'alice' }) });
    expect(decodeJwt(((await issued.json()) as { access_token: string }).access_token).user_name).toBe('alice');
  });

  it('a request MSW cannot answer fails instead of reaching the network', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const failed = await fetch('http://127.0.0.1:59999/x').then(
      () => undefined,
      (err: Error) => err,
    );
    quiet.mockRestore();
    expect(String((failed?.cause as Error | undefined)?.message)).toMatch(/\[MSW\].*"error" strategy/);
  });
});
