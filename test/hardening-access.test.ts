/**
 * Issue 15, "nobody in who should not be": regression tests for the access half of the hardening.
 * - Cloud Connector resources: a path is normalised (dot segments, `%2e`, backslashes) before it is matched, and the
 *   backend receives exactly the path that was checked; a path that would still climb after decoding is refused.
 * Every test talks to a real emulator over real sockets; raw sockets where a client would normalise the path itself.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';
import { serviceToken } from './helpers.ts';

/** One HTTP/1.1 request written byte for byte (no client normalises its target), and the status line's code. */
export function rawHttp(port: number, head: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.write(`${head}Connection: close\r\n\r\n`);
  });
}

describe('Cloud Connector resources: dot segments (item 7)', () => {
  let emu: EmulatorHandle;
  let echo: EchoServer;
  let token: string;

  beforeAll(async () => {
    echo = await startEchoServer();
    const port = Number(new URL(echo.url).port);
    emu = await startEmulator({
      port: 0,
      scenario: {
        name: 'dot-segments',
        tenants: [
          {
            subdomain: 'provider',
            cloudConnectors: [
              {
                locationId: '',
                systems: [
                  {
                    virtualHost: 'gw.internal',
                    virtualPort: 44300,
                    internalHost: '127.0.0.1',
                    internalPort: port,
                    protocol: 'HTTP',
                    resources: [
                      { path: '/sap/opu/odata', exactMatchOnly: false },
                      { path: '/sap/bc', exactMatchOnly: false },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    token = await serviceToken(emu, 'connectivity');
  });

  afterAll(async () => {
    await emu?.stop();
    await echo?.close();
  });

  const viaProxy = (path: string): Promise<{ status: number; text: string }> =>
    rawHttp(emu.ports.httpProxy, `GET http://gw.internal:44300${path} HTTP/1.1\r\nHost: gw.internal:44300\r\nProxy-Authorization: Bearer ${token}\r\n`);

  it.each([
    '/sap/opu/odata/../../../secret',
    '/sap/opu/odata/%2e%2e/%2e%2e/%2e%2e/secret',
    '/sap/opu/odata/%2E%2E/%2E%2E/%2E%2E/secret',
    '/sap/opu/odata/.%2e/.%2E/%2e./secret',
    '/sap/opu/odata/./../../../secret',
    '/sap/opu/odata\\..\\..\\..\\secret',
    '/sap/bcX/../secret',
    '/sap/bc/../../secret?x=1',
  ])('%s is matched as the path it stands for and refused with 403; the backend receives nothing', async (path) => {
    const before = echo.received.length;
    const answer = await viaProxy(path);
    expect(answer.status).toBe(403);
    expect(answer.text).toContain('Access denied to resource /');
    expect(echo.received.length).toBe(before);
  });

  it.each([
    '/sap/opu/odata/..%2f..%2f..%2fsecret',
    '/sap/opu/odata/%2e%2e%5c%2e%2e%5csecret',
  ])('%s (a segment that climbs once decoded) is refused with 403', async (path) => {
    const before = echo.received.length;
    const answer = await viaProxy(path);
    expect(answer.status).toBe(403);
    expect(answer.text).toContain('Access denied to resource');
    expect(echo.received.length).toBe(before);
  });

  it.each([
    ['/sap/opu/odata/x/../Products', '/sap/opu/odata/Products'],
    ['/sap/opu/odata/./Products?$top=1', '/sap/opu/odata/Products?$top=1'],
    ['/sap/opu/odata/%2e/Products', '/sap/opu/odata/Products'],
    ["/sap/opu/odata/Products('a%2Fb')", "/sap/opu/odata/Products('a%2Fb')"],
  ])('%s stays inside the resource and the backend receives the normalised %s', async (path, received) => {
    const answer = await viaProxy(path);
    expect(answer.status).toBe(200);
    expect(echo.last().url).toBe(received);
  });
});
