/**
 * SAML's state: the trust of each tenant (the key pairs that sign its assertions), created on first use (trust.ts).
 * A reset, a scenario load and a restored snapshot build the state anew, so they start over with the default key
 * (a renewed trust certificate is not part of a snapshot).
 */
import type { SubaccountState } from '../../core/subaccount.ts';

export interface TrustKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Base64 DER of the self-signed certificate. */
  certificate: string;
}

export interface TenantTrust {
  active: TrustKeyPair;
  passive?: TrustKeyPair;
}

export interface SamlState {
  /** The trust of every tenant that used it, by zid. */
  samlTrust: Map<string, Promise<TenantTrust>>;
}

export const buildSamlState = (): SamlState => ({ samlTrust: new Map() });

/** What SAML reads: the subaccount (its tenants) and its own part. */
export type SamlView = SubaccountState & SamlState;
