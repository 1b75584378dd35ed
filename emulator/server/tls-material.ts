/**
 * TLS for the XSUAA port: a local CA and a server certificate issued by it (node-forge), kept on disk so the
 * CA an app trusts through NODE_EXTRA_CA_CERTS stays the same across restarts. Each piece is created in a
 * temporary folder and renamed into place, so emulators started in parallel never see half-written files.
 */
import { generateKeyPairSync, createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  caFile: string;
  caPem: string;
  /** The CA's private key: signs certificates the emulator issues to clients. */
  caKeyPem: string;
  certPem: string;
  keyPem: string;
}

export const defaultTlsDir = (): string => join(tmpdir(), `btp-connectivity-emulator-${process.getuid?.() ?? 'user'}`, 'tls');

function newKeyPair(): { privatePem: string; forgeKey: forge.pki.rsa.PrivateKey; forgePublic: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(privatePem);
  return { privatePem, forgeKey, forgePublic: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function serial(): string {
  return `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
}

/** Write files into a fresh temp folder, then rename it to `dir`; if another process won, use its files. */
function publishOnce(dir: string, files: () => Record<string, string>): void {
  if (existsSync(dir)) return;
  mkdirSync(join(dir, '..'), { recursive: true });
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
  return { 'ca.pem': forge.pki.certificateToPem(cert), 'ca-key.pem': keys.privatePem };
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

/** The CA and a server certificate for `hosts` (localhost, *.localhost, 127.0.0.1 and ::1 are always included). */
export function ensureTlsMaterial(dir: string = defaultTlsDir(), extraHosts: string[] = []): TlsMaterial {
  const hosts = [...new Set(['localhost', '*.localhost', '127.0.0.1', '::1', ...extraHosts.flatMap((h) => [h, `*.${h}`].filter((x) => !/^\*\.[\d.]+$/.test(x)))])];
  const caDir = join(dir, 'ca');
  publishOnce(caDir, createCa);
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
  };
}
