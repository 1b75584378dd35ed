/**
 * Bulk bodies through the HTTP proxy (20003) arrive byte for byte. The backend leg reads into a buffer that every
 * read of a connection reuses (http-proxy-server.ts, ReusedReadBufferAgent): were any part of the proxy to keep a
 * reference into that buffer instead of a copy, later reads would overwrite bytes not yet sent and these digests
 * would differ. Random content (a repeating pattern would hide such a mix-up), with a Content-Length and chunked,
 * read fast and read slowly (the client pauses, so the proxy's writes back up), several responses on one
 * keep-alive backend connection.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';

const body = randomBytes(6 * 1024 * 1024 + 12_345);
const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
let emu: EmulatorHandle;
let backend: Server;
let backendConnections = 0;
let token: string;

beforeAll(async () => {
  backend = createServer((req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
      let offset = 0;
      let size = 1;
      const pump = (): void => {
        while (offset < body.length) {
          const piece = body.subarray(offset, offset + size);
          offset += piece.length;
          size = (size * 7 + 13) % 200_000 || 1; // pieces of many sizes, some across read boundaries
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  backend.on('connection', () => backendConnections++);
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const port = (backend.address() as { port: number }).port;
  emu = await startEmulator({ port: 0, scenario: 'default' });
  emu.onPrem.putConnector({
    locationId: 'BULK',
    systems: [{ virtualHost: 'bulk.internal', virtualPort: 80, internalHost: '127.0.0.1', internalPort: port, protocol: 'HTTP' }],
  });
  token = await serviceToken(emu, 'connectivity');
});

afterAll(async () => {
  await emu?.stop();
  await new Promise((resolve) => backend?.close(resolve));
});

function download(path: string, agent: Agent, slow: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: emu.ports.httpProxy,
        path: `http://bulk.internal:80${path}`,
        agent,
        headers: { 'proxy-authorization': `Bearer ${token}`, 'sap-connectivity-scc-location_id': 'BULK' },
      },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          if (slow && chunks.length % 8 === 0) {
            res.pause();
            setTimeout(() => res.resume(), 5);
          }
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP proxy bulk bodies', () => {
  it.each([
    ['with a Content-Length, read fast', '/length', false],
    ['with a Content-Length, read slowly', '/length', true],
    ['chunked, read fast', '/chunked', false],
    ['chunked, read slowly', '/chunked', true],
  ])('%s: every byte arrives unchanged, three times over one backend connection', async (_name, path, slow) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = backendConnections;
    try {
      for (let i = 0; i < 3; i++) {
        const got = await download(path, agent, slow);
        expect(got.length).toBe(body.length);
        expect(digest(got)).toBe(digest(body));
      }
    } finally {
      agent.destroy();
    }
    // The proxy kept its backend connection alive across the three responses (so reuse was exercised).
    expect(backendConnections - before).toBeLessThanOrEqual(1);
  });
});
