/**
 * Certificate files of the Destination Service, without HTTP: what a Name's extension promises (PEM/DER
 * certificates, PKCS#12 and JKS keystores) and whether the Content keeps that promise, their public keys,
 * certificates generated from `Attributes` (optionally from a CSR) and the client credentials a keystore
 * gives an outbound mTLS call. node-forge is loaded on first use, so the core starts and bundles small.
 */
import type forgeNamespace from 'node-forge';
import type { ClientCertificate } from '../../../core/client-certificate.ts';
import { loadForge, type Forge } from '../../../core/forge.ts';
import { DestinationError } from '../errors.ts';
import { JksFormatError, readJks, unprotectKey, writeJks } from './jks.ts';

export type CertificateFormat = 'pem' | 'der' | 'pkcs12' | 'jks';

const formatByExtension: Record<string, CertificateFormat> = {
  pem: 'pem',
  cer: 'der',
  crt: 'der',
  der: 'der',
  p12: 'pkcs12',
  pfx: 'pkcs12',
  jks: 'jks',
  keystore: 'jks',
};

export const supportedExtensions = Object.keys(formatByExtension).map((e) => `.${e}`);

/** The format a certificate's Name announces; `.cer/.crt/.der` may hold PEM text as well. */
export function formatOf(name: string): CertificateFormat | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : formatByExtension[name.slice(dot + 1).toLowerCase()];
}

/** An emulator CA that signs generated certificates (PEM); without one they are self-signed. */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

function decodeContent(name: string, content: string): string {
  try {
    return atob(content.replace(/\s+/g, ''));
  } catch {
    throw new DestinationError(400, `Invalid certificate: Content of "${name}" is not base64`);
  }
}

const pemCertificateBlocks = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/** Throws a 400 naming `Name` or `Content` unless Content is a parsable file of the kind Name's extension says. */
export async function assertCertificateContent(name: string, content: string): Promise<void> {
  const format = formatOf(name);
  if (!format)
    throw new DestinationError(400, `Invalid certificate: Name "${name}" must end with one of ${supportedExtensions.join(', ')}`);
  const binary = decodeContent(name, content);
  const forge = await loadForge();
  try {
    if (format === 'jks') {
      readJks(forge, binary);
      return;
    }
    if (format === 'pkcs12') {
      assertPkcs12Structure(forge, binary);
      return;
    }
    certificatesIn(forge, name, binary);
  } catch (error) {
    const why = error instanceof JksFormatError || error instanceof DestinationError ? error.message : (error as Error).message;
    const kind = format === 'jks' ? 'a JKS keystore' : format === 'pkcs12' ? 'a PKCS#12 keystore' : 'an X.509 certificate (PEM or DER)';
    throw new DestinationError(400, `Invalid certificate: Content of "${name}" is not ${kind}: ${why}`);
  }
}

/** PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL } — checked without the password. */
function assertPkcs12Structure(forge: Forge, binary: string): void {
  const fromDer = forge.asn1.fromDer as unknown as (bytes: string, options: object) => forgeNamespace.asn1.Asn1;
  const pfx = fromDer(binary, { strict: true, parseAllBytes: true, decodeBitStrings: false });
  const parts = Array.isArray(pfx.value) ? pfx.value : [];
  const version = parts[0];
  if (
    pfx.type !== forge.asn1.Type.SEQUENCE ||
    !version ||
    version.type !== forge.asn1.Type.INTEGER ||
    forge.asn1.derToInteger(version.value as string) !== 3
  ) {
    throw new Error('not a PFX structure (SEQUENCE with version 3)');
  }
  const authSafe = parts[1];
  if (!authSafe || authSafe.type !== forge.asn1.Type.SEQUENCE) throw new Error('the PFX has no authSafe content');
}

function certificatesIn(forge: Forge, name: string, binary: string): forgeNamespace.pki.Certificate[] {
  const blocks = pemCertificateBlocks(binary);
  if (blocks.length) return blocks.map((pem) => forge.pki.certificateFromPem(pem));
  if (binary.includes('-----BEGIN')) throw new DestinationError(400, `"${name}" holds PEM data but no CERTIFICATE block`);
  return [forge.pki.certificateFromAsn1(forge.asn1.fromDer(binary))];
}

export interface PublicKey {
  /** Only for keystores: the alias (friendly name) of the entry. */
  Alias?: string;
  /** The certificate chain, leaf first, as PEM text. */
  Content: string;
  /** The leaf's subject, most specific part first (`CN=…,OU=…,O=…`). */
  SubjectDN: string;
}

/** The public chain(s) of a certificate file: PEM/DER certificates, unprotected PKCS#12, any JKS. */
export async function publicKeysOf(certificate: { Name: string; Content: string }): Promise<PublicKey[]> {
  const forge = await loadForge();
  const binary = decodeContent(certificate.Name, certificate.Content);
  const format = formatOf(certificate.Name) ?? 'pem';
  if (format === 'jks') {
    let entries;
    try {
      entries = readJks(forge, binary);
    } catch (error) {
      throw new DestinationError(400, `Certificate "${certificate.Name}" is not a JKS keystore: ${(error as Error).message}`);
    }
    return entries.map((e) =>
      chainEntry(
        forge,
        e.chain.map((der) => forge.pki.certificateFromAsn1(forge.asn1.fromDer(der))),
        e.alias,
      ),
    );
  }
  if (format === 'pkcs12') return keystorePublicKeys(forge, certificate.Name, binary);
  try {
    return [chainEntry(forge, certificatesIn(forge, certificate.Name, binary))];
  } catch {
    throw new DestinationError(400, `Certificate "${certificate.Name}" holds neither a PEM nor a DER X.509 certificate`);
  }
}

/** Open with the empty password; a keystore written without any password (MAC over no password) opens without one. */
function openPkcs12(forge: Forge, name: string, binary: string, password: string): forgeNamespace.pkcs12.Pkcs12Pfx {
  try {
    try {
      return forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(binary), password);
    } catch (error) {
      if (password !== '' || !/MAC/i.test((error as Error).message)) throw error;
      return forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(binary));
    }
  } catch (error) {
    if (/MAC|password|decrypt/i.test((error as Error).message))
      throw new DestinationError(400, 'The keystore is password-protected and public keys cannot be retrieved');
    throw new DestinationError(400, `Certificate "${name}" is not a PKCS#12 keystore`);
  }
}

function keystorePublicKeys(forge: Forge, name: string, binary: string): PublicKey[] {
  const p12 = openPkcs12(forge, name, binary, '');
  const bags = (p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? []).filter((b) => b.cert);
  const aliasOf = (bag: forgeNamespace.pkcs12.Bag): string | undefined => (bag.attributes as { friendlyName?: string[] }).friendlyName?.[0];
  const issuers = bags.filter((b) => !aliasOf(b)).map((b) => b.cert!);
  const named = bags.filter((b) => aliasOf(b));
  if (!named.length) return issuers.length ? [chainEntry(forge, issuers, '1')] : [];
  return named.map((bag) => chainEntry(forge, [bag.cert!, ...issuers], aliasOf(bag)));
}

/** `CN=…,OU=…,O=…`: most specific part first, no spaces. */
export const subjectDn = (cert: forgeNamespace.pki.Certificate): string =>
  [...cert.subject.attributes]
    .reverse()
    .map((a) => `${a.shortName ?? a.name ?? a.type}=${utf8Decoded(String(a.value))}`)
    .join(',');

/** node-forge leaves UTF8String values as UTF-8 bytes; other string types are returned as they are. */
function utf8Decoded(value: string): string {
  try {
    return /[\x80-\xff]/.test(value)
      ? new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(value, (c) => c.charCodeAt(0)))
      : value;
  } catch {
    return value;
  }
}

function chainEntry(forge: Forge, chain: forgeNamespace.pki.Certificate[], alias?: string): PublicKey {
  return {
    ...(alias !== undefined ? { Alias: alias } : {}),
    Content: chain.map((c) => forge.pki.certificateToPem(c).replace(/\r\n/g, '\n')).join(''),
    SubjectDN: subjectDn(chain[0]),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Generation from Attributes

export interface GenerationAttributes {
  CN?: string;
  Validity: { TimeUnit: 'DAYS' | 'MONTHS' | 'YEARS'; Value: number };
  Password?: string;
  CSR?: string;
  AutomaticRenew?: boolean;
}

const badAttributes = (message: string): DestinationError => new DestinationError(400, `Invalid certificate: ${message}`);

/** Check a generation request's Attributes; every message names the field. */
export function parseGenerationAttributes(name: string, raw: unknown): GenerationAttributes {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw badAttributes('Attributes must be an object with CN and Validity');
  const a = raw as Record<string, unknown>;
  const known = ['CN', 'Validity', 'Password', 'CSR', 'AutomaticRenew'];
  const unknown = Object.keys(a).find((k) => !known.includes(k));
  if (unknown) throw badAttributes(`Attributes.${unknown} is not known (known: ${known.join(', ')})`);
  if (a.CN !== undefined && (typeof a.CN !== 'string' || !a.CN.trim() || a.CN.length > 64))
    throw badAttributes('Attributes.CN must be a non-empty string of at most 64 characters');
  if (a.CN === undefined && a.CSR === undefined) throw badAttributes('Attributes.CN is required');
  const validity = a.Validity as Record<string, unknown> | undefined;
  if (typeof validity !== 'object' || validity === null)
    throw badAttributes('Attributes.Validity is required: {"TimeUnit": "DAYS" | "MONTHS" | "YEARS", "Value": <number>}');
  const unit = validity.TimeUnit;
  if (unit !== 'DAYS' && unit !== 'MONTHS' && unit !== 'YEARS')
    throw badAttributes('Attributes.Validity.TimeUnit must be one of DAYS, MONTHS, YEARS');
  const value = validity.Value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw badAttributes('Attributes.Validity.Value must be a positive whole number');
  const max = { DAYS: 365, MONTHS: 12, YEARS: 1 }[unit];
  if (value > max) throw badAttributes(`Attributes.Validity must be between 1 day and 1 year (at most ${max} ${unit})`);
  if (a.Password !== undefined && typeof a.Password !== 'string') throw badAttributes('Attributes.Password must be a string');
  if (a.CSR !== undefined && (typeof a.CSR !== 'string' || !a.CSR.trim()))
    throw badAttributes('Attributes.CSR must be a base64-encoded PEM certificate signing request');
  if (a.AutomaticRenew !== undefined && typeof a.AutomaticRenew !== 'boolean')
    throw badAttributes('Attributes.AutomaticRenew must be true or false');
  const format = formatOf(name);
  if (a.CSR !== undefined && format !== 'pem')
    throw badAttributes(`Name "${name}": a certificate generated from Attributes.CSR can only be PEM (.pem)`);
  if (format !== 'pem' && format !== 'pkcs12' && format !== 'jks')
    throw badAttributes(`Name "${name}" must end with .pem, .p12, .pfx or .jks to generate a certificate`);
  return raw as GenerationAttributes;
}

function notAfter(from: Date, validity: GenerationAttributes['Validity']): Date {
  const end = new Date(from.getTime());
  if (validity.TimeUnit === 'DAYS') end.setUTCDate(end.getUTCDate() + validity.Value);
  else if (validity.TimeUnit === 'MONTHS') end.setUTCMonth(end.getUTCMonth() + validity.Value);
  else end.setUTCFullYear(end.getUTCFullYear() + validity.Value);
  return end;
}

/** A fresh RSA-2048 key pair from Web Crypto (native speed), as node-forge keys. */
async function newKeyPair(
  forge: Forge,
): Promise<{ privateKey: forgeNamespace.pki.rsa.PrivateKey; publicKey: forgeNamespace.pki.rsa.PublicKey; privateKeyInfoDer: string }> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const der = Array.from(pkcs8, (b) => String.fromCharCode(b)).join('');
  const privateKey = forge.pki.privateKeyFromAsn1(forge.asn1.fromDer(der)) as forgeNamespace.pki.rsa.PrivateKey;
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e), privateKeyInfoDer: der };
}

export interface IssueRequest {
  commonName: string;
  /** Extra subject attributes after CN, e.g. OU = the tenant's zid. */
  organizationalUnit?: string;
  publicKey: forgeNamespace.pki.rsa.PublicKey;
  notBefore: Date;
  notAfter: Date;
}

/** Sign a client/server certificate with the CA (or self-signed with `selfKey` when there is none). */
export function issueCertificate(
  forge: Forge,
  request: IssueRequest,
  ca: CertificateAuthority | undefined,
  selfKey?: forgeNamespace.pki.rsa.PrivateKey,
): { certificate: forgeNamespace.pki.Certificate; chain: forgeNamespace.pki.Certificate[] } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = request.publicKey;
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  cert.validity.notBefore = request.notBefore;
  cert.validity.notAfter = request.notAfter;
  // Values as UTF8String (node-forge encodes them), so any CN survives.
  const utf8 = (name: string, value: string): { name: string; value: string; valueTagClass: number } => ({
    name,
    value,
    valueTagClass: forge.asn1.Type.UTF8,
  });
  const subject = [
    utf8('organizationName', 'btp-connectivity-emulator'),
    ...(request.organizationalUnit ? [utf8('organizationalUnitName', request.organizationalUnit)] : []),
    utf8('commonName', request.commonName),
  ];
  cert.setSubject(subject);
  const caCert = ca ? forge.pki.certificateFromPem(ca.certPem) : undefined;
  cert.setIssuer(caCert ? caCert.subject.attributes : subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true, serverAuth: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const signingKey = ca ? forge.pki.privateKeyFromPem(ca.keyPem) : selfKey;
  if (!signingKey) throw new Error('a self-signed certificate needs its private key');
  cert.sign(signingKey, forge.md.sha256.create());
  return { certificate: cert, chain: caCert ? [cert, caCert] : [cert] };
}

function parseCsr(forge: Forge, csr: string): forgeNamespace.pki.CertificateSigningRequest {
  let pem = csr.trim();
  if (!pem.startsWith('-----BEGIN')) {
    try {
      pem = atob(pem.replace(/\s+/g, ''));
    } catch {
      throw badAttributes('Attributes.CSR is neither PEM nor base64 of PEM');
    }
  }
  let request: forgeNamespace.pki.CertificateSigningRequest;
  try {
    request = forge.pki.certificationRequestFromPem(pem);
  } catch (error) {
    throw badAttributes(`Attributes.CSR is not a PKCS#10 certificate signing request: ${(error as Error).message}`);
  }
  if (!request.verify()) throw badAttributes('Attributes.CSR: the signature of the certificate signing request does not verify');
  return request;
}

/**
 * Generate the file a generation request asks for: a key pair and a certificate for `CN` (or the CSR's key,
 * then PEM only and no private key kept), packed as the Name's extension says. Returns base64 Content.
 */
export async function generateCertificate(
  name: string,
  attributes: GenerationAttributes,
  options: { now: number; ca?: CertificateAuthority },
): Promise<string> {
  const forge = await loadForge();
  const from = new Date(options.now);
  const until = notAfter(from, attributes.Validity);
  if (attributes.CSR !== undefined) {
    const csr = parseCsr(forge, attributes.CSR);
    const csrCn = csr.subject.getField('CN')?.value as string | undefined;
    const commonName = attributes.CN ?? csrCn;
    if (!commonName) throw badAttributes('Attributes.CN is required when the CSR has no CN');
    if (!options.ca) throw badAttributes('Attributes.CSR needs the emulator CA to sign it; this face of the emulator has none');
    const { chain } = issueCertificate(
      forge,
      { commonName, publicKey: csr.publicKey as forgeNamespace.pki.rsa.PublicKey, notBefore: from, notAfter: until },
      options.ca,
    );
    return btoa(chain.map((c) => forge.pki.certificateToPem(c)).join(''));
  }
  const keys = await newKeyPair(forge);
  const { chain } = issueCertificate(
    forge,
    { commonName: attributes.CN!, publicKey: keys.publicKey, notBefore: from, notAfter: until },
    options.ca,
    keys.privateKey,
  );
  const password = attributes.Password;
  const format = formatOf(name);
  if (format === 'pkcs12') {
    const asn1 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, chain, password ?? null, { friendlyName: attributes.CN, algorithm: '3des' });
    return btoa(forge.asn1.toDer(asn1).getBytes());
  }
  if (format === 'jks') {
    const chainDer = chain.map((c) => forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes());
    return btoa(
      writeJks(forge, {
        alias: attributes.CN!.toLowerCase(),
        privateKeyInfoDer: keys.privateKeyInfoDer,
        chainDer,
        password: password ?? '',
        timestamp: options.now,
      }),
    );
  }
  const keyPem = password
    ? forge.pki.encryptRsaPrivateKey(keys.privateKey, forge.util.encodeUtf8(password), { algorithm: 'aes256' })
    : forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey)));
  return btoa(chain.map((c) => forge.pki.certificateToPem(c)).join('') + keyPem);
}

// ---------------------------------------------------------------------------------------------------------
// Keystore → client credentials for an outbound mTLS call

/** What a keystore gives a TLS client: PKCS#12 as `pfx`, PEM and JKS as `cert` + `key`. */
export async function clientCertificateOf(
  certificate: { Name: string; Content: string },
  password: string | undefined,
): Promise<ClientCertificate> {
  const binary = decodeContent(certificate.Name, certificate.Content);
  const format = formatOf(certificate.Name);
  if (format === 'pkcs12') return { pfx: Uint8Array.from(binary, (c) => c.charCodeAt(0)), passphrase: password };
  if (format === 'jks') {
    const forge = await loadForge();
    const entry = readJks(forge, binary, password ?? '').find((e) => e.protectedKey);
    if (!entry) throw new JksFormatError(`the keystore "${certificate.Name}" has no private key entry`);
    const key = unprotectKey(forge, entry.protectedKey!, password ?? '');
    const toPem = (type: string, der: string): string => forge.pem.encode({ type, body: der });
    return { cert: entry.chain.map((der) => toPem('CERTIFICATE', der)).join(''), key: toPem('PRIVATE KEY', key) };
  }
  const text = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  return { cert: text, key: text, passphrase: password };
}
