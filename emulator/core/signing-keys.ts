/** XSUAA signing keys: the active key signs, every key in the set verifies; rotation keeps old keys on demand. */
import { exportJWK, exportSPKI, importJWK, type JWK } from 'jose';
import { defaultSigningJwk, defaultSigningKid } from './default-signing-key.ts';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK as /token_keys serves it (with `value` PEM for xssec 3). */
  publicJwk: JWK & { kid: string; value: string };
}

export async function importSigningKey(privateJwk: JWK, kid: string): Promise<SigningKey> {
  const privateKey = (await importJWK({ ...privateJwk, alg: 'RS256' }, 'RS256', { extractable: true })) as CryptoKey;
  const { kty, n, e } = privateJwk;
  const publicKey = (await importJWK({ kty, n, e, alg: 'RS256' }, 'RS256', { extractable: true })) as CryptoKey;
  const exported = await exportJWK(publicKey);
  const value = await exportSPKI(publicKey);
  return { kid, privateKey, publicKey, publicJwk: { kty: 'RSA', e: exported.e, n: exported.n, use: 'sig', alg: 'RS256', kid, value } };
}

let defaultKey: Promise<SigningKey> | undefined;
/** The bundled default key, imported once per process (or page): a fresh emulator per test reuses it. */
export function loadDefaultSigningKey(): Promise<SigningKey> {
  return (defaultKey ??= importSigningKey(defaultSigningJwk, defaultSigningKid));
}

export class KeyRing {
  private keys: SigningKey[];
  /** When a key kept after a rotation stops being published and accepted (emulator clock, ms). */
  private readonly retireAt = new Map<string, number>();
  private now: () => number = () => Date.now();
  constructor(active: SigningKey) {
    this.keys = [active];
  }
  /** Read time from the emulator's clock, so a grace period ends when the clock is advanced past it. */
  useClock(now: () => number): void {
    this.now = now;
  }
  get active(): SigningKey {
    return this.keys[0];
  }
  /** The keys still published and accepted: the active one and old ones whose grace period has not ended. */
  private live(): SigningKey[] {
    if (!this.retireAt.size) return this.keys;
    const now = this.now();
    return this.keys.filter((k, i) => i === 0 || (this.retireAt.get(k.kid) ?? Infinity) > now);
  }
  byKid(kid: string | undefined): SigningKey | undefined {
    return this.live().find((k) => k.kid === kid);
  }
  jwks(): { keys: SigningKey['publicJwk'][] } {
    return { keys: this.live().map((k) => k.publicJwk) };
  }
  /** Every key with the time it retires (undefined = kept until the next rotation that drops it). */
  list(): { kid: string; active: boolean; retiresAt?: number }[] {
    return this.live().map((k, i) => ({
      kid: k.kid,
      active: i === 0,
      ...(i > 0 && this.retireAt.has(k.kid) ? { retiresAt: this.retireAt.get(k.kid) } : {}),
    }));
  }
  /** Every key held (the active one first, also retired ones not yet dropped) and when it retires: what a snapshot keeps. */
  held(): { key: SigningKey; retiresAt?: number }[] {
    return this.keys.map((key) => ({ key, ...(this.retireAt.has(key.kid) ? { retiresAt: this.retireAt.get(key.kid) } : {}) }));
  }
  /** Replace every key (a restored snapshot); the first one signs. */
  replace(entries: { key: SigningKey; retiresAt?: number }[]): void {
    if (!entries.length) throw new Error('a key ring needs at least one key');
    this.keys = entries.map((e) => e.key);
    this.retireAt.clear();
    for (const e of entries) if (e.retiresAt !== undefined) this.retireAt.set(e.key.kid, e.retiresAt);
  }
  /**
   * Make `next` the signing key; keep the old ones for verification unless `dropOld`. With `graceMs`, the old
   * keys stay only that long on the clock given to {@link useClock}.
   */
  rotate(next: SigningKey, dropOld = false, graceMs?: number): void {
    const old = this.live().filter((k) => k.kid !== next.kid);
    this.keys = dropOld ? [next] : [next, ...old];
    for (const kid of [...this.retireAt.keys()]) if (!this.keys.some((k) => k.kid === kid)) this.retireAt.delete(kid);
    this.retireAt.delete(next.kid);
    if (!dropOld && graceMs !== undefined) {
      const until = this.now() + graceMs;
      for (const k of old) this.retireAt.set(k.kid, Math.min(this.retireAt.get(k.kid) ?? Infinity, until));
    }
  }
}
