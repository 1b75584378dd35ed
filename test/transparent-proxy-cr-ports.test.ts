/**
 * The Transparent Proxy's per-CR ports for HTTP CRs: each Service of an HTTP CR (concrete or dynamic) has a port of
 * its own that serves only that CR, for clients that cannot set `Host` (Node's `fetch`). The port hands each request
 * to the same gateway as port 20005 with `Host: <service>.<namespace>`, so the fake backend's echo, the journal and
 * the refusals (absolute-form, CONNECT) are those of port 20005.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultScenarioFile, startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';

type Json = Record<string, unknown>;
const apiVersion = 'destination.connectivity.api.sap/v1';
const tenantAnnotation = 'transparent-proxy.connectivity.api.sap/tenant-subdomains';

const cr = (name: string, destination: string, metadata: Json = {}): Json => ({
  apiVersion,
  kind: 'Destination',
  metadata: { name, ...metadata },
  spec: { destinationRef: { name: destination } },
});

function scenario(): Json {
  const s = parseYaml(readFileSync(defaultScenarioFile, 'utf8')) as Json;
  s.destinationCustomResources = [
    cr('orders', 'BACKEND_NOAUTH', { namespace: 'shop', annotations: { [tenantAnnotation]: '["subscriber1"]' } }),
    cr('basic', 'BACKEND_BASIC'),
    cr('any', '*'),
  ];
  return s;
}

/** The fake backend's echo of what arrived. */
interface Echo {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | undefined>;
  body: string;
}

async function echoOf(response: Response): Promise<Echo> {
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Echo;
}

/** Whether something listens on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** A raw request (absolute-form target or CONNECT) to a port; resolves with the whole answer once the server closes. */
function raw(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

let emu: EmulatorHandle;
let outside: EchoServer;
const portOf = (service: string): number => emu.ports.transparentProxyCrs[service];

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: scenario() });
  outside = await startEchoServer();
});

afterAll(async () => {
  await emu?.stop();
  await outside?.close();
});

beforeEach(() => {
  emu.reset();
});

describe('an HTTP CR’s own port', () => {
  it('every Service of an HTTP or dynamic CR has one, next to the shared HTTP port', () => {
    expect(Object.keys(emu.ports.transparentProxyCrs).sort()).toEqual([
      'any.default',
      'basic.default',
      'orders-subscriber1.shop',
      'orders.shop',
    ]);
    const ports = Object.values(emu.ports.transparentProxyCrs);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports).not.toContain(emu.ports.transparentProxy);
  });

  it('plain fetch reaches the CR’s destination, journaled as on port 20005 with the Service as the path’s host', async () => {
    const echo = await echoOf(await fetch(`http://127.0.0.1:${portOf('orders.shop')}/items?top=2`, { headers: { 'x-app': 'kept' } }));
    expect(echo.method).toBe('GET');
    expect(echo.path).toBe('/items');
    expect(echo.query).toEqual({ top: '2' });
    expect(echo.headers['x-app']).toBe('kept');
    expect(echo.headers.authorization).toBeUndefined();
    const entry = emu.journal({ service: 'transparent-proxy' }).at(-1)!;
    expect(entry).toMatchObject({ status: 200, cr: 'shop/orders', destination: 'BACKEND_NOAUTH', tenant: 'provider' });
  });

  it('a POST body and the destination’s authentication go through; a per-tenant Service is its tenant’s', async () => {
    const echo = await echoOf(await fetch(`http://127.0.0.1:${portOf('basic.default')}/p`, { method: 'POST', body: 'hello' }));
    expect(echo).toMatchObject({ method: 'POST', path: '/p', body: 'hello' });
    expect(echo.headers.authorization).toMatch(/^Basic /);
    await echoOf(await fetch(`http://127.0.0.1:${portOf('orders-subscriber1.shop')}/t`));
    expect(emu.journal({ service: 'transparent-proxy' }).at(-1)).toMatchObject({ status: 200, cr: 'shop/orders', tenant: 'subscriber1' });
  });

  it('a dynamic CR picks the destination by X-Destination-Name, which does not reach the target; without it, the gateway’s 400', async () => {
    const echo = await echoOf(
      await fetch(`http://127.0.0.1:${portOf('any.default')}/d`, { headers: { 'x-destination-name': 'BACKEND_BASIC' } }),
    );
    expect(echo.path).toBe('/d');
    expect(echo.headers.authorization).toMatch(/^Basic /);
    expect(echo.headers['x-destination-name']).toBeUndefined();
    const missing = await fetch(`http://127.0.0.1:${portOf('any.default')}/d`);
    expect(missing.status).toBe(400);
    expect(missing.headers.get('x-proxy-server')).toBe('Transparent Proxy');
    await missing.text();
  });

  it('the Host a client sends does not matter: the port serves only its CR', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: portOf('orders.shop'), path: '/h', headers: { host: 'any.default' }, agent: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(200);
    expect(emu.journal({ service: 'transparent-proxy' }).at(-1)).toMatchObject({ cr: 'shop/orders' });
  });
});

describe('never an open proxy', () => {
  it('an absolute-form request to a CR port is refused as on port 20005, and nothing is sent out', async () => {
    const target = `${outside.url}/steal`;
    const answer = await raw(portOf('orders.shop'), `GET ${target} HTTP/1.1\r\nHost: ${outside.url.slice(7)}\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/x-error-message: .*not a forward proxy/i);
    expect(outside.received).toEqual([]);
    expect(emu.journal({ service: 'destination' })).toEqual([]);
  });

  it('CONNECT to a CR port is refused with 405', async () => {
    const head = await raw(portOf('any.default'), 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 405 /);
    expect(emu.journal({ service: 'transparent-proxy' }).at(-1)).toMatchObject({ method: 'CONNECT', status: 405 });
  });
});

describe('the ports follow the CRs', () => {
  it('a CR added through the control API gets a port (LISTEN, protocol HTTP); removed, it loses it (CLOSE)', async () => {
    await emu.control.putDestinationCr(cr('late', 'BACKEND_NOAUTH', { namespace: 'ops' }) as never);
    const port = portOf('late.ops');
    expect(port).toBeGreaterThan(0);
    expect(
      emu
        .journal({ service: 'transparent-proxy' })
        .filter((e) => e.method === 'LISTEN')
        .at(-1),
    ).toMatchObject({
      path: 'late.ops',
      cr: 'ops/late',
      protocol: 'HTTP',
      port,
    });
    expect((await echoOf(await fetch(`http://127.0.0.1:${port}/late`))).path).toBe('/late');

    await emu.control.removeDestinationCr('late', 'ops');
    expect(portOf('late.ops')).toBeUndefined();
    expect(await listening(port)).toBe(false);
    expect(
      emu
        .journal({ service: 'transparent-proxy' })
        .filter((e) => e.method === 'CLOSE')
        .at(-1),
    ).toMatchObject({
      path: 'late.ops',
      port,
    });
  });

  it('port 20005 still routes by Host', async () => {
    const echo = await new Promise<Echo>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: emu.ports.transparentProxy, path: '/shared', headers: { host: 'orders.shop' }, agent: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(JSON.parse(body) as Echo));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(echo.path).toBe('/shared');
  });
});
