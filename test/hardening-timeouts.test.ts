/**
 * Issue 15, item 5: every listener closes connections that hold it without finishing a request. The services
 * port (HTTP and TLS on one port, sockets handed over with emit('connection')) closes a silent connection, a TLS
 * handshake that stops, a TLS connection that sends no request and a dribbled header (408); the HTTP proxy answers
 * a header timeout with 408 (not 400); SOCKS5 closes an unfinished handshake; the backend's HTTP side answers 408.
 * Timeouts are configured small; the test waits (bounded) for the close and never asserts how long it took.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, headersTimeoutMs: 200, requestTimeoutMs: 400, idleTimeoutMs: 200 });
});

afterAll(async () => {
  await emu?.stop();
});

/** Resolves with what the server sent once it closes the connection; rejects if it is still open after `withinMs`. */
function closedBy(socket: Socket, withinMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the emulator kept the connection open (received ${JSON.stringify(received)})`));
    }, withinMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

const open = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });

describe('services port (HTTP and TLS on one port)', () => {
  it('closes a connection that never sends a byte', async () => {
    const socket = await open(emu.ports.services);
    expect(await closedBy(socket)).toBe('');
  });

  it('closes a TLS handshake that stops after the first byte', async () => {
    const socket = await open(emu.ports.services);
    socket.write(Buffer.from([0x16, 0x03, 0x01]));
    await closedBy(socket);
  });

  it('closes a TLS connection that completes the handshake but sends no request, with 408', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: emu.ports.services, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    expect(await closedBy(socket)).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers a dribbled request head with 408 and closes', async () => {
    const socket = await open(emu.ports.services);
    socket.write('GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\n');
    const timer = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 50);
    try {
      expect(await closedBy(socket)).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(timer);
    }
  });

  it('closes an idle keep-alive connection after its answer', async () => {
    const socket = await open(emu.ports.services);
    socket.write('GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(await closedBy(socket)).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('still serves requests afterwards', async () => {
    expect((await fetch(`${emu.urls.control}/health`)).status).toBe(200);
  });
});

describe('HTTP proxy 20003', () => {
  it('answers a request head that does not complete in time with 408, not 400', async () => {
    const socket = await open(emu.ports.httpProxy);
    socket.write('GET http://backend.internal/ HTTP/1.1\r\nHost: backend.internal\r\n');
    expect(await closedBy(socket)).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe('SOCKS5 20004', () => {
  it('closes a connection that never completes the handshake', async () => {
    const socket = await open(emu.ports.socks5);
    socket.write(Buffer.from([0x05]));
    await closedBy(socket);
  });
});

describe('fake backend', () => {
  it('answers a dribbled request head with 408', async () => {
    const socket = await open(emu.ports.backendHttp);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    expect(await closedBy(socket)).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('the SMTP sink closes a client that stops sending commands', async () => {
    const socket = await open(emu.ports.smtp);
    expect(await closedBy(socket)).toMatch(/^220 /);
  });
});
