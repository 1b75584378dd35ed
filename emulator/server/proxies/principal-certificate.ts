/**
 * Principal propagation as a Cloud Connector with X.509 principal type does it: a short-lived client
 * certificate for the user (subject `CN=<name>`), issued by the emulator's CA with node-forge, sent to the
 * backend as base64 DER in `SSL_CLIENT_CERT`. One key pair serves all certificates; certificates are cached
 * per principal until most of their validity has passed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import forge from 'node-forge';

export const principalCertificateHeader = 'SSL_CLIENT_CERT';

export interface PrincipalSubject {
  name: string;
  email?: string;
  tenant: string;
}

/** The CAs parsed so far in this process, by their PEM text (a fresh emulator per test reuses them). */
const parsedCas = new Map<string, { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey }>();

/**
 * The leaf certificates' key pair: generated once per process (an RSA key takes tens of milliseconds), so that
 * only the first emulator that propagates a principal pays for it. Its private half is never used: the backend
 * only reads the certificate.
 */
let leafKey: { publicKey: forge.pki.rsa.PublicKey } | undefined;
function sharedLeafKey(): { publicKey: forge.pki.rsa.PublicKey } {
  if (!leafKey) {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    leafKey = {
      publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey,
    };
  }
  return leafKey;
}

export class PrincipalCertificateIssuer {
  private readonly caCert: forge.pki.Certificate;
  private readonly caKey: forge.pki.rsa.PrivateKey;
  private leafKey?: { publicKey: forge.pki.rsa.PublicKey };
  private readonly cache = new Map<string, { base64Der: string; renewAt: number; issuedAt: number }>();

  /** `caFile` is the emulator CA's certificate; its key lies next to it (`ca-key.pem`). */
  constructor(caFile: string) {
    const certPem = readFileSync(caFile, 'utf8');
    const keyPem = readFileSync(join(dirname(caFile), 'ca-key.pem'), 'utf8');
    // Parsing the CA key with node-forge takes about a millisecond: once per process and CA, not per emulator.
    const cacheKey = `${certPem}\n${keyPem}`;
    let parsed = parsedCas.get(cacheKey);
    if (!parsed) {
      parsed = { cert: forge.pki.certificateFromPem(certPem), key: forge.pki.privateKeyFromPem(keyPem) };
      if (parsedCas.size >= 8) parsedCas.clear();
      parsedCas.set(cacheKey, parsed);
    }
    this.caCert = parsed.cert;
    this.caKey = parsed.key;
  }

  /** Base64 DER of a client certificate for `subject`, valid `validityMinutes` from `now`. */
  issue(subject: PrincipalSubject, validityMinutes: number, now: number): string {
    const key = `${subject.tenant}|${subject.name}|${subject.email ?? ''}|${validityMinutes}`;
    const cached = this.cache.get(key);
    if (cached && cached.renewAt > now && cached.issuedAt <= now) return cached.base64Der;
    const cert = forge.pki.createCertificate();
    cert.publicKey = this.publicKey();
    cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
    cert.validity.notBefore = new Date(now - 60_000);
    cert.validity.notAfter = new Date(now + validityMinutes * 60_000);
    const attrs: forge.pki.CertificateField[] = [{ name: 'commonName', value: subject.name }];
    if (subject.email) attrs.push({ name: 'emailAddress', value: subject.email });
    cert.setSubject(attrs);
    cert.setIssuer(this.caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ]);
    cert.sign(this.caKey, forge.md.sha256.create());
    const base64Der = forge.util.encode64(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes());
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(key, { base64Der, renewAt: now + validityMinutes * 60_000 * 0.8, issuedAt: now });
    return base64Der;
  }

  private publicKey(): forge.pki.rsa.PublicKey {
    this.leafKey ??= sharedLeafKey();
    return this.leafKey.publicKey;
  }
}
