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

export function loadDefaultSigningKey(): Promise<SigningKey> {
  return importSigningKey(defaultSigningJwk, defaultSigningKid);
}

export class KeyRing {
  private keys: SigningKey[];
  constructor(active: SigningKey) {
    this.keys = [active];
  }
  get active(): SigningKey {
    return this.keys[0];
  }
  byKid(kid: string | undefined): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }
  jwks(): { keys: SigningKey['publicJwk'][] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }
  /** Make `next` the signing key; keep the old ones for verification unless `dropOld`. */
  rotate(next: SigningKey, dropOld = false): void {
    this.keys = dropOld ? [next] : [next, ...this.keys];
  }
}
