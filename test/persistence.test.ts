/**
 * A state directory over a restart: everything changed through the Destination Service, the control API and
 * the handle is back after stop + start with the same `stateDir` (and wins over the scenario option); tokens
 * signed before the restart, also with a rotated key, still verify against /token_keys; a refresh token still
 * works. A write that fails turns the 2xx into a 500. A state.json that cannot be restored stops the start with a message naming the file and the field,
 * and is left as it was. Real emulators on real sockets.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { ensureTlsMaterial } from '../emulator/server/tls-material.ts';
import type { Snapshot } from '../emulator/app/snapshot.ts';
import { binding, postForm } from './helpers.ts';
import { call, dest, destinationToken, httpDestination } from './state-helpers.ts';

const subZid = '5d6c0e0a-1111-4c3b-9a2e-000000000001';
const scenario = {
  name: 'persisted',
  tenants: [
    {
      subdomain: 'provider',
      cloudConnectors: [
        {
          locationId: 'loc1',
          systems: [{ virtualHost: 'erp.internal', virtualPort: 443, internalHost: 'localhost', internalPort: '{{backendHttpPort}}' }],
        },
      ],
    },
    { subdomain: 'subscriber1', zid: subZid },
  ],
  users: [{ name: 'alice', password: 'alice-pw' }],
};

const running: EmulatorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function start(stateDir: string, scenarioOption: string | object = scenario): Promise<EmulatorHandle> {
  const emu = await startEmulator({ port: 0, scenario: scenarioOption, stateDir });
  running.push(emu);
  return emu;
}

async function stop(emu: EmulatorHandle): Promise<void> {
  running.splice(running.indexOf(emu), 1);
  await emu.stop();
}

/** What must be equal after a restart: everything but when the snapshot was taken and the clock's reading. */
const comparable = (s: Snapshot): unknown => ({ ...s, savedAt: undefined, clock: { frozen: s.clock.frozen } });

describe('state directory: stop and start again', () => {
  it('restores destinations, fragments, certificates, labels, connectors, stubs, keys, clock and refresh tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
    const first = await start(dir);
    const base = first.urls.services;
    const provider = await destinationToken(base, first.env.VCAP_SERVICES);
    const subscriber = await destinationToken(base, first.env.VCAP_SERVICES, subZid);
    const ok = async (status: number, method: string, path: string, body: unknown, token?: string): Promise<void> => {
      const answer = await call(base, method, path, { token, body });
      expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(status);
    };

    await ok(201, 'POST', `${dest}/subaccountDestinations`, httpDestination('SUBACCOUNT_D'), provider);
    await ok(200, 'PUT', `${dest}/subaccountDestinations`, httpDestination('SUBACCOUNT_D', 'https://changed.example.com'), provider);
    await ok(
      201,
      'POST',
      `${dest}/instanceDestinations`,
      { ...httpDestination('SHARED_D'), $metadata: { shared_with_subscriber: true } },
      provider,
    );
    await ok(201, 'POST', `${dest}/subaccountDestinations`, httpDestination('SUB_D'), subscriber);
    await ok(201, 'POST', `${dest}/instanceDestinations`, httpDestination('SUB_INSTANCE_D'), subscriber);
    await ok(201, 'POST', `${dest}/subaccountDestinationFragments`, { FragmentName: 'F1', URL: 'https://fragment.example.com' }, provider);
    await ok(
      201,
      'POST',
      `${dest}/instanceCertificates`,
      { Name: 'gen.pem', Attributes: { CN: 'persisted', Validity: { TimeUnit: 'DAYS', Value: 30 } } },
      provider,
    );
    await ok(200, 'PUT', `${dest}/subaccountDestinations/SUBACCOUNT_D/labels`, [{ key: 'team', values: ['blue'] }], provider);
    await ok(200, 'PUT', '/_emulator/cloud-connectors/state', { locationId: 'loc1', online: false });
    await ok(201, 'POST', '/_emulator/backend/stubs', { id: 'hello', path: '/hello', body: 'persisted hello' });
    first.onPrem.addStub({ id: 'programmatic', path: '/programmatic', body: 'from the handle' });
    await ok(200, 'POST', '/_emulator/keys/rotate', { kid: 'rotated-1' });
    await ok(200, 'POST', '/_emulator/clock', { action: 'advance', by: '1h' });
    const userToken = await first.issueUserToken({ user: 'alice' });
    const xsuaa = binding(first, 'xsuaa');
    const password = await postForm(`${base}/oauth/token`, {
      grant_type: 'password',
      username: 'alice',
      password: 'alice-pw',
      client_id: xsuaa.clientid,
      client_secret: xsuaa.clientsecret,
    });
    const refreshToken = ((await password.json()) as { refresh_token: string }).refresh_token;
    const certificate = (await call(base, 'GET', `${dest}/instanceCertificates/gen.pem`, { token: provider })).body as { Content: string };
    const before = await first.snapshot();
    await stop(first);

    // The scenario option is ignored: the saved state (with its own scenario) wins.
    const second = await start(dir, 'default');
    const again = second.urls.services;
    expect(second.core.scenario.name).toBe('persisted');
    expect(comparable(await second.snapshot())).toEqual(comparable(before));
    const get = async (path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> =>
      (await call(again, 'GET', path, { token })) as { status: number; body: Record<string, unknown> };

    // Tokens from before the restart are still accepted (same keys; the clock kept its offset).
    expect((await get(`${dest}/subaccountDestinations/SUBACCOUNT_D`, provider)).body.URL).toBe('https://changed.example.com');
    expect((await get(`${dest}/subaccountDestinations/SUBACCOUNT_D/labels`, provider)).body).toEqual([{ key: 'team', values: ['blue'] }]);
    expect((await get(`${dest}/instanceDestinations/SHARED_D`, subscriber)).status).toBe(200);
    expect((await get(`${dest}/instanceDestinations/SUB_INSTANCE_D`, subscriber)).status).toBe(200);
    expect((await get(`${dest}/instanceDestinations/SUB_INSTANCE_D`, provider)).status).toBe(404);
    expect((await get(`${dest}/subaccountDestinations/SUB_D`, subscriber)).status).toBe(200);
    expect((await get(`${dest}/subaccountDestinationFragments/F1`, provider)).body.URL).toBe('https://fragment.example.com');
    expect((await get(`${dest}/instanceCertificates/gen.pem`, provider)).body.Content).toBe(certificate.Content);

    const connectors = (await get('/_emulator/cloud-connectors')).body as {
      tenants: { tenant: string; connectors: { locationId: string; online: boolean }[] }[];
    };
    expect(connectors.tenants.find((t) => t.tenant === 'provider')?.connectors).toMatchObject([{ locationId: 'loc1', online: false }]);
    expect(await (await fetch(`${second.urls.backend}/hello`)).text()).toBe('persisted hello');
    expect(await (await fetch(`${second.urls.backend}/programmatic`)).text()).toBe('from the handle');

    const clock = (await get('/_emulator/clock')).body as { offsetMs: number; frozen: boolean };
    expect(clock.frozen).toBe(false);
    expect(Math.abs(clock.offsetMs - 3_600_000)).toBeLessThan(1000);

    const jwks = (await get('/token_keys')).body as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['rotated-1', ensureTlsMaterial().signingKey.kid]);
    const { protectedHeader } = await jwtVerify(userToken, createLocalJWKSet(jwks as never), { algorithms: ['RS256'] });
    expect(protectedHeader.kid).toBe('rotated-1');
    await jwtVerify(provider, createLocalJWKSet(jwks as never), { algorithms: ['RS256'] });

    const refreshed = await postForm(`${again}/oauth/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: xsuaa.clientid,
      client_secret: xsuaa.clientsecret,
    });
    expect(refreshed.status).toBe(200);
  });

  it('a change is on disk before its answer; a reset and a new scenario are saved too; and a leftover temp file is removed on start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
    const first = await start(dir);
    const token = await destinationToken(first.urls.services, first.env.VCAP_SERVICES);
    expect(
      (await call(first.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination('GONE_AFTER_RESET') }))
        .status,
    ).toBe(201);
    // On disk before the 201 was sent.
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toContain('GONE_AFTER_RESET');
    expect((await call(first.urls.services, 'POST', '/_emulator/reset')).status).toBe(200);
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Snapshot;
    expect(JSON.stringify(saved.levels)).not.toContain('GONE_AFTER_RESET');
    first.loadScenario({ name: 'second-scenario', tenants: [{ subdomain: 'other' }] });
    await stop(first);

    writeFileSync(join(dir, 'state.json.4242-7.tmp'), '{"torn":');
    const second = await start(dir);
    expect(second.core.scenario.name).toBe('second-scenario');
    expect(second.core.state.tenants.map((t) => t.subdomain)).toEqual(['other']);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
});

describe('state directory: a write that fails', () => {
  it('the change is answered 500 state_not_saved instead of 2xx, and stop() reports it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
    const emu = await start(dir);
    const token = await destinationToken(emu.urls.services, emu.env.VCAP_SERVICES);
    rmSync(dir, { recursive: true });
    const answer = await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination('NOT_SAVED') });
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({ error: 'state_not_saved', message: expect.stringContaining(join(dir, 'state.json')) });
    running.splice(running.indexOf(emu), 1);
    await expect(emu.stop()).rejects.toThrow(/cannot write/);
  });
});

describe('state directory: a state.json that cannot be restored', () => {
  async function savedState(): Promise<{ dir: string; file: string; snapshot: Snapshot }> {
    const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
    const emu = await start(dir);
    const token = await destinationToken(emu.urls.services, emu.env.VCAP_SERVICES);
    await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination('KEPT') });
    await stop(emu);
    const file = join(dir, 'state.json');
    return { dir, file, snapshot: JSON.parse(readFileSync(file, 'utf8')) as Snapshot };
  }

  it('a field that does not fit: the error names the file and the field, and the file is left alone', async () => {
    const { dir, file, snapshot } = await savedState();
    const [key] = Object.keys(snapshot.levels);
    (snapshot.levels[key].destinations[0].props as Record<string, string>).Type = 'NOPE';
    const text = JSON.stringify(snapshot);
    writeFileSync(file, text);
    const failed = startEmulator({ port: 0, stateDir: dir });
    await expect(failed).rejects.toThrow(file);
    await expect(failed).rejects.toThrow(`levels.${key}.destinations[0].props.Type: Type must be one of`);
    await expect(failed).rejects.toMatchObject({ name: 'StateFileError' });
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('not JSON: the error says so and names the file', async () => {
    const { dir, file } = await savedState();
    writeFileSync(file, '{"format": "btp-connectivity-emulator/snapshot", "vers');
    await expect(startEmulator({ port: 0, stateDir: dir })).rejects.toThrow(
      new RegExp(`the saved state ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not JSON`),
    );
    expect(existsSync(file)).toBe(true);
  });

  it('a snapshot of a newer version is refused by name', async () => {
    const { dir, file, snapshot } = await savedState();
    writeFileSync(file, JSON.stringify({ ...snapshot, version: 2 }));
    await expect(startEmulator({ port: 0, stateDir: dir })).rejects.toThrow('version: version must be 1');
  });
});
