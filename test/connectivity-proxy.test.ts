/**
 * The SAP Cloud SDK (`@sap-cloud-sdk/http-client`), unmodified, reaching the fake on-prem backend through
 * the emulated connectivity proxy (20003) and Cloud Connector with OnPremise destinations: what the backend
 * receives, and every documented failure (407, 503, 403, 405, 502, 504) as the SDK sees it.
 */
import { request as httpRequest } from 'node:http';
import type { ProxyConfiguration } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import forge from 'node-forge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';
import { serviceToken } from './helpers.ts';

let emu: EmulatorHandle;

const erp = 'http://erp.internal:44300';
const onPrem = (name: string, props: Record<string, string> = {}): Record<string, string> => ({
  Name: name,
  Type: 'HTTP',
  URL: erp,
  Authentication: 'NoAuthentication',
  ProxyType: 'OnPremise',
  ...props,
});

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default', proxyBackendTimeoutMs: 400 });
  emu.core.loadScenario({
    ...emu.core.scenario,
    tenants: emu.core.scenario.tenants.map((t, i) =>
      i === 0
        ? {
            ...t,
            destinations: [
              ...t.destinations,
              onPrem('WRONG_LOCATION', { CloudConnectorLocationId: 'nowhere' }),
              onPrem('UNMAPPED', { URL: 'http://unknown.internal:80' }),
              onPrem('GW', { URL: 'http://gw.internal:44300' }),
              onPrem('HTTPS_TARGET', { URL: 'https://erp.internal:44300' }),
              onPrem('DEAD_BACKEND', { URL: 'http://dead.internal:1' }),
              onPrem('OFFLINE_TEST'),
            ],
            cloudConnectors: t.cloudConnectors.map((c) =>
              c.locationId === ''
                ? {
                    ...c,
                    systems: [
                      ...c.systems,
                      {
                        virtualHost: 'dead.internal',
                        virtualPort: 1,
                        internalHost: '127.0.0.1',
                        internalPort: 1,
                        protocol: 'HTTP' as const,
                        hostInHeader: 'virtual' as const,
                        principalType: 'none' as const,
                      },
                    ],
                  }
                : c,
            ),
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
});

async function echoVia(destinationName: string, url = '/echo', jwt?: string): Promise<EchoBody> {
  const res = await executeHttpRequest({ destinationName, jwt, useCache: false }, { method: 'get', url });
  return res.data as EchoBody;
}

/** The status of a failed SDK call (the SDK rethrows axios' error). */
async function failedStatus(call: Promise<unknown>): Promise<{ status?: number; body?: unknown; reason?: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as {
      response?: { status: number; data: unknown; headers: Record<string, string> };
      cause?: { response?: { status: number; data: unknown; headers: Record<string, string> } };
    };
    const response = e.response ?? e.cause?.response;
    return {
      status: response?.status,
      body: response?.data,
      reason: response?.headers?.['x-emulator-reason'] && decodeURI(response.headers['x-emulator-reason']),
    };
  }
  throw new Error('expected the call to fail');
}

const connectivityHeaders = (headers: Record<string, unknown>): string[] =>
  Object.keys(headers).filter((h) => /^(sap-connectivity-|proxy-)/i.test(h));

describe('OnPremise destinations through the connectivity proxy', () => {
  it('BasicAuthentication reaches the backend with Authorization and sap-client, without connectivity headers', async () => {
    const echo = await echoVia('ONPREM_BASIC', '/sap/bc/echo?x=1');
    expect(echo.method).toBe('GET');
    expect(echo.path).toBe('/sap/bc/echo');
    expect(echo.query).toEqual({ x: '1' });
    expect(echo.headers.authorization).toBe(`Basic ${Buffer.from('erp-user:erp-password').toString('base64')}`);
    expect(echo.headers['sap-client']).toBe('100');
    expect(echo.headers.host).toBe('erp.internal:44300');
    expect(connectivityHeaders(echo.headers)).toEqual([]);
    const [entry] = emu.journal({ service: 'connectivity-proxy' }).slice(-1);
    expect(entry).toMatchObject({
      status: 200,
      tenant: 'provider',
      locationId: '',
      virtualTarget: 'erp.internal:44300',
      internalTarget: `127.0.0.1:${emu.ports.backendHttp}`,
    });
  });

  it('NoAuthentication with CloudConnectorLocationId goes through the LOC1 connector (Host rewritten to internal)', async () => {
    const echo = await echoVia('ONPREM_LOC1');
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers.host).toBe(`127.0.0.1:${emu.ports.backendHttp}`);
    expect(echo.headers['x-forwarded-host']).toBe('erp.internal:44300');
    expect(connectivityHeaders(echo.headers)).toEqual([]);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 200, locationId: 'LOC1' });
  });

  it('PrincipalPropagation sends the user as a short-lived client certificate issued by the emulator CA', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const echo = await echoVia('ONPREM_PP', '/echo', jwt);
    expect(connectivityHeaders(echo.headers)).toEqual([]);
    expect(echo.headers.authorization).toBeUndefined();
    const der = forge.util.decode64(String(echo.headers.ssl_client_cert));
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(der));
    expect(cert.subject.getField('CN').value).toBe('alice');
    const ca = forge.pki.certificateFromPem(await import('node:fs').then((fs) => fs.readFileSync(emu.caFile, 'utf8')));
    expect(ca.verify(cert)).toBe(true);
    const minutes = (cert.validity.notAfter.getTime() - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(50);
    expect(minutes).toBeLessThanOrEqual(60);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 200, principal: 'alice' });
  });

  it('reaches the OData sample and stubs through a mapping with restricted resources', async () => {
    const res = await executeHttpRequest(
      { destinationName: 'GW', useCache: false },
      { method: 'get', url: '/sap/opu/odata/sap/API_SAMPLE_SRV/Products?$top=2' },
    );
    expect((res.data as { d: { results: unknown[] } }).d.results).toHaveLength(2);
    const ping = await executeHttpRequest({ destinationName: 'GW', useCache: false }, { method: 'get', url: '/sap/bc/ping' });
    expect(ping.data).toBe('pong');
  });

  it("POST bodies arrive unchanged, after the SDK's CSRF fetch through the same proxy", async () => {
    const res = await executeHttpRequest(
      { destinationName: 'ONPREM_BASIC', useCache: false },
      { method: 'post', url: '/echo/post', data: { hello: 'world' } },
    );
    const echo = res.data as EchoBody;
    expect(echo.method).toBe('POST');
    expect(JSON.parse(echo.body)).toEqual({ hello: 'world' });
    const methods = emu.journal({ service: 'connectivity-proxy' }).map((e) => e.method);
    expect(methods.at(-1)).toBe('POST');
    expect(methods.slice(0, -1)).toContain('HEAD');
  });
});

describe('documented failures, as the SDK sees them', () => {
  it('a wrong location ID → 503', async () => {
    const failure = await failedStatus(echoVia('WRONG_LOCATION'));
    expect(failure.status).toBe(503);
    expect(failure.reason).toContain('no Cloud Connector for location `nowhere` in subaccount `provider`');
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 503, check: 'location', locationId: 'nowhere' });
  });

  it("the proxy token's tenant selects the connectors: a subscriber user without connectors → 503", async () => {
    const jwt = await emu.issueUserToken({ user: 'alice', tenant: 'subscriber1' });
    const failure = await failedStatus(echoVia('ONPREM_PP', '/echo', jwt));
    expect(failure.status).toBe(503);
    expect(failure.reason).toContain('subaccount `subscriber1`');
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ tenant: 'subscriber1', check: 'location' });
  });

  it('an offline connector → 503', async () => {
    emu.onPrem.setConnectorOnline({ locationId: 'LOC1', online: false });
    const failure = await failedStatus(echoVia('ONPREM_LOC1'));
    expect(failure.status).toBe(503);
    expect(failure.reason).toContain('offline');
    emu.onPrem.setConnectorOnline({ locationId: 'LOC1', online: true });
    expect((await echoVia('ONPREM_LOC1')).method).toBe('GET');
  });

  it('an unmapped virtual host → 403 "Access denied to system …"', async () => {
    const failure = await failedStatus(echoVia('UNMAPPED'));
    expect(failure.status).toBe(403);
    expect(failure.body).toBe('Access denied to system unknown.internal:80');
    expect(failure.reason).toContain('virtual host `unknown.internal:80` is not mapped');
  });

  it('a path outside the exposed resources → 403', async () => {
    const failure = await failedStatus(echoVia('GW', '/sap/bc/ping/more'));
    expect(failure.status).toBe(403);
    expect(failure.reason).toContain('path `/sap/bc/ping/more` is outside the allowed resources');
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 403, check: 'resource' });
  });

  it('a missing proxy token → 407', async () => {
    // A proxy configuration without Proxy-Authorization (the SDK's types insist on one).
    const proxy = { host: 'localhost', port: emu.ports.httpProxy, protocol: 'http', headers: {} } as unknown as ProxyConfiguration;
    const failure = await failedStatus(
      executeHttpRequest({ url: erp, proxyType: 'OnPremise', proxyConfiguration: proxy }, { method: 'get', url: '/echo' }),
    );
    expect(failure.status).toBe(407);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 407, check: 'auth' });
  });

  it('an https:// target → 405 before authentication', async () => {
    const failure = await failedStatus(echoVia('HTTPS_TARGET'));
    expect(failure.status).toBe(405);
  });

  it('an unreachable backend → 502, a slow one → 504', async () => {
    expect((await failedStatus(echoVia('DEAD_BACKEND'))).status).toBe(502);
    emu.onPrem.addStub({ method: 'GET', path: '/slow', delayMs: 2000, body: 'late' });
    const failure = await failedStatus(echoVia('ONPREM_BASIC', '/slow'));
    expect(failure.status).toBe(504);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 504, check: 'timeout' });
  });
});

/** A raw proxy request, for what the SDK never sends. */
function rawProxyRequest(target: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: emu.ports.httpProxy, method: 'GET', path: target, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('proxy authentication and target form', () => {
  it('refuses tokens of other clients, garbage and origin-form requests; accepts Basic base64(jwt:)', async () => {
    const connectivity = await serviceToken(emu, 'connectivity');
    const xsuaa = await serviceToken(emu, 'xsuaa');
    expect((await rawProxyRequest(`${erp}/echo`, { 'proxy-authorization': `Bearer ${xsuaa}` })).status).toBe(407);
    expect((await rawProxyRequest(`${erp}/echo`, { 'proxy-authorization': 'Bearer not.a.jwt' })).status).toBe(407);
    expect((await rawProxyRequest('/echo', { host: 'erp.internal:44300', 'proxy-authorization': `Bearer ${connectivity}` })).status).toBe(
      400,
    );
    const basic = Buffer.from(`${connectivity}:`).toString('base64');
    const ok = await rawProxyRequest(`${erp}/echo`, {
      'proxy-authorization': `Basic ${basic}`,
      'SAP-Connectivity-SCC-Location_ID': 'LOC1',
    });
    expect(ok.status).toBe(200);
    expect(Object.keys(JSON.parse(ok.body).headers).filter((h) => /sap-connectivity|proxy-/i.test(h))).toEqual([]);
  });

  it('is not an open proxy: the emulator’s own services are not reachable through it', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const res = await rawProxyRequest(`${emu.urls.services}/_emulator/health`, { 'proxy-authorization': `Bearer ${token}` });
    expect(res.status).toBe(403);
  });
});
