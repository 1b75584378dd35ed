/**
 * Issue 15, "nobody in who should not be": regression tests for the access half of the hardening.
 * - item 2: a `/_emulator` request with a web `Origin` that is not the emulator's own is refused (403), even a
 *   preflight-free `text/plain` POST, and changes nothing;
 * - item 3: a `Host` that is not one of the emulator's names is refused (DNS rebinding), so snapshot and env stay secret;
 * - item 7: Cloud Connector resources are matched on the normalised path (dot segments, `%2e`, backslashes), and the
 *   backend receives exactly the path that was checked; a path that would still climb after decoding is refused;
 * - item 8: a default emulator signs with its installation's own key; tokens signed with the bundled key are refused
 *   everywhere; the bundled key on a network interface is refused unless allowed;
 * - item 10: the TLS directory is created 0700 and used only when this user owns it and nobody else can write it.
 * Every test talks to a real emulator over real sockets; raw sockets where a client would normalise the request itself.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { operations } from '../emulator/app/control/contract.ts';
import { ensureTlsMaterial, TlsDirError } from '../emulator/server/tls-material.ts';
import { defaultSigningJwk, defaultSigningKid } from '../emulator/core/default-signing-key.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';
import { binding, gatewayScenario, postForm, serviceToken } from './helpers.ts';
import { sapSocksConnect } from './socks5-client.ts';

/** A request with any Host and headers (fetch does not let a caller set Host); the status and the body as text. */
function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every control API route with its path parameters filled in (health excluded: it is open to all, for probes). */
const controlRoutes = Object.values(operations)
  .filter((o) => o.path !== '/health')
  .map((o) => ({ method: o.method.toUpperCase(), path: `/_emulator${o.path.replace(/\{[^}]+\}/g, 'x')}` }));

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
    emu = await startEmulator({ port: 0, scenario: gatewayScenario('dot-segments', port) });
    token = await serviceToken(emu, 'connectivity');
  });

  afterAll(async () => {
    await emu?.stop();
    await echo?.close();
  });

  const viaProxy = (path: string): Promise<{ status: number; text: string }> =>
    rawHttp(
      emu.ports.httpProxy,
      `GET http://gw.internal:44300${path} HTTP/1.1\r\nHost: gw.internal:44300\r\nProxy-Authorization: Bearer ${token}\r\n`,
    );

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

  it.each(['/sap/opu/odata/..%2f..%2f..%2fsecret', '/sap/opu/odata/%2e%2e%5c%2e%2e%5csecret'])(
    '%s (a segment that climbs once decoded) is refused with 403',
    async (path) => {
      const before = echo.received.length;
      const answer = await viaProxy(path);
      expect(answer.status).toBe(403);
      expect(answer.text).toContain('Access denied to resource');
      expect(echo.received.length).toBe(before);
    },
  );

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

describe('the Origin rule of the control API (item 2)', () => {
  let emu: EmulatorHandle;
  let withAllowList: EmulatorHandle;
  const activeKid = async (e: EmulatorHandle): Promise<string> =>
    ((await (await fetch(`${e.urls.control}/keys`)).json()) as { active: string }).active;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, scenario: 'default' });
    withAllowList = await startEmulator({ port: 0, allowedOrigins: ['http://localhost:5173'] });
  });
  afterAll(async () => {
    await emu?.stop();
    await withAllowList?.stop();
  });

  it('a cross-origin text/plain POST to /_emulator/keys/rotate (no preflight) is refused with 403 and rotates nothing', async () => {
    const before = await activeKid(emu);
    const afterId = emu.journal().at(-1)?.id ?? 0; // this test's own request, not an earlier test's
    const res = await call(
      emu.ports.services,
      'POST',
      '/_emulator/keys/rotate',
      { host: `localhost:${emu.ports.services}`, origin: 'http://evil.example', 'content-type': 'text/plain' },
      '{"keepOld":false}',
    );
    expect(res.status).toBe(403);
    const error = JSON.parse(res.text) as { error: string; rule: string; message: string };
    expect(error).toMatchObject({ error: 'forbidden_origin', rule: 'origin' });
    expect(error.message).toContain('http://evil.example');
    expect(error.message).toContain('--allowed-origin http://evil.example (allowedOrigins)');
    expect(await activeKid(emu)).toBe(before);
    expect(emu.journal({ service: 'control', afterId }).find((e) => e.path === '/_emulator/keys/rotate')).toMatchObject({
      status: 403,
      reason: error.message,
    });
  });

  /** What a control request could change: stubs, faults, connectors, keys, the clock's mode, the scenario. */
  const fingerprint = async (): Promise<string> =>
    JSON.stringify(
      await Promise.all(
        ['/backend/stubs', '/faults', '/cloud-connectors', '/keys', '/scenario'].map(async (p) =>
          (await fetch(`${emu.urls.control}${p}`)).text(),
        ),
      ),
    );

  it.each(controlRoutes)('$method $path refuses a foreign Origin with 403', async ({ method, path }) => {
    const before = await fingerprint();
    const res = await call(
      emu.ports.services,
      method,
      path,
      { host: `localhost:${emu.ports.services}`, origin: 'https://evil.example', 'content-type': 'text/plain' },
      method === 'GET' ? undefined : '{}',
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ error: 'forbidden_origin' });
    expect(await fingerprint()).toBe(before);
  });

  it.each([
    'null',
    'http://localhost:5173',
    'http://localhost',
    'https://127.0.0.1:1',
    'http://evil.example:PORT',
    'http://localhost.evil.example:PORT',
    'chrome-extension://abc',
    'http://localhost.:PORT',
  ])('refuses Origin %s (not this emulator)', async (origin) => {
    const res = await call(emu.ports.services, 'POST', '/_emulator/reset', {
      host: `localhost:${emu.ports.services}`,
      origin: origin.replace('PORT', String(emu.ports.services)),
    });
    expect(res.status).toBe(403);
  });

  it('a browser request marked Sec-Fetch-Site: cross-site is refused even without an Origin', async () => {
    const res = await call(emu.ports.services, 'GET', '/_emulator/env', {
      host: `localhost:${emu.ports.services}`,
      'sec-fetch-site': 'cross-site',
    });
    expect(res.status).toBe(403);
  });

  it.each([
    'http://localhost:PORT',
    'https://localhost:PORT',
    'http://127.0.0.1:PORT',
    'http://[::1]:PORT',
    'https://subscriber1.localhost:PORT',
  ])('accepts its own origin %s', async (origin) => {
    const res = await call(emu.ports.services, 'POST', '/_emulator/reset', {
      host: `localhost:${emu.ports.services}`,
      origin: origin.replace('PORT', String(emu.ports.services)),
    });
    expect(res.status).toBe(200);
  });

  it('an allowedOrigins entry lets that page in, and only that one', async () => {
    const port = withAllowList.ports.services;
    expect((await call(port, 'POST', '/_emulator/reset', { host: `localhost:${port}`, origin: 'http://localhost:5173' })).status).toBe(200);
    expect((await call(port, 'POST', '/_emulator/reset', { host: `localhost:${port}`, origin: 'http://localhost:5174' })).status).toBe(403);
  });

  it('routes outside /_emulator and /_emulator/health are not subject to the Origin rule', async () => {
    const creds = binding(emu, 'xsuaa');
    const token = await postForm(
      `${emu.urls.services}/oauth/token`,
      { grant_type: 'client_credentials', client_id: creds.clientid, client_secret: creds.clientsecret },
      { origin: 'http://evil.example' },
    );
    expect(token.status).toBe(200);
    expect(
      (
        await call(emu.ports.services, 'GET', '/_emulator/health', {
          host: `localhost:${emu.ports.services}`,
          origin: 'http://evil.example',
        })
      ).status,
    ).toBe(200);
  });
});

describe('the Host rule (DNS rebinding, item 3)', () => {
  let emu: EmulatorHandle;
  let container: EmulatorHandle;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, scenario: 'default' });
    // As in a container: reached by its service name on a mapped port, and by localhost on the bound one.
    container = await startEmulator({
      port: 0,
      advertisedHost: 'btp-emulator',
      advertisedPort: 30000,
      allowedHosts: ['emu.internal', '.corp.example'],
    });
  });
  afterAll(async () => {
    await emu?.stop();
    await container?.stop();
  });

  it.each([
    '/_emulator/snapshot',
    '/_emulator/env',
    '/_emulator/scenario',
    '/oauth/token',
    '/token_keys',
    '/destination-configuration/v1/subaccountDestinations',
  ])('Host evil.example:PORT gets 403 on %s, and no secret', async (path) => {
    const res = await call(emu.ports.services, 'GET', path, { host: `evil.example:${emu.ports.services}` });
    expect(res.status).toBe(403);
    const error = JSON.parse(res.text) as { error: string; rule: string; message: string };
    expect(error).toMatchObject({ error: 'forbidden_host', rule: 'host' });
    expect(error.message).toContain('--allowed-host evil.example (allowedHosts)');
    expect(res.text).not.toContain('"d"');
    expect(res.text).not.toContain('clientsecret');
  });

  // Its own names count on any port or none: rebinding changes the name, not the port.
  it.each(['localhost:PORT', '127.0.0.1:PORT', '[::1]:PORT', 'LOCALHOST:PORT', 'subscriber1.localhost:PORT', 'localhost:1', 'localhost'])(
    'accepts Host %s',
    async (host) => {
      const res = await call(emu.ports.services, 'GET', '/_emulator/env', { host: host.replace('PORT', String(emu.ports.services)) });
      expect(res.status).toBe(200);
    },
  );

  it.each(['evil.example:PORT', 'evil.example', 'localhost.:PORT', '127.0.0.1.evil.example:PORT', 'evil-localhost:PORT'])(
    'refuses Host %s',
    async (host) => {
      const res = await call(emu.ports.services, 'GET', '/_emulator/env', { host: host.replace('PORT', String(emu.ports.services)) });
      expect(res.status).toBe(403);
    },
  );

  it('in a container: the service name, localhost, tenant hosts and allowedHosts', async () => {
    const port = container.ports.services;
    for (const host of [
      'btp-emulator:30000',
      'provider.btp-emulator:30000',
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      'localhost:30000',
      'emu.internal:1234',
      'a.corp.example:8080',
      'corp.example:1',
      `btp-emulator:${port + 1}`,
    ]) {
      expect((await call(port, 'GET', '/_emulator/env', { host })).status, host).toBe(200);
    }
    for (const host of ['evil.example:30000', 'corp.example.evil:30000', 'btp-emulator.evil.example:30000']) {
      expect((await call(port, 'GET', '/_emulator/env', { host })).status, host).toBe(403);
    }
  });

  it('/_emulator/health answers any Host (probes use the pod IP)', async () => {
    expect((await call(emu.ports.services, 'GET', '/_emulator/health', { host: `10.1.2.3:${emu.ports.services}` })).status).toBe(200);
  });
});

/** A token signed with the bundled (public) key, with the claims of a genuine one and the given kid. */
async function forge(genuine: string, kid: string): Promise<string> {
  const key = await importJWK({ ...defaultSigningJwk, alg: 'RS256' }, 'RS256');
  return new SignJWT({ ...decodeJwt(genuine), exp: Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600 })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT', jku: decodeProtectedHeader(genuine).jku as string })
    .sign(key);
}

function socksAuth(port: number, jwt: string): Promise<string> {
  return sapSocksConnect(port, jwt, { host: 'tcp.internal', port: 7000 }, { timeout: 5000 }).then(
    (socket) => {
      socket.destroy();
      return 'connected';
    },
    (err: Error) => `refused: ${err.message}`,
  );
}

describe('signing keys of its own (item 8)', () => {
  let emu: EmulatorHandle;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, scenario: 'default' });
  });
  afterAll(() => emu?.stop());

  it('a default startEmulator() signs with its own key, not the bundled one, and does not publish the bundled one', async () => {
    const jwks = (await (await fetch(`${emu.urls.services}/token_keys`)).json()) as { keys: { kid: string; n: string }[] };
    expect(jwks.keys.map((k) => k.kid)).not.toContain(defaultSigningKid);
    expect(jwks.keys.map((k) => k.n)).not.toContain(defaultSigningJwk.n);
    expect(decodeProtectedHeader(await emu.issueUserToken({ user: 'alice' })).kid).toBe(jwks.keys[0].kid);
  });

  it.each([
    ['the bundled kid', () => defaultSigningKid],
    ["this emulator's kid", () => emu.core.keys.active.kid],
  ])(
    'tokens signed with the bundled key (%s) are refused by the Destination Service, jwt-bearer, token-exchange, both proxies and principal propagation',
    async (_, kid) => {
      const destination = binding(emu, 'destination');
      const genuineService = await serviceToken(emu, 'destination');
      const genuineConnectivity = await serviceToken(emu, 'connectivity');
      const genuineUser = await emu.issueUserToken({ user: 'alice' });
      const [service, connectivity, user] = await Promise.all([
        forge(genuineService, kid()),
        forge(genuineConnectivity, kid()),
        forge(genuineUser, kid()),
      ]);

      const lookup = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
        headers: { authorization: `Bearer ${service}` },
      });
      expect(lookup.status).toBe(401);
      const client = { client_id: destination.clientid, client_secret: destination.clientsecret };
      const jwtBearer = await postForm(`${emu.urls.services}/oauth/token`, {
        ...client,
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: user,
      });
      expect(jwtBearer.status).toBeGreaterThanOrEqual(400);
      expect(await jwtBearer.text()).not.toContain('access_token');
      const exchange = await postForm(`${emu.urls.services}/oauth/token`, {
        ...client,
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: user,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      });
      expect(exchange.status).toBeGreaterThanOrEqual(400);
      expect(await exchange.text()).not.toContain('access_token');

      const proxied = await rawHttp(
        emu.ports.httpProxy,
        `GET http://erp.internal:44300/ HTTP/1.1\r\nHost: erp.internal:44300\r\nProxy-Authorization: Bearer ${connectivity}\r\n`,
      );
      expect(proxied.status).toBe(407);
      expect(await socksAuth(emu.ports.socks5, connectivity)).toMatch(/^refused/);
      expect(await socksAuth(emu.ports.socks5, genuineConnectivity)).toBe('connected');
      // Principal propagation: a genuine proxy token, a forged user.
      const propagated = await rawHttp(
        emu.ports.httpProxy,
        `GET http://erp.internal:44300/ HTTP/1.1\r\nHost: erp.internal:44300\r\nProxy-Authorization: Bearer ${genuineConnectivity}\r\nSAP-Connectivity-Authentication: Bearer ${user}\r\n`,
      );
      expect(propagated.status).toBe(401);
      expect(propagated.text).not.toContain('SSL_CLIENT_CERT');
    },
  );

  it("another installation's tokens are refused; an explicit tlsDir keeps key and CA across restarts, so tokens survive", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'btp-emulator-keys-'));
    try {
      const first = await startEmulator({ port: 0, scenario: 'default', tlsDir: join(dir, 'tls') });
      const token = await serviceToken(first, 'destination');
      const ca = statSync(first.caFile).ino;
      await first.stop();
      const again = await startEmulator({ port: 0, scenario: 'default', tlsDir: join(dir, 'tls') });
      const lookup = (e: EmulatorHandle): Promise<Response> =>
        fetch(`${e.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
          headers: { authorization: `Bearer ${token}` },
        });
      expect((await lookup(again)).status).toBe(200);
      expect(statSync(again.caFile).ino).toBe(ca);
      await again.stop();
      expect((await lookup(emu)).status).toBe(401);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("signingKey: 'bundled' signs with the bundled key; on a non-loopback host it is refused unless allowBundledKeyOnNetwork", async () => {
    const bundled = await startEmulator({ port: 0, signingKey: 'bundled' });
    expect(bundled.core.keys.active.kid).toBe(defaultSigningKid);
    await bundled.stop();
    await expect(startEmulator({ port: 0, host: '0.0.0.0', signingKey: 'bundled', controlToken: 't' })).rejects.toThrow(
      /bundled signing key is refused.*allowBundledKeyOnNetwork \(--allow-bundled-key-on-network\)/,
    );
    const allowed = await startEmulator({
      port: 0,
      host: '0.0.0.0',
      signingKey: 'bundled',
      allowBundledKeyOnNetwork: true,
      controlToken: 't',
    });
    expect(allowed.core.keys.active.kid).toBe(defaultSigningKid);
    await allowed.stop();
  });

  it('a non-loopback host without a control token prints one warning line; loopback or a token prints none', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const open = await startEmulator({ port: 0, host: '0.0.0.0' });
      await open.stop();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(
        /^btp-emulator: warning: listening on 0\.0\.0\.0 \(not loopback\) without a control token.*--control-token/,
      );
      const guarded = await startEmulator({ port: 0, host: '0.0.0.0', controlToken: 't' });
      await guarded.stop();
      const local = await startEmulator({ port: 0 });
      await local.stop();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('the TLS directory is trusted only when it is ours (item 10)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'btp-emulator-tlsdir-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a missing TLS directory and its CA folder with mode 0700', () => {
    const tls = join(dir, 'fresh', 'tls');
    ensureTlsMaterial(tls);
    expect(statSync(tls).mode & 0o777).toBe(0o700);
    expect(statSync(join(tls, 'ca')).mode & 0o777).toBe(0o700);
    expect(statSync(join(tls, 'ca', 'signing-key.json')).mode & 0o777).toBe(0o600);
  });

  it.each(['777', '775', '757'])('refuses an existing TLS directory with mode %s, naming it and the fix', (mode) => {
    const tls = join(dir, `mode-${mode}`);
    mkdirSync(tls);
    chmodSync(tls, Number.parseInt(mode, 8));
    expect(() => ensureTlsMaterial(tls)).toThrow(TlsDirError);
    expect(() => ensureTlsMaterial(tls)).toThrow(new RegExp(`${tls} can be written by .*chmod 700 ${tls}`));
  });

  it('refuses a CA folder another user planted in the TLS directory', () => {
    const tls = join(dir, 'planted');
    mkdirSync(join(tls, 'ca'), { recursive: true, mode: 0o700 });
    writeFileSync(join(tls, 'ca', 'ca.pem'), 'not ours');
    chmodSync(join(tls, 'ca'), 0o777);
    expect(() => ensureTlsMaterial(tls)).toThrow(/ca can be written by anyone/);
  });

  it.runIf(process.getuid?.() === 0)('as root: refuses a directory owned by another uid (65534), naming the uid and the fix', () => {
    const tls = join(dir, 'foreign');
    mkdirSync(tls, { mode: 0o755 });
    chownSync(tls, 65534, 65534);
    expect(() => ensureTlsMaterial(tls)).toThrow(new RegExp(`${tls} belongs to uid 65534, not to this user \\(uid 0\\).*rm -rf ${tls}`));
  });

  it('the default directory under TMPDIR: created 0700 from btp-connectivity-emulator-<uid> on, and refused when that folder is open to others', async () => {
    const saved = process.env.TMPDIR;
    const base = join(dir, 'tmp');
    mkdirSync(base);
    process.env.TMPDIR = base;
    try {
      const emu = await startEmulator({ port: 0 });
      await emu.stop();
      const own = join(base, `btp-connectivity-emulator-${process.getuid?.()}`);
      expect(emu.caFile).toBe(join(own, 'tls', 'ca', 'ca.pem'));
      expect(statSync(own).mode & 0o777).toBe(0o700);
      expect(statSync(join(own, 'tls')).mode & 0o777).toBe(0o700);
      chmodSync(own, 0o777);
      await expect(startEmulator({ port: 0 })).rejects.toThrow(new RegExp(`${own} can be written by anyone`));
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});

describe('the CLI flags of the access rules', () => {
  const cli = join(import.meta.dirname, '..', 'emulator', 'cli', 'main.ts');
  const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, 'start', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.stdout.on('data', (d: Buffer) => {
        if (String(d).includes('btp-emulator ready')) child.kill('SIGTERM');
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });

  it('--host 0.0.0.0 --signing-key bundled exits 2 naming the flag that allows it; a bad --signing-key or --allowed-origin exits 2 too', async () => {
    const [bundled, badKey, badOrigin] = await Promise.all([
      run(['--host', '0.0.0.0', '--signing-key', 'bundled', '--control-token', 't']),
      run(['--signing-key', 'mine']),
      run(['--allowed-origin', 'localhost:5173']),
    ]);
    expect(bundled).toMatchObject({ code: 2 });
    expect(bundled.stderr).toMatch(/bundled signing key is refused.*--allow-bundled-key-on-network/);
    expect(badKey).toMatchObject({ code: 2 });
    expect(badKey.stderr).toContain('--signing-key takes only "bundled"');
    expect(badOrigin).toMatchObject({ code: 2 });
    expect(badOrigin.stderr).toContain('allowedOrigins (--allowed-origin): "localhost:5173" is not an origin');
  });

  it('--host 0.0.0.0 without a control token starts with one warning line; --allow-bundled-key-on-network lets the bundled key start there', async () => {
    const open = await run(['--host', '0.0.0.0', '--allowed-host', 'a.example', '--allowed-host', 'b.example']);
    expect(open.code).toBe(0);
    expect(open.stderr.split('\n').filter((l) => l.startsWith('btp-emulator: warning: listening on 0.0.0.0'))).toHaveLength(1);
    const allowed = await run(['--host', '0.0.0.0', '--signing-key', 'bundled', '--allow-bundled-key-on-network', '--control-token', 't']);
    expect(allowed).toMatchObject({ code: 0, stderr: '' });
  });
});
