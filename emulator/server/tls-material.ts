/**
 * The installation's own trust material, kept on disk so it stays the same across restarts: a local CA and a
 * server certificate issued by it (node-forge) for the services port, and the XSUAA signing key
 * (`ca/signing-key.json`, same lifetime as the CA). Each piece is created in a temporary folder (or file) and
 * renamed (or linked) into place, so emulators started in parallel never see half-written files.
 *
 * The directory is trusted only when this user owns it and nobody else can write to it (docs/security.md):
 * folders the emulator creates get mode 0700, an existing one owned by another user or writable by group or
 * others is refused with a TlsDirError that names it and the fix.
 */
import { generateKeyPairSync, createHash } from 'node:crypto';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import forge from 'node-forge';
import type { JWK } from 'jose';

export interface TlsMaterial {
  caFile: string;
  caPem: string;
  /** The CA's private key: signs certificates the emulator issues to clients. */
  caKeyPem: string;
  certPem: string;
  keyPem: string;
  /** This installation's XSUAA signing key (private RSA JWK), kept next to the CA. */
  signingKey: { jwk: JWK; kid: string };
}

/** A TLS directory the emulator does not trust (another owner, or writable by others); the message says the fix. */
export class TlsDirError extends Error {
  override name = 'TlsDirError';
}

const folderName = (): string => `btp-connectivity-emulator-${process.getuid?.() ?? 'user'}`;

export const defaultTlsDir = (): string => join(tmpdir(), folderName(), 'tls');

/**
 * Creates `dir` (and the parents up to `topmost`) with mode 0700 when missing, then checks each of them: owned by
 * this user, not writable by group or others. Where there are no user ids (Windows) only the creation happens.
 */
function ensurePrivateDir(dir: string, topmost: string, option: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  if (uid === undefined) return;
  for (let current = dir; ; current = dirname(current)) {
    const stat = lstatSync(current);
    const fix = `remove it (rm -rf ${current}) so the emulator creates it afresh, or give another directory with ${option}`;
    if (!stat.isDirectory()) throw new TlsDirError(`the TLS directory ${current} is not a directory (a symbolic link or a file): ${fix}`);
    if (stat.uid !== uid)
      throw new TlsDirError(
        `the TLS directory ${current} belongs to uid ${stat.uid}, not to this user (uid ${uid}); a CA another user put there would be trusted: ${fix}`,
      );
    if (stat.mode & 0o022) {
      throw new TlsDirError(
        `the TLS directory ${current} can be written by ${stat.mode & 0o002 ? 'anyone' : 'its group'} (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); another user could replace the CA: chmod 700 ${current}, or ${fix}`,
      );
    }
    if (current === topmost || dirname(current) === current) return;
  }
}

function newKeyPair(): { privatePem: string; forgeKey: forge.pki.rsa.PrivateKey; forgePublic: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(privatePem);
  return { privatePem, forgeKey, forgePublic: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function serial(): string {
  return `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
}

/** Write files into a fresh temp folder (mode 0700), then rename it to `dir`; if another process won, use its files. */
function publishOnce(dir: string, files: () => Record<string, string>): void {
  if (existsSync(dir)) return;
  const tmp = mkdtempSync(`${dir}.tmp-`);
  for (const [name, content] of Object.entries(files())) writeFileSync(join(tmp, name), content, { mode: 0o600 });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function createCa(): Record<string, string> {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
  const subject = [
    { name: 'commonName', value: 'BTP Connectivity Emulator Local CA' },
    { name: 'organizationName', value: 'btp-connectivity-emulator' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.forgeKey, forge.md.sha256.create());
  return { 'ca.pem': forge.pki.certificateToPem(cert), 'ca-key.pem': keys.privatePem, [signingKeyFile]: newSigningKey() };
}

const signingKeyFile = 'signing-key.json';

/** A new XSUAA signing key as the file keeps it: `{ kid, jwk }`, the kid derived from the public key. */
function newSigningKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = `emulator-${createHash('sha256').update(String(jwk.n)).digest('hex').slice(0, 16)}`;
  return `${JSON.stringify({ kid, jwk }, null, 2)}\n`;
}

/** The signing key next to the CA; a CA made before keys were kept there gets one (linked into place: first writer wins). */
function readSigningKey(caDir: string): { jwk: JWK; kid: string } {
  const file = join(caDir, signingKeyFile);
  if (!existsSync(file)) {
    const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(tmp, newSigningKey(), { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { jwk?: JWK; kid?: unknown };
  if (typeof saved.kid !== 'string' || saved.jwk?.kty !== 'RSA' || typeof saved.jwk.d !== 'string') {
    throw new TlsDirError(
      `the signing key ${file} is not a { kid, jwk } private RSA key: remove it and the emulator makes a new one (tokens it signed stop verifying)`,
    );
  }
  return { jwk: saved.jwk, kid: saved.kid };
}

function createServerCert(caPem: string, caKeyPem: string, hosts: string[]): Record<string, string> {
  const ca = forge.pki.certificateFromPem(caPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 825 * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: hosts[0] }]);
  cert.setIssuer(ca.subject.attributes);
  const altNames = hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? { type: 7, ip: h } : { type: 2, value: h }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { 'server.pem': forge.pki.certificateToPem(cert), 'server-key.pem': keys.privatePem };
}

/**
 * The CA, the signing key and a server certificate for `hosts` (localhost, *.localhost, 127.0.0.1 and ::1 are always
 * included). Without `dir`, the default folder under the temp dir (checked from `btp-connectivity-emulator-<uid>` on).
 */
export function ensureTlsMaterial(dir?: string, extraHosts: string[] = []): TlsMaterial {
  if (dir === undefined) {
    dir = defaultTlsDir();
    ensurePrivateDir(dir, dirname(dir), 'tlsDir (--tls-dir)');
  } else ensurePrivateDir(dir, dir, 'tlsDir (--tls-dir)');
  const hosts = [
    ...new Set([
      'localhost',
      '*.localhost',
      '127.0.0.1',
      '::1',
      ...extraHosts.flatMap((h) => [h, `*.${h}`].filter((x) => !/^\*\.[\d.]+$/.test(x))),
    ]),
  ];
  const caDir = join(dir, 'ca');
  publishOnce(caDir, createCa);
  ensurePrivateDir(caDir, caDir, 'tlsDir (--tls-dir)');
  const caPem = readFileSync(join(caDir, 'ca.pem'), 'utf8');
  const caKeyPem = readFileSync(join(caDir, 'ca-key.pem'), 'utf8');
  const tag = createHash('sha256').update(caPem).update(hosts.join(',')).digest('hex').slice(0, 16);
  const serverDir = join(dir, `server-${tag}`);
  publishOnce(serverDir, () => createServerCert(caPem, caKeyPem, hosts));
  return {
    caFile: join(caDir, 'ca.pem'),
    caPem,
    caKeyPem,
    certPem: readFileSync(join(serverDir, 'server.pem'), 'utf8'),
    keyPem: readFileSync(join(serverDir, 'server-key.pem'), 'utf8'),
    signingKey: readSigningKey(caDir),
  };
}

/**
 * A server certificate for one more host name, with the server key of `tls` (no new key pair: fast). Node accepts a
 * wildcard only three labels deep, so `*.localhost` in the main certificate does not cover `<subdomain>.localhost`;
 * the identity port hands this one out by SNI for a subscriber tenant's host (emulator/server/identity-server.ts).
 */
export function serverCertificateFor(tls: Pick<TlsMaterial, 'caPem' | 'caKeyPem' | 'keyPem'>, host: string): string {
  // Issuing takes node-forge a good part of a second: once per process, CA, key and host, not per emulator.
  const cacheKey = `${host}\n${tls.caPem}\n${tls.keyPem}`;
  const known = issuedServerCertificates.get(cacheKey);
  if (known) return known;
  const pem = issueServerCertificate(tls, host);
  if (issuedServerCertificates.size >= 1000) issuedServerCertificates.clear();
  issuedServerCertificates.set(cacheKey, pem);
  return pem;
}

const issuedServerCertificates = new Map<string, string>();

function issueServerCertificate(tls: Pick<TlsMaterial, 'caPem' | 'caKeyPem' | 'keyPem'>, host: string): string {
  const ca = forge.pki.certificateFromPem(tls.caPem);
  const caKey = forge.pki.privateKeyFromPem(tls.caKeyPem);
  const key = forge.pki.privateKeyFromPem(tls.keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 825 * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: host }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
