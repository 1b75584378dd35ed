/**
 * The SAP Cloud SDK (`@sap-cloud-sdk/connectivity` + `http-client`), unmodified, against a running emulator:
 * it reads VCAP_SERVICES from the emulator, fetches its service tokens from the emulator's XSUAA, finds
 * destinations in the emulator's Destination Service and calls a local target with the right credentials.
 */
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';

let emu: EmulatorHandle;
let echo: EchoServer;

const subscriberZid = '0c2b5a6e-7d41-4f0a-8e3b-2d9c1f4e5b02';

beforeAll(async () => {
  echo = await startEchoServer();
  const oauth = { tokenServiceURL: '{{services}}/oauth/token', clientId: 'backend-client', clientSecret: 'backend-secret' };
  emu = await startEmulator({
    port: 0,
    scenario: {
      name: 'sdk',
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            { Name: 'NOAUTH', Type: 'HTTP', URL: `${echo.url}/noauth`, Authentication: 'NoAuthentication', ProxyType: 'Internet' },
            {
              Name: 'BASIC',
              Type: 'HTTP',
              URL: `${echo.url}/basic`,
              Authentication: 'BasicAuthentication',
              ProxyType: 'Internet',
              User: 'jane',
              Password: 'pa:ss',
            },
            { Name: 'CC', Type: 'HTTP', URL: `${echo.url}/cc`, Authentication: 'OAuth2ClientCredentials', ProxyType: 'Internet', ...oauth },
            {
              Name: 'CC_COMMON',
              Type: 'HTTP',
              URL: `${echo.url}/cc-common`,
              Authentication: 'OAuth2ClientCredentials',
              ProxyType: 'Internet',
              tokenServiceURLType: 'Common',
              ...oauth,
            },
            {
              Name: 'JWTBEARER',
              Type: 'HTTP',
              URL: `${echo.url}/jwt-bearer`,
              Authentication: 'OAuth2JWTBearer',
              ProxyType: 'Internet',
              ...oauth,
            },
            {
              Name: 'BOTH_LEVELS',
              Type: 'HTTP',
              URL: `${echo.url}/subaccount-level`,
              Authentication: 'NoAuthentication',
              ProxyType: 'Internet',
            },
            {
              Name: 'BROKEN_OAUTH',
              Type: 'HTTP',
              URL: `${echo.url}/broken`,
              Authentication: 'OAuth2ClientCredentials',
              ProxyType: 'Internet',
              ...oauth,
              clientSecret: 'wrong',
            },
          ],
          instances: {
            'my-destination': {
              destinations: [
                {
                  Name: 'BOTH_LEVELS',
                  Type: 'HTTP',
                  URL: `${echo.url}/instance-level`,
                  Authentication: 'NoAuthentication',
                  ProxyType: 'Internet',
                },
              ],
            },
          },
        },
        {
          subdomain: 'subscriber1',
          zid: subscriberZid,
          destinations: [
            {
              Name: 'SUB_CC',
              Type: 'HTTP',
              URL: `${echo.url}/subscriber-cc`,
              Authentication: 'OAuth2ClientCredentials',
              ProxyType: 'Internet',
              tokenServiceURLType: 'Common',
              ...oauth,
            },
          ],
        },
      ],
      clients: [{ clientid: 'backend-client', clientsecret: 'backend-secret', xsappname: 'backend!t2', authorities: ['backend!t2.Read'] }],
      users: [{ name: 'alice', email: 'alice@example.com', scopes: ['Display'] }],
    },
  });
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
  await echo?.close();
});

const bearerOf = (header: string | string[] | undefined): Record<string, unknown> => decodeJwt(String(header).replace(/^Bearer /, ''));

describe('SAP Cloud SDK against the emulator', () => {
  it('NoAuthentication: finds the destination and calls the target without Authorization', async () => {
    const destination = await getDestination({ destinationName: 'NOAUTH', useCache: false });
    expect(destination?.url).toBe(`${echo.url}/noauth`);
    await executeHttpRequest({ destinationName: 'NOAUTH', useCache: false }, { method: 'get', url: '/hello?x=1' });
    expect(echo.last().url).toBe('/noauth/hello?x=1');
    expect(echo.last().headers.authorization).toBeUndefined();
  });

  it('BasicAuthentication: the target receives the Basic header built from User and Password', async () => {
    await executeHttpRequest({ destinationName: 'BASIC', useCache: false }, { method: 'get', url: '/b' });
    expect(echo.last().headers.authorization).toBe(`Basic ${Buffer.from('jane:pa:ss').toString('base64')}`);
  });

  it('OAuth2ClientCredentials: the target receives a token the emulator issued to the destination client', async () => {
    await executeHttpRequest(
      { destinationName: 'CC', useCache: false },
      { method: 'post', url: '/c', data: { a: 1 } },
      { fetchCsrfToken: false },
    );
    const received = echo.last();
    expect(received.method).toBe('POST');
    const claims = bearerOf(received.headers.authorization);
    expect(claims.client_id).toBe('backend-client');
    expect(claims.grant_type).toBe('client_credentials');
    expect((claims.ext_attr as { zdn: string }).zdn).toBe('provider');
    expect(claims.scope).toEqual(['backend!t2.Read']);
  });

  it('OAuth2ClientCredentials for a subscriber tenant via the jwt option gets a subscriber token', async () => {
    const userJwt = await emu.issueUserToken({ user: 'alice', tenant: 'subscriber1' });
    const destination = await getDestination({ destinationName: 'SUB_CC', jwt: userJwt, useCache: false });
    expect(destination?.url).toBe(`${echo.url}/subscriber-cc`);
    await executeHttpRequest({ destinationName: 'SUB_CC', jwt: userJwt, useCache: false }, { method: 'get', url: '/s' });
    const claims = bearerOf(echo.last().headers.authorization);
    expect(claims.zid).toBe(subscriberZid);
    expect(claims.client_id).toBe('backend-client');
  });

  it('a subscriber user falls back to a provider destination, whose Common token service is called for the subscriber', async () => {
    const userJwt = await emu.issueUserToken({ user: 'alice', tenant: 'subscriber1' });
    await executeHttpRequest({ destinationName: 'CC_COMMON', jwt: userJwt, useCache: false }, { method: 'get', url: '/x' });
    expect(echo.last().url).toBe('/cc-common/x');
    expect(bearerOf(echo.last().headers.authorization).zid).toBe(subscriberZid);
  });

  it('OAuth2JWTBearer with a user token: the target receives a user token of that user', async () => {
    const userJwt = await emu.issueUserToken({ user: 'alice' });
    await executeHttpRequest({ destinationName: 'JWTBEARER', jwt: userJwt, useCache: false }, { method: 'get', url: '/u' });
    const claims = bearerOf(echo.last().headers.authorization);
    expect(claims.user_name).toBe('alice');
    expect(claims.email).toBe('alice@example.com');
    expect(claims.client_id).toBe('backend-client');
    expect(claims.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
  });

  it('an unknown destination name resolves to null', async () => {
    expect(await getDestination({ destinationName: 'DOES_NOT_EXIST', useCache: false })).toBeNull();
  });

  it('names are exact: a different casing is not found', async () => {
    expect(await getDestination({ destinationName: 'noauth', useCache: false })).toBeNull();
  });

  it('an instance-level destination wins over a subaccount-level one of the same name', async () => {
    const destination = await getDestination({ destinationName: 'BOTH_LEVELS', useCache: false });
    expect(destination?.url).toBe(`${echo.url}/instance-level`);
  });

  it('a failing token service is reported in authTokens[].error and the SDK refuses to call the target', async () => {
    const destination = await getDestination({ destinationName: 'BROKEN_OAUTH', useCache: false });
    expect(destination?.authTokens?.[0].error).toMatch(/responded with 401.*wrong client_secret/);
    const before = echo.received.length;
    // the SDK refuses because every auth token the emulator returned carries an error
    await expect(
      executeHttpRequest({ destinationName: 'BROKEN_OAUTH', useCache: false }, { method: 'get', url: '/' }),
    ).rejects.toMatchObject({
      message: 'Failed to build headers.',
      cause: { message: expect.stringMatching(/tried to provide authorization tokens but failed in all cases/) },
    });
    expect(echo.received.length).toBe(before);
  });

  it('the journal shows the SDK traffic: service tokens, lookups and the token flow', async () => {
    const afterId = emu.journal().at(-1)?.id ?? 0; // only what this test's own call caused
    await executeHttpRequest({ destinationName: 'CC', useCache: false }, { method: 'get', url: '/journal' });
    const entries = emu.journal({ destination: 'CC', afterId });
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.service === 'destination' && e.status === 200)).toBe(true);
    expect(emu.journal({ service: 'xsuaa', afterId }).some((e) => e.path === '/oauth/token')).toBe(true);
  });
});
