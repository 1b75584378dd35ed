/**
 * XSUAA signing-key rotation as `@sap/xssec` 4 (unmodified) sees it. xssec caches a JWKS for 30 minutes per
 * service instance and looks a token's `kid` up in that cache: a fresh `XsuaaService` fetches the new JWKS,
 * one that cached the JWKS before the rotation refuses a token with the new kid (MissingKidError), as on BTP.
 * Old keys stay valid (keepOld), for a grace period on the emulator's clock, or are dropped at once.
 */
import { createSecurityContext, XsuaaService } from '@sap/xssec';
import { decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
/** The key a default emulator starts with: this installation's own (kept with the TLS material). */
let startKid: string;

/** A new xssec service instance: it has no JWKS cached yet. */
const freshService = (): XsuaaService => new XsuaaService(binding(emu, 'xsuaa') as never);

const kidOf = (jwt: string): string | undefined => decodeProtectedHeader(jwt).kid;

const rotate = (body: unknown): Promise<Response> =>
  fetch(`${emu.urls.control}/keys/rotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const lookupWith = (token: string): Promise<Response> =>
  fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, { headers: { authorization: `Bearer ${token}` } });

async function publishedKids(): Promise<string[]> {
  const jwks = (await (await fetch(`${emu.urls.services}/token_keys`)).json()) as { keys: { kid: string }[] };
  return jwks.keys.map((k) => k.kid);
}

/** The state at start, signing keys included: each test begins from it, in whatever order the tests run. */
let initial: Awaited<ReturnType<EmulatorHandle['snapshot']>>;

beforeAll(async () => {
  // Rotation changes the key ring, which emu.reset() does not restore; a snapshot does.
  emu = await startEmulator({ port: 0, scenario: 'default' });
  startKid = emu.core.keys.active.kid;
  initial = await emu.snapshot();
});

afterAll(() => emu?.stop());

beforeEach(() => emu.restoreSnapshot(initial));
afterEach(() => emu.clock({ action: 'real' }));

describe('POST /_emulator/keys/rotate', () => {
  it("lists the keys; the installation's own key signs at start", async () => {
    const view = (await (await fetch(`${emu.urls.control}/keys`)).json()) as { active: string; keys: { kid: string; active: boolean }[] };
    expect(view.active).toBe(startKid);
    expect(view.keys).toEqual([{ kid: startKid, active: true }]);
  });

  it.each([
    [{ keepOld: 'yes' }, 'keepOld', /keepOld must be true/],
    [{ keepOld: false, grace: '10m' }, 'grace', /grace needs keepOld: true/],
    [{ grace: 'a while' }, 'grace', /grace must be a duration/],
    [{ kid: 'bad kid!' }, 'kid', /kid may contain/],
    [{ kid: 'KID_AT_START' }, 'kid', /already published/],
    [{ keep: true }, 'keep', /keep: unknown key; did you mean `keepOld`\?/],
  ])('refuses %j naming the field %s, and keeps the key', async (body, path, message) => {
    const res = await rotate('kid' in body && body.kid === 'KID_AT_START' ? { kid: startKid } : body);
    expect(res.status).toBe(400);
    const error = (await res.json()) as { message: string; issues: { path: string }[] };
    expect(error.issues[0].path).toBe(path);
    expect(error.message).toMatch(message);
    expect(await publishedKids()).toEqual([startKid]);
  });
});

describe('@sap/xssec and a rotated key', () => {
  it('keepOld: new tokens carry the new kid; fresh xssec instances accept old and new tokens; a JWKS cached before the rotation does not know the new kid', async () => {
    const cachedBefore = freshService();
    const oldToken = await emu.issueUserToken({ user: 'alice' });
    expect(kidOf(oldToken)).toBe(startKid);
    await createSecurityContext(cachedBefore, { jwt: oldToken }); // caches the JWKS with the old key only
    const oldServiceToken = await serviceToken(emu, 'destination');

    const res = await rotate({ keepOld: true, kid: 'rotated-key-1' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      active: 'rotated-key-1',
      keys: [
        { kid: 'rotated-key-1', active: true },
        { kid: startKid, active: false },
      ],
    });
    expect(await publishedKids()).toEqual(['rotated-key-1', startKid]);

    const newToken = await emu.issueUserToken({ user: 'alice' });
    expect(kidOf(newToken)).toBe('rotated-key-1');
    expect((await createSecurityContext(freshService(), { jwt: newToken })).token.payload.user_name).toBe('alice');
    expect((await createSecurityContext(freshService(), { jwt: oldToken })).token.payload.user_name).toBe('alice');

    // The instance that cached the JWKS before the rotation: xssec does not refetch on an unknown kid.
    await expect(createSecurityContext(cachedBefore, { jwt: newToken })).rejects.toMatchObject({ name: 'MissingKidError' });
    // ...but still accepts what it knows.
    await createSecurityContext(cachedBefore, { jwt: oldToken });

    // The emulator's own services accept both keys too.
    expect((await lookupWith(oldServiceToken)).status).toBe(200);
    expect((await lookupWith(await serviceToken(emu, 'destination'))).status).toBe(200);
  });

  it('keepOld: false drops the old keys at once: xssec and the emulator refuse tokens signed with them', async () => {
    const oldToken = await emu.issueUserToken({ user: 'alice' });
    const oldServiceToken = await serviceToken(emu, 'destination');
    const oldKid = kidOf(oldToken)!;
    const res = await rotate({ keepOld: false, kid: 'rotated-key-2' });
    expect(((await res.json()) as { keys: unknown[] }).keys).toEqual([{ kid: 'rotated-key-2', active: true }]);
    expect(await publishedKids()).toEqual(['rotated-key-2']);

    await expect(createSecurityContext(freshService(), { jwt: oldToken })).rejects.toMatchObject({ name: 'MissingKidError' });
    const newToken = await emu.issueUserToken({ user: 'alice' });
    await createSecurityContext(freshService(), { jwt: newToken });

    const refused = await lookupWith(oldServiceToken);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { ErrorMessage: string }).ErrorMessage).toContain(
      `signed with key "${oldKid}", which this XSUAA does not know`,
    );
    expect(emu.journal({ service: 'destination' }).at(-1)).toMatchObject({ status: 401, reason: expect.stringContaining(oldKid) });
  });

  it('grace: the old key stays published until the emulator clock passes the grace period', async () => {
    emu.clock({ action: 'freeze' });
    const oldToken = await emu.issueUserToken({ user: 'alice' });
    const oldKid = kidOf(oldToken)!;
    const view = (await (await rotate({ keepOld: true, grace: '10m', kid: 'rotated-key-3' })).json()) as {
      keys: { kid: string; retiresAt?: string }[];
    };
    expect(view.keys[1]).toEqual({ kid: oldKid, active: false, retiresAt: new Date(emu.clock().nowMs + 600_000).toISOString() });

    emu.clock({ action: 'advance', by: '9m' });
    expect(await publishedKids()).toEqual(['rotated-key-3', oldKid]);
    await createSecurityContext(freshService(), { jwt: oldToken });

    emu.clock({ action: 'advance', by: '1m' });
    expect(await publishedKids()).toEqual(['rotated-key-3']);
    await expect(createSecurityContext(freshService(), { jwt: oldToken })).rejects.toMatchObject({ name: 'MissingKidError' });
  });

  it('the handle rotates too, with a generated kid', async () => {
    const view = await emu.rotateSigningKey();
    expect(view.active).toMatch(/^emulator-key-[0-9a-f]{12}$/);
    const jwt = await emu.issueUserToken({ user: 'alice' });
    expect(kidOf(jwt)).toBe(view.active);
    await createSecurityContext(freshService(), { jwt });
  });
});
