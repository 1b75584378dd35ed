/**
 * The subaccount trust certificate: the key pair that signs the SAML assertions the Destination Service
 * builds, one per tenant, plus an optional passive one for rotation. Every tenant starts with the bundled
 * default key (so the certificate stays the same across restarts); `renew` generates a fresh key. Kept per
 * state (state.ts), so a reset or a new scenario starts over. The emulator's XSUAA trusts every tenant's
 * active and passive certificate for the saml2-bearer grant.
 */
import { type Tenant } from '../../core/subaccount.ts';
import { sha256Hex } from '../../core/ids.ts';
import { defaultSamlJwk } from './default-key.ts';
import { selfSignedCertificate, toPem } from './certificate.ts';
import type { SamlView, TenantTrust, TrustKeyPair } from './state.ts';

const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
let defaultKeys: Promise<CryptoKeyPair> | undefined;

function importDefaultKeys(): Promise<CryptoKeyPair> {
  defaultKeys ??= (async () => {
    const privateKey = await crypto.subtle.importKey('jwk', { ...defaultSamlJwk, alg: 'RS256' }, algorithm, true, ['sign']);
    const { kty, n, e } = defaultSamlJwk;
    const publicKey = await crypto.subtle.importKey('jwk', { kty, n, e, alg: 'RS256' }, algorithm, true, ['verify']);
    return { privateKey, publicKey };
  })();
  return defaultKeys;
}

async function certify(keys: CryptoKeyPair, tenant: Tenant, serialSeed: string, notBefore: Date, notAfter: Date): Promise<TrustKeyPair> {
  const serial = Uint8Array.from(sha256Hex(serialSeed).slice(0, 16).match(/../g)!, (h) => parseInt(h, 16));
  const certificate = await selfSignedCertificate({
    subject: [
      ['CN', tenant.subaccountId],
      ['OU', tenant.subdomain],
      ['O', 'SAP BTP connectivity emulator'],
    ],
    serial,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
  });
  return { privateKey: keys.privateKey, publicKey: keys.publicKey, certificate };
}

async function generated(tenant: Tenant, now: number): Promise<TrustKeyPair> {
  const keys = (await crypto.subtle.generateKey({ ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  return certify(keys, tenant, `${tenant.zid}:${now}:${Math.random()}`, new Date(now - 60_000), new Date(now + 365 * 86_400_000));
}

/** The tenant's trust (created with the default key on first use). */
export function trustOf(state: SamlView, tenant: Tenant): Promise<TenantTrust> {
  const map = state.samlTrust;
  let trust = map.get(tenant.zid);
  if (!trust) {
    trust = importDefaultKeys().then(async (keys) => ({
      active: await certify(keys, tenant, `default:${tenant.zid}`, new Date('2024-01-01T00:00:00Z'), new Date('2044-01-01T00:00:00Z')),
    }));
    map.set(tenant.zid, trust);
  }
  return trust;
}

/** Generate a new active key pair (POST …/certificate), or a new passive one. */
export async function renewTrust(state: SamlView, tenant: Tenant, now: number, which: 'active' | 'passive'): Promise<TrustKeyPair> {
  const current = await trustOf(state, tenant);
  const fresh = await generated(tenant, now);
  state.samlTrust.set(tenant.zid, Promise.resolve(which === 'active' ? { ...current, active: fresh } : { ...current, passive: fresh }));
  return fresh;
}

export async function deletePassive(state: SamlView, tenant: Tenant): Promise<boolean> {
  const current = await trustOf(state, tenant);
  if (!current.passive) return false;
  state.samlTrust.set(tenant.zid, Promise.resolve({ active: current.active }));
  return true;
}

export async function rotateTrust(state: SamlView, tenant: Tenant): Promise<TenantTrust | undefined> {
  const current = await trustOf(state, tenant);
  if (!current.passive) return undefined;
  const rotated = { active: current.passive, passive: current.active };
  state.samlTrust.set(tenant.zid, Promise.resolve(rotated));
  return rotated;
}

/** Every certificate the emulator's XSUAA accepts SAML assertions from: all tenants, active and passive. */
export async function trustedSamlKeys(state: SamlView): Promise<TrustKeyPair[]> {
  const all = await Promise.all(state.tenants.map((t) => trustOf(state, t)));
  return all.flatMap((t) => (t.passive ? [t.active, t.passive] : [t.active]));
}

export const entityIdOf = (tenant: Tenant, uaaDomain: string): string => `https://${tenant.subdomain}.${uaaDomain}`;

/** SAML 2.0 IdP metadata naming the tenant's signing certificates, active first (`GET /v1/saml2Metadata`). */
export function idpMetadata(entityId: string, certificates: string[]): string {
  const keys = certificates
    .map(
      (c) =>
        `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}">` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}` +
    '<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>' +
    '<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>' +
    '</md:IDPSSODescriptor></md:EntityDescriptor>'
  );
}

export { toPem };
