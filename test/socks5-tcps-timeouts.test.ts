/**
 * SOCKS5 (20004) beyond plain TCP: a TCPS mapping (the client speaks plain bytes to the proxy, the emulator speaks
 * TLS to the internal host, as a Cloud Connector does), and the two SOCKS5 timeouts (`socksHandshakeTimeoutMs`,
 * `socksConnectTimeoutMs`), each driven on loopback: a client that stalls in the handshake, a TLS backend that
 * accepts and never answers its handshake, and a TCP backend whose accept queue is full (a listener in a child
 * process whose event loop is blocked, so its kernel queue fills and further connects hang). The test waits for
 * the emulator to close the connection or to reply, and asserts what it said and journalled — never how long it took.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { ensureTlsMaterial } from '../emulator/server/tls-material.ts';
import { serviceToken } from './helpers.ts';
import { sapAuthRequest, sapSocksConnect, type SocksDestination } from './socks5-client.ts';

// The handshake timer runs from the accept until the CONNECT reply, so it must outlast the connect timer for the
// connect timeout to be the one that answers.
const handshakeTimeoutMs = 2000;
const connectTimeoutMs = 250;

let emu: EmulatorHandle;
let tlsEcho: TlsServer;
const tlsSessions: { protocol: string | null }[] = [];
let silent: Server;
const silentSockets = new Set<Socket>();
let blocked: ChildProcess;
let blockedPort: number;
const queueFillers: Socket[] = [];

const listen = (server: Server | TlsServer): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

beforeAll(async () => {
  // A TLS echo server with a certificate of its own (the emulator does not verify internal hosts' certificates).
  const tls = ensureTlsMaterial(join(mkdtempSync(join(tmpdir(), 'btp-emulator-tcps-')), 'tls'));
  tlsEcho = createTlsServer({ key: tls.keyPem, cert: tls.certPem }, (socket: TLSSocket) => {
    tlsSessions.push({ protocol: socket.getProtocol() });
    socket.pipe(socket);
  });
  const tlsPort = await listen(tlsEcho);

  // Accepts TCP and never says a word: a TLS handshake with it never completes.
  silent = createServer((socket) => {
    silentSockets.add(socket);
    socket.on('error', () => undefined);
  });
  const silentPort = await listen(silent);

  // A listener with backlog 1 whose process never accepts: two connections fill its queue, the next ones hang.
  blocked = spawn(
    process.execPath,
    [
      '-e',
      "const s = require('node:net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => { console.log(s.address().port); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); });",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  blockedPort = await new Promise<number>((resolve) => blocked.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  for (let i = 0; i < 2; i++) {
    const socket = connect(blockedPort, '127.0.0.1');
    socket.on('error', () => undefined);
    queueFillers.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
  }

  emu = await startEmulator({
    port: 0,
    scenario: 'default',
    socksHandshakeTimeoutMs: handshakeTimeoutMs,
    socksConnectTimeoutMs: connectTimeoutMs,
  });
  const tcps = (virtualHost: string, internalPort: number) => ({
    virtualHost,
    virtualPort: 7443,
    internalHost: '127.0.0.1',
    internalPort,
    protocol: 'TCPS' as const,
  });
  emu.loadScenario({
    ...emu.core.scenario,
    tenants: emu.core.scenario.tenants.map((t, i) =>
      i === 0
        ? {
            ...t,
            cloudConnectors: t.cloudConnectors.map((c) =>
              c.locationId === ''
                ? {
                    ...c,
                    systems: [
                      ...c.systems,
                      tcps('tcps.internal', tlsPort),
                      tcps('silent-tls.internal', silentPort),
                      {
                        virtualHost: 'full-queue.internal',
                        virtualPort: 7000,
                        internalHost: '127.0.0.1',
                        internalPort: blockedPort,
                        protocol: 'TCP' as const,
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
  await emu?.stop();
  for (const s of queueFillers) s.destroy();
  if (blocked && blocked.exitCode === null) blocked.kill('SIGKILL');
  for (const s of silentSockets) s.destroy();
  await Promise.all([tlsEcho, silent].map((server) => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))));
});

beforeEach(() => {
  emu.reset();
});

async function connectVia(destination: SocksDestination): Promise<Socket> {
  // Long enough that only the emulator's own timeout can end these calls.
  return sapSocksConnect(emu.ports.socks5, await serviceToken(emu, 'connectivity'), destination, { timeout: 20_000 });
}

/** Raw bytes to the SOCKS5 port; everything the emulator sent back once it closed the connection. */
function untilClosed(bytes: Buffer[]): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connect(emu.ports.socks5, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('connect', () => {
      for (const b of bytes) socket.write(b);
    });
  });
}

describe('SOCKS5 to a TCPS mapping', () => {
  it('relays plain bytes from the client over TLS to the internal host and back, and journals it', async () => {
    const before = tlsSessions.length;
    const socket = await connectVia({ host: 'tcps.internal', port: 7443 });
    const echoed = await new Promise<string>((resolve, reject) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString();
        if (received.length >= 'over tls'.length) resolve(received);
      });
      socket.on('error', reject);
      socket.write('over tls');
    });
    expect(echoed).toBe('over tls');
    // The internal host saw a TLS session (so the emulator did the handshake, not the client).
    expect(tlsSessions.length).toBe(before + 1);
    expect(tlsSessions.at(-1)!.protocol).toMatch(/^TLSv1\.[23]$/);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.end();
    await closed;
    await expect.poll(() => emu.journal({ service: 'socks5' }).at(-1)?.bytesFromBackend).toBe(8);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({
      status: 0,
      virtualTarget: 'tcps.internal:7443',
      internalTarget: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      bytesToBackend: 8,
    });
  });

  it('is refused on the HTTP proxy port like any non-HTTP mapping (403, check protocol)', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: emu.ports.httpProxy,
          method: 'GET',
          path: 'http://tcps.internal:7443/',
          headers: { 'proxy-authorization': `Bearer ${token}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 403, check: 'protocol' });
  });
});

describe('SOCKS5 timeouts', () => {
  it('closes a connection whose client stalls after the greeting (socksHandshakeTimeoutMs), and journals why', async () => {
    const received = await untilClosed([Buffer.from([0x05, 0x01, 0x80])]);
    expect([...received]).toEqual([0x05, 0x80]);
    const entry = emu.journal({ service: 'socks5' }).at(-1);
    expect(entry).toMatchObject({ check: 'handshake', status: 1 });
    expect(entry?.reason).toBe(`the SOCKS5 handshake did not complete within ${handshakeTimeoutMs} ms`);
  });

  it('closes a connection that never sends a byte', async () => {
    expect((await untilClosed([])).length).toBe(0);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({
      check: 'handshake',
      reason: `the SOCKS5 handshake did not complete within ${handshakeTimeoutMs} ms`,
    });
  });

  it('a client that stalls after authenticating, before CONNECT, is closed as well', async () => {
    const jwt = await serviceToken(emu, 'connectivity');
    const received = await untilClosed([Buffer.from([0x05, 0x01, 0x80]), sapAuthRequest(jwt)]);
    expect([...received]).toEqual([0x05, 0x80, 0x01, 0x00]);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ check: 'handshake', tenant: 'provider' });
  });

  it('answers reply 04 when the TLS handshake with a TCPS internal host never completes (socksConnectTimeoutMs)', async () => {
    const accepted = silentSockets.size;
    await expect(connectVia({ host: 'silent-tls.internal', port: 7443 })).rejects.toThrow(
      'Socks5 proxy rejected connection - HostUnreachable',
    );
    // The TCP connection was made; only TLS never finished.
    expect(silentSockets.size).toBe(accepted + 1);
    const entry = emu.journal({ service: 'socks5' }).at(-1);
    expect(entry).toMatchObject({ status: 4, check: 'backend', virtualTarget: 'silent-tls.internal:7443' });
    expect(entry?.reason).toContain(`no connection within ${connectTimeoutMs} ms`);
  });

  it('answers reply 04 when the TCP connection to the internal host hangs (its accept queue is full)', async () => {
    await expect(connectVia({ host: 'full-queue.internal', port: 7000 })).rejects.toThrow(
      'Socks5 proxy rejected connection - HostUnreachable',
    );
    const entry = emu.journal({ service: 'socks5' }).at(-1);
    expect(entry).toMatchObject({ status: 4, check: 'backend', internalTarget: `127.0.0.1:${blockedPort}` });
    expect(entry?.reason).toContain(`no connection within ${connectTimeoutMs} ms`);
  });

  it('a refused internal port is reply 04 at once, with the refusal as the reason (not the timeout)', async () => {
    emu.onPrem.putConnector({
      ...emu.onPrem.connectors()[0].connectors[0],
      systems: [{ virtualHost: 'closed.internal', virtualPort: 1, internalHost: '127.0.0.1', internalPort: 1, protocol: 'TCP' }],
    });
    await expect(connectVia({ host: 'closed.internal', port: 1 })).rejects.toThrow('Socks5 proxy rejected connection - HostUnreachable');
    expect(emu.journal({ service: 'socks5' }).at(-1)?.reason).toContain('ECONNREFUSED');
  });
});
