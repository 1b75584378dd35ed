/**
 * The connectivity proxy's Kubernetes trusted mode (`connectivityProxy: { mode: trusted }`), on real sockets with
 * real clients: Node's `http` against 20003, the `socks` package against 20004, the SAP Cloud SDK with a
 * VCAP_SERVICES binding and with the hand-made Kubernetes secret. No Proxy-Authorization; the tenant is the
 * configured subaccount (dedicated) or the zone of `SAP-CP-Connectivity-Service-Token` (shared, a second tenant
 * with its own Cloud Connector); a user in two headers is refused; technical-user propagation; SAP's error texts;
 * the journal's mode and tenant, and the why-failed chain. The default stays the Cloud Foundry behaviour.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientCredentialsTokenCache } from '@sap-cloud-sdk/connectivity/internal';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import forge from 'node-forge';
import { SocksClient } from 'socks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderEnv } from '../emulator/cli/exec-env.ts';
import { startEmulator, StartOptionError, ValidationError, type EmulatorHandle, type ScenarioInput } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';
import { binding, postForm, serviceToken } from './helpers.ts';
import { echoRoundTrip, sapSocksConnect } from './socks5-client.ts';

let emu: EmulatorHandle;
let base: ScenarioInput;
const subscriberZid = '0c2b5a6e-7d41-4f0a-8e3b-2d9c1f4e5b02';
const tempDirs: string[] = [];

/** The bundled scenario, plus a Cloud Connector of subscriber1's own: sub.internal:8080 (HTTP) and subtcp.internal:7000 (TCP). */
function withSubscriberConnector(scenario: ScenarioInput): ScenarioInput {
  return {
    ...scenario,
    tenants: scenario.tenants.map((t) =>
      t.subdomain === 'subscriber1'
        ? {
            ...t,
            destinations: [
              ...(t.destinations ?? []),
              {
                Name: 'SUB_ONPREM',
                Type: 'HTTP',
                URL: 'http://sub.internal:8080',
                Authentication: 'NoAuthentication',
                ProxyType: 'OnPremise',
              },
            ],
            cloudConnectors: [
              {
                locationId: '',
                systems: [
                  {
                    virtualHost: 'sub.internal',
                    virtualPort: 8080,
                    internalHost: '{{backendHost}}',
                    internalPort: '{{backendHttpPort}}',
                    protocol: 'HTTP',
                  },
                  {
                    virtualHost: 'subtcp.internal',
                    virtualPort: 7000,
                    internalHost: '{{backendHost}}',
                    internalPort: '{{backendTcpPort}}',
                    protocol: 'TCP',
                  },
                ],
              },
            ],
          }
        : t,
    ),
  };
}

/** Load the bundled scenario (with the subscriber's connector) in a mode; `undefined` = no connectivityProxy key. */
function useMode(connectivityProxy: ScenarioInput['connectivityProxy']): void {
  emu.loadScenario({ ...base, ...(connectivityProxy ? { connectivityProxy } : {}) });
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  base = withSubscriberConnector(emu.core.scenario as ScenarioInput);
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  delete process.env.SERVICE_BINDING_ROOT;
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  await emu?.stop();
});

beforeEach(() => {
  useMode({ mode: 'trusted' });
  clientCredentialsTokenCache.clear();
});

interface ProxyAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request through the HTTP proxy port with Node's `http`, absolute-form target, only the headers given. */
function viaProxy(target: string, headers: Record<string, string> = {}): Promise<ProxyAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: emu.ports.httpProxy, method: 'GET', path: target, headers: { host: new URL(target).host, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const echo = (answer: ProxyAnswer): EchoBody => JSON.parse(answer.body) as EchoBody;
const reason = (answer: ProxyAnswer): string => decodeURIComponent(String(answer.headers['x-emulator-reason']));
const lastProxyEntry = () => emu.journal({ service: 'connectivity-proxy' }).at(-1);

/** The subject CN of the certificate the backend received in SSL_CLIENT_CERT. */
function certificateCn(received: EchoBody): string | undefined {
  const der = forge.util.decode64(String(received.headers.ssl_client_cert));
  return forge.pki.certificateFromAsn1(forge.asn1.fromDer(der)).subject.getField('CN')?.value as string | undefined;
}

/** A user token exchanged for the connectivity client (jwt-bearer): a connectivity token that carries the user. */
async function exchangedUserToken(): Promise<string> {
  const creds = binding(emu, 'connectivity');
  const res = await postForm(`${emu.urls.services}/oauth/token`, {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: await emu.issueUserToken({ user: 'alice' }),
    client_id: creds.clientid,
    client_secret: creds.clientsecret,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('trusted dedicated mode (HTTP, 20003)', () => {
  it('reaches the backend without Proxy-Authorization; the backend sees the request, none of the proxy headers', async () => {
    const res = await viaProxy('http://erp.internal:44300/sap/opu/odata/x?$top=1', {
      'sap-client': '100',
      'x-csrf-token': 'Fetch',
      'sap-connectivity-scc-location_id': '',
    });
    expect(res.status).toBe(200);
    const received = echo(res);
    expect(received).toMatchObject({ method: 'GET', path: '/sap/opu/odata/x', query: { $top: '1' } });
    expect(received.headers).toMatchObject({ host: 'erp.internal:44300', 'sap-client': '100', 'x-csrf-token': 'Fetch' });
    expect(Object.keys(received.headers).filter((h) => /^(proxy-|sap-connectivity-|sap-cp-)/.test(h))).toEqual([]);
    expect(lastProxyEntry()).toMatchObject({ status: 200, proxyMode: 'trusted', tenantMode: 'dedicated', tenant: 'provider' });
  });

  it('ignores a Proxy-Authorization that would be refused in cloud-foundry mode, and drops SAP-CP-Connectivity-Service-Token', async () => {
    const res = await viaProxy('http://erp.internal:44300/x', {
      'proxy-authorization': 'Bearer not-a-token',
      'sap-cp-connectivity-service-token': await serviceToken(emu, 'connectivity', subscriberZid),
    });
    expect(res.status).toBe(200);
    expect(echo(res).headers['sap-cp-connectivity-service-token']).toBeUndefined();
    // Dedicated: the header does not move the request to the subscriber.
    expect(lastProxyEntry()).toMatchObject({ tenant: 'provider', tenantMode: 'dedicated' });
  });

  it('serves the configured subaccount: a subscriber with its own Cloud Connector', async () => {
    useMode({ mode: 'trusted', subaccount: 'subscriber1' });
    const res = await viaProxy('http://sub.internal:8080/from-subscriber');
    expect(res.status).toBe(200);
    expect(echo(res)).toMatchObject({ path: '/from-subscriber', headers: { host: 'sub.internal:8080' } });
    expect(lastProxyEntry()).toMatchObject({ tenant: 'subscriber1', virtualTarget: 'sub.internal:8080' });
    // The provider's system is not exposed by the subscriber's connector.
    const other = await viaProxy('http://erp.internal:44300/');
    expect(other.status).toBe(403);
    expect(other.body).toBe('Access denied to system erp.internal:44300');
  });

  it('the journal links the hop to the grant of the token the SDK sent, and records mode and tenant', async () => {
    const token = await serviceToken(emu, 'connectivity');
    await viaProxy('http://erp.internal:44300/x', { 'proxy-authorization': `Bearer ${token}`, 'x-correlation-id': 'trusted-chain-1' });
    const chain = emu.core.journal.list().filter((e) => e.correlationId === 'trusted-chain-1');
    expect(chain).toHaveLength(1);
    const grant = emu.journal({ service: 'xsuaa' }).find((e) => e.issuedJti === chain[0].tokenJti);
    expect(grant).toBeDefined();
  });
});

describe('trusted shared mode: SAP-CP-Connectivity-Service-Token names the tenant', () => {
  beforeEach(() => useMode({ mode: 'trusted', tenantMode: 'shared' }));

  it("a subscriber's connectivity token selects the subscriber and its Cloud Connector", async () => {
    const token = await serviceToken(emu, 'connectivity', subscriberZid);
    const res = await viaProxy('http://sub.internal:8080/shared', { 'SAP-CP-Connectivity-Service-Token': token });
    expect(res.status).toBe(200);
    expect(echo(res).path).toBe('/shared');
    expect(echo(res).headers['sap-cp-connectivity-service-token']).toBeUndefined();
    expect(lastProxyEntry()).toMatchObject({ tenant: 'subscriber1', tenantMode: 'shared', proxyMode: 'trusted' });
  });

  it("the provider's token selects the provider, whose connector does not expose the subscriber's system", async () => {
    const token = await serviceToken(emu, 'connectivity');
    expect((await viaProxy('http://erp.internal:44300/p', { 'sap-cp-connectivity-service-token': token })).status).toBe(200);
    const denied = await viaProxy('http://sub.internal:8080/', { 'sap-cp-connectivity-service-token': `Bearer ${token}` });
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('Access denied to system sub.internal:8080');
    expect(lastProxyEntry()).toMatchObject({ tenant: 'provider', check: 'mapping' });
  });

  it('without the header: 400 with a reason that names it; a Proxy-Authorization does not stand in for it', async () => {
    const token = await serviceToken(emu, 'connectivity', subscriberZid);
    const res = await viaProxy('http://sub.internal:8080/', { 'proxy-authorization': `Bearer ${token}` });
    expect(res.status).toBe(400);
    expect(res.headers['proxy-authenticate']).toBeUndefined();
    expect(reason(res)).toContain('SAP-CP-Connectivity-Service-Token');
    expect(lastProxyEntry()).toMatchObject({ status: 400, check: 'service-token', proxyMode: 'trusted', tenantMode: 'shared' });
  });

  it('a token that does not verify, or of another client: 401 with the reason', async () => {
    const forged = await viaProxy('http://sub.internal:8080/', { 'sap-cp-connectivity-service-token': 'a.b.c' });
    expect(forged.status).toBe(401);
    expect(forged.body).toBe('Unauthorized');
    const xsuaaToken = await serviceToken(emu, 'xsuaa', subscriberZid);
    const wrongClient = await viaProxy('http://sub.internal:8080/', { 'sap-cp-connectivity-service-token': xsuaaToken });
    expect(wrongClient.status).toBe(401);
    expect(reason(wrongClient)).toMatch(/not to the connectivity binding's client/);
  });
});

describe('the user travels in SAP-Connectivity-Authentication', () => {
  it('trusted mode: principal propagation with the user header only; the backend gets the certificate, not the header', async () => {
    const user = await emu.issueUserToken({ user: 'alice' });
    const res = await viaProxy('http://erp.internal:44300/pp', { 'sap-connectivity-authentication': `Bearer ${user}` });
    expect(res.status).toBe(200);
    const received = echo(res);
    expect(certificateCn(received)).toBe('alice');
    expect(received.headers['sap-connectivity-authentication']).toBeUndefined();
    expect(lastProxyEntry()).toMatchObject({ principal: 'alice', proxyMode: 'trusted' });
  });

  it('trusted mode: a technical Proxy-Authorization next to the user header is fine (what the SAP Cloud SDK sends)', async () => {
    const res = await viaProxy('http://erp.internal:44300/pp', {
      'proxy-authorization': `Bearer ${await serviceToken(emu, 'connectivity')}`,
      'sap-connectivity-authentication': `Bearer ${await emu.issueUserToken({ user: 'bob' })}`,
    });
    expect(res.status).toBe(200);
    expect(certificateCn(echo(res))).toBe('bob');
  });

  it('trusted mode: a user in Proxy-Authorization and in SAP-Connectivity-Authentication is refused with 400', async () => {
    const user = await emu.issueUserToken({ user: 'alice' });
    const res = await viaProxy('http://erp.internal:44300/pp', {
      'proxy-authorization': `Bearer ${user}`,
      'sap-connectivity-authentication': `Bearer ${user}`,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/^The user is sent twice: in Proxy-Authorization and in SAP-Connectivity-Authentication/);
    expect(lastProxyEntry()).toMatchObject({ status: 400, check: 'user', proxyMode: 'trusted' });
  });

  it('cloud-foundry mode (the non-trusted rule): an exchanged user token in Proxy-Authorization plus the user header → 400', async () => {
    useMode(undefined);
    const exchanged = await exchangedUserToken();
    const both = await viaProxy('http://erp.internal:44300/pp', {
      'proxy-authorization': `Bearer ${exchanged}`,
      'sap-connectivity-authentication': `Bearer ${await emu.issueUserToken({ user: 'alice' })}`,
    });
    expect(both.status).toBe(400);
    expect(lastProxyEntry()).toMatchObject({ check: 'user' });
    expect(lastProxyEntry()?.proxyMode).toBeUndefined();
    // The exchanged token alone passes the proxy.
    expect((await viaProxy('http://erp.internal:44300/pp', { 'proxy-authorization': `Bearer ${exchanged}` })).status).toBe(200);
  });
});

describe('technical-user propagation: SAP-Connectivity-Technical-Authentication', () => {
  it('the backend receives a certificate for the client of the technical token, and not the header', async () => {
    const technical = await serviceToken(emu, 'xsuaa');
    const res = await viaProxy('http://erp.internal:44300/tech', { 'sap-connectivity-technical-authentication': `Bearer ${technical}` });
    expect(res.status).toBe(200);
    const received = echo(res);
    expect(certificateCn(received)).toBe(binding(emu, 'xsuaa').clientid);
    expect(received.headers['sap-connectivity-technical-authentication']).toBeUndefined();
    expect(lastProxyEntry()).toMatchObject({ principal: binding(emu, 'xsuaa').clientid, proxyMode: 'trusted' });
  });

  it('a technical token that does not verify → 401 Unauthorized', async () => {
    const res = await viaProxy('http://erp.internal:44300/tech', { 'sap-connectivity-technical-authentication': 'Bearer a.b.c' });
    expect(res.status).toBe(401);
    expect(lastProxyEntry()).toMatchObject({ check: 'principal' });
  });
});

describe("SAP's error texts in trusted mode", () => {
  it('an unmapped system: 403 Access denied to system <host>:<port>', async () => {
    const res = await viaProxy('http://unknown.internal/x');
    expect(res.status).toBe(403);
    expect(res.body).toBe('Access denied to system unknown.internal:80');
  });

  it('a path outside the resources: 403 naming resource and system', async () => {
    const res = await viaProxy('http://gw.internal:44300/sap/secret');
    expect(res.status).toBe(403);
    expect(res.body).toBe('Access denied to resource /sap/secret on system gw.internal:44300');
  });

  it('no Cloud Connector for the location: 503 with the location ID', async () => {
    const res = await viaProxy('http://erp.internal:44300/', { 'sap-connectivity-scc-location_id': 'nowhere' });
    expect(res.status).toBe(503);
    expect(res.body).toBe("There is no SAP Cloud Connector (SCC) connected to your subaccount with location ID 'nowhere'");
    expect(lastProxyEntry()).toMatchObject({ check: 'location', proxyMode: 'trusted', tenant: 'provider' });
  });
});

describe('cloud-foundry stays the default', () => {
  it('without the scenario key, a request without Proxy-Authorization is 407, and the entry has no mode', async () => {
    useMode(undefined);
    expect(emu.core.proxyMode()).toEqual({ mode: 'cloud-foundry' });
    const res = await viaProxy('http://erp.internal:44300/');
    expect(res.status).toBe(407);
    expect(res.headers['proxy-authenticate']).toBe('Bearer');
    expect(lastProxyEntry()?.proxyMode).toBeUndefined();
    // Explicitly cloud-foundry: the same.
    useMode({ mode: 'cloud-foundry' });
    expect((await viaProxy('http://erp.internal:44300/')).status).toBe(407);
  });
});

describe('SOCKS5 (20004) in trusted mode, with the socks package', () => {
  /** A tunnel with the plain RFC 1928 "no authentication" method (0x00), as any SOCKS5 client offers it. */
  async function noAuthTunnel(destination: { host: string; port: number }): Promise<Socket> {
    const { socket } = await SocksClient.createConnection({
      proxy: { host: '127.0.0.1', port: emu.ports.socks5, type: 5 },
      command: 'connect',
      destination,
      timeout: 5000,
    });
    return socket;
  }

  it('dedicated: method 0x00 reaches the TCP echo of the default connector', async () => {
    const socket = await noAuthTunnel({ host: 'tcp.internal', port: 7000 });
    expect(await echoRoundTrip(socket, 'trusted tcp')).toBe('trusted tcp');
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 0, proxyMode: 'trusted', tenant: 'provider' });
  });

  it('dedicated: 0x80 with an empty token still passes a location ID; an unmapped host is reply 02', async () => {
    useMode({ mode: 'trusted', subaccount: 'subscriber1' });
    const socket = await sapSocksConnect(emu.ports.socks5, '', { host: 'subtcp.internal', port: 7000 }, { timeout: 5000 });
    expect(await echoRoundTrip(socket, 'sub tcp')).toBe('sub tcp');
    await expect(sapSocksConnect(emu.ports.socks5, '', { host: 'tcp.internal', port: 7000 }, { timeout: 5000 })).rejects.toThrow();
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 2, check: 'mapping', tenant: 'subscriber1' });
  });

  it("shared: the 0x80 token's zone selects the subscriber; 0x00 is refused (no tenant without a token)", async () => {
    useMode({ mode: 'trusted', tenantMode: 'shared' });
    const token = await serviceToken(emu, 'connectivity', subscriberZid);
    const socket = await sapSocksConnect(emu.ports.socks5, token, { host: 'subtcp.internal', port: 7000 }, { timeout: 5000 });
    expect(await echoRoundTrip(socket, 'shared tcp')).toBe('shared tcp');
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ tenant: 'subscriber1', tenantMode: 'shared' });
    await expect(noAuthTunnel({ host: 'subtcp.internal', port: 7000 })).rejects.toThrow();
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 5, check: 'auth' });
  });

  it('cloud-foundry: 0x00 alone is still refused', async () => {
    useMode(undefined);
    await expect(noAuthTunnel({ host: 'tcp.internal', port: 7000 })).rejects.toThrow();
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 5, check: 'auth' });
  });
});

describe('the SAP Cloud SDK against the trusted proxy', () => {
  afterAll(() => {
    delete process.env.VCAP_SERVICES;
    delete process.env.SERVICE_BINDING_ROOT;
  });

  it('an OnPremise destination through the trusted proxy with the VCAP_SERVICES binding', async () => {
    delete process.env.SERVICE_BINDING_ROOT;
    process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
    const res = await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/sdk-trusted' });
    const received = res.data as EchoBody;
    expect(received.path).toBe('/sdk-trusted');
    expect(received.headers.authorization).toBe(`Basic ${Buffer.from('erp-user:erp-password').toString('base64')}`);
    expect(lastProxyEntry()).toMatchObject({ status: 200, proxyMode: 'trusted', tenant: 'provider' });
  });

  it('the hand-made Kubernetes connectivity secret: url, clientid, clientsecret, onpremise_proxy_host and both ports are enough', async () => {
    delete process.env.VCAP_SERVICES;
    const root = mkdtempSync(join(tmpdir(), 'trusted-k8s-'));
    tempDirs.push(root);
    // xsuaa and destination from `env --format k8s`; the connectivity binding replaced by what users write by hand.
    renderEnv(emu.env, 'k8s', { out: root });
    const connectivity = binding(emu, 'connectivity');
    const secret = join(root, 'my-connectivity');
    rmSync(secret, { recursive: true });
    mkdirSync(secret);
    const keys = ['url', 'clientid', 'clientsecret', 'onpremise_proxy_host', 'onpremise_proxy_http_port', 'onpremise_socks5_proxy_port'];
    for (const key of keys) writeFileSync(join(secret, key), connectivity[key]);
    writeFileSync(join(secret, 'type'), 'connectivity');
    writeFileSync(join(secret, 'label'), 'connectivity');
    writeFileSync(
      join(secret, '.metadata'),
      JSON.stringify({
        metaDataProperties: [
          { name: 'type', format: 'text' },
          { name: 'label', format: 'text' },
        ],
        credentialProperties: keys.map((name) => ({ name, format: 'text' })),
      }),
    );
    process.env.SERVICE_BINDING_ROOT = root;
    const res = await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/from-k8s-secret' });
    expect((res.data as EchoBody).path).toBe('/from-k8s-secret');
    expect(lastProxyEntry()).toMatchObject({ status: 200, proxyMode: 'trusted' });
  });

  it('why-failed: the last call to a destination with a wrong location holds the trusted hop, its tenant and reason', async () => {
    emu.loadScenario({
      ...base,
      connectivityProxy: { mode: 'trusted' },
      tenants: base.tenants.map((t, i) =>
        i === 0
          ? {
              ...t,
              destinations: [
                ...(t.destinations ?? []),
                {
                  Name: 'WRONG_LOCATION',
                  Type: 'HTTP',
                  URL: 'http://erp.internal:44300',
                  Authentication: 'NoAuthentication',
                  ProxyType: 'OnPremise',
                  CloudConnectorLocationId: 'nowhere',
                },
              ],
            }
          : t,
      ),
    });
    delete process.env.SERVICE_BINDING_ROOT;
    process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
    await expect(executeHttpRequest({ destinationName: 'WRONG_LOCATION', useCache: false }, { method: 'get', url: '/' })).rejects.toThrow();
    const chain = emu.lastCall('WRONG_LOCATION');
    expect(chain?.failed).toMatchObject({ role: 'proxy', status: 503 });
    expect(chain?.failed?.reason).toMatch(/no Cloud Connector for location `nowhere` in subaccount `provider`/);
    const hop = chain?.steps.find((step) => step.role === 'proxy')?.entry;
    expect(hop).toMatchObject({ proxyMode: 'trusted', tenantMode: 'dedicated', tenant: 'provider', locationId: 'nowhere' });
    // The SDK still fetched a connectivity token; the chain links the hop to its grant.
    expect(chain?.steps.map((step) => step.role)).toContain('connectivity-token');
  });
});

describe('the Kubernetes connectivity secret from the bindings and `env --format k8s`', () => {
  const keys = ['url', 'clientid', 'clientsecret', 'onpremise_proxy_host', 'onpremise_proxy_http_port', 'onpremise_socks5_proxy_port'];

  it('VCAP_SERVICES carries the keys Kyma users add by hand, as strings, pointing at the running proxy', () => {
    const credentials = binding(emu, 'connectivity');
    for (const key of keys) expect(typeof credentials[key], key).toBe('string');
    expect(credentials).toMatchObject({
      url: emu.urls.services,
      onpremise_proxy_host: 'localhost',
      onpremise_proxy_http_port: String(emu.ports.httpProxy),
      onpremise_proxy_port: String(emu.ports.httpProxy),
      onpremise_socks5_proxy_port: String(emu.ports.socks5),
    });
  });

  it.each(['servicebinding.io', 'sap-k8s'] as const)('`env --format k8s --layout %s` writes one file per key', (layout) => {
    const root = mkdtempSync(join(tmpdir(), 'trusted-k8s-layout-'));
    tempDirs.push(root);
    renderEnv(emu.env, 'k8s', { out: root, layout });
    const dir = layout === 'sap-k8s' ? join(root, 'connectivity', 'my-connectivity') : join(root, 'my-connectivity');
    const credentials = binding(emu, 'connectivity');
    for (const key of keys) expect(readFileSync(join(dir, key), 'utf8'), key).toBe(credentials[key]);
  });
});

describe('choosing the mode: scenario key, start option, validation', () => {
  it('a bad scenario value is refused naming the field, with did-you-mean for a near-miss key; nothing changes', () => {
    useMode({ mode: 'trusted', tenantMode: 'shared' });
    const before = emu.core.scenario;
    const refused = (connectivityProxy: unknown): ValidationError => {
      try {
        emu.loadScenario({ ...base, connectivityProxy });
      } catch (err) {
        return err as ValidationError;
      }
      throw new Error('accepted');
    };
    expect(refused({ mode: 'kyma' }).issues).toEqual([
      { path: 'connectivityProxy.mode', message: 'mode must be one of cloud-foundry, trusted' },
    ]);
    expect(refused({ mdoe: 'trusted' }).issues).toEqual([{ path: 'connectivityProxy.mdoe', message: 'unknown key; did you mean `mode`?' }]);
    expect(refused({ tenantMode: 'shared' }).issues).toEqual([
      {
        path: 'connectivityProxy.tenantMode',
        message: 'only with mode: trusted (in cloud-foundry mode the connectivity token names the tenant)',
      },
    ]);
    expect(refused({ mode: 'trusted', subaccount: 'nobody' }).issues[0]).toMatchObject({ path: 'connectivityProxy.subaccount' });
    expect(refused({ mode: 'trusted', tenantMode: 'shared', subaccount: 'provider' }).issues[0]).toMatchObject({
      path: 'connectivityProxy.subaccount',
    });
    expect(emu.core.scenario).toBe(before);
    expect(emu.core.proxyMode()).toEqual({ mode: 'trusted', tenantMode: 'shared' });
  });

  it('a subaccount may be named by zid', () => {
    useMode({ mode: 'trusted', subaccount: subscriberZid });
    expect(emu.core.proxyMode()).toEqual({ mode: 'trusted', tenantMode: 'dedicated', subaccount: subscriberZid });
  });

  it('the start option replaces the scenario key, also for scenarios loaded later; a bad one is a StartOptionError naming the field', async () => {
    await expect(startEmulator({ port: 0, connectivityProxy: { mode: 'kyma' as never } })).rejects.toThrow(StartOptionError);
    await expect(startEmulator({ port: 0, connectivityProxy: { mode: 'kyma' as never } })).rejects.toThrow(/^connectivityProxy\.mode: /);
    await expect(startEmulator({ port: 0, connectivityProxy: { mode: 'trusted', subaccount: 'nobody' } })).rejects.toThrow(
      /connectivityProxy\.subaccount/,
    );
    const trusted = await startEmulator({ port: 0, scenario: 'default', connectivityProxy: { mode: 'trusted' } });
    try {
      expect(trusted.core.proxyMode()).toEqual({ mode: 'trusted', tenantMode: 'dedicated' });
      trusted.loadScenario({ ...trusted.core.scenario, connectivityProxy: { mode: 'cloud-foundry' } });
      expect(trusted.core.proxyMode()).toEqual({ mode: 'trusted', tenantMode: 'dedicated' });
      const res = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: trusted.ports.httpProxy,
            path: 'http://erp.internal:44300/opt',
            headers: { host: 'erp.internal:44300' },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(res).toBe(200);
    } finally {
      await trusted.stop();
    }
  });
});
