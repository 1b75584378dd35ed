/**
 * Property-based fuzzing (fast-check) of the access rules of issue 15:
 * - dot-segment paths through the HTTP proxy (written raw, so no client normalises them): whatever the path, the
 *   backend never receives a path outside the allowed resources, and never one that climbs once decoded;
 * - Origin and Host headers on the control API: every Origin and Host that is not the emulator's own gets 403 and
 *   changes nothing; every own one gets through.
 * FUZZ_SCALE=20 runs twenty times the cases.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';
import { gatewayResources, gatewayScenario, serviceToken } from './helpers.ts';

const scale = Math.max(1, Number(process.env.FUZZ_SCALE) || 1);
const runs = (n: number): number => n * scale;

let emu: EmulatorHandle;
let echo: EchoServer;
/** The state at start, keys and scenario included: an accepted write is undone by restoring it. */
let initial: Awaited<ReturnType<EmulatorHandle['snapshot']>>;
const allowed = gatewayResources;

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ port: 0, scenario: gatewayScenario('fuzz-access', Number(new URL(echo.url).port)) });
  initial = await emu.snapshot();
});

afterAll(async () => {
  await emu?.stop();
  await echo?.close();
});

/** One raw HTTP/1.1 request; the status (0 = no status line, the connection was closed). */
function raw(port: number, head: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => resolve(0));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.write(`${head}Connection: close\r\n\r\n`);
  });
}

/** The path's segments once fully percent-decoded, with `\` as a separator too. */
const decodedSegments = (path: string): string[] => {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // keep it raw
  }
  return decoded.split(/[/\\]/);
};

describe('dot-segment paths through the HTTP proxy', () => {
  it('the backend never receives a path outside the allowed resources, nor one that climbs once decoded', async () => {
    const segment = fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2E%2e',
      '.%2e',
      '%2e.',
      '%2e',
      '..%2f',
      '%2e%2e%5c',
      '..\\',
      '\\..',
      'sap',
      'opu',
      'odata',
      'bc',
      'bcX',
      'secret',
      'x',
      '',
      '%2fsecret',
      '%252e%252e',
    );
    const separator = fc.constantFrom('/', '\\', '/./', '//');
    const path = fc
      .tuple(
        fc.constantFrom('/sap/opu/odata', '/sap/bc', '/sap/bcX', '/', '/sap'),
        fc.array(fc.tuple(separator, segment), { maxLength: 8 }),
        fc.option(fc.constantFrom('?x=1', '?a=../b'), { nil: '' }),
      )
      .map(([start, rest, query]) => `${start}${rest.map(([sep, seg]) => sep + seg).join('')}${query}`);
    // A token of this test's own: other tests of the file reset the emulator, which may refuse an older one.
    const token = await serviceToken(emu, 'connectivity');
    let forwarded = 0;
    await fc.assert(
      fc.asyncProperty(path, async (target) => {
        const before = echo.received.length;
        const status = await raw(
          emu.ports.httpProxy,
          `GET http://gw.internal:44300${target} HTTP/1.1\r\nHost: gw.internal:44300\r\nProxy-Authorization: Bearer ${token}\r\n`,
        );
        expect([200, 400, 403]).toContain(status);
        if (echo.received.length === before) return;
        forwarded++;
        expect(status).toBe(200);
        const received = echo.last().url.split('?')[0];
        expect(
          allowed.some((prefix) => received.startsWith(prefix)),
          `${target} reached the backend as ${received}`,
        ).toBe(true);
        expect(
          decodedSegments(received).filter((s) => s === '..' || s === '.'),
          `${target} reached the backend as ${received}`,
        ).toEqual([]);
      }),
      { numRuns: runs(300) },
    );
    expect(forwarded).toBeGreaterThan(0);
  });
});

function control(method: string, path: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: emu.ports.services,
        method,
        path,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body ?? '')) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body ?? '');
  });
}

/** What a refused control request must not have changed. */
const state = async (): Promise<string> =>
  JSON.stringify(
    await Promise.all(
      ['/backend/stubs', '/faults', '/keys', '/scenario', '/cloud-connectors'].map(async (p) =>
        (await fetch(`${emu.urls.control}${p}`)).text(),
      ),
    ),
  );

/** Writes a refused request would make if it got through: each changes one of the reads in {@link state}. */
const writes = [
  { method: 'POST', path: '/_emulator/keys/rotate', body: '{"keepOld":false}' },
  { method: 'POST', path: '/_emulator/backend/stubs', body: '{"id":"fuzz","path":"/fuzz","body":"x"}' },
  { method: 'POST', path: '/_emulator/faults', body: '{"target":{"service":"xsuaa"},"effect":{"status":503}}' },
  { method: 'POST', path: '/_emulator/scenario', body: '{"name":"taken-over","tenants":[{"subdomain":"evil"}]}' },
];

describe('Origin and Host headers on the control API', () => {
  const port = (): number => emu.ports.services;
  const ownNames = ['localhost', '127.0.0.1', '[::1]'];
  const name = fc.oneof(
    fc.constantFrom(...ownNames, 'LOCALHOST', 'provider.localhost', 'a.b.localhost'),
    fc.constantFrom(
      'evil.example',
      'localhost.evil.example',
      'evil-localhost',
      'localhost.',
      '127.0.0.1.nip.io',
      'localhostx',
      '10.0.0.1',
      '[::2]',
      'xn--lcalhost-9za',
      '0.0.0.0',
    ),
    fc.domain(),
  );
  const portOf = fc.oneof(fc.constant('OWN'), fc.constant(''), fc.integer({ min: 1, max: 65535 }).map(String));
  /** The Host rule: one of its names, on any port (rebinding changes the name, not the port). */
  const ownName = (host: string): boolean => {
    const lower = host.toLowerCase();
    return ownNames.includes(lower) || lower.endsWith('.localhost');
  };
  /** The Origin rule: one of its names on its own port (another port is another site). */
  const own = (host: string, p: string): boolean => p === String(port()) && ownName(host);
  const authority = (host: string, p: string): string => (p === '' ? host : `${host}:${p === 'OWN' ? port() : p}`);

  it('every Host that is not one of its names gets 403 and changes nothing; its own names get through', async () => {
    await fc.assert(
      fc.asyncProperty(name, portOf, fc.constantFrom(...writes), async (host, p, write) => {
        const before = await state();
        const status = await control(write.method, write.path, { host: authority(host, p), 'content-type': 'text/plain' }, write.body);
        if (ownName(host)) {
          expect(status, authority(host, p)).not.toBe(403);
          await emu.restoreSnapshot(initial); // undo the accepted write (a scenario load or a key rotation too)
        } else {
          expect(status, authority(host, p)).toBe(403);
          expect(await state()).toBe(before);
        }
      }),
      { numRuns: runs(150) },
    );
  });

  it('every Origin that is not its own gets 403 and changes nothing, even for text/plain (no preflight)', async () => {
    const scheme = fc.constantFrom('http', 'https', 'ftp', 'chrome-extension', 'file');
    const origin = fc.oneof(
      fc.constantFrom('null', '', ' ', 'http://', 'evil'),
      fc.tuple(scheme, name, portOf).map(([s, host, p]) => `${s}://${authority(host, p)}`),
    );
    await fc.assert(
      fc.asyncProperty(origin, fc.constantFrom(...writes), async (sent, write) => {
        const ownOrigin = ((): boolean => {
          try {
            const url = new URL(sent);
            return (
              (url.protocol === 'http:' || url.protocol === 'https:') &&
              own(url.hostname, url.port || (url.protocol === 'https:' ? '443' : '80'))
            );
          } catch {
            return false;
          }
        })();
        const before = await state();
        const status = await control(
          write.method,
          write.path,
          { host: `localhost:${port()}`, origin: sent, 'content-type': 'text/plain' },
          write.body,
        );
        if (ownOrigin) {
          expect(status, sent).not.toBe(403);
          await emu.restoreSnapshot(initial); // undo the accepted write (a scenario load or a key rotation too)
        } else {
          expect(status, sent).toBe(403);
          expect(await state()).toBe(before);
        }
      }),
      { numRuns: runs(150) },
    );
  });
});
