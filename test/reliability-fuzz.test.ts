/**
 * Property-based fuzzing (fast-check) of every way bytes get into the emulator: the SOCKS5 handshake, the HTTP
 * proxy's request head, the token endpoint's form and every control API route that takes a body (found in the
 * running app's route table, so routes added later are fuzzed too). The properties: the process never crashes
 * and never answers 500, every exchange ends with the emulator closing the connection (after a reply where the
 * protocol has one), the proxies never connect to a host that is not mapped (a loopback canary counts
 * connections), and a refused request changes no state (every parameterless GET of the control API reads the same before and after).
 */
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';

/** FUZZ_SCALE=20 runs twenty times the cases (and allows twenty times the time) for a deeper search by hand. */
const scale = Math.max(1, Number(process.env.FUZZ_SCALE) || 1);
const runs = (n: number): number => n * scale;

let emu: EmulatorHandle;
let canary: Canary;
let connectivityToken: string;
/** GET routes of the control API whose answer does not change by itself (the journal and clocks do). */
let stableGets: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default', proxyBackendTimeoutMs: 2000 });
  canary = await startCanary();
  connectivityToken = await serviceToken(emu, 'connectivity');
  const gets = controlRoutes()
    .filter((r) => r.method === 'GET' && !r.path.includes(':') && !r.path.includes('*') && !r.path.endsWith('/journal'))
    .map((r) => r.path);
  const first = await snapshot(gets);
  const second = await snapshot(gets);
  stableGets = gets.filter((path) => first[path] === second[path]);
});

afterAll(async () => {
  await emu?.stop();
  await canary?.close();
});

function controlRoutes(): { method: string; path: string }[] {
  const seen = new Set<string>();
  return emu.core.app.routes
    .filter((r) => r.path.startsWith('/_emulator') && r.method !== 'ALL')
    .filter((r) => {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((r) => ({ method: r.method, path: r.path }));
}

async function snapshot(paths = stableGets): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of paths) {
    const res = await fetch(`${emu.urls.services}${path}`);
    out[path] = `${res.status} ${await res.text()}`;
  }
  return out;
}

/**
 * Write raw bytes (in the given pieces), with `halfClose` then FIN (the client has said all it will); never
 * destroy the socket before `waitMs`, so `closed` means the emulator closed the connection. Collects what comes
 * back until then.
 */
function exchange(port: number, pieces: Uint8Array[], waitMs: number, halfClose: boolean): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed: false });
    }, waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed: true });
    });
    socket.on('connect', () => {
      for (const piece of pieces) if (!socket.destroyed) socket.write(piece);
      if (halfClose && !socket.destroyed) socket.end();
    });
  });
}

/**
 * A loopback server that no Cloud Connector maps, so nothing the proxies receive may ever reach it. It counts
 * connections and resets each one: a proxy that forwarded to it anyway would answer 502, which a check of the
 * status alone would let pass.
 */
interface Canary {
  port: number;
  connections: number;
  close(): Promise<void>;
}
async function startCanary(): Promise<Canary> {
  const canary = { port: 0, connections: 0, close: (): Promise<void> => new Promise((resolve) => server.close(() => resolve())) };
  const server = createNetServer((socket) => {
    canary.connections++;
    socket.on('error', () => undefined);
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  canary.port = (server.address() as AddressInfo).port;
  return canary;
}

async function healthy(): Promise<void> {
  const res = await fetch(`${emu.urls.control}/health`);
  expect(res.status).toBe(200);
}

const sapAuth = (jwt: string, location: string): Buffer => {
  const token = Buffer.from(jwt, 'latin1');
  const loc = Buffer.from(location, 'latin1');
  const head = Buffer.alloc(5);
  head[0] = 0x01;
  head.writeUInt32BE(token.length, 1);
  return Buffer.concat([head, token, Buffer.from([loc.length & 0xff]), loc]);
};

/** Split bytes into pieces at arbitrary points, as TCP may deliver them. */
const chunked = (bytes: Buffer, cuts: number[]): Uint8Array[] => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) pieces.push(bytes.subarray(last, p));
    last = p;
  }
  return pieces;
};

describe('fuzzing the SOCKS5 handshake (20004)', () => {
  it(
    'answers every greeting, token and request with a well-formed reply or none, always closes the connection, never connects an unmapped host, and keeps serving',
    async () => {
      const before = await snapshot();
      const stages = { authenticated: 0, connectAnswered: 0 };
      const greeting = fc.oneof(
        fc.constant(Buffer.from([0x05, 0x01, 0x80])),
        fc.constant(Buffer.from([0x05, 0x02, 0x00, 0x80])),
        fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => Buffer.from(b)),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }).map((methods) => Buffer.from([0x05, methods.length, ...methods])),
      );
      const auth = fc.oneof(
        fc.constant(sapAuth(connectivityToken, '')),
        fc.tuple(fc.string({ maxLength: 80 }), fc.string({ maxLength: 20 })).map(([jwt, loc]) => sapAuth(jwt, loc)),
        fc
          .tuple(fc.string({ maxLength: 20 }), fc.base64String({ maxLength: 12 }))
          .map(([loc, b64]) => sapAuth(connectivityToken.slice(0, connectivityToken.length - loc.length) + loc, b64)),
        fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
        fc
          .integer({ min: 0, max: 0xffffffff })
          .map((length) => Buffer.from([0x01, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff])),
      );
      const canaryPort = [canary.port >> 8, canary.port & 0xff];
      const request = fc.oneof(
        fc.constant(Buffer.from([0x05, 0x01, 0x00, 0x03, 12, ...Buffer.from('tcp.internal'), 0x1b, 0x58])),
        // the unmapped canary, by IPv4 address and by name: must be refused, never connected
        fc.constant(Buffer.from([0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, ...canaryPort])),
        fc
          .constantFrom('127.0.0.1', 'localhost')
          .map((h) => Buffer.from([0x05, 0x01, 0x00, 0x03, h.length, ...Buffer.from(h), ...canaryPort])),
        fc
          .tuple(
            fc.integer({ min: 0, max: 255 }),
            fc.integer({ min: 0, max: 255 }),
            fc.string({ maxLength: 30 }),
            fc.integer({ min: 0, max: 65535 }),
          )
          .map(([cmd, atyp, host, port]) => {
            const h = Buffer.from(host, 'latin1');
            return Buffer.from([0x05, cmd, 0x00, atyp, h.length, ...h, port >> 8, port & 0xff]);
          }),
        fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)),
      );
      // Cut short anywhere: a client that sends half a request and waits must not break the parser either.
      const truncated = fc.tuple(request, fc.nat(40)).map(([r, n]) => r.subarray(0, n % (r.length + 1)));
      await fc.assert(
        fc.asyncProperty(greeting, auth, fc.oneof(request, truncated), fc.array(fc.nat(400), { maxLength: 4 }), async (g, a, r, cuts) => {
          const { data, closed } = await exchange(emu.ports.socks5, chunked(Buffer.concat([g, a, r]), cuts), 3000, true);
          // Every exchange ends with the emulator closing the connection (the client sent FIN), with or without a
          // reply: complete input is answered and closed, malformed input is closed, cut-short input is closed at EOF.
          expect(closed, `no close after ${JSON.stringify([...data])}`).toBe(true);
          // The first reply is the method selection: 05 80 or 05 FF, never anything else.
          if (data.length >= 2) expect([0x80, 0xff]).toContain(data[1]);
          if (data.length) expect(data[0]).toBe(0x05);
          expect(canary.connections, 'the unmapped canary was connected').toBe(0);
          // How far the handshake got: method chosen, token accepted, CONNECT answered.
          if (data.length >= 4 && data[2] === 0x01 && data[3] === 0x00) stages.authenticated++;
          if (data.length >= 6 && data[4] === 0x05) stages.connectAnswered++;
        }),
        {
          numRuns: runs(150),
          // A handshake that authenticates and gets its CONNECT answered, whatever the random inputs reach: the stage
          // counts below must not depend on fast-check's seed.
          examples: [
            [
              Buffer.from([0x05, 0x01, 0x80]),
              sapAuth(connectivityToken, ''),
              Buffer.from([0x05, 0x01, 0x00, 0x03, 12, ...Buffer.from('tcp.internal'), 0x1b, 0x58]),
              [],
            ],
          ],
        },
      );
      expect(stages.authenticated, JSON.stringify(stages)).toBeGreaterThan(0);
      expect(stages.connectAnswered, JSON.stringify(stages)).toBeGreaterThan(0);
      await healthy();
      expect(await snapshot()).toEqual(before);
    },
    60_000 * scale,
  );
});

describe('fuzzing the HTTP proxy request head (20003)', () => {
  const mapped = ['erp.internal:44300', 'gw.internal:44300'];
  it(
    'never answers 500, never reaches an unmapped host, and keeps serving',
    async () => {
      const before = await snapshot();
      const seen: Record<number, number> = {};
      const token = (t: string): string => t.replace(/[^!#$%&'*+.^_`|~0-9A-Za-z-]/g, '') || 'GET';
      const printable = fc.string({ maxLength: 40 }).map((v) => v.replace(/[^\x20-\x7e]/g, ''));
      const host = fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...mapped) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            `127.0.0.1:${canary.port}`,
            `localhost:${canary.port}`,
            `localhost:${emu.ports.backendHttp}`,
            `127.0.0.1:${emu.ports.backendHttp}`,
            `localhost:${emu.ports.services}`,
            'unknown.internal:80',
            'erp.internal',
            'ERP.INTERNAL:44300',
            '[::1]:80',
            'erp.internal:99999',
            'erp.internal:44300@evil',
            'tcp.internal:7000',
          ),
        },
        { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((h) => h.replace(/[\s]/g, '')) },
      );
      const path = fc.oneof(
        {
          weight: 4,
          arbitrary: fc.constantFrom(
            '/',
            '/echo',
            '/bytes/10',
            '/sap/opu/odata/x',
            '/sap/bc/ping',
            '/sap/bc/ping/x',
            '',
            '?a=1',
            '/%zz',
            '/../..',
            '#frag',
          ),
        },
        { weight: 1, arbitrary: printable.map((p) => `/${p.replace(/ /g, '')}`) },
      );
      const target = fc.oneof(
        {
          weight: 5,
          arbitrary: fc
            .tuple(
              fc.oneof(
                { weight: 6, arbitrary: fc.constant('http://') },
                { weight: 1, arbitrary: fc.constantFrom('HTTP://', 'https://', '', '//', 'ftp://') },
              ),
              host,
              path,
            )
            .map(([sch, h, p]) => `${sch}${h}${p}`),
        },
        { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((x) => x.replace(/[\s]/g, '') || '/') },
      );
      const method = fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH') },
        { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 10 }).map(token) },
      );
      const auth = fc.oneof(
        { weight: 4, arbitrary: fc.constant(`Bearer ${connectivityToken}`) },
        { weight: 1, arbitrary: fc.constant(`Basic ${Buffer.from(`${connectivityToken}:`).toString('base64')}`) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            `Bearer ${connectivityToken.slice(0, -3)}abc`,
            `bearer  ${connectivityToken}`,
            'Bearer',
            'Basic !!!',
            `Bearer ${connectivityToken} extra`,
          ),
        },
        { weight: 1, arbitrary: printable },
        { weight: 1, arbitrary: fc.constant(undefined) },
      );
      const header = fc.oneof(
        {
          weight: 6,
          arbitrary: fc.tuple(
            fc.constantFrom(
              'sap-connectivity-scc-location_id',
              'sap-connectivity-authentication',
              'sap-connectivity-technical-authentication',
              'host',
              'x-anything',
              'accept',
              'authorization',
              'sap-client',
            ),
            printable,
          ),
        },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom('content-length'), fc.oneof(fc.nat(40).map(String), printable)) },
        {
          weight: 1,
          arbitrary: fc.tuple(fc.constantFrom('transfer-encoding'), fc.constantFrom('chunked', 'gzip', 'chunked, chunked', 'identity')),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(
            fc.constantFrom('expect', 'upgrade', 'connection', 'proxy-connection'),
            fc.constantFrom('100-continue', 'websocket', 'keep-alive', 'upgrade'),
          ),
        },
        { weight: 1, arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).map(token), printable) },
      );
      await fc.assert(
        fc.asyncProperty(
          method,
          target,
          auth,
          fc.array(header, { maxLength: 3 }),
          fc.string({ maxLength: 30 }),
          fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
          async (m, t, a, headers, body, withHost) => {
            // HTTP/1.1 requires Host (Node answers 400 without one); most requests carry the target's authority.
            const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(t)?.[1] ?? 'x';
            const host = withHost ? [`Host: ${authority}`] : [];
            const lines = [
              `${m} ${t} HTTP/1.1`,
              'Connection: close',
              ...host,
              ...(a === undefined ? [] : [`Proxy-Authorization: ${a}`]),
              ...headers.map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, '')}`),
            ];
            // A body only with a length or chunking header: bytes after a bodyless request would be a second request.
            const framed = headers.some(([k]) => k === 'content-length' || k === 'transfer-encoding');
            const { data, closed } = await exchange(
              emu.ports.httpProxy,
              [Buffer.from(`${lines.join('\r\n')}\r\n\r\n${framed ? body : ''}`, 'latin1')],
              5000,
              false,
            );
            const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(data.toString('latin1'))?.[1] ?? 0);
            // Every request gets a status line, then the emulator closes the connection (Connection: close): a
            // silent close or a connection left open fails, as does a reply that is not HTTP.
            expect(status, `${m} ${t}: no status line; got ${JSON.stringify(data.toString('latin1').slice(0, 200))}`).toBeGreaterThan(0);
            expect(closed, `${m} ${t}: the emulator left the connection open after ${status}`).toBe(true);
            expect(status).not.toBe(500);
            seen[status] = (seen[status] ?? 0) + 1;
            // Not an open proxy: a 2xx/3xx only ever comes from a mapped virtual host ...
            if (status >= 200 && status < 400)
              expect(mapped, `${t} answered ${status}`).toContain(/^http:\/\/([^/?#]*)/i.exec(t)?.[1]?.toLowerCase());
            // ... and an unmapped host is never connected to, whatever the status (a 502 from a forwarded call too).
            expect(canary.connections, `${m} ${t} reached the unmapped canary (answered ${status})`).toBe(0);
          },
        ),
        {
          numRuns: runs(200),
          // One input per layer, so the check below does not depend on fast-check's seed: forwarded (200), origin-form
          // (400), an unmapped resource (403), https:// (405), no Proxy-Authorization (407).
          examples: [
            ['GET', 'http://erp.internal:44300/echo', `Bearer ${connectivityToken}`, [], '', true],
            ['GET', '/echo', `Bearer ${connectivityToken}`, [], '', true],
            ['GET', 'http://gw.internal:44300/secret', `Bearer ${connectivityToken}`, [], '', true],
            ['GET', 'https://erp.internal:44300/', `Bearer ${connectivityToken}`, [], '', true],
            ['GET', 'http://erp.internal:44300/', undefined, [], '', true],
          ],
        },
      );
      // The inputs reach every layer: refused heads, refused tokens, refused hosts and forwarded requests.
      if (process.env.FUZZ_DEBUG) console.log('proxy statuses', seen);
      for (const status of [200, 400, 403, 405, 407]) expect(seen[status], `no ${status} among ${JSON.stringify(seen)}`).toBeGreaterThan(0);
      await healthy();
      expect(await snapshot()).toEqual(before);
    },
    90_000 * scale,
  );
});

describe('fuzzing the token endpoint form (/oauth/token)', () => {
  it(
    'answers 200 or a 4xx for every form and content type, never 500, and a refused form changes nothing',
    async () => {
      const vcap = JSON.parse(emu.env.VCAP_SERVICES) as { xsuaa: { credentials: { clientid: string; clientsecret: string } }[] };
      const { clientid, clientsecret } = vcap.xsuaa[0].credentials;
      const maybe = <T>(valid: T, other: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(valid) },
          { weight: 1, arbitrary: other },
          { weight: 1, arbitrary: fc.constant(undefined) },
        );
      const text = fc.string({ maxLength: 30 });
      const fields = fc.record({
        grant_type: fc.constantFrom(
          'client_credentials',
          'client_credentials',
          'password',
          'refresh_token',
          'authorization_code',
          'urn:ietf:params:oauth:grant-type:jwt-bearer',
          'urn:ietf:params:oauth:grant-type:saml2-bearer',
          'user_token',
          'bogus',
          '',
        ),
        client_id: maybe(clientid, text),
        client_secret: maybe(clientsecret, text),
        username: fc.option(fc.constantFrom('alice', 'bob', 'nobody', ''), { freq: 2 }),
        password: fc.option(fc.constantFrom('alice-password', 'password', '', 'x'), { freq: 2 }),
        assertion: fc.option(fc.oneof(fc.constant(connectivityToken), text), { freq: 4 }),
        refresh_token: fc.option(text, { freq: 4 }),
        code: fc.option(text, { freq: 4 }),
        scope: fc.option(fc.constantFrom('openid', 'uaa.resource', '', 'a b'), { freq: 4 }),
      });
      const extra = fc.array(fc.tuple(fc.string({ maxLength: 12 }), text), { maxLength: 2 });
      const contentType = fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8') },
        { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', '') },
      );
      const before = await snapshot();
      const tokenStatuses: Record<number, number> = {};
      await fc.assert(
        fc.asyncProperty(
          fields,
          extra,
          contentType,
          fc.boolean(),
          fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.string({ maxLength: 60 }) }),
          async (f, more, type, basic, raw) => {
            const form = new URLSearchParams([
              ...Object.entries(f).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== null),
              ...more,
            ]);
            const headers: Record<string, string> = {};
            if (type) headers['content-type'] = type;
            if (basic) headers.authorization = `Basic ${Buffer.from(`${clientid}:${clientsecret}`).toString('base64')}`;
            const res = await fetch(`${emu.urls.services}/oauth/token`, { method: 'POST', headers, body: raw ?? form.toString() });
            await res.text();
            expect(res.status === 200 || (res.status >= 400 && res.status < 500), `status ${res.status}`).toBe(true);
            tokenStatuses[res.status] = (tokenStatuses[res.status] ?? 0) + 1;
          },
        ),
        { numRuns: runs(200) },
      );
      if (process.env.FUZZ_DEBUG) console.log('token statuses', tokenStatuses);
      for (const status of [200, 400, 401]) expect(tokenStatuses[status], JSON.stringify(tokenStatuses)).toBeGreaterThan(0);
      await healthy();
      expect(await snapshot()).toEqual(before);
    },
    60_000 * scale,
  );
});

describe('fuzzing every control API route that takes a body', () => {
  /** Valid bodies of the routes known today; routes without an example get the generic generators only. */
  const examples: Record<string, unknown[]> = {
    'PUT /_emulator/cloud-connectors/state': [
      { locationId: 'LOC1', online: false },
      { tenant: 'provider', online: true },
    ],
    'PUT /_emulator/cloud-connectors': [
      {
        tenant: 'provider',
        connector: {
          locationId: 'NEW',
          online: true,
          systems: [
            {
              virtualHost: 'x.internal',
              virtualPort: 80,
              internalHost: 'localhost',
              internalPort: 8080,
              protocol: 'HTTP',
              resources: [{ path: '/a', exactMatchOnly: true }],
            },
          ],
        },
      },
      {
        connector: {
          locationId: 'LOC1',
          systems: [
            {
              virtualHost: 'erp.internal',
              virtualPort: 44300,
              internalHost: '{{backendHost}}',
              internalPort: '{{backendHttpPort}}',
              principalType: 'X509',
            },
          ],
        },
      },
    ],
    'POST /_emulator/backend/stubs': [
      { method: 'GET', path: '/stub', status: 201, headers: { 'x-a': 'b' }, body: { ok: true }, delayMs: 0 },
    ],
    'POST /_emulator/users/token': [{ user: 'alice', tenant: 'subscriber1', scopes: ['read'] }],
    'POST /_emulator/clock': [
      { action: 'advance', by: '5m' },
      { action: 'freeze', at: '2030-01-01T00:00:00Z' },
    ],
    'POST /_emulator/keys/rotate': [{ keepOld: true, grace: '10m', kid: 'fuzz-key' }],
    'POST /_emulator/scenario': [{ name: 'fuzz', tenants: [{ subdomain: 'one' }] }],
  };
  /** Every path into a JSON value, so a mutation can reach any field. */
  const paths = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
    if (value === null || typeof value !== 'object') return [prefix];
    const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    return [prefix, ...keys.flatMap((k) => paths((value as Record<string | number, unknown>)[k], [...prefix, k]))];
  };
  const mutate = (example: unknown, path: (string | number)[], op: 'delete' | 'replace', replacement: unknown): unknown => {
    if (!path.length) return op === 'delete' ? undefined : replacement;
    const copy = structuredClone(example) as Record<string | number, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    if (op === 'delete') delete node[last];
    else node[last] = replacement;
    return copy;
  };
  const odd = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(-1, 0, 1e308, 65536, '', ' ', '{{backend}}', '../../x', 'x'.repeat(300), null, [], {}, true, '2030-13-45', 'NaN'),
  );
  const bodyFor = (key: string): fc.Arbitrary<string> => {
    const generic = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        '',
        '{',
        'null',
        '[]',
        '{"__proto__": {"polluted": true}}',
        '{"constructor": {"prototype": {"polluted": true}}}',
        'name: x\ntenants: []',
      ),
    );
    const valid = examples[key] ?? [];
    if (!valid.length) return generic;
    const mutated = fc
      .constantFrom(...valid)
      .chain((example) =>
        fc
          .tuple(fc.constantFrom(...paths(example)), fc.constantFrom('delete' as const, 'replace' as const), odd)
          .map(([path, op, replacement]) => JSON.stringify(mutate(example, path, op, replacement)) ?? ''),
      );
    return fc.oneof(
      { weight: 1, arbitrary: generic },
      { weight: 4, arbitrary: mutated },
      { weight: 1, arbitrary: fc.constantFrom(...valid.map((v) => JSON.stringify(v))) },
    );
  };
  it(
    'answers 2xx or 4xx, never 500; a refused body leaves every control GET unchanged',
    async () => {
      const routes = controlRoutes().filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
      expect(routes.length).toBeGreaterThanOrEqual(6);
      const outcomes: Record<string, number> = {};
      for (const route of routes) {
        let before = await snapshot();
        await fc.assert(
          fc.asyncProperty(
            bodyFor(`${route.method} ${route.path}`),
            fc.string({ maxLength: 12 }),
            fc.dictionary(fc.constantFrom('tenant', 'locationId', 'id'), fc.string({ maxLength: 10 }), { maxKeys: 2 }),
            async (body, param, query) => {
              const path = route.path.replace(/:\w+/g, encodeURIComponent(param) || 'x');
              const qs = new URLSearchParams(query).toString();
              const res = await fetch(`${emu.urls.services}${path}${qs ? `?${qs}` : ''}`, {
                method: route.method,
                headers: { 'content-type': 'application/json' },
                body: route.method === 'DELETE' ? undefined : body,
              });
              const text = await res.text();
              outcomes[`${route.method} ${route.path} ${res.status}`] = (outcomes[`${route.method} ${route.path} ${res.status}`] ?? 0) + 1;
              expect(res.status < 500, `${route.method} ${path} ${body} → ${res.status} ${text.slice(0, 200)}`).toBe(true);
              if (res.status >= 400)
                expect(await snapshot(), `${route.method} ${path} ${body} → ${res.status} changed state`).toEqual(before);
              else {
                // Accepted: the change is the point; start the next run from the default scenario again.
                emu.loadScenario('default');
                before = await snapshot();
              }
              expect(({} as Record<string, unknown>).polluted).toBeUndefined();
            },
          ),
          { numRuns: runs(examples[`${route.method} ${route.path}`] ? 60 : 25) },
        );
      }
      if (process.env.FUZZ_DEBUG) console.log('control outcomes', outcomes);
      // Accepted clock actions (advance, freeze) outlive a scenario load: back to real time.
      if (routes.some((r) => r.method === 'POST' && r.path === '/_emulator/clock'))
        await fetch(`${emu.urls.control}/clock`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"action":"real"}',
        });
      emu.loadScenario('default');
      await healthy();
    },
    120_000 * scale,
  );
});
