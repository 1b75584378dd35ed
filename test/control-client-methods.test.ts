/**
 * The typed control client's everyday methods that no other test calls, each against a real emulator and each
 * checked by its effect elsewhere (a real request, the journal, the JWKS, a real SMTP client): `openapi`,
 * `reset`, `loadScenario`, `chain`, `lastCall`, `putCloudConnector`, `removeCloudConnector`, `clearStubs`,
 * `mails`, `clearMails`, `clock`, `keys`, `rotateSigningKey`.
 */
import { readFileSync } from 'node:fs';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { decodeProtectedHeader } from 'jose';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ControlApiError, type ControlClient } from '../emulator/client/index.ts';
import { defaultScenarioFile, startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
let control: ControlClient;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  control = emu.control;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(async () => {
  await control.clock({ action: 'real' });
  await control.reset();
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

async function lookup(name: string, headers: Record<string, string> = {}): Promise<Response> {
  const token = await serviceToken(emu, 'destination');
  return fetch(`${binding(emu, 'destination').uri}/destination-configuration/v1/destinations/${name}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
}

const refusal = (err: unknown): number | undefined => (err instanceof ControlApiError ? err.status : undefined);

describe('ControlClient methods', () => {
  it('openapi(): the OpenAPI 3.1 document naming the operations the client calls', async () => {
    const doc = (await control.openapi()) as { openapi: string; paths: Record<string, Record<string, { operationId?: string }>> };
    expect(doc.openapi).toMatch(/^3\.1\./);
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((m) => m.operationId));
    for (const id of [
      'reset',
      'loadScenario',
      'getChain',
      'getLastCall',
      'putCloudConnector',
      'removeCloudConnector',
      'clearStubs',
      'listMails',
      'clearMails',
      'getClock',
      'setClock',
      'listKeys',
      'rotateKeys',
    ]) {
      expect(ids).toContain(id);
    }
  });

  it('reset(): run-time changes are gone and the journal starts anew', async () => {
    await control.addStub({ id: 'temp', path: '/temp', body: 'temp' });
    await control.removeCloudConnector({ locationId: 'LOC1' });
    expect((await lookup('BACKEND_BASIC')).status).toBe(200);
    expect((await control.journal()).length).toBeGreaterThan(0);
    await control.reset();
    // Only the reset itself is journalled afterwards (control calls that change state are).
    expect((await control.journal()).map((e) => `${e.service} ${e.path}`)).toEqual(['control /_emulator/reset']);
    expect((await control.stubs()).map((s) => s.id)).toEqual(['ping']);
    expect((await control.cloudConnectors()).find((t) => t.tenant === 'provider')!.connectors.map((c) => c.locationId)).toContain('LOC1');
  });

  it('loadScenario(): an object and YAML text each replace the scenario; a bad one is a 400 that changes nothing', async () => {
    const scenario = (name: string, destination: string) => ({
      name,
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            { Name: destination, Type: 'HTTP', URL: 'https://x.example', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
          ],
        },
      ],
      bindings: [{ name: 'my-destination', service: 'destination' }],
    });
    try {
      await control.loadScenario(scenario('from-object', 'FROM_OBJECT'));
      expect((await control.scenario()).name).toBe('from-object');
      expect((await lookup('FROM_OBJECT')).status).toBe(200);
      expect((await lookup('BACKEND_BASIC')).status).toBe(404);

      await control.loadScenario(
        [
          'name: from-yaml',
          'tenants:',
          '  - subdomain: provider',
          '    destinations:',
          '      - { Name: FROM_YAML, Type: HTTP, URL: "https://y.example", Authentication: NoAuthentication, ProxyType: Internet }',
          'bindings:',
          '  - { name: my-destination, service: destination }',
        ].join('\n'),
      );
      expect((await control.scenario()).name).toBe('from-yaml');
      expect((await lookup('FROM_YAML')).status).toBe(200);

      const bad = await control.loadScenario({ name: 'bad', tenants: 'not a list' }).catch((err: unknown) => err);
      expect(refusal(bad)).toBe(400);
      expect(JSON.stringify((bad as ControlApiError).body)).toContain('tenants');
      expect((await control.scenario()).name).toBe('from-yaml');
    } finally {
      await control.loadScenario(readFileSync(defaultScenarioFile, 'utf8'));
    }
  });

  it('chain(): the hops that carried a correlation id; an unknown id is a 404', async () => {
    const id = `corr-${Date.now()}`;
    expect((await lookup('BACKEND_BASIC', { 'x-correlation-id': id })).status).toBe(200);
    const chain = await control.chain(id);
    expect(chain.by).toEqual({ correlationId: id });
    const roles = chain.steps.map((s) => s.role);
    expect(roles).toContain('lookup');
    expect(roles).toContain('service-token');
    expect(chain.failed).toBeUndefined();
    expect(refusal(await control.chain('no-such-correlation').catch((err: unknown) => err))).toBe(404);
  });

  it('lastCall(): the SDK’s last call to a destination through the proxy, and where it failed once the connector is offline', async () => {
    await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/sap/bc/ping' });
    const ok = await control.lastCall('ONPREM_BASIC');
    expect(ok.by).toEqual({ destination: 'ONPREM_BASIC' });
    expect(ok.steps.map((s) => s.role)).toEqual(expect.arrayContaining(['lookup', 'connectivity-token', 'proxy']));
    expect(ok.failed).toBeUndefined();

    await control.setCloudConnectorOnline(false);
    await expect(
      executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/sap/bc/ping' }),
    ).rejects.toThrow(/503/);
    const failed = await control.lastCall('ONPREM_BASIC');
    expect(failed.failed).toMatchObject({ role: 'proxy', status: 503 });
    expect(refusal(await control.lastCall('NEVER_CALLED').catch((err: unknown) => err))).toBe(404);
  });

  it('putCloudConnector(): adds a connector for a tenant, replaces it by location ID, and refuses a bad one with 400', async () => {
    const put = await control.putCloudConnector({ locationId: 'NEW', online: false, systems: [] }, 'subscriber1');
    expect(put).toMatchObject({ locationId: 'NEW', online: false });
    await control.putCloudConnector(
      {
        locationId: 'NEW',
        online: true,
        systems: [{ virtualHost: 'v.internal', virtualPort: 1, internalHost: 'localhost', internalPort: 2, protocol: 'TCP' }],
      },
      'subscriber1',
    );
    const connectors = (await control.cloudConnectors())
      .find((t) => t.tenant === 'subscriber1')!
      .connectors.filter((c) => c.locationId === 'NEW');
    expect(connectors).toHaveLength(1);
    expect(connectors[0]).toMatchObject({ online: true, systems: [{ virtualHost: 'v.internal', protocol: 'TCP' }] });
    const bad = await control
      .putCloudConnector({ locationId: 'BAD', online: true, systems: [{ virtualHost: 'v', virtualPort: 99999 }] } as never)
      .catch((err: unknown) => err);
    expect(refusal(bad)).toBe(400);
    expect((await control.cloudConnectors()).flatMap((t) => t.connectors).map((c) => c.locationId)).not.toContain('BAD');
  });

  it('removeCloudConnector(): the connector is gone from the list; the same call again is a 404', async () => {
    await control.removeCloudConnector({ locationId: 'LOC1', tenant: 'provider' });
    expect((await control.cloudConnectors()).find((t) => t.tenant === 'provider')!.connectors.map((c) => c.locationId)).toEqual(['']);
    expect(refusal(await control.removeCloudConnector({ locationId: 'LOC1' }).catch((err: unknown) => err))).toBe(404);
  });

  it('clearStubs(): no stubs are left and the ping route is echoed instead of stubbed', async () => {
    expect(await (await fetch(`${emu.urls.backend}/sap/bc/ping`)).text()).toBe('pong');
    await control.clearStubs();
    expect(await control.stubs()).toEqual([]);
    expect(((await (await fetch(`${emu.urls.backend}/sap/bc/ping`)).json()) as { path: string }).path).toBe('/sap/bc/ping');
  });

  it('mails() and clearMails(): what a real SMTP client sent to the sink, then nothing', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: emu.ports.smtp,
      secure: false,
      ignoreTLS: true,
      auth: { user: 'mailer', pass: 'x' },
    });
    try {
      await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'control client mails', text: 'hello' });
    } finally {
      transport.close();
    }
    const mails = await control.mails();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ from: 'a@example.com', to: ['b@example.com'], subject: 'control client mails', user: 'mailer' });
    await control.clearMails();
    expect(await control.mails()).toEqual([]);
    expect(emu.onPrem.mails()).toEqual([]);
  });

  it('clock(): freeze at an instant (tokens are issued at it), advance, read, and back to real time', async () => {
    const at = '2030-01-02T03:04:05.000Z';
    expect(await control.clock({ action: 'freeze', at })).toMatchObject({ now: at, frozen: true });
    const token = await serviceToken(emu, 'destination');
    const iat = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { iat: number }).iat;
    expect(iat).toBe(Date.parse(at) / 1000);
    expect(await control.clock({ action: 'advance', by: '90s' })).toMatchObject({ now: '2030-01-02T03:05:35.000Z', frozen: true });
    expect((await control.clock()).now).toBe('2030-01-02T03:05:35.000Z');
    const real = await control.clock({ action: 'real' });
    expect(real.frozen).toBe(false);
    expect(refusal(await control.clock({ action: 'advance' } as never).catch((err: unknown) => err))).toBe(400);
  });

  it('keys() and rotateSigningKey(): a new active key signs new tokens; the old one stays published', async () => {
    const before = await control.keys();
    expect(before.keys.filter((k) => k.active).map((k) => k.kid)).toEqual([before.active]);
    const rotated = await control.rotateSigningKey({ kid: `rotated-${Date.now()}` });
    expect(rotated.active).not.toBe(before.active);
    expect(rotated.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([before.active, rotated.active]));
    expect((await control.keys()).active).toBe(rotated.active);
    expect(decodeProtectedHeader(await serviceToken(emu, 'xsuaa')).kid).toBe(rotated.active);
    const jwks = (await (await fetch(`${emu.urls.services}/token_keys`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([before.active, rotated.active]));
    expect(refusal(await control.rotateSigningKey({ grace: 'soon' } as never).catch((err: unknown) => err))).toBe(400);
  });
});
