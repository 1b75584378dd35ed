/**
 * The connectivity proxy against a direct connection to the same fake backend, in the same run: small-request
 * latency and bulk throughput through 20003 (HTTP) and 20004 (SOCKS5), and many proxied connections at once.
 * Same client code, same backend, same request on both sides; direct and proxied runs are interleaved so both
 * see the same machine state.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { bindingToken, median, result, type BenchResult, type EmulatorHandle, type StartEmulator } from './common.ts';

export interface ConnectivitySettings {
  /** Sequential small requests per side for the latency figures (after a warm-up of a tenth of it). */
  latencyRequests: number;
  /** Bytes per bulk transfer. */
  bulkBytes: number;
  /** Bulk transfers per side (median taken). */
  bulkRuns: number;
  /** Connections opened at once for the concurrency figures. */
  concurrentConnections: number;
}

/** Virtual hosts the benchmark maps to the fake backend's HTTP port, on a connector of its own. */
export const benchLocation = 'BENCH';
export const benchHttpHost = 'bench.internal:80';
export const benchTcpHost = { host: 'bench-tcp.internal', port: 8080 };
const smallPath = '/bytes/64';

/** Add the benchmark's connector (HTTP and TCP mappings of the backend's HTTP port, no principal propagation). */
export function addBenchConnector(emu: EmulatorHandle, tenant?: string): void {
  emu.onPrem.putConnector(
    {
      locationId: benchLocation,
      systems: [
        {
          virtualHost: 'bench.internal',
          virtualPort: 80,
          internalHost: '127.0.0.1',
          internalPort: emu.ports.backendHttp,
          protocol: 'HTTP',
        },
        {
          virtualHost: benchTcpHost.host,
          virtualPort: benchTcpHost.port,
          internalHost: '127.0.0.1',
          internalPort: emu.ports.backendHttp,
          protocol: 'TCP',
        },
      ],
    },
    tenant,
  );
}

export interface HttpTarget {
  agent: Agent;
  /** Request options for `path` on this side. */
  options(path: string): { host: string; port: number; path: string; headers: Record<string, string> };
}

export function directTarget(emu: EmulatorHandle, agent: Agent): HttpTarget {
  return { agent, options: (path) => ({ host: '127.0.0.1', port: emu.ports.backendHttp, path, headers: {} }) };
}

export function proxiedTarget(
  emu: EmulatorHandle,
  agent: Agent,
  token: string,
  host = benchHttpHost,
  location = benchLocation,
): HttpTarget {
  const headers: Record<string, string> = { 'proxy-authorization': `Bearer ${token}`, host };
  if (location) headers['sap-connectivity-scc-location_id'] = location;
  return { agent, options: (path) => ({ host: '127.0.0.1', port: emu.ports.httpProxy, path: `http://${host}${path}`, headers }) };
}

/** One request with Node's http client; resolves with the response's byte count, rejects on a non-200. */
export function httpCall(target: HttpTarget, path: string, method = 'GET', upload = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = target.options(path);
    const req = httpRequest(
      {
        ...options,
        method,
        agent: target.agent,
        headers: upload ? { ...options.headers, 'content-length': String(upload) } : options.headers,
      },
      (res: IncomingMessage) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${method} ${options.path}: status ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (!upload) return void req.end();
    writeBytes(req, upload, () => req.end());
  });
}

const uploadChunk = Buffer.alloc(64 * 1024, 'bench-upload-');

/** Write `total` bytes with back-pressure, then call `done`. */
function writeBytes(stream: NodeJS.WritableStream, total: number, done: () => void): void {
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const piece = left >= uploadChunk.length ? uploadChunk : uploadChunk.subarray(0, left);
      left -= piece.length;
      if (!stream.write(piece)) return void stream.once('drain', pump);
    }
    done();
  };
  pump();
}

/** Read exactly n bytes from a socket that is in paused mode. */
function readExactly(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tryRead = (): void => {
      const data = socket.read(n) as Buffer | null;
      if (data) {
        cleanup();
        resolve(data);
      }
    };
    const fail = (err?: Error): void => {
      cleanup();
      reject(err ?? new Error('the connection closed during the SOCKS5 handshake'));
    };
    const cleanup = (): void => {
      socket.off('readable', tryRead);
      socket.off('error', fail);
      socket.off('close', fail);
    };
    socket.on('readable', tryRead);
    socket.on('error', fail);
    socket.on('close', fail);
    tryRead();
  });
}

/** A connected socket to `port` on loopback (no Nagle, like the SDK's clients). */
export function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** SOCKS5 with SAP's 0x80 authentication, then CONNECT to a virtual host; the socket is the open tunnel. */
export async function socksTunnel(port: number, jwt: string, location: string, target: { host: string; port: number }): Promise<Socket> {
  const socket = await tcpConnect(port);
  socket.pause();
  try {
    socket.write(Buffer.from([0x05, 0x01, 0x80]));
    const method = await readExactly(socket, 2);
    if (method[1] !== 0x80) throw new Error(`SOCKS5 method ${method[1]}`);
    const token = Buffer.from(jwt, 'latin1');
    const loc = Buffer.from(Buffer.from(location, 'utf8').toString('base64'), 'latin1');
    const head = Buffer.alloc(5);
    head[0] = 0x01;
    head.writeUInt32BE(token.length, 1);
    socket.write(Buffer.concat([head, token, Buffer.from([loc.length]), loc]));
    const auth = await readExactly(socket, 2);
    if (auth[1] !== 0x00) throw new Error(`SOCKS5 authentication refused (${auth[1]})`);
    const host = Buffer.from(target.host, 'latin1');
    const request = Buffer.concat([
      Buffer.from([0x05, 0x01, 0x00, 0x03, host.length]),
      host,
      Buffer.from([target.port >> 8, target.port & 0xff]),
    ]);
    socket.write(request);
    const reply = await readExactly(socket, 10);
    if (reply[1] !== 0x00) throw new Error(`SOCKS5 CONNECT refused (${reply[1]})`);
    return socket;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * HTTP/1.1 by hand over one socket (a SOCKS tunnel or a direct TCP connection), sequential requests with
 * keep-alive; counts body bytes without keeping them. The same client on both sides of a SOCKS comparison.
 */
export class RawHttpConnection {
  private readonly socket: Socket;
  private head = '';
  private bodyLeft = -1;
  private bodyBytes = 0;
  private pending?: { resolve: (bytes: number) => void; reject: (err: Error) => void };

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the connection closed before the response was complete')));
    socket.resume();
  }

  get(path: string, host = 'backend'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.head = '';
      this.bodyLeft = -1;
      this.bodyBytes = 0;
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    });
  }

  close(): void {
    this.pending = undefined;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    let rest = chunk;
    if (this.bodyLeft < 0) {
      const text = chunk.toString('latin1');
      const end = (this.head + text).indexOf('\r\n\r\n');
      if (end < 0) {
        this.head += text;
        return;
      }
      const consumed = end + 4 - this.head.length;
      const head = (this.head + text).slice(0, end);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 'NaN');
      if (status !== 200 || !Number.isFinite(length)) return this.fail(new Error(`unexpected response: ${head.split('\r\n')[0]}`));
      this.bodyLeft = length;
      rest = chunk.subarray(consumed);
    }
    this.bodyLeft -= rest.length;
    this.bodyBytes += rest.length;
    if (this.bodyLeft <= 0 && this.pending) {
      const { resolve } = this.pending;
      this.pending = undefined;
      resolve(this.bodyBytes);
    }
  }

  private fail(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }
}

export const mbPerSecond = (bytes: number, ms: number): number => bytes / 1024 / 1024 / (ms / 1000);

/** Alternate `a` and `b` `runs` times (a first on even runs, b first on odd ones); the timings of each. */
export async function interleaved(runs: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number[], number[]]> {
  const ta: number[] = [];
  const tb: number[] = [];
  const time = async (run: () => Promise<unknown>, into: number[]): Promise<void> => {
    const started = performance.now();
    await run();
    into.push(performance.now() - started);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      await time(a, ta);
      await time(b, tb);
    } else {
      await time(b, tb);
      await time(a, ta);
    }
  }
  return [ta, tb];
}

const spread = (values: number[]): string => {
  const sorted = [...values].sort((x, y) => x - y);
  return `p10 ${sorted[Math.floor(sorted.length * 0.1)].toFixed(3)}, p90 ${sorted[Math.floor(sorted.length * 0.9)].toFixed(3)}`;
};

/** Many connections at once, each with one request; resolves with the time for all and the errors seen. */
async function burst(count: number, call: () => Promise<number>): Promise<{ ms: number; errors: string[] }> {
  const errors: string[] = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, () => call().catch((err: Error) => void errors.push(err.message))));
  return { ms: performance.now() - started, errors };
}

export async function benchConnectivity(startEmulator: StartEmulator, settings: ConnectivitySettings): Promise<BenchResult[]> {
  const emu = await startEmulator({ port: 0, scenario: 'default' });
  try {
    addBenchConnector(emu);
    const token = await bindingToken(emu, 'connectivity');
    const results: BenchResult[] = [];
    const warm = Math.max(5, Math.round(settings.latencyRequests / 10));

    // --- HTTP proxy (20003), Node's http client with one keep-alive connection per side.
    {
      const directAgent = new Agent({ keepAlive: true, maxSockets: 1 });
      const proxyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
      const direct = directTarget(emu, directAgent);
      const proxied = proxiedTarget(emu, proxyAgent, token);
      await interleaved(
        warm,
        () => httpCall(direct, smallPath),
        () => httpCall(proxied, smallPath),
      );
      const [d, p] = await interleaved(
        settings.latencyRequests,
        () => httpCall(direct, smallPath),
        () => httpCall(proxied, smallPath),
      );
      results.push(
        result(
          `HTTP proxy 20003: small request latency (GET ${smallPath}, keep-alive)`,
          'ms',
          median(p),
          'direct to the backend',
          median(d),
          settings.latencyRequests,
          { text: '≤ 1.3× direct', max: 1.3 },
          `proxied ${spread(p)}; direct ${spread(d)}`,
        ),
      );

      // The same small request with the client apps really use: the SAP Cloud SDK's executeHttpRequest (axios).
      const { executeHttpRequest } = await import('@sap-cloud-sdk/http-client');
      const sdkProxied = {
        url: `http://${benchHttpHost}`,
        proxyType: 'OnPremise' as const,
        cloudConnectorLocationId: benchLocation,
        proxyConfiguration: {
          host: '127.0.0.1',
          port: emu.ports.httpProxy,
          protocol: 'http' as const,
          headers: { 'Proxy-Authorization': `Bearer ${token}` },
        },
      };
      const sdkDirect = { url: `http://127.0.0.1:${emu.ports.backendHttp}` };
      const sdkCall = async (destination: typeof sdkDirect | typeof sdkProxied): Promise<void> => {
        const res = await executeHttpRequest(destination, { method: 'get', url: smallPath });
        if (res.status !== 200) throw new Error(`SDK request: status ${res.status}`);
      };
      const sdkRuns = Math.max(5, Math.round(settings.latencyRequests / 2));
      await interleaved(
        warm,
        () => sdkCall(sdkDirect),
        () => sdkCall(sdkProxied),
      );
      const [sd, sp] = await interleaved(
        sdkRuns,
        () => sdkCall(sdkDirect),
        () => sdkCall(sdkProxied),
      );
      results.push(
        result(
          `HTTP proxy 20003: small request latency, SAP Cloud SDK executeHttpRequest`,
          'ms',
          median(sp),
          'the SDK direct to the backend',
          median(sd),
          sdkRuns,
          { text: '≤ 1.3× direct', max: 1.3 },
          `proxied ${spread(sp)}; direct ${spread(sd)}`,
        ),
      );

      const bulkPath = `/bytes/${settings.bulkBytes}`;
      await interleaved(
        1,
        () => httpCall(direct, bulkPath),
        () => httpCall(proxied, bulkPath),
      );
      const [dg, pg] = await interleaved(
        settings.bulkRuns,
        () => httpCall(direct, bulkPath),
        () => httpCall(proxied, bulkPath),
      );
      results.push(
        result(
          `HTTP proxy 20003: download throughput (GET /bytes/${settings.bulkBytes})`,
          'MB/s',
          mbPerSecond(settings.bulkBytes, median(pg)),
          'direct to the backend',
          mbPerSecond(settings.bulkBytes, median(dg)),
          settings.bulkRuns,
          { text: '≥ 0.8× direct', min: 0.8 },
        ),
      );

      const [du, pu] = await interleaved(
        settings.bulkRuns,
        () => httpCall(direct, '/discard', 'POST', settings.bulkBytes),
        () => httpCall(proxied, '/discard', 'POST', settings.bulkBytes),
      );
      results.push(
        result(
          `HTTP proxy 20003: upload throughput (POST /discard, ${settings.bulkBytes} bytes)`,
          'MB/s',
          mbPerSecond(settings.bulkBytes, median(pu)),
          'direct to the backend',
          mbPerSecond(settings.bulkBytes, median(du)),
          settings.bulkRuns,
          { text: '≥ 0.8× direct', min: 0.8 },
        ),
      );
      directAgent.destroy();
      proxyAgent.destroy();
    }

    // --- SOCKS5 (20004): the same hand-written HTTP client over a tunnel and over a direct TCP connection.
    {
      const openTunnel = (): Promise<Socket> => socksTunnel(emu.ports.socks5, token, benchLocation, benchTcpHost);
      const openDirect = (): Promise<Socket> => tcpConnect(emu.ports.backendHttp);
      const viaSocks = new RawHttpConnection(await openTunnel());
      const direct = new RawHttpConnection(await openDirect());
      await interleaved(
        warm,
        () => direct.get(smallPath),
        () => viaSocks.get(smallPath),
      );
      const [d, p] = await interleaved(
        settings.latencyRequests,
        () => direct.get(smallPath),
        () => viaSocks.get(smallPath),
      );
      results.push(
        result(
          `SOCKS5 20004: small request latency on an open tunnel (GET ${smallPath})`,
          'ms',
          median(p),
          'direct TCP to the backend',
          median(d),
          settings.latencyRequests,
          undefined,
          `proxied ${spread(p)}; direct ${spread(d)}`,
        ),
      );

      const bulkPath = `/bytes/${settings.bulkBytes}`;
      await interleaved(
        1,
        () => direct.get(bulkPath),
        () => viaSocks.get(bulkPath),
      );
      const [dg, pg] = await interleaved(
        settings.bulkRuns,
        () => direct.get(bulkPath),
        () => viaSocks.get(bulkPath),
      );
      results.push(
        result(
          `SOCKS5 20004: download throughput (GET /bytes/${settings.bulkBytes})`,
          'MB/s',
          mbPerSecond(settings.bulkBytes, median(pg)),
          'direct TCP to the backend',
          mbPerSecond(settings.bulkBytes, median(dg)),
          settings.bulkRuns,
          { text: '≥ 0.9× direct', min: 0.9 },
        ),
      );
      viaSocks.close();
      direct.close();

      const connectAndGet = async (open: () => Promise<Socket>): Promise<void> => {
        const connection = new RawHttpConnection(await open());
        await connection.get(smallPath);
        connection.close();
      };
      const setupRuns = Math.max(5, Math.round(settings.latencyRequests / 4));
      const [ds, ps] = await interleaved(
        setupRuns,
        () => connectAndGet(openDirect),
        () => connectAndGet(openTunnel),
      );
      results.push(
        result(
          'SOCKS5 20004: connect + handshake + small request',
          'ms',
          median(ps),
          'TCP connect + the same request, direct',
          median(ds),
          setupRuns,
        ),
      );
    }

    // --- Many connections at once: each its own connection, one request each, nothing may fail.
    {
      const n = settings.concurrentConnections;
      const oneShot = (): Agent => new Agent({ keepAlive: false, maxSockets: Infinity });
      const directAgent = oneShot();
      const proxyAgent = oneShot();
      const d = await burst(n, () => httpCall(directTarget(emu, directAgent), '/bytes/1024'));
      const p = await burst(n, () => httpCall(proxiedTarget(emu, proxyAgent, token), '/bytes/1024'));
      results.push(
        result(
          `HTTP proxy 20003: ${n} connections at once, one request each`,
          'ms',
          p.ms,
          `${n} direct connections`,
          d.ms,
          n,
          `${n} without an error`,
          `errors: proxied ${p.errors.length}, direct ${d.errors.length}${p.errors[0] ? ` (${p.errors[0]})` : ''}`,
        ),
      );
      if (p.errors.length) results[results.length - 1].aimMet = false;
      else results[results.length - 1].aimMet = true;
      const sd = await burst(n, async () => {
        const c = new RawHttpConnection(await tcpConnect(emu.ports.backendHttp));
        const bytes = await c.get('/bytes/1024');
        c.close();
        return bytes;
      });
      const sp = await burst(n, async () => {
        const c = new RawHttpConnection(await socksTunnel(emu.ports.socks5, token, benchLocation, benchTcpHost));
        const bytes = await c.get('/bytes/1024');
        c.close();
        return bytes;
      });
      results.push(
        result(
          `SOCKS5 20004: ${n} tunnels at once, one request each`,
          'ms',
          sp.ms,
          `${n} direct TCP connections`,
          sd.ms,
          n,
          `${n} without an error`,
          `errors: proxied ${sp.errors.length}, direct ${sd.errors.length}${sp.errors[0] ? ` (${sp.errors[0]})` : ''}`,
        ),
      );
      results[results.length - 1].aimMet = sp.errors.length === 0;
    }
    return results;
  } finally {
    await emu.stop();
  }
}
