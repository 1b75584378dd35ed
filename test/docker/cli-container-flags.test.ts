/**
 * The `start` flags a container needs, on the CLI without Docker: bound ports, advertised host and ports (what the
 * host sees through mapped ports), --tls-dir and --write-env. The Docker tests use them with host networking, where
 * bound and advertised ports are the same; here they differ, as behind `-p 30000:20000`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from 'btp-connectivity-emulator/testcontainers';

const cli = resolve(import.meta.dirname, '..', '..', 'emulator', 'cli', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'btp-emulator-flags-'));
let child: ChildProcess;
let readyLine = '';
let bound: number[];

beforeAll(async () => {
  bound = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const [services, httpProxy, socks, backend, tcp, smtp] = bound.map(String);
  child = spawn(process.execPath, [
    cli, 'start',
    ...['--port', services, '--http-proxy-port', httpProxy, '--socks-proxy-port', socks, '--backend-http-port', backend, '--backend-tcp-port', tcp, '--smtp-port', smtp],
    ...['--advertised-host', 'emu.example', '--advertised-port', '30000', '--advertised-http-proxy-port', '30003', '--advertised-socks-proxy-port', '30004', '--advertised-backend-port', '30010'],
    ...['--tls-dir', join(dir, 'tls'), '--write-env', join(dir, 'env')],
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  readyLine = await new Promise<string>((resolveLine, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('\n')) resolveLine(out.split('\n')[0]);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => reject(new Error(`the CLI exited with ${code}: ${err}`)));
  });
});

afterAll(() => {
  child?.kill('SIGTERM');
});

describe('btp-emulator start: container flags', () => {
  it('listens on the bound ports and announces the advertised ones', async () => {
    expect(readyLine).toContain('services http://emu.example:30000');
    expect(readyLine).toContain('HTTP proxy http://emu.example:30003, SOCKS5 socks5://emu.example:30004, backend http://emu.example:30010');
    expect(readyLine).toContain(`CA ${join(dir, 'tls', 'ca', 'ca.pem')}, env ${join(dir, 'env')}`);
    const health = await fetch(`http://127.0.0.1:${bound[0]}/_emulator/health`);
    expect(health.status).toBe(200);
    const backend = await fetch(`http://127.0.0.1:${bound[3]}/sap/bc/ping`);
    expect(await backend.text()).toBe('pong');
  });

  it('writes the env files with the advertised URLs and a readable CA', () => {
    const env = join(dir, 'env');
    const vcap = JSON.parse(readFileSync(join(env, 'vcap-services.json'), 'utf8')) as Record<string, { credentials: Record<string, string> }[]>;
    expect(vcap.xsuaa[0].credentials).toMatchObject({ url: 'http://emu.example:30000', uaadomain: 'emu.example:30000' });
    expect(vcap.destination[0].credentials.uri).toBe('http://emu.example:30000');
    expect(vcap.connectivity[0].credentials).toMatchObject({ onpremise_proxy_host: 'emu.example', onpremise_proxy_http_port: '30003', onpremise_socks5_proxy_port: '30004' });
    expect(JSON.parse(readFileSync(join(env, 'default-env.json'), 'utf8'))).toEqual({ VCAP_SERVICES: vcap });
    expect(readFileSync(join(env, '.env'), 'utf8')).toBe(`VCAP_SERVICES='${JSON.stringify(vcap)}'\nNODE_EXTRA_CA_CERTS='${join(env, 'ca.pem')}'\n`);
    expect(readFileSync(join(env, 'ca.pem'), 'utf8')).toBe(readFileSync(join(dir, 'tls', 'ca', 'ca.pem'), 'utf8'));
    expect(statSync(join(env, 'ca.pem')).mode & 0o777).toBe(0o644);
  });

  it('hands out {{backend}} with the advertised backend port', async () => {
    const creds = JSON.parse(readFileSync(join(dir, 'env', 'vcap-services.json'), 'utf8')).destination[0].credentials as Record<string, string>;
    const token = await fetch(`http://127.0.0.1:${bound[0]}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: creds.clientid, client_secret: creds.clientsecret }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const res = await fetch(`http://127.0.0.1:${bound[0]}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(((await res.json()) as { destinationConfiguration: { URL: string } }).destinationConfiguration.URL).toBe('http://emu.example:30010');
  });
});
