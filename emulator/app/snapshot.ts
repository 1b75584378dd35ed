/**
 * A snapshot of the emulator's whole mutable state as plain JSON, and restoring one: the loaded scenario,
 * every Destination Service level (destinations, fragments, certificates with their modification time and
 * shared flag, labels), Cloud Connectors, backend stubs and received mails, XSUAA's refresh tokens and
 * authorization codes, the Transparent Proxy's Destination CRs, the clock, the signing keys (private JWKs, so
 * tokens issued before a restore still verify; with their grace periods) and the injected faults. The journal is not
 * part of it. Restoring validates everything first (errors name the field, e.g. `levels.<zid>.destinations[0].props.Type`)
 * and changes nothing when any part is refused. The state directory (emulator/persistence) writes these.
 */
import { receivedMailSchema, stubSchema } from '../services/backend/schema.ts';
import { emptyLevel, levelLabels, restoreLevelLabels, type Stored } from '../services/destination/state.ts';
import { parseWith, ValidationError } from '../core/validation.ts';
import { certificateSchema, destinationSchema, fragmentSchema } from '../services/destination/schema.ts';
import { exportJWK, type JWK } from 'jose';
import { z } from 'zod';
import { cloudConnectorsSchema, sccInstanceSchema, sccUserSchema } from '../services/cloud-connector/schema.ts';
import { buildSccApiState } from '../services/cloud-connector/state.ts';
import { importSigningKey, type SigningKey } from '../core/signing-keys.ts';
import type { Clock } from '../core/clock.ts';
import { faultStateSchema } from '../core/fault-schema.ts';
import type { FaultList } from '../core/faults.ts';
import type { KeyRing } from '../core/signing-keys.ts';
import { instantMs, instantText, isInstant } from '../core/time-bounds.ts';
import { scenarioSchema, type Scenario } from './scenario-schema.ts';
import { checkCrReferences, crKey, crReferencesOf, destinationCrSchema, listDestinationCrs } from '../services/transparent-proxy/index.ts';
import { buildState, type EmulatorState } from './state.ts';

/**
 * What a snapshot reads and, on restore, writes: the loaded scenario and the state (replaced whole), the clock,
 * the signing keys and the faults. `EmulatorCore` is one; this file does not know it.
 */
export interface SnapshotTarget {
  scenario: Scenario;
  state: EmulatorState;
  readonly clock: Clock;
  readonly keys: KeyRing;
  /** The identity service's (IAS) own key ring. */
  readonly identity: { readonly minter: { readonly keys: KeyRing } };
  readonly faults: FaultList;
}

export const snapshotFormat = 'btp-connectivity-emulator/snapshot';
export const snapshotVersion = 1;

const finiteMs = instantMs;

const stored = <S extends z.ZodType>(props: S) =>
  z.object({ props, modifiedAt: finiteMs, sharedWithSubscriber: z.boolean().optional() }).strict();

const labelSchema = z.object({ key: z.string().min(1), values: z.array(z.string()) }).strict();

const levelSchema = z
  .object({
    destinations: z.array(stored(destinationSchema)).default([]),
    fragments: z.array(stored(fragmentSchema)).default([]),
    certificates: z.array(stored(certificateSchema)).default([]),
    /** By `<destination|fragment|certificate>:<name>`. */
    labels: z.record(z.string(), z.array(labelSchema)).default({}),
  })
  .strict();

const b64url = z
  .string()
  .min(1)
  .regex(/^[\w-]+$/, 'must be base64url');

const privateRsaJwk = z.looseObject({
  kty: z.literal('RSA', { error: 'kty must be "RSA"' }),
  n: b64url,
  e: b64url,
  d: b64url,
  p: b64url.optional(),
  q: b64url.optional(),
  dp: b64url.optional(),
  dq: b64url.optional(),
  qi: b64url.optional(),
});

const mailSchema = receivedMailSchema.strict();

const signingKeysSchema = z
  .array(z.object({ kid: z.string().min(1), privateJwk: privateRsaJwk, retiresAt: finiteMs.optional() }).strict())
  .min(1, 'at least one signing key (the active one) is required');

/** The body of `PUT /_emulator/snapshot` and the content of a state directory's `state.json`. */
export const snapshotBody = z
  .object({
    format: z.literal(snapshotFormat, { error: `format must be "${snapshotFormat}"` }),
    version: z.literal(snapshotVersion, { error: `version must be ${snapshotVersion} (the snapshot version this emulator reads)` }),
    /** When it was taken (real time); informational. */
    savedAt: z.string().optional(),
    scenario: scenarioSchema,
    clock: z
      .object({
        frozen: z.boolean(),
        nowMs: finiteMs,
        offsetMs: z
          .number({ error: 'offsetMs must be a number of milliseconds' })
          .refine(Number.isFinite, 'offsetMs must be a finite number of milliseconds'),
      })
      .strict()
      .refine((clock) => clock.frozen || isInstant(Date.now() + clock.offsetMs), {
        path: ['offsetMs'],
        message: `offsetMs must keep the running clock at ${instantText}`,
      }),
    /** The active key first. `retiresAt`: end of its grace period on the emulator clock (ms). */
    signingKeys: signingKeysSchema,
    /** By level key: `<zid>` (subaccount level) or `<zid>|<instanceid>` (instance or subscription level). */
    levels: z.record(z.string(), levelSchema).default({}),
    onPrem: z
      .object({
        /** Cloud Connectors by tenant zid. */
        connectors: z.record(z.string(), cloudConnectorsSchema).default({}),
        /** The Cloud Connector REST API's users and installations; absent in older snapshots (then: a fresh install). */
        sccApi: z
          .object({ regionHost: z.string().min(1), users: z.array(sccUserSchema), instances: z.array(sccInstanceSchema) })
          .strict()
          .optional(),
        stubs: z.array(stubSchema.extend({ id: z.string().min(1) })).default([]),
        mails: z.array(mailSchema).default([]),
        nextStubId: z.number().int().positive().default(1),
        nextMailId: z.number().int().positive().default(1),
      })
      .strict(),
    xsuaa: z
      .object({
        refreshTokens: z
          .record(
            z.string(),
            z.object({ clientid: z.string(), zid: z.string(), user: z.string(), scopes: z.array(z.string()).optional() }).strict(),
          )
          .default({}),
        authCodes: z
          .record(
            z.string(),
            z
              .object({
                clientid: z.string(),
                zid: z.string(),
                user: z.string(),
                redirectUri: z.string().optional(),
                codeChallenge: z.string().optional(),
                codeChallengeMethod: z.string().optional(),
                expiresAt: finiteMs,
              })
              .strict(),
          )
          .default({}),
      })
      .strict()
      .default({ refreshTokens: {}, authCodes: {} }),
    /** The identity service (IAS): its signing keys (without them: as the emulator has them), refresh tokens and codes. */
    identity: z
      .object({
        signingKeys: signingKeysSchema.optional(),
        refreshTokens: z.record(z.string(), z.object({ clientid: z.string(), zid: z.string(), user: z.string() }).strict()).default({}),
        authCodes: z
          .record(
            z.string(),
            z
              .object({
                clientid: z.string(),
                zid: z.string(),
                user: z.string(),
                redirectUri: z.string().optional(),
                codeChallenge: z.string().optional(),
                codeChallengeMethod: z.string().optional(),
                expiresAt: finiteMs,
              })
              .strict(),
          )
          .default({}),
      })
      .strict()
      .optional(),
    /** The Transparent Proxy's Destination CRs as they are now (without it: the scenario's). */
    transparentProxy: z
      .object({ resources: z.array(destinationCrSchema).default([]) })
      .strict()
      .optional(),
    /** Fault injection's own state, if this emulator has it. */
    faults: faultStateSchema.optional(),
  })
  .strict();

export type Snapshot = z.output<typeof snapshotBody>;

/** Private JWKs of signing keys, exported once per key (exporting is async; the snapshot itself is taken at one instant). */
const exportedJwks = new WeakMap<CryptoKey, JWK>();

/** The whole mutable state as plain JSON (a copy). Everything is read at one instant, after the keys' JWKs are exported. */
export function exportSnapshot(core: SnapshotTarget): Promise<Snapshot> {
  // A copy, so later changes of the live state (connectors are changed in place) cannot reach it.
  return whenKeysExported(core, () => structuredClone(captureSnapshot(core)));
}

/** The same as JSON text, without the copy (what a state directory writes). */
export function exportSnapshotText(core: SnapshotTarget): Promise<string> {
  return whenKeysExported(core, () => JSON.stringify(captureSnapshot(core)));
}

/** Export the JWKs of keys not seen yet, then run `read` in the same synchronous step as the last check. */
async function whenKeysExported<T>(core: SnapshotTarget, read: () => T): Promise<T> {
  for (;;) {
    const missing = [...core.keys.held(), ...core.identity.minter.keys.held()].filter(({ key }) => !exportedJwks.has(key.privateKey));
    if (!missing.length) return read();
    for (const { key } of missing) exportedJwks.set(key.privateKey, await exportJWK(key.privateKey));
  }
}

const list = <T>(entries: Map<string, Stored<T>>) =>
  [...entries.values()].map((e) => ({
    props: e.props,
    modifiedAt: e.modifiedAt,
    ...(e.sharedWithSubscriber ? { sharedWithSubscriber: true } : {}),
  }));

/** The live state as a snapshot (shares objects with it); only synchronous code may read it. Only through {@link whenKeysExported}. */
function captureSnapshot(core: SnapshotTarget): Snapshot {
  const { state } = core;
  return {
    format: snapshotFormat,
    version: snapshotVersion,
    savedAt: new Date().toISOString(),
    scenario: core.scenario,
    clock: captureClock(core.clock),
    signingKeys: savedKeys(core.keys),
    levels: Object.fromEntries(
      [...state.levels].map(([key, level]) => [
        key,
        {
          destinations: list(level.destinations),
          fragments: list(level.fragments),
          certificates: list(level.certificates),
          labels: levelLabels(level),
        },
      ]),
    ),
    onPrem: {
      connectors: Object.fromEntries(state.onPrem.connectors),
      sccApi: state.onPrem.sccApi,
      stubs: state.onPrem.stubs,
      mails: state.onPrem.mails,
      nextStubId: state.onPrem.nextStubId,
      nextMailId: state.onPrem.nextMailId,
    },
    xsuaa: { refreshTokens: Object.fromEntries(state.refreshTokens), authCodes: Object.fromEntries(state.authCodes) },
    identity: {
      signingKeys: savedKeys(core.identity.minter.keys),
      refreshTokens: Object.fromEntries(state.identity.refreshTokens),
      authCodes: Object.fromEntries(state.identity.authCodes),
    },
    transparentProxy: { resources: listDestinationCrs(state) },
    faults: core.faults.exportState(),
  };
}

function savedKeys(keys: KeyRing): Snapshot['signingKeys'] {
  return keys.held().map(({ key, retiresAt }) => ({
    kid: key.kid,
    privateJwk: exportedJwks.get(key.privateKey)! as z.output<typeof privateRsaJwk>,
    ...(retiresAt !== undefined ? { retiresAt } : {}),
  }));
}

/** Import saved keys (a ValidationError names a bad one under `path`). */
async function importKeys(saved: Snapshot['signingKeys'], path: string): Promise<{ key: SigningKey; retiresAt?: number }[]> {
  const keys: { key: SigningKey; retiresAt?: number }[] = [];
  for (const [i, entry] of saved.entries()) {
    if (keys.some((k) => k.key.kid === entry.kid)) refuse(`${path}[${i}].kid`, `kid "${entry.kid}" appears twice`);
    let key: SigningKey;
    try {
      key = await importSigningKey(entry.privateJwk as JWK, entry.kid);
    } catch (err) {
      refuse(`${path}[${i}].privateJwk`, `not a usable RSA private key: ${(err as Error).message}`);
    }
    exportedJwks.set(key.privateKey, entry.privateJwk as JWK);
    keys.push({ key, ...(entry.retiresAt !== undefined ? { retiresAt: entry.retiresAt } : {}) });
  }
  return keys;
}

function captureClock(clock: Clock): Snapshot['clock'] {
  const nowMs = clock.now();
  return { frozen: clock.isFrozen?.() ?? false, nowMs, offsetMs: nowMs - Date.now() };
}

/** Frozen: at the same instant; running: with the same distance from real time. */
function restoreClock(clock: Clock, saved: Snapshot['clock']): void {
  clock.useRealTime();
  if (saved.frozen) clock.freeze(saved.nowMs);
  else if (saved.offsetMs) clock.advance(saved.offsetMs);
}

function refuse(path: string, message: string): never {
  throw new ValidationError('snapshot', [{ path, message }]);
}

/**
 * Replace the whole state with a snapshot. Everything is checked (and the keys imported) before anything
 * changes; a ValidationError naming the field leaves the emulator as it was.
 */
export async function importSnapshot(core: SnapshotTarget, value: unknown): Promise<void> {
  const snapshot = parseWith(snapshotBody, value, 'snapshot');
  const state = restoredState(snapshot, core.clock.now());
  const keys = await importKeys(snapshot.signingKeys, 'signingKeys');
  const identityKeys = snapshot.identity?.signingKeys ? await importKeys(snapshot.identity.signingKeys, 'identity.signingKeys') : undefined;
  const applyFaults = snapshot.faults !== undefined ? prefixed('faults', () => core.faults.prepareRestore(snapshot.faults)) : undefined;
  // Nothing above changed the emulator; from here on nothing can fail.
  core.scenario = snapshot.scenario;
  core.state = state;
  core.keys.replace(keys);
  if (identityKeys) core.identity.minter.keys.replace(identityKeys);
  restoreClock(core.clock, snapshot.clock);
  applyFaults?.();
}

/**
 * A checkpoint of the live state, in memory: the returned function puts the emulator back to it (scenario,
 * every store, keys, clock, faults; the journal stays). The state directory's writer uses it so a change that
 * could not be saved does not stay (change-notifier.ts). Mails are shared, not copied: they never change.
 */
export function captureRollback(core: SnapshotTarget): () => void {
  const live = captureSnapshot(core);
  // Shared, not copied (they are replaced on change, never changed in place): the scenario, the mails, and the
  // props of stored entities (captureSnapshot already lists the entities in fresh wrappers). The rest is copied.
  const { scenario, levels, onPrem } = live;
  const mails = [...onPrem.mails];
  const entities = Object.fromEntries(
    Object.entries(levels).map(([key, level]) => [
      key,
      { destinations: level.destinations, fragments: level.fragments, certificates: level.certificates },
    ]),
  );
  const copied = structuredClone({
    ...live,
    scenario: undefined,
    signingKeys: [],
    identity: live.identity && { ...live.identity, signingKeys: undefined },
    levels: Object.fromEntries(Object.entries(levels).map(([key, level]) => [key, { labels: level.labels }])),
    onPrem: { ...onPrem, mails: [] },
  });
  const keys = core.keys.held().map((held) => ({ ...held }));
  const identityKeys = core.identity.minter.keys.held().map((held) => ({ ...held }));
  return () => {
    const restoredLevels = Object.fromEntries(
      Object.entries(copied.levels).map(([key, level]) => [key, { ...entities[key], labels: level.labels }]),
    );
    core.state = restoredState(
      { ...copied, scenario, levels: restoredLevels, onPrem: { ...copied.onPrem, mails: [...mails] } },
      core.clock.now(),
    );
    core.scenario = scenario;
    core.keys.replace(keys);
    core.identity.minter.keys.replace(identityKeys);
    restoreClock(core.clock, copied.clock);
    if (copied.faults) core.faults.prepareRestore(copied.faults)();
  };
}

/** Run `check`; a ValidationError it throws names its fields under `section`. */
function prefixed<T>(section: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(
      'snapshot',
      err.issues.map((i) => ({ path: i.path ? `${section}.${i.path}` : section, message: i.message })),
    );
  }
}

/** The state the snapshot describes: built from its scenario, then every store replaced by the saved one. */
function restoredState(snapshot: Snapshot, now: number): EmulatorState {
  let state: EmulatorState;
  try {
    state = buildState(snapshot.scenario, now);
  } catch (err) {
    refuse('scenario', (err as Error).message);
  }
  const zids = new Set(state.tenants.map((t) => t.zid));
  const knownZid = (path: string, zid: string): void => {
    if (!zids.has(zid)) refuse(path, `"${zid}" is not the zid of a tenant of the snapshot's scenario`);
  };

  state.levels = new Map();
  for (const [key, saved] of Object.entries(snapshot.levels)) {
    knownZid(`levels.${key}`, key.split('|')[0]);
    const level = emptyLevel();
    fill(level.destinations, saved.destinations, 'Name', `levels.${key}.destinations`);
    fill(level.fragments, saved.fragments, 'FragmentName', `levels.${key}.fragments`);
    fill(level.certificates, saved.certificates, 'Name', `levels.${key}.certificates`);
    restoreLevelLabels(level, saved.labels);
    state.levels.set(key, level);
  }

  const { onPrem } = snapshot;
  state.onPrem.connectors = new Map(state.tenants.map((t) => [t.zid, []]));
  for (const [zid, connectors] of Object.entries(onPrem.connectors)) {
    knownZid(`onPrem.connectors.${zid}`, zid);
    state.onPrem.connectors.set(zid, connectors);
  }
  state.onPrem.sccApi = onPrem.sccApi ?? buildSccApiState(undefined);
  state.onPrem.stubs = onPrem.stubs;
  state.onPrem.mails = onPrem.mails;
  state.onPrem.nextStubId = onPrem.nextStubId;
  state.onPrem.nextMailId = onPrem.nextMailId;
  state.refreshTokens = new Map(Object.entries(snapshot.xsuaa.refreshTokens));
  state.authCodes = new Map(Object.entries(snapshot.xsuaa.authCodes));
  if (snapshot.identity) {
    for (const [path, entries] of [
      ['identity.refreshTokens', snapshot.identity.refreshTokens],
      ['identity.authCodes', snapshot.identity.authCodes],
    ] as const)
      for (const [token, entry] of Object.entries(entries)) knownZid(`${path}.${token}.zid`, entry.zid);
    state.identity.refreshTokens = new Map(Object.entries(snapshot.identity.refreshTokens));
    state.identity.authCodes = new Map(Object.entries(snapshot.identity.authCodes));
  }
  if (snapshot.transparentProxy) {
    const crs = snapshot.transparentProxy.resources;
    checkCrReferences(crs, crReferencesOf(state), (i, path, message) =>
      refuse(`transparentProxy.resources[${i}].${path.join('.')}`, message),
    );
    state.transparentProxy.resources = new Map(crs.map((cr) => [crKey(cr.metadata.namespace, cr.metadata.name), cr]));
  }
  return state;
}

function fill<T extends Record<string, string | null | undefined>>(
  target: Map<string, Stored<T>>,
  saved: { props: T; modifiedAt: number; sharedWithSubscriber?: boolean }[],
  nameKey: string,
  path: string,
): void {
  saved.forEach((entry, i) => {
    const name = String(entry.props[nameKey]);
    if (target.has(name)) refuse(`${path}[${i}].props.${nameKey}`, `"${name}" appears twice on this level`);
    target.set(name, {
      props: entry.props,
      modifiedAt: entry.modifiedAt,
      ...(entry.sharedWithSubscriber ? { sharedWithSubscriber: true } : {}),
    });
  });
}
