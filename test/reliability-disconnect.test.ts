/**
 * Clients that go away mid-request and mid-response (HTTP proxy, SOCKS5, Destination Service), and backends
 * that hang or reset. What must hold: nothing hangs, the connection to the backend is released as soon as the
 * client is gone, the proxy answers 502/504 where the backend fails, and the emulator keeps serving.
 * The backends here are the test's own loopback servers, so the test can count their open connections.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { benchLocation, benchTcpHost, socksTunnel } from '../bench/connectivity.ts';
import { serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
let token: string;

/** A loopback server that counts its open connections. */
interface Tracked {
  port: number;
  open: Set<Socket>;
  accepted: number;
  close(): Promise<void>;
}

function track(server: Server | NetServer): Promise<Tracked> {
  const open = new Set<Socket>();
  const tracked = {
    port: 0,
    open,
    accepted: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (socket: Socket) => {
    tracked.accepted++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(Object.assign(tracked, { port: (server.address() as { port: number }).port }))),
  );
}

let streaming: Tracked; // HTTP: /endless streams forever, else reads the body and answers 200 'ok'
/** Connections of `streaming` that are serving /endless, or receiving an /upload body, right now. */
const busy = { endless: new Set<Socket>(), upload: new Set<Socket>() };
const mark = (set: Set<Socket>, socket: Socket): void => {
  set.add(socket);
  socket.once('close', () => set.delete(socket));
};
let hanging: Tracked; // accepts, reads, never answers
let resetting: Tracked; // resets every connection as soon as a byte arrives
let halfAnswer: Tracked; // sends a partial response, then resets

const endlessChunk = Buffer.alloc(64 * 1024, 'x');

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default', proxyBackendTimeoutMs: 400 });
  streaming = await track(
    createHttpServer((req, res) => {
      if (req.url === '/endless') {
        mark(busy.endless, req.socket);
        res.on('close', () => busy.endless.delete(req.socket));
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const pump = (): void => {
          while (!res.destroyed && res.write(endlessChunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        return pump();
      }
      if (req.url === '/upload') {
        mark(busy.upload, req.socket);
        req.on('end', () => busy.upload.delete(req.socket));
      }
      req.resume();
      req.on('end', () => res.end('ok'));
    }),
  );
  hanging = await track(createNetServer((socket) => socket.resume()));
  resetting = await track(createNetServer((socket) => socket.once('data', () => socket.resetAndDestroy())));
  halfAnswer = await track(
    createNetServer((socket) =>
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial');
        setTimeout(() => socket.resetAndDestroy(), 20);
      }),
    ),
  );
});

afterAll(async () => {
  await emu?.stop();
  await Promise.all([streaming, hanging, resetting, halfAnswer].map((t) => t?.close()));
});

beforeEach(async () => {
  emu.reset();
  const system = (virtualHost: string, port: number, protocol: 'HTTP' | 'TCP'): object => ({
    virtualHost,
    virtualPort: 80,
    internalHost: '127.0.0.1',
    internalPort: port,
    protocol,
  });
  emu.onPrem.putConnector({
    locationId: benchLocation,
    systems: [
      system('stream.internal', streaming.port, 'HTTP'),
      system('hang.internal', hanging.port, 'HTTP'),
      system('reset.internal', resetting.port, 'HTTP'),
      system('half.internal', halfAnswer.port, 'HTTP'),
      system('stream-tcp.internal', streaming.port, 'TCP'),
      system('hang-tcp.internal', hanging.port, 'TCP'),
      system('reset-tcp.internal', resetting.port, 'TCP'),
      { ...system(benchTcpHost.host, emu.ports.backendHttp, 'TCP'), virtualPort: benchTcpHost.port },
    ],
  });
  token ??= await serviceToken(emu, 'connectivity');
});

/** The backend connections opened since `before` that are still open. */
const openSince = (tracked: Tracked, before: Set<Socket>): number => [...tracked.open].filter((s) => !before.has(s)).length;

async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Resolves when the peer (the emulator) has closed `socket`, which the caller must not destroy itself; fails
 * after `ms` if the connection is still open, so a connection the emulator leaves open fails the test.
 */
function closedByEmulator(socket: Socket, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.on('error', () => undefined);
    socket.resume(); // read whatever the emulator answers, so that its FIN is seen
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the emulator did not close the connection within ${ms} ms`));
    }, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A raw socket to a port; resolves once connected. */
function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Send a proxy request head; resolve with the status line and whatever else arrived until close. */
function proxyExchange(head: string, waitMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(emu.ports.httpProxy, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${waitMs} ms; got ${JSON.stringify(text.slice(0, 100))}`));
    }, waitMs);
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.write(head);
  });
}

const proxyHead = (method: string, target: string, extra = ''): string =>
  `${method} http://${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Bearer ${token}\r\nSAP-Connectivity-SCC-Location_ID: ${benchLocation}\r\nConnection: close\r\n${extra}\r\n`;

async function stillServes(): Promise<void> {
  const res = await proxyExchange(proxyHead('GET', 'stream.internal:80/ok'));
  expect(res).toMatch(/^HTTP\/1\.1 200/);
  expect((await fetch(`${emu.urls.control}/health`)).status).toBe(200);
}

describe('clients that disconnect', () => {
  it('HTTP proxy, mid-request: the client sends half a body and goes; the backend connection is released', async () => {
    const socket = await rawConnect(emu.ports.httpProxy);
    socket.write(proxyHead('POST', 'stream.internal:80/upload', 'Content-Length: 1000000\r\n'));
    socket.write(Buffer.alloc(10_000, 'a'));
    await eventually(() => busy.upload.size === 1, 'the backend receives the upload');
    socket.destroy();
    await eventually(() => busy.upload.size === 0, 'the backend connection is closed');
    await stillServes();
  });

  it('HTTP proxy, mid-response: the client reads a little of an endless download and goes; the backend stream stops', async () => {
    const socket = await rawConnect(emu.ports.httpProxy);
    socket.write(proxyHead('GET', 'stream.internal:80/endless'));
    await new Promise<void>((resolve) => {
      let bytes = 0;
      socket.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > 256 * 1024) resolve();
      });
    });
    expect(busy.endless.size).toBe(1);
    socket.destroy();
    await eventually(() => busy.endless.size === 0, 'the backend connection is closed');
    await stillServes();
  });

  it('SOCKS5, mid-handshake: greeting only, half a token, or a request cut short; when the client goes, the emulator closes each connection', async () => {
    const truncated = [Buffer.from([0x05, 0x01]), Buffer.from([0x05, 0x01, 0x80, 0x01, 0x00, 0x00, 0x10]), Buffer.from([0x05, 0x01, 0x80])];
    for (const piece of truncated) {
      const socket = await rawConnect(emu.ports.socks5);
      const closed = closedByEmulator(socket);
      socket.write(piece);
      socket.end(); // the client is done sending (FIN) but keeps its socket: only the emulator can close it
      await closed;
    }
    const tunnel = await socksTunnel(emu.ports.socks5, token, benchLocation, benchTcpHost);
    tunnel.destroy();
    await stillServes();
  });

  it('SOCKS5, malformed handshake: the emulator answers what RFC 1928 says and closes the connection itself', async () => {
    const cases: [string, Buffer, number[]][] = [
      ['not version 5', Buffer.from([0x04, 0x01, 0x00]), []],
      ['no method 0x80 offered', Buffer.from([0x05, 0x01, 0x00]), [0x05, 0xff]],
      ['authentication version 2', Buffer.from([0x05, 0x01, 0x80, 0x02, 0x00, 0x00, 0x00, 0x01, 0x41]), [0x05, 0x80]],
      ['token length 0', Buffer.from([0x05, 0x01, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]), [0x05, 0x80]],
    ];
    for (const [what, piece, answer] of cases) {
      const socket = await rawConnect(emu.ports.socks5);
      const received: number[] = [];
      socket.on('data', (chunk: Buffer) => received.push(...chunk));
      const closed = closedByEmulator(socket);
      socket.write(piece); // and then nothing: the socket stays open on the client side
      await closed;
      expect(received, what).toEqual(answer);
    }
    await stillServes();
  });

  it('SOCKS5, mid-relay: the client goes during a download; the backend connection is closed', async () => {
    const tunnel = await socksTunnel(emu.ports.socks5, token, benchLocation, { host: 'stream-tcp.internal', port: 80 });
    tunnel.write('GET /endless HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => {
      let bytes = 0;
      tunnel.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > 256 * 1024) resolve();
      });
    });
    expect(busy.endless.size).toBe(1);
    tunnel.destroy();
    await eventually(() => busy.endless.size === 0, 'the backend connection is closed');
  });

  it('Destination Service: a request cut off mid-body and a find whose client goes before the answer', async () => {
    const dest = await serviceToken(emu, 'destination');
    const partial = await rawConnect(emu.ports.services);
    partial.write(
      `POST /destination-configuration/v1/subaccountDestinations HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${dest}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"Name": "HALF", "Type": "HTTP", "URL"`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    partial.destroy();
    for (let i = 0; i < 20; i++) {
      const gone = await rawConnect(emu.ports.services);
      gone.write(
        `GET /destination-configuration/v1/destinations/BACKEND_BASIC HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${dest}\r\n\r\n`,
      );
      gone.destroy();
    }
    // Nothing was created by the half request, and finds still answer.
    const list = await fetch(`${emu.urls.services}/destination-configuration/v1/subaccountDestinations`, {
      headers: { authorization: `Bearer ${dest}` },
    });
    expect(((await list.json()) as { Name: string }[]).map((d) => d.Name)).not.toContain('HALF');
    const find = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_BASIC`, {
      headers: { authorization: `Bearer ${dest}` },
    });
    expect(find.status).toBe(200);
  });
});

describe('backends that hang or reset', () => {
  it('HTTP proxy: a backend that never answers → 504 after proxyBackendTimeoutMs, and its connection is dropped', async () => {
    const before = new Set(hanging.open);
    const answer = await proxyExchange(proxyHead('GET', 'hang.internal:80/x'));
    expect(answer).toMatch(/^HTTP\/1\.1 504/);
    // the configured proxyBackendTimeoutMs (400) fired, not some other deadline
    expect(decodeURIComponent(/^x-emulator-reason: (.*)$/im.exec(answer)?.[1] ?? '')).toBe(
      `the backend 127.0.0.1:${hanging.port} did not answer within 400 ms`,
    );
    await eventually(() => openSince(hanging, before) === 0, 'the hanging backend connection is closed');
    await stillServes();
  });

  it('HTTP proxy: a stub that delays past the timeout → 504', async () => {
    emu.onPrem.addStub({ method: 'GET', path: '/slow', status: 200, body: 'late', delayMs: 3000 });
    const head = `GET http://erp.internal:44300/slow HTTP/1.1\r\nHost: erp.internal:44300\r\nProxy-Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
    expect(await proxyExchange(head)).toMatch(/^HTTP\/1\.1 504/);
  });

  it('HTTP proxy: a backend that resets → 502; one that resets mid-response → the client connection is cut, not left hanging', async () => {
    expect(await proxyExchange(proxyHead('GET', 'reset.internal:80/x'))).toMatch(/^HTTP\/1\.1 502/);
    const half = await proxyExchange(proxyHead('GET', 'half.internal:80/x'));
    expect(half).toMatch(/^HTTP\/1\.1 200/);
    expect(half.length).toBeLessThan(100_000);
    await stillServes();
  });

  it('SOCKS5: a backend that resets closes the tunnel; a hanging one is released when the client goes', async () => {
    const reset = await socksTunnel(emu.ports.socks5, token, benchLocation, { host: 'reset-tcp.internal', port: 80 });
    const closed = new Promise((resolve) => reset.on('close', resolve));
    reset.on('error', () => undefined);
    reset.write('hello');
    await closed;

    const before = new Set(hanging.open);
    const hang = await socksTunnel(emu.ports.socks5, token, benchLocation, { host: 'hang-tcp.internal', port: 80 });
    hang.write('hello');
    await eventually(() => openSince(hanging, before) === 1, 'the hanging backend has the connection');
    hang.destroy();
    await eventually(() => openSince(hanging, before) === 0, 'the hanging backend connection is closed');
    await stillServes();
  });
});
