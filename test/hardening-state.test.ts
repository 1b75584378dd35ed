/**
 * Issue 15, "refused means unchanged": items 6, 9 and 11. A fault body nested 5,000 deep is refused with 400
 * naming the field and nothing is stored (the list and the snapshot still answer); a snapshot with a clock offset
 * no Date can hold is refused whole with 400 (clock, tokens and reset keep working), and a state.json with one is
 * refused at start naming the field; every number that reaches a Date is bounded. A write the state directory
 * could not save is answered 500 and rolled back in memory: it is not listed, the next successful write does not
 * carry it, and after a restart it is absent. Real emulators on real sockets.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { call, dest, destinationToken, httpDestination } from './state-helpers.ts';

/** A snapshot as JSON, enough to change a field of it. */
type Snap = Record<string, unknown> & { signingKeys: object[] };

const running: EmulatorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop().catch(() => undefined)));
});

async function start(options: Parameters<typeof startEmulator>[0] = {}): Promise<EmulatorHandle> {
  const emu = await startEmulator({ port: 0, ...options });
  running.push(emu);
  return emu;
}

const json = (method: string, url: string, body: unknown): Promise<Response> =>
  fetch(url, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('item 6: a fault body nested 5,000 deep', () => {
  it('is refused with 400 naming effect.body; the fault list and the snapshot still answer and hold no fault', async () => {
    const emu = await start();
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const res = await json('POST', `${emu.urls.control}/faults`, `{"effect":{"status":503,"body":${deep}}}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/effect\.body.*nests deeper than 64 levels/);
    const list = await fetch(`${emu.urls.control}/faults`);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ faults: [] });
    expect((await fetch(`${emu.urls.control}/snapshot`)).status).toBe(200);
  });

  it('the handle refuses it the same way', async () => {
    const emu = await start();
    let body: unknown = [];
    for (let i = 0; i < 5000; i++) body = [body];
    expect(() => emu.addFault({ effect: { status: 503, body: body as unknown[] } })).toThrow(/nests deeper than 64 levels/);
    expect(emu.faults()).toEqual([]);
  });
});

describe('item 9: numbers that reach a Date', () => {
  it('a snapshot with clock.offsetMs 8.64e15 is refused whole with 400 naming the field; the emulator keeps working', async () => {
    const emu = await start({ scenario: 'default' });
    const snapshot = (await (await fetch(`${emu.urls.control}/snapshot`)).json()) as {
      scenario: { name: string };
      clock: { offsetMs: number };
    };
    const before = await (await fetch(`${emu.urls.control}/clock`)).json();
    const res = await json('PUT', `${emu.urls.control}/snapshot`, {
      ...snapshot,
      scenario: { ...snapshot.scenario, name: 'changed' },
      clock: { ...snapshot.clock, offsetMs: 8.64e15 },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('clock.offsetMs');
    expect(((await (await fetch(`${emu.urls.control}/health`)).json()) as { scenario: string }).scenario).toBe('default');
    const clock = (await (await fetch(`${emu.urls.control}/clock`)).json()) as { frozen: boolean };
    expect(clock.frozen).toBe((before as { frozen: boolean }).frozen);
    expect((await fetch(`${emu.urls.services}/token_keys`)).status).toBe(200);
    expect((await fetch(`${emu.urls.control}/reset`, { method: 'POST' })).status).toBe(200);
    expect((await json('POST', `${emu.urls.control}/users/token`, { user: 'alice' })).status).toBe(200);
  });

  it.each([
    ['clock.nowMs', (s: Snap) => ({ ...s, clock: { frozen: true, nowMs: 8.64e15, offsetMs: 0 } })],
    ['signingKeys[0].retiresAt', (s: Snap) => ({ ...s, signingKeys: [{ ...s.signingKeys[0], retiresAt: 1e300 }] })],
    [
      'faults.faults[0].until',
      (s: Snap) => ({
        ...s,
        faults: {
          nextId: 2,
          faults: [
            {
              id: 'f',
              target: {},
              effect: { status: 503 },
              until: '+275760-09-13T00:00:00.000Z',
              added: '2030-01-01T00:00:00.000Z',
              hits: 0,
            },
          ],
        },
      }),
    ],
  ])('a snapshot with an out-of-range %s is refused with 400 naming it', async (field, change) => {
    const emu = await start();
    const snapshot = (await (await fetch(`${emu.urls.control}/snapshot`)).json()) as Snap;
    const res = await json('PUT', `${emu.urls.control}/snapshot`, change(snapshot));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(field);
  });

  it.each([
    ['fault durationMs', '/faults', { effect: { status: 503 }, durationMs: 8.64e15 }, 'durationMs'],
    ['fault until', '/faults', { effect: { status: 503 }, until: '+275760-01-01T00:00:00Z' }, 'until'],
    ['clock freeze at', '/clock', { action: 'freeze', at: '+200000-01-01T00:00:00Z' }, 'at'],
    ['clock advance by', '/clock', { action: 'advance', by: 8.64e15 }, 'by'],
    ['key grace', '/keys/rotate', { keepOld: true, grace: 8.64e15 }, 'grace'],
  ])('%s beyond the bounds is a 400 naming it, and nothing changes', async (_name, path, body, field) => {
    const emu = await start();
    const before = await (await fetch(`${emu.urls.control}/snapshot`)).json();
    const res = await json('POST', `${emu.urls.control}${path}`, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(field);
    const after = (await (await fetch(`${emu.urls.control}/snapshot`)).json()) as Record<string, unknown>;
    expect({ ...after, savedAt: 0, clock: 0 }).toEqual({ ...(before as Record<string, unknown>), savedAt: 0, clock: 0 });
  });

  it('a scenario tokenValidity of 1e300 seconds is refused', async () => {
    const emu = await start();
    const res = await json('POST', `${emu.urls.control}/scenario`, { name: 'x', tokenValidity: 1e300, tenants: [{ subdomain: 'p' }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('tokenValidity');
  });

  it('a state.json with clock.offsetMs 8.64e15 is refused at start, naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-hardening-'));
    const first = await start({ stateDir: dir });
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const file = join(dir, 'state.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { clock: Record<string, unknown> };
    writeFileSync(file, JSON.stringify({ ...saved, clock: { ...saved.clock, frozen: false, offsetMs: 8.64e15 } }));
    const failed = startEmulator({ port: 0, stateDir: dir });
    await expect(failed).rejects.toThrow(file);
    await expect(failed).rejects.toThrow('clock.offsetMs');
  });
});

describe('item 11: a write the state directory could not save', () => {
  it('is answered 500 and rolled back: not listed, not in the next write, absent after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-hardening-'));
    const emu = await start({ stateDir: dir });
    const token = await destinationToken(emu.urls.services, emu.env.VCAP_SERVICES);
    expect(
      (await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination('SAVED_FIRST') })).status,
    ).toBe(201);

    rmSync(dir, { recursive: true });
    const refused = await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination('NOT_SAVED') });
    expect(refused.status).toBe(500);
    expect(refused.body).toMatchObject({ error: 'state_not_saved' });
    const listed = await call(emu.urls.services, 'GET', `${dest}/subaccountDestinations`, { token });
    expect((listed.body as { Name: string }[]).map((d) => d.Name)).toEqual(['SAVED_FIRST']);

    mkdirSync(dir);
    expect(
      (await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination('SAVED_AFTER') })).status,
    ).toBe(201);
    const written = readFileSync(join(dir, 'state.json'), 'utf8');
    expect(written).toContain('SAVED_AFTER');
    expect(written).not.toContain('NOT_SAVED');
    await emu.stop();
    running.splice(running.indexOf(emu), 1);

    const again = await start({ stateDir: dir });
    const token2 = await destinationToken(again.urls.services, again.env.VCAP_SERVICES);
    const names = (
      (await call(again.urls.services, 'GET', `${dest}/subaccountDestinations`, { token: token2 })).body as { Name: string }[]
    ).map((d) => d.Name);
    expect(names.sort()).toEqual(['SAVED_AFTER', 'SAVED_FIRST']);
  });

  it('a control API change that could not be saved (a fault) is rolled back too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-hardening-'));
    const emu = await start({ stateDir: dir });
    rmSync(dir, { recursive: true });
    const res = await json('POST', `${emu.urls.control}/faults`, { id: 'unsaved', effect: { status: 503 } });
    expect(res.status).toBe(500);
    expect(emu.faults()).toEqual([]);
    mkdirSync(dir);
  });
});
