/**
 * Snapshots over the control API: `GET /_emulator/snapshot` from one emulator, `PUT` into another, and the
 * second one is the same (destinations on both levels and tenants, labels, connectors, stubs, signing keys, the
 * frozen clock): a token the first one signed with a rotated key works at the second. A bad snapshot is a 400
 * that names the field and changes nothing, also when it fails late (a key that does not import).
 */
import { ValidationError } from '../emulator/core/validation.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import type { Snapshot } from '../emulator/app/snapshot.ts';
import { call, dest, destinationToken, httpDestination } from './state-helpers.ts';

const subZid = '5d6c0e0a-2222-4c3b-9a2e-000000000002';
const frozenAt = new Date(Date.now() + 3_600_000).toISOString();
let source: EmulatorHandle;
let target: EmulatorHandle;
let exported: Snapshot;
let sourceToken: string;
let startKid: string;

const comparable = (s: Snapshot): unknown => ({ ...s, savedAt: undefined, clock: { ...s.clock, offsetMs: undefined } });

beforeAll(async () => {
  source = await startEmulator({
    port: 0,
    scenario: {
      name: 'snapshot-source',
      tenants: [
        { subdomain: 'provider', cloudConnectors: [{ locationId: 'loc', online: true }] },
        { subdomain: 'subscriber1', zid: subZid },
      ],
    },
  });
  target = await startEmulator({ port: 0 });
  const base = source.urls.services;
  startKid = source.core.keys.active.kid; // the installation's key, before the rotation
  expect((await call(base, 'POST', '/_emulator/keys/rotate', { body: { kid: 'moved-key' } })).status).toBe(200);
  sourceToken = await destinationToken(base, source.env.VCAP_SERVICES);
  const subscriber = await destinationToken(base, source.env.VCAP_SERVICES, subZid);
  const writes: [string, string, unknown, string?][] = [
    ['POST', `${dest}/subaccountDestinations`, httpDestination('MOVED'), sourceToken],
    ['POST', `${dest}/instanceDestinations`, { ...httpDestination('SHARED'), $metadata: { shared_with_subscriber: true } }, sourceToken],
    ['POST', `${dest}/subaccountDestinations`, httpDestination('SUBSCRIBER_OWN'), subscriber],
    ['PUT', `${dest}/subaccountDestinations/MOVED/labels`, [{ key: 'stage', values: ['qa'] }], sourceToken],
    ['POST', '/_emulator/backend/stubs', { id: 'moved-stub', path: '/moved', body: 'moved' }],
    ['PUT', '/_emulator/cloud-connectors/state', { locationId: 'loc', online: false }],
    ['POST', '/_emulator/clock', { action: 'freeze', at: frozenAt }],
    [
      'POST',
      '/_emulator/faults',
      { id: 'moved-fault', target: { service: 'destination', destination: 'FAULTY' }, effect: { status: 503 } },
    ],
  ];
  for (const [method, path, body, token] of writes)
    expect((await call(base, method, path, { token, body })).status, `${method} ${path}`).toBeLessThan(300);
  const answer = await call(base, 'GET', '/_emulator/snapshot');
  expect(answer.status).toBe(200);
  exported = answer.body as Snapshot;
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('snapshot export and import', () => {
  it('exports the whole state as versioned JSON, private signing keys included', () => {
    expect(exported).toMatchObject({
      format: 'btp-connectivity-emulator/snapshot',
      version: 1,
      scenario: { name: 'snapshot-source' },
      clock: { frozen: true, nowMs: Date.parse(frozenAt) },
    });
    expect(exported.signingKeys.map((k) => k.kid)).toEqual(['moved-key', startKid]);
    expect(exported.signingKeys[0].privateJwk).toHaveProperty('d');
    expect(JSON.stringify(exported.levels)).toContain('SUBSCRIBER_OWN');
  });

  it('imported into another emulator, that one is the same', async () => {
    const put = await call(target.urls.services, 'PUT', '/_emulator/snapshot', { body: exported });
    expect(put).toEqual({ status: 200, body: { status: 'restored', scenario: 'snapshot-source' } });
    expect(comparable((await call(target.urls.services, 'GET', '/_emulator/snapshot')).body as Snapshot)).toEqual(comparable(exported));

    // The source's token (signed with the rotated key) is accepted by the target; the target serves the same data.
    const base = target.urls.services;
    expect(((await call(base, 'GET', `${dest}/subaccountDestinations/MOVED`, { token: sourceToken })).body as { URL: string }).URL).toBe(
      'https://moved.example.com',
    );
    expect((await call(base, 'GET', `${dest}/subaccountDestinations/MOVED/labels`, { token: sourceToken })).body).toEqual([
      { key: 'stage', values: ['qa'] },
    ]);
    const subscriber = await destinationToken(base, target.env.VCAP_SERVICES, subZid);
    expect((await call(base, 'GET', `${dest}/instanceDestinations/SHARED`, { token: subscriber })).status).toBe(200);
    expect((await call(base, 'GET', `${dest}/subaccountDestinations/SUBSCRIBER_OWN`, { token: subscriber })).status).toBe(200);
    expect(await (await fetch(`${target.urls.backend}/moved`)).text()).toBe('moved');
    expect(((await call(base, 'GET', '/_emulator/clock')).body as { nowMs: number }).nowMs).toBe(Date.parse(frozenAt));
    // The injected fault moved too, and acts at the target.
    expect((await call(base, 'GET', '/_emulator/faults/moved-fault')).status).toBe(200);
    expect((await call(base, 'GET', '/destination-configuration/v1/destinations/FAULTY', { token: sourceToken })).status).toBe(503);
  });

  describe('a bad snapshot: 400 naming the field, nothing changed', () => {
    const levelKey = (): string => Object.keys(exported.levels).find((k) => JSON.stringify(exported.levels[k]).includes('MOVED'))!;
    /** The snapshot with `change` applied, and a new scenario name, so a partial import would show. */
    const broken = (change: (s: Snapshot) => void): Snapshot => {
      const copy = structuredClone(exported);
      copy.scenario.name = 'must-not-be-loaded';
      copy.levels[levelKey()].destinations = [];
      change(copy);
      return copy;
    };
    const cases: [string, () => unknown, RegExp][] = [
      [
        'a destination of an unknown Type',
        () =>
          broken(
            (s) => (s.levels[levelKey()].destinations[0] = { props: { ...httpDestination('X'), Type: 'FTP' } as never, modifiedAt: 0 }),
          ),
        /^levels\..+\.destinations\[0\]\.props\.Type$/,
      ],
      [
        'a level of a zid no tenant has',
        () => broken((s) => (s.levels['no-such-zid|instance'] = { destinations: [], fragments: [], certificates: [], labels: {} })),
        /^levels\.no-such-zid\|instance$/,
      ],
      [
        'connectors of a zid no tenant has',
        () => broken((s) => (s.onPrem.connectors['no-such-zid'] = [])),
        /^onPrem\.connectors\.no-such-zid$/,
      ],
      [
        'a signing key that does not import',
        () => broken((s) => (s.signingKeys[0].privateJwk = { ...s.signingKeys[0].privateJwk, n: 'AAAA', d: 'AAAA' })),
        /^signingKeys\[0\]\.privateJwk$/,
      ],
      ['no format', () => ({ ...broken(() => undefined), format: undefined }), /^format$/],
      ['a scenario that does not fit', () => broken((s) => (s.scenario.tenants = [])), /^scenario\.tenants$/],
    ];
    it.each(cases)('%s', async (_what, make, field) => {
      await target.restoreSnapshot(exported); // the target holds the source's state, whichever test ran before
      const before = (await call(target.urls.services, 'GET', '/_emulator/snapshot')).body as Snapshot;
      const put = await call(target.urls.services, 'PUT', '/_emulator/snapshot', { body: make() });
      expect(put.status).toBe(400);
      const issues = (put.body as { issues: { path: string }[] }).issues;
      expect(issues.map((i) => i.path)).toContainEqual(expect.stringMatching(field));
      const after = (await call(target.urls.services, 'GET', '/_emulator/snapshot')).body as Snapshot;
      expect(comparable(after)).toEqual(comparable(before));
      expect(after.scenario.name).toBe('snapshot-source');
    });

    it('not JSON', async () => {
      const res = await fetch(`${target.urls.control}/snapshot`, { method: 'PUT', body: '{"format":' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/not JSON/);
    });

    it('through the handle: a ValidationError', async () => {
      await expect(target.restoreSnapshot({ ...exported, version: 7 })).rejects.toBeInstanceOf(ValidationError);
      await expect(target.restoreSnapshot({ ...exported, version: 7 })).rejects.toThrow('version: version must be 1');
    });
  });
});
