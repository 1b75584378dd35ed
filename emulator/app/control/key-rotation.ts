/**
 * XSUAA signing-key rotation, for /_emulator/keys and the programmatic handle: list the published keys, rotate to a freshly generated
 * RS256 key (new `kid`), keeping the old keys (for a grace period on the emulator's clock, or until the next
 * rotation) or dropping them at once. Tokens signed with a dropped key are refused everywhere (the proxies,
 * the Destination Service, the jwt-bearer grant), and apps that validate with `@sap/xssec` see the new JWKS
 * the next time they fetch it (xssec caches a JWKS for 30 minutes per service instance, as on BTP).
 */
import { parseWith, ValidationError } from '../../core/validation.ts';
import { exportJWK, generateKeyPair } from 'jose';
import { randomHex } from '../../core/ids.ts';
import { importSigningKey, type KeyRing } from '../../core/signing-keys.ts';
import { parseDuration } from './clock-actions.ts';
import { durationText, isDuration } from '../../core/time-bounds.ts';
import { rotateBody } from './schema.ts';

export interface KeysView {
  active: string;
  keys: { kid: string; active: boolean; retiresAt?: string }[];
}

export function keysView(keys: KeyRing): KeysView {
  return {
    active: keys.active.kid,
    keys: keys.list().map((k) => ({
      kid: k.kid,
      active: k.active,
      ...(k.retiresAt !== undefined ? { retiresAt: new Date(k.retiresAt).toISOString() } : {}),
    })),
  };
}

/** What holds the key rings: XSUAA's, and the identity service's (IAS). */
export interface KeyHolder {
  readonly keys: KeyRing;
  readonly identity: { readonly minter: { readonly keys: KeyRing } };
}

export function keyRingOf(core: KeyHolder, service: 'xsuaa' | 'identity' = 'xsuaa'): KeyRing {
  return service === 'identity' ? core.identity.minter.keys : core.keys;
}

/**
 * Generate a new RS256 key and make it the signing key of XSUAA or (`service: identity`) the identity service; a
 * bad field throws a ValidationError that names it.
 */
export async function rotateSigningKey(holder: KeyHolder, input: unknown): Promise<KeysView> {
  const body = parseWith(rotateBody, input ?? {}, 'request body');
  const core = { keys: keyRingOf(holder, body.service) };
  let graceMs: number | undefined;
  if (body.grace !== undefined) {
    if (!body.keepOld)
      throw new ValidationError('request body', [
        { path: 'grace', message: 'grace needs keepOld: true (dropped keys have no grace period)' },
      ]);
    graceMs = parseDuration(body.grace);
    if (graceMs === undefined || graceMs < 0)
      throw new ValidationError('request body', [
        { path: 'grace', message: `grace must be a duration like "10m" or milliseconds, got "${String(body.grace)}"` },
      ]);
    if (!isDuration(graceMs))
      throw new ValidationError('request body', [{ path: 'grace', message: `grace must be ${durationText}, got "${String(body.grace)}"` }]);
  }
  const kid = body.kid ?? `emulator-key-${randomHex(6)}`;
  if (core.keys.byKid(kid))
    throw new ValidationError('request body', [{ path: 'kid', message: `kid "${kid}" is already published; pick another` }]);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const key = await importSigningKey(await exportJWK(privateKey), kid);
  core.keys.rotate(key, !body.keepOld, graceMs);
  return keysView(core.keys);
}
