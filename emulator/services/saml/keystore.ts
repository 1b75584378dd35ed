/**
 * SAML signing with a destination's own keystore: when an `OAuth2SAMLBearerAssertion` or `SAMLAssertion`
 * destination names `KeyStoreLocation`, its assertions are signed with that keystore's key and certificate
 * (PKCS#12, PEM with a private key, or JKS; `KeyStorePassword`) instead of the subaccount trust certificate.
 * node-forge (loaded lazily, as for certificates) opens the keystore; Web Crypto signs.
 */
import { type LevelStore } from '../destination/state.ts';
import { type DestinationProps } from '../destination/schema.ts';
import { clientCertificateOf, loadForge } from '../destination/certificates/certificates.ts';
import { SamlAssertionError } from './assertion.ts';
import type { TrustKeyPair } from './trust.ts';

type Forge = Awaited<ReturnType<typeof loadForge>>;
type ForgeKey = ReturnType<Forge['pki']['privateKeyFromPem']>;
type ForgeCert = ReturnType<Forge['pki']['certificateFromPem']>;

const bytes = (binary: string): Uint8Array<ArrayBuffer> => Uint8Array.from(binary, (c) => c.charCodeAt(0));

function fromPkcs12(forge: Forge, pfx: Uint8Array, password: string): { key?: ForgeKey; cert?: ForgeCert } {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.binary.raw.encode(pfx)), password);
  const keyBag = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? []),
  ][0];
  const certBag = (p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [])[0];
  return { key: keyBag?.key as ForgeKey | undefined, cert: certBag?.cert as ForgeCert | undefined };
}

function fromPem(forge: Forge, cert: string, key: string, password: string | undefined): { key?: ForgeKey; cert?: ForgeCert } {
  const keyBlock = /-----BEGIN (?:RSA |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |ENCRYPTED )?PRIVATE KEY-----/.exec(key)?.[0];
  const certBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(cert)?.[0];
  const privateKey = keyBlock?.includes('ENCRYPTED')
    ? forge.pki.decryptRsaPrivateKey(keyBlock, password ?? '')
    : keyBlock
      ? forge.pki.privateKeyFromPem(keyBlock)
      : undefined;
  return { key: privateKey ?? undefined, cert: certBlock ? forge.pki.certificateFromPem(certBlock) : undefined };
}

/** The keystore key pair for the destination's assertions, or undefined when it names no `KeyStoreLocation`. */
export async function keystoreSigningKeys(
  cfg: DestinationProps,
  store: LevelStore,
  subaccount: LevelStore,
): Promise<TrustKeyPair | undefined> {
  const location = cfg.KeyStoreLocation;
  if (!location) return undefined;
  const keystore = store.certificates.get(location) ?? subaccount.certificates.get(location);
  if (!keystore)
    throw new SamlAssertionError(`KeyStoreLocation "${location}" names no certificate on the destination's level or the subaccount level`);
  let opened: { key?: ForgeKey; cert?: ForgeCert };
  try {
    const forge = await loadForge();
    const material = await clientCertificateOf(keystore.props, cfg.KeyStorePassword);
    opened = material.pfx
      ? fromPkcs12(forge, material.pfx, cfg.KeyStorePassword ?? '')
      : fromPem(forge, material.cert ?? '', material.key ?? '', cfg.KeyStorePassword);
    if (!opened.key || !opened.cert) throw new Error('it holds no private key with a certificate');
    const forgeKey = opened.key;
    const pkcs8 = bytes(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(forgeKey))).getBytes());
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
    const spki = bytes(forge.asn1.toDer(forge.pki.publicKeyToAsn1(opened.cert.publicKey)).getBytes());
    const publicKey = await crypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
    const certificate = forge.util.encode64(forge.asn1.toDer(forge.pki.certificateToAsn1(opened.cert)).getBytes());
    return { privateKey, publicKey, certificate };
  } catch (err) {
    if (err instanceof SamlAssertionError) throw err;
    throw new SamlAssertionError(
      `the keystore "${location}" (KeyStoreLocation) cannot sign: ${(err as Error).message || 'wrong KeyStorePassword?'}`,
    );
  }
}
