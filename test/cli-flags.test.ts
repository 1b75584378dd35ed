/**
 * The `start` flags a container needs, on the CLI as a child process (no Docker): bound ports, advertised host and
 * ports (what the host sees through mapped ports), --tls-dir and --write-env. The Docker tests use them with host
 * networking, where bound and advertised ports are the same; here they differ, as behind `-p 30000:20000`.
 * Also `exec --write-env` (the files are there, and agree with the command's env, while the command runs) and
 * BTP_EMULATOR_STATE_DIR (a change made through the control API survives a restart of `start`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyLine } from './helpers.ts';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'emulator', 'cli', 'main.ts');

/** A port nothing listens on right now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** The CLI without the test runner's CA and bindings (the emulator must bring its own). */
function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  const base = { ...process.env };
  delete base.NODE_EXTRA_CA_CERTS;
  delete base.VCAP_SERVICES;
  delete base.BTP_EMULATOR_STATE_DIR;
  return spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** SIGTERM, and wait until the process is gone (its ports are free again). */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('btp-emulator start: container flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'btp-emulator-flags-'));
  let child: ChildProcess;
  let ready = '';
  let bound: number[];

  beforeAll(async () => {
    bound = [];
    while (bound.length < 9) {
      const port = await freePort();
      if (!bound.includes(port)) bound.push(port);
    }
    const [services, httpProxy, socks, backend, tcp, smtp, transparentProxy, ldap, identity] = bound.map(String);
    writeFileSync(
      join(dir, 'orders.yaml'),
      'apiVersion: destination.connectivity.api.sap/v1\nkind: Destination\nmetadata:\n  name: orders\nspec:\n  destinationRef:\n    name: BACKEND_NOAUTH\n',
    );
    child = spawnCli([
      'start',
      ...[
        '--port',
        services,
        '--http-proxy-port',
        httpProxy,
        '--socks-proxy-port',
        socks,
        '--backend-http-port',
        backend,
        '--backend-tcp-port',
        tcp,
        '--smtp-port',
        smtp,
        '--ldap-port',
        ldap,
        '--transparent-proxy-port',
        transparentProxy,
        '--identity-port',
        identity,
      ],
      ...['--destination-crs', join(dir, 'orders.yaml')],
      ...[
        '--advertised-host',
        'emu.example',
        '--advertised-port',
        '30000',
        '--advertised-http-proxy-port',
        '30003',
        '--advertised-socks-proxy-port',
        '30004',
        '--advertised-backend-port',
        '30010',
        '--advertised-identity-port',
        '30006',
      ],
      ...['--tls-dir', join(dir, 'tls'), '--write-env', join(dir, 'env')],
    ]);
    ready = await readyLine(child);
  });

  afterAll(() => stop(child));

  it('listens on the bound ports and announces the advertised ones', async () => {
    expect(ready).toContain('services http://emu.example:30000');
    expect(ready).toContain('HTTP proxy http://emu.example:30003, SOCKS5 socks5://emu.example:30004, backend http://emu.example:30010');
    expect(ready).toContain(`Transparent Proxy http://emu.example:${bound[6]}`);
    expect(ready).toContain('identity (IAS) https://emu.example:30006');
    expect(ready).toContain(`CA ${join(dir, 'tls', 'ca', 'ca.pem')}, env ${join(dir, 'env')}`);
    const health = await fetch(`http://127.0.0.1:${bound[0]}/_emulator/health`);
    expect(health.status).toBe(200);
    const backend = await fetch(`http://127.0.0.1:${bound[3]}/sap/bc/ping`);
    expect(await backend.text()).toBe('pong');
  });

  it('serves each proxy and backend port it was given: HTTP proxy, SOCKS5 greeting, TCP echo, SMTP banner', async () => {
    // The connectivity proxy refuses an origin-form request with its own 400 (absolute-form is what proxies take).
    const proxy = await fetch(`http://127.0.0.1:${bound[1]}/`);
    expect(proxy.status).toBe(400);
    expect(decodeURI(proxy.headers.get('x-emulator-reason') ?? '')).not.toBe('');
    const { connect } = await import('node:net');
    const firstBytes = (port: number, send?: Buffer): Promise<Buffer> =>
      new Promise((resolveBytes, reject) => {
        const socket = connect(port, '127.0.0.1', () => send && socket.write(send));
        socket.once('data', (d: Buffer) => {
          socket.destroy();
          resolveBytes(d);
        });
        socket.once('error', reject);
      });
    expect([...(await firstBytes(bound[2], Buffer.from([0x05, 0x01, 0x80])))]).toEqual([0x05, 0x80]);
    expect((await firstBytes(bound[4], Buffer.from('echo me'))).toString()).toBe('echo me');
    expect((await firstBytes(bound[5])).toString()).toMatch(/^220 /);
    // The Transparent Proxy serves the CR of --destination-crs (its destination points at the backend's advertised port, so only the route is checked).
    const routed = await firstBytes(bound[6], Buffer.from('GET / HTTP/1.1\r\nHost: nothing.default\r\n\r\n'));
    expect(routed.toString()).toMatch(/^HTTP\/1\.1 404 [\s\S]*x-proxy-server: Transparent Proxy/i);
    const crs = (await (await fetch(`http://127.0.0.1:${bound[0]}/_emulator/transparent-proxy/destination-crs`)).json()) as {
      resources: { metadata: { name: string } }[];
    };
    expect(crs.resources.map((c) => c.metadata.name)).toEqual(['orders']);
  });

  it('keeps the CA in --tls-dir, and the TLS side of the services port serves a certificate it signed for the advertised host', async () => {
    const caPem = readFileSync(join(dir, 'tls', 'ca', 'ca.pem'), 'utf8');
    const { connect } = await import('node:tls');
    const peer = await new Promise<{ authorized: boolean; altNames: string }>((resolvePeer, reject) => {
      const socket = connect({ host: '127.0.0.1', port: bound[0], servername: 'emu.example', ca: [caPem] }, () => {
        resolvePeer({ authorized: socket.authorized, altNames: socket.getPeerCertificate().subjectaltname ?? '' });
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(peer.authorized).toBe(true);
    expect(peer.altNames).toContain('DNS:emu.example');
  });

  it('writes the env files with the advertised URLs and a readable CA', () => {
    const env = join(dir, 'env');
    const vcap = JSON.parse(readFileSync(join(env, 'vcap-services.json'), 'utf8')) as Record<
      string,
      { credentials: Record<string, string> }[]
    >;
    expect(vcap.xsuaa[0].credentials).toMatchObject({ url: 'http://emu.example:30000', uaadomain: 'emu.example:30000' });
    expect(vcap.destination[0].credentials.uri).toBe('http://emu.example:30000');
    expect(vcap.connectivity[0].credentials).toMatchObject({
      onpremise_proxy_host: 'emu.example',
      onpremise_proxy_http_port: '30003',
      onpremise_socks5_proxy_port: '30004',
    });
    expect(JSON.parse(readFileSync(join(env, 'default-env.json'), 'utf8'))).toEqual({ VCAP_SERVICES: vcap });
    expect(readFileSync(join(env, '.env'), 'utf8')).toBe(
      `VCAP_SERVICES='${JSON.stringify(vcap)}'\nNODE_EXTRA_CA_CERTS='${join(env, 'ca.pem')}'\n`,
    );
    expect(readFileSync(join(env, 'ca.pem'), 'utf8')).toBe(readFileSync(join(dir, 'tls', 'ca', 'ca.pem'), 'utf8'));
    expect(statSync(join(env, 'ca.pem')).mode & 0o777).toBe(0o644);
  });

  it('hands out {{backend}} with the advertised backend port', async () => {
    const creds = JSON.parse(readFileSync(join(dir, 'env', 'vcap-services.json'), 'utf8')).destination[0].credentials as Record<
      string,
      string
    >;
    const token = await fetch(`http://127.0.0.1:${bound[0]}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: creds.clientid, client_secret: creds.clientsecret }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const res = await fetch(`http://127.0.0.1:${bound[0]}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(((await res.json()) as { destinationConfiguration: { URL: string } }).destinationConfiguration.URL).toBe(
      'http://emu.example:30010',
    );
  });
});

describe('btp-emulator exec --write-env', () => {
  it('writes the env files before the command runs; they agree with the env the command gets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'btp-emulator-exec-env-'));
    const envDir = join(dir, 'env');
    const script = [
      "const { readFileSync } = require('node:fs'); const { join } = require('node:path'); const d = process.argv[1];",
      "const vcap = readFileSync(join(d, 'vcap-services.json'), 'utf8');",
      'console.log(JSON.stringify({',
      '  sameVcap: JSON.stringify(JSON.parse(vcap)) === JSON.stringify(JSON.parse(process.env.VCAP_SERVICES)),',
      "  sameCa: readFileSync(join(d, 'ca.pem'), 'utf8') === readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8'),",
      "  dotEnv: readFileSync(join(d, '.env'), 'utf8'),",
      "  defaultEnv: JSON.parse(readFileSync(join(d, 'default-env.json'), 'utf8')),",
      '  vcap: JSON.parse(process.env.VCAP_SERVICES),',
      '}));',
    ].join('\n');
    const child = spawnCli(['exec', '--port', '0', '--write-env', envDir, '--', process.execPath, '-e', script, envDir]);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code, stderr).toBe(0);
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      sameVcap: boolean;
      sameCa: boolean;
      dotEnv: string;
      defaultEnv: unknown;
      vcap: Record<string, { credentials: Record<string, string> }[]>;
    };
    expect(seen.sameVcap).toBe(true);
    expect(seen.sameCa).toBe(true);
    expect(seen.defaultEnv).toEqual({ VCAP_SERVICES: seen.vcap });
    expect(parseEnv(seen.dotEnv)).toEqual({ VCAP_SERVICES: JSON.stringify(seen.vcap), NODE_EXTRA_CA_CERTS: join(envDir, 'ca.pem') });
    expect(seen.vcap.xsuaa[0].credentials.url).toMatch(/^http:\/\/localhost:\d+$/);
  });

  it('a --write-env directory that cannot be created stops exec with exit code 1 and a message naming it; the command never runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'btp-emulator-exec-env-'));
    const { writeFileSync } = await import('node:fs');
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const marker = join(dir, 'ran');
    const child = spawnCli([
      'exec',
      '--port',
      '0',
      '--write-env',
      join(blocker, 'env'),
      '--',
      process.execPath,
      '-e',
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
    ]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(1);
    expect(stderr).toContain(join(blocker, 'env'));
    expect(existsSync(marker)).toBe(false);
  });
});

describe('BTP_EMULATOR_STATE_DIR', () => {
  it('keeps a change made through the control API across a restart of `start`', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'btp-emulator-state-env-')), 'state');
    const port = await freePort();
    const start = (): ChildProcess =>
      spawnCli(
        [
          'start',
          '--port',
          String(port),
          ...[
            '--http-proxy-port',
            '0',
            '--socks-proxy-port',
            '0',
            '--backend-http-port',
            '0',
            '--backend-tcp-port',
            '0',
            '--smtp-port',
            '0',
            '--ldap-port',
            '0',
            '--transparent-proxy-port',
            '0',
            '--identity-port',
            '0',
          ],
        ],
        { BTP_EMULATOR_STATE_DIR: stateDir },
      );
    const control = `http://127.0.0.1:${port}/_emulator`;

    let child = start();
    try {
      expect(await readyLine(child)).toContain(`state ${stateDir}`);
      const added = await fetch(`${control}/backend/stubs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'kept', path: '/kept', body: 'from before the restart' }),
      });
      expect(added.status).toBe(201);
      expect(existsSync(join(stateDir, 'state.json'))).toBe(true);
    } finally {
      await stop(child);
    }

    child = start();
    try {
      await readyLine(child);
      const stubs = (await (await fetch(`${control}/backend/stubs`)).json()) as { stubs: { id: string; body: unknown }[] };
      expect(stubs.stubs.find((s) => s.id === 'kept')).toMatchObject({ body: 'from before the restart' });
    } finally {
      await stop(child);
    }
  });
});

describe('btp-emulator start --proxy-mode', () => {
  /** Exit code and stderr of a CLI run that is expected to stop by itself. */
  const refused = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolveRun) => {
      const run = spawnCli(args);
      let stderr = '';
      run.stderr!.on('data', (d: Buffer) => (stderr += d));
      run.on('exit', (code) => resolveRun({ code, stderr }));
    });

  it('trusted: the ready line says so, and the HTTP proxy serves a request without Proxy-Authorization', async () => {
    const child = spawnCli(['start', '--port', '0', '--scenario', 'fixtures/default.scenario.yaml', '--proxy-mode', 'trusted']);
    try {
      const ready = await readyLine(child);
      expect(ready).toContain('connectivity proxy in trusted mode (dedicated)');
      const proxy = new URL(/HTTP proxy (\S+),/.exec(ready)![1]);
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolveStatus, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: Number(proxy.port),
            path: 'http://erp.internal:44300/via-flag',
            headers: { host: 'erp.internal:44300' },
          },
          (res) => {
            res.resume();
            resolveStatus(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      await stop(child);
    }
  });

  it('a bad mode, or a tenant mode without trusted, exits 2 naming the flag', async () => {
    const bad = await refused(['start', '--port', '0', '--proxy-mode', 'kyma']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--proxy-mode must be one of cloud-foundry, trusted, got "kyma"');
    const alone = await refused(['start', '--port', '0', '--proxy-tenant-mode', 'shared']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--proxy-tenant-mode is only for the trusted mode');
  });
});
