/**
 * A keystore as the key pair of SAML assertions: when a destination names its own keystore (`KeyStoreLocation`),
 * its assertions are signed with that keystore's key and certificate instead of the subaccount trust certificate.
 * The keystore comes as what a TLS client presents (PKCS#12 as `pfx`, PEM and JKS as `cert` + `key`, see the
 * Destination Service's certificates); node-forge (loaded lazily) opens it, Web Crypto signs.
 */
import type { ClientCertificate } from '../../core/client-certificate.ts';
import { loadForge, type Forge } from '../../core/forge.ts';
import type { TrustKeyPair } from './state.ts';

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

/** The key pair and certificate of a keystore; throws when it cannot be opened or holds no private key with a certificate. */
export async function keystoreKeyPair(material: ClientCertificate, password: string | undefined): Promise<TrustKeyPair> {
  const forge = await loadForge();
  const opened = material.pfx
    ? fromPkcs12(forge, material.pfx, password ?? '')
    : fromPem(forge, material.cert ?? '', material.key ?? '', password);
  if (!opened.key || !opened.cert) throw new Error('it holds no private key with a certificate');
  const forgeKey = opened.key;
  const pkcs8 = bytes(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(forgeKey))).getBytes());
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
  const spki = bytes(forge.asn1.toDer(forge.pki.publicKeyToAsn1(opened.cert.publicKey)).getBytes());
  const publicKey = await crypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
  const certificate = forge.util.encode64(forge.asn1.toDer(forge.pki.certificateToAsn1(opened.cert)).getBytes());
  return { privateKey, publicKey, certificate };
}
