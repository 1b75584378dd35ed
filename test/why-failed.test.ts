/**
 * "Why did my call fail?": every refusal carries a reason a person can act on, in the journal and, where BTP
 * has no room for it in the body, in an `X-Emulator-Reason` header. A destination lookup miss names the nearest
 * existing names of both levels while the 404 body stays exactly what the SAP Cloud SDK compares.
 */
import { createServer, request as httpRequest } from 'node:http';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { clientCredentialsTokenCache } from '@sap-cloud-sdk/connectivity/internal';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import type { Chain } from '../emulator/core/journal-chains.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { didYouMean, levenshtein, nearestNames } from '../emulator/core/name-hints.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, serviceToken } from './helpers.ts';
import { sapSocksConnect } from './socks5-client.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  emu.core.loadScenario({
    ...emu.core.scenario,
    tenants: emu.core.scenario.tenants.map((t, i) =>
      i === 0
        ? {
            ...t,
            destinations: [
              ...t.destinations,
              {
                Name: 'ERP_QAS',
                Type: 'HTTP',
                URL: 'http://erp.internal:44300',
                Authentication: 'NoAuthentication',
                ProxyType: 'OnPremise',
              },
              {
                Name: 'WRONG_LOCATION',
                Type: 'HTTP',
                URL: 'http://erp.internal:44300',
                Authentication: 'NoAuthentication',
                ProxyType: 'OnPremise',
                CloudConnectorLocationId: 'nowhere',
              },
              {
                Name: 'BROKEN_OAUTH',
                Type: 'HTTP',
                URL: 'http://erp.internal:44300',
                Authentication: 'OAuth2ClientCredentials',
                ProxyType: 'OnPremise',
                tokenServiceURL: '{{services}}/oauth/token',
                clientId: 'backend-client',
                clientSecret: 'wrong',
              },
              {
                Name: 'EXTERNAL_OAUTH',
                Type: 'HTTP',
                URL: 'http://erp.internal:44300',
                Authentication: 'OAuth2ClientCredentials',
                ProxyType: 'OnPremise',
                tokenServiceURL: '{{external}}/token',
                clientId: 'c',
                clientSecret: 's',
              },
              {
                Name: 'MAIL_WRONG_PORT',
                Type: 'MAIL',
                ProxyType: 'OnPremise',
                Authentication: 'NoAuthentication',
                'mail.smtp.host': 'smtp.internal',
                'mail.smtp.port': '26',
              },
            ],
          }
        : t,
    ),
  });
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(() => {
  emu.reset();
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
  // The SDK keeps client-credentials tokens for the worker's life; the chains below start with the token
  // requests, and emu.reset() empties the journal that holds their grants: every test starts like a new process.
  clientCredentialsTokenCache.clear();
});

describe('name hints', () => {
  it('edit distance', () => {
    expect(levenshtein('ERP_QA', 'ERP_QAS')).toBe(1);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
  });

  it('nearest names: typos, casing and missing suffixes; nothing for unrelated names', () => {
    const names = ['ERP_QAS', 'ERP_PRD', 'BACKEND_NOAUTH', 'S4_ODATA'];
    expect(nearestNames('ERP_QA', names)).toEqual(['ERP_QAS']);
    expect(nearestNames('erp_qas', names)).toEqual(['ERP_QAS']);
    expect(nearestNames('ERP_PXS', names)).toEqual(['ERP_PRD', 'ERP_QAS']);
    expect(nearestNames('BACKEND', names)).toEqual(['BACKEND_NOAUTH']);
    expect(nearestNames('WEATHER', names)).toEqual([]);
    expect(didYouMean('ERP_QA', names)).toBe('did you mean `ERP_QAS`?');
    expect(didYouMean('ERP_PXS', names)).toBe('did you mean `ERP_PRD` or `ERP_QAS`?');
    expect(didYouMean('WEATHER', names)).toBe('');
  });
});

describe('a destination lookup miss', () => {
  const lookup = async (name: string): Promise<Response> =>
    fetch(`${emu.urls.services}/destination-configuration/v1/destinations/${name}`, {
      headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}` },
    });

  it('keeps the 404 body the SDK compares and puts "did you mean" into X-Emulator-Reason and the journal', async () => {
    const res = await lookup('ERP_QA');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"ErrorMessage":"Configuration with the specified name was not found"}');
    const reason = decodeURI(res.headers.get('x-emulator-reason')!);
    expect(reason).toBe(
      'destination `ERP_QA` exists neither on the instance level nor on the subaccount level of `provider`; did you mean `ERP_QAS`?',
    );
    expect(emu.journal({ destination: 'ERP_QA' })).toMatchObject([{ status: 404, reason }]);
  });

  it('the SAP Cloud SDK still reads the miss as "not found" (null), and the journal says what was meant', async () => {
    expect(await getDestination({ destinationName: 'backend_noauth', useCache: false })).toBeNull();
    expect(emu.journal({ destination: 'backend_noauth' }).at(-1)).toMatchObject({
      status: 404,
      reason: expect.stringContaining('did you mean `BACKEND_NOAUTH`?'),
    });
  });

  it('looks at both levels: a name on the instance level is suggested too', async () => {
    const res = await lookup('INSTANCE_NOAUT');
    expect(decodeURI(res.headers.get('x-emulator-reason')!)).toContain('did you mean `INSTANCE_NOAUTH`?');
  });

  it('without a near name it says that names are case-sensitive', async () => {
    const res = await lookup('WEATHER_API');
    expect(decodeURI(res.headers.get('x-emulator-reason')!)).toBe(
      'destination `WEATHER_API` exists neither on the instance level nor on the subaccount level of `provider` (names are case-sensitive)',
    );
  });
});

describe('refusals of the connectivity proxy name the cause', () => {
  function viaProxy(token: string): Promise<{ status: number; reason: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: emu.ports.httpProxy,
          path: 'http://erp.internal:44300/x',
          headers: { 'proxy-authorization': `Bearer ${token}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: decodeURI(String(res.headers['x-emulator-reason'])) }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('a token of another binding: "issued to client …, not to the connectivity binding"', async () => {
    const result = await viaProxy(await serviceToken(emu, 'destination'));
    expect(result.status).toBe(407);
    expect(result.reason).toBe(
      `the token was issued to client \`${binding(emu, 'destination').clientid}\`, not to the connectivity binding's client (\`${binding(emu, 'connectivity').clientid}\`)`,
    );
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 407, check: 'auth', reason: result.reason });
  });
});

describe('the story of one call: the journal chain', () => {
  const lastCall = async (destination: string): Promise<Chain> => {
    const res = await fetch(`${emu.urls.control}/journal/last-call?destination=${destination}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Chain;
  };

  it('a failed OnPremise call through the SAP Cloud SDK: service token, lookup, connectivity token, proxy 503 with its reason', async () => {
    await expect(
      executeHttpRequest({ destinationName: 'WRONG_LOCATION', useCache: false }, { method: 'get', url: '/sap/opu/odata/x' }),
    ).rejects.toThrow(/503/);
    const chain = await lastCall('WRONG_LOCATION');
    expect(chain.by).toEqual({ destination: 'WRONG_LOCATION' });
    expect(chain.steps.map((s) => s.role)).toEqual(['service-token', 'lookup', 'connectivity-token', 'proxy']);
    expect(chain.failed).toMatchObject({
      role: 'proxy',
      status: 503,
      reason: 'no Cloud Connector for location `nowhere` in subaccount `provider`',
    });
    const [grant, lookup, connectivity, proxy] = chain.steps.map((s) => s.entry);
    expect(grant).toMatchObject({ clientId: binding(emu, 'destination').clientid, grantType: 'client_credentials' });
    expect(lookup).toMatchObject({
      status: 200,
      destination: 'WRONG_LOCATION',
      target: 'erp.internal:44300',
      proxyType: 'OnPremise',
      locationId: 'nowhere',
    });
    expect(connectivity).toMatchObject({ clientId: binding(emu, 'connectivity').clientid });
    expect(proxy).toMatchObject({
      service: 'connectivity-proxy',
      virtualTarget: 'erp.internal:44300',
      locationId: 'nowhere',
      check: 'location',
    });
    expect(chain.summary.at(-1)).toBe(
      'proxy: GET http://erp.internal:44300/sap/opu/odata/x → 503: no Cloud Connector for location `nowhere` in subaccount `provider`',
    );
    // The same through the handle, and as text for a terminal.
    expect(emu.lastCall('WRONG_LOCATION')?.failed?.reason).toBe(chain.failed?.reason);
    const text = await (await fetch(`${emu.urls.control}/journal/last-call?destination=WRONG_LOCATION&format=text`)).text();
    expect(text.split('\n')[0]).toBe('failed at proxy (503): no Cloud Connector for location `nowhere` in subaccount `provider`');
    expect(text).toContain('  lookup: GET /destination-configuration/v1/destinations/WRONG_LOCATION');
  });

  it('a failing token flow: the token request the lookup made is in the chain and is where it failed', async () => {
    // the SDK refuses because every auth token the emulator returned carries an error
    await expect(
      executeHttpRequest({ destinationName: 'BROKEN_OAUTH', useCache: false }, { method: 'get', url: '/x' }),
    ).rejects.toMatchObject({
      message: 'Failed to build headers.',
      cause: { message: expect.stringMatching(/tried to provide authorization tokens but failed in all cases/) },
    });
    const chain = await lastCall('BROKEN_OAUTH');
    expect(chain.steps.map((s) => s.role)).toEqual(['service-token', 'token-flow', 'lookup']);
    expect(chain.failed).toMatchObject({
      role: 'token-flow',
      status: 401,
      reason: expect.stringContaining('wrong client_secret for client "backend-client"'),
    });
    expect(chain.steps[2].entry.authTokenError).toMatch(/Retrieval of OAuth token failed.*401/);
  });

  it('the lookup reference stays inside the emulator: an external token service does not see it', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'external-token', token_type: 'bearer', expires_in: 3600 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    emu.core.extraPlaceholders.external = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const res = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/EXTERNAL_OAUTH`, {
        headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}`, 'x-correlation-id': 'ext-1' },
      });
      expect(((await res.json()) as { authTokens: { value: string }[] }).authTokens[0].value).toBe('external-token');
      expect(seen).toHaveLength(1);
      expect(seen[0]['x-emulator-lookup']).toBeUndefined();
      expect(seen[0]['x-correlation-id']).toBe('ext-1');
    } finally {
      delete emu.core.extraPlaceholders.external;
      server.close();
    }
  });

  it('a lookup refused for an expired token: the chain names the grant of that token and the reason', async () => {
    emu.clock({ action: 'freeze' });
    try {
      const token = await serviceToken(emu, 'destination');
      emu.clock({ action: 'advance', by: '12h30s' });
      await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
        headers: { authorization: `Bearer ${token}` },
      });
    } finally {
      emu.clock({ action: 'real' });
    }
    const chain = await lastCall('BACKEND_NOAUTH');
    expect(chain.steps.map((s) => s.role)).toEqual(['service-token', 'lookup']);
    expect(chain.failed).toMatchObject({ role: 'lookup', status: 401, reason: 'Unauthorized: the token expired 30 s ago' });
  });

  it('by correlation id: the lookup, the token flow it ran, the proxy request and the backend all carry the id', async () => {
    const id = 'story-1';
    const lookup = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_OAUTH`, {
      headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}`, 'x-correlation-id': id },
    });
    expect(lookup.status).toBe(200);
    const token = await serviceToken(emu, 'connectivity');
    const echo = await new Promise<EchoBody>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: emu.ports.httpProxy,
          path: 'http://erp.internal:44300/orders',
          headers: { 'proxy-authorization': `Bearer ${token}`, 'x-correlation-id': id },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body) as EchoBody));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(echo.headers['x-correlation-id']).toBe(id);
    const res = await fetch(`${emu.urls.control}/journal/chains/${id}`);
    expect(res.status).toBe(200);
    const chain = (await res.json()) as Chain;
    expect(chain.steps.map((s) => s.role)).toEqual(['service-token', 'token-flow', 'lookup', 'connectivity-token', 'proxy']);
    expect(chain.failed).toBeUndefined();
    const flow = chain.steps[1].entry;
    expect(flow).toMatchObject({ correlationId: id, clientId: 'backend-client', grantType: 'client_credentials', status: 200 });
    expect(chain.steps[2].entry.authTokenJtis).toEqual([flow.issuedJti]);
  });

  it('the proxy gives a call without an id one, sends it to the backend and journals it', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const echo = await new Promise<EchoBody>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: emu.ports.httpProxy,
          path: 'http://erp.internal:44300/plain',
          headers: { 'proxy-authorization': `Bearer ${token}` },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body) as EchoBody));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const id = String(echo.headers['x-correlation-id']);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ correlationId: id, status: 200 });
    expect(emu.chain(id)?.steps.map((s) => s.role)).toEqual(['connectivity-token', 'proxy']);
  });

  it('a SOCKS5 tunnel after a MAIL lookup: the refused CONNECT (reply 02) and its reason end the chain', async () => {
    const lookup = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/MAIL_WRONG_PORT`, {
      headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}` },
    });
    expect(lookup.status).toBe(200);
    const jwt = await serviceToken(emu, 'connectivity');
    const connect = sapSocksConnect(emu.ports.socks5, jwt, { host: 'smtp.internal', port: 26 }, { timeout: 5000 });
    await expect(connect).rejects.toThrow('Socks5 proxy rejected connection - NotAllowed'); // REP 02: the virtual host is not mapped
    const chain = emu.lastCall('MAIL_WRONG_PORT')!;
    expect(chain.steps.map((s) => s.role)).toEqual(['service-token', 'lookup', 'connectivity-token', 'socks5']);
    expect(chain.steps[1].entry.target).toBe('smtp.internal:26');
    expect(chain.failed).toMatchObject({
      role: 'socks5',
      status: 2,
      reason: expect.stringContaining('virtual host `smtp.internal:26` is not mapped'),
    });
  });

  it('unknown ids and destinations answer 404 with a hint; a missing destination parameter is a 400 naming it', async () => {
    const noChain = await fetch(`${emu.urls.control}/journal/chains/nothing-here`);
    expect(noChain.status).toBe(404);
    expect(((await noChain.json()) as { message: string }).message).toMatch(/no journal entry carries correlation id "nothing-here"/);
    const noCall = await fetch(`${emu.urls.control}/journal/last-call?destination=NEVER_LOOKED_UP`);
    expect(noCall.status).toBe(404);
    const missing = await fetch(`${emu.urls.control}/journal/last-call`);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { issues: { path: string }[] }).issues[0].path).toBe('destination');
  });
});
