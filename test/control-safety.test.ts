/**
 * Safety of the control API and what the emulator writes down: the optional control token (401 without it,
 * nothing changes, health stays open), loopback-only listening by default, and no secret — client secrets,
 * passwords, tokens, the control token — in the journal or in what the CLI prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlApiError, ControlClient } from '../emulator/client/index.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, postForm, serviceToken } from './helpers.ts';

const controlToken = 'ctl-9f2e4b7a1c';

describe('control token', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, scenario: 'default', controlToken });
  });
  afterAll(() => emu?.stop());

  it('refuses every control route without the token (401 saying what to send), and a wrong one', async () => {
    const none = await fetch(`${emu.urls.control}/scenario`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect((await none.json()).message).toMatch(/Authorization: Bearer/);
    const wrong = await fetch(`${emu.urls.control}/scenario`, { headers: { authorization: 'Bearer ctl-9f2e4b7a1d' } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).message).toMatch(/wrong/);
    const right = await fetch(`${emu.urls.control}/scenario`, { headers: { authorization: `Bearer ${controlToken}` } });
    expect(right.status).toBe(200);
    const openapi = await fetch(`${emu.urls.control}/openapi.json`);
    expect(openapi.status).toBe(401);
  });

  it('a refused change changes nothing', async () => {
    await emu.control.addStub({ id: 'kept', method: 'GET', path: '/kept', status: 200, body: 'yes' });
    for (const [method, path] of [
      ['POST', '/reset'],
      ['DELETE', '/backend/stubs'],
      ['DELETE', '/backend/stubs/kept'],
    ]) {
      expect((await fetch(`${emu.urls.control}${path}`, { method })).status, `${method} ${path}`).toBe(401);
    }
    expect((await emu.control.stubs()).map((s) => s.id)).toContain('kept');
  });

  it('health stays open (for container health checks) and the services are not affected', async () => {
    expect((await fetch(`${emu.urls.control}/health`)).status).toBe(200);
    expect(await serviceToken(emu, 'xsuaa')).toMatch(/^ey/);
  });

  it("the handle's client sends the token; a client without it gets a ControlApiError 401", async () => {
    expect((await emu.control.health()).status).toBe('ok');
    const anonymous = new ControlClient(emu.urls.services);
    const err = await anonymous.scenario().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlApiError);
    expect((err as ControlApiError).status).toBe(401);
    // The refusal is in the journal, which the handle's client (with the token) may read.
    expect(
      (await emu.control.journal({ service: 'control', status: 401, method: 'GET', path: '/_emulator/scenario' })).length,
    ).toBeGreaterThan(0);
  });
});

/** Listening TCP sockets of this machine as `port → local addresses`, read from Linux's /proc (CI runs on Linux). */
function listeningAddresses(): Map<number, string[]> {
  const result = new Map<number, string[]>();
  let found = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    found = true;
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A') continue; // LISTEN
      const [hexAddress, hexPort] = cols[1].split(':');
      const port = parseInt(hexPort, 16);
      const address =
        hexAddress.length === 8
          ? hexAddress
              .match(/../g)!
              .reverse()
              .map((b) => parseInt(b, 16))
              .join('.')
          : hexAddress === '0'.repeat(32)
            ? '::'
            : hexAddress === '00000000000000000000000001000000'
              ? '::1'
              : `ipv6:${hexAddress}`;
      result.set(port, [...(result.get(port) ?? []), address]);
    }
  }
  if (!found) throw new Error('cannot read /proc/net/tcp: this test reads the listening sockets the Linux way');
  return result;
}

describe('binding', () => {
  it('listens on loopback only by default, on every port it opens', async () => {
    const emu = await startEmulator({ port: 0, scenario: 'default' });
    try {
      const listening = listeningAddresses();
      const ports = Object.entries(emu.ports).filter(([, port]) => typeof port === 'number' && port > 0);
      expect(ports.length).toBeGreaterThanOrEqual(6);
      for (const [name, port] of ports) expect(listening.get(port as number), `${name} port ${port}`).toEqual(['127.0.0.1']);
    } finally {
      await emu.stop();
    }
  });

  it('listens on every interface only when told to (host 0.0.0.0, as in the container)', async () => {
    const emu = await startEmulator({ port: 0, host: '0.0.0.0' });
    try {
      expect(listeningAddresses().get(emu.ports.services)).toEqual(['0.0.0.0']);
    } finally {
      await emu.stop();
    }
  });
});

describe('no secrets in the journal or the logs', () => {
  const cliFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'emulator', 'cli', 'main.ts');
  let child: ChildProcess;
  let output = '';
  let services = '';

  beforeAll(async () => {
    child = spawn(process.execPath, [cliFile, 'start', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BTP_EMULATOR_CONTROL_TOKEN: controlToken },
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    services = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready: ${output}`)), 20_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /services (http:\/\/\S+) /.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      await closed;
    }
  });

  it('keeps client secrets, passwords, tokens and the control token out of the journal and the CLI output', async () => {
    expect(output).toContain('control token required');
    const control = new ControlClient(services, { token: controlToken });
    const env = await control.env();
    const fakeEmu = { env, urls: { services } } as unknown as EmulatorHandle;
    const xsuaa = binding(fakeEmu, 'xsuaa');
    const connectivity = binding(fakeEmu, 'connectivity');
    const tokenUrl = `${services}/oauth/token`;
    const secrets = [
      controlToken,
      xsuaa.clientsecret,
      connectivity.clientsecret,
      'alice-password',
      'wrong-pass-4711',
      'query-secret-0815',
      'backend-password',
      Buffer.from('backend-user:backend-password').toString('base64'),
    ];

    const issued: string[] = [];
    const cc = await postForm(tokenUrl, { grant_type: 'client_credentials', client_id: xsuaa.clientid, client_secret: xsuaa.clientsecret });
    issued.push((await cc.json()).access_token);
    const password = await postForm(tokenUrl, {
      grant_type: 'password',
      client_id: xsuaa.clientid,
      client_secret: xsuaa.clientsecret,
      username: 'alice',
      password: 'alice-password',
    });
    expect(password.status).toBe(200);
    issued.push((await password.json()).access_token);
    expect(
      (
        await postForm(tokenUrl, {
          grant_type: 'password',
          client_id: xsuaa.clientid,
          client_secret: xsuaa.clientsecret,
          username: 'alice',
          password: 'wrong-pass-4711',
        })
      ).status,
    ).toBe(401);
    // A secret where it does not belong (the query) is not written down either.
    await fetch(
      `${tokenUrl}?grant_type=client_credentials&client_id=${encodeURIComponent(xsuaa.clientid)}&client_secret=query-secret-0815`,
      { method: 'POST' },
    );
    // The Destination Service answers a Basic destination's credentials; the journal keeps the lookup, not them.
    const destination = binding(fakeEmu, 'destination');
    const destToken = await (
      await postForm(tokenUrl, {
        grant_type: 'client_credentials',
        client_id: destination.clientid,
        client_secret: destination.clientsecret,
      })
    ).json();
    issued.push(destToken.access_token);
    const found = await fetch(`${destination.uri}/destination-configuration/v1/destinations/BACKEND_BASIC`, {
      headers: { authorization: `Bearer ${destToken.access_token}` },
    });
    expect(JSON.stringify(await found.json())).toContain(Buffer.from('backend-user:backend-password').toString('base64'));
    // A proxied request with its Proxy-Authorization token.
    const connToken = (
      await (
        await postForm(tokenUrl, {
          grant_type: 'client_credentials',
          client_id: connectivity.clientid,
          client_secret: connectivity.clientsecret,
        })
      ).json()
    ).access_token as string;
    issued.push(connToken);
    const proxyPort = Number(connectivity.onpremise_proxy_http_port);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: proxyPort,
          path: 'http://erp.internal:44300/echo?sap-password=query-secret-0815',
          headers: { 'proxy-authorization': `Bearer ${connToken}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);

    const journal = JSON.stringify(await control.journal());
    expect(journal).toContain('/oauth/token');
    expect(journal).toContain('client_secret=***');
    expect(journal).toContain('sap-password=***');
    for (const secret of [...secrets, ...issued, ...issued.map((t) => t.split('.')[2])]) {
      expect(journal.includes(secret), `the journal holds ${secret.slice(0, 12)}…`).toBe(false);
      expect(output.includes(secret), `the CLI printed ${secret.slice(0, 12)}…`).toBe(false);
    }
  });
});
