/**
 * JKS files the emulator did not write, as keytool writes them: truststores of trusted-certificate entries, in
 * format version 2 and in the old version 1 (no certificate type strings), and a version 1 keystore with a key
 * entry next to a trusted one. They are built here by a small writer that follows Sun's format (and is checked
 * against jks-js, the reader the SAP Cloud SDK uses), uploaded to the Destination Service, and read back by the
 * emulator: accepted on upload, listed by `publicKeys` alias by alias, and — for the key entry — presented by
 * the emulator as its client certificate to an external token service that requires mTLS.
 */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import * as jks from 'jks-js';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { ensureTlsMaterial } from '../emulator/server/tls-material.ts';
import { serviceToken } from './helpers.ts';

// ---------------------------------------------------------------------------------------------------------
// A minimal JKS writer (Sun's format: magic, version, entries, SHA-1 "Mighty Aphrodite" digest)
// ---------------------------------------------------------------------------------------------------------

const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const utf = (text: string): Buffer => Buffer.concat([u16(Buffer.byteLength(text)), Buffer.from(text, 'utf8')]);
/** Java's password bytes: each UTF-16 code unit big-endian. */
const passwordBytes = (password: string): Buffer => Buffer.from(password, 'utf16le').swap16();
const sha1 = (...parts: Buffer[]): Buffer => createHash('sha1').update(Buffer.concat(parts)).digest();

/** DER: tag, length, content. */
const der = (tag: number, content: Buffer): Buffer => {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
};
/** OID 1.3.6.1.4.1.42.2.17.1.1: Sun's JKS key protector. */
const keyProtectorOid = Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01]);

/** Sun's KeyProtector: XOR with a SHA-1 stream seeded by a salt, then SHA-1(password + key) as a check. */
function protectKey(pkcs8: Buffer, password: string): Buffer {
  const pwd = passwordBytes(password);
  const salt = Buffer.from(forge.random.getBytesSync(20), 'latin1');
  const stream: Buffer[] = [];
  let digest: Buffer = salt;
  while (stream.length * 20 < pkcs8.length) stream.push((digest = sha1(pwd, digest)));
  const key = Buffer.concat(stream).subarray(0, pkcs8.length);
  const encrypted = Buffer.from(pkcs8.map((byte, i) => byte ^ key[i]));
  const algorithm = der(0x30, Buffer.concat([keyProtectorOid, Buffer.from([0x05, 0x00])]));
  return der(0x30, Buffer.concat([algorithm, der(0x04, Buffer.concat([salt, encrypted, sha1(pwd, pkcs8)]))]));
}

type Entry = { alias: string; trusted: Buffer } | { alias: string; pkcs8: Buffer; chain: Buffer[] };

function writeJks(version: 1 | 2, password: string, entries: Entry[]): Buffer {
  const timestamp = Date.parse('2024-01-01T00:00:00Z');
  const certificate = (d: Buffer): Buffer => Buffer.concat([...(version === 2 ? [utf('X.509')] : []), u32(d.length), d]);
  const body = Buffer.concat([
    u32(0xfeedfeed),
    u32(version),
    u32(entries.length),
    ...entries.map((e) =>
      'trusted' in e
        ? Buffer.concat([u32(2), utf(e.alias), u64(timestamp), certificate(e.trusted)])
        : Buffer.concat([
            u32(1),
            utf(e.alias),
            u64(timestamp),
            ((k) => Buffer.concat([u32(k.length), k]))(protectKey(e.pkcs8, password)),
            u32(e.chain.length),
            ...e.chain.map(certificate),
          ]),
    ),
  ]);
  return Buffer.concat([body, sha1(passwordBytes(password), Buffer.from('Mighty Aphrodite', 'utf8'), body)]);
}

// ---------------------------------------------------------------------------------------------------------
// Certificates for the keystores (node-forge), and an external mTLS token service
// ---------------------------------------------------------------------------------------------------------

interface Issued {
  cert: forge.pki.Certificate;
  der: Buffer;
  pem: string;
  key: forge.pki.rsa.PrivateKey;
  pkcs8: Buffer;
}

function issue(cn: string, issuer?: Issued): Issued {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  cert.setSubject([
    { name: 'organizationName', value: 'jks-foreign' },
    { name: 'commonName', value: cn },
  ]);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : cert.subject.attributes);
  cert.setExtensions(
    issuer
      ? [
          { name: 'basicConstraints', cA: false },
          { name: 'extKeyUsage', clientAuth: true },
        ]
      : [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', keyCertSign: true, digitalSignature: true },
        ],
  );
  cert.sign(issuer?.key ?? key, forge.md.sha256.create());
  return {
    cert,
    der: Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'latin1'),
    pem: forge.pki.certificateToPem(cert),
    key,
    pkcs8,
  };
}

let emu: EmulatorHandle;
let token: string;
let ca: Issued;
let tokenServer: Server;
let tokenServerUrl: string;
const tokenCalls: string[] = [];

beforeAll(async () => {
  ca = issue('Foreign Test CA');
  // The token service's own certificate comes from the emulator CA (the emulator trusts it); it requires client
  // certificates issued by the test CA.
  const serverTls = ensureTlsMaterial();
  tokenServer = createServer(
    { key: serverTls.keyPem, cert: serverTls.certPem, ca: [ca.pem], requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const cn = String((req.socket as TLSSocket).getPeerCertificate().subject.CN);
      tokenCalls.push(cn);
      req.resume();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: `token-for-${cn}`, token_type: 'bearer', expires_in: 600 }));
    },
  );
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  tokenServerUrl = `https://localhost:${(tokenServer.address() as { port: number }).port}/oauth/token`;
  emu = await startEmulator({ port: 0, scenario: 'default' });
  token = await serviceToken(emu, 'destination');
});

afterAll(async () => {
  await emu?.stop();
  await new Promise((resolve) => tokenServer?.close(resolve));
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${emu.urls.services}/destination-configuration/v1/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('JKS files written elsewhere', () => {
  for (const version of [2, 1] as const) {
    it(`a version ${version} truststore of trusted-certificate entries is accepted and its public keys are listed by alias`, async () => {
      const roots = [issue(`Root A v${version}`), issue(`Root B v${version}`)];
      const file = writeJks(
        version,
        'changeit',
        roots.map((r, i) => ({ alias: `root-${i}`, trusted: r.der })),
      );
      // The writer is right: jks-js (the SAP Cloud SDK's reader) opens it with the password.
      expect(Object.keys(jks.toPem(file, 'changeit'))).toEqual(['root-0', 'root-1']);

      const name = `trust-v${version}.jks`;
      expect(await call('POST', 'subaccountCertificates', { Name: name, Type: 'CERTIFICATE', Content: file.toString('base64') })).toEqual({
        status: 201,
        body: undefined,
      });
      const keys = await call('GET', `subaccountCertificates/${name}/publicKeys`);
      expect(keys.status).toBe(200);
      const listed = keys.body as { Alias: string; Content: string; SubjectDN: string }[];
      expect(listed.map((k) => [k.Alias, k.SubjectDN])).toEqual([
        ['root-0', `CN=Root A v${version},O=jks-foreign`],
        ['root-1', `CN=Root B v${version},O=jks-foreign`],
      ]);
      expect(new X509Certificate(listed[1].Content).fingerprint256).toBe(new X509Certificate(roots[1].pem).fingerprint256);
    });
  }

  it('a version 1 keystore (a trusted entry, then a key entry with its chain) is presented as the client certificate for an mTLS token service', async () => {
    const client = issue('v1-client', ca);
    const file = writeJks(1, 'store-pass', [
      { alias: 'the-ca', trusted: ca.der },
      { alias: 'client', pkcs8: client.pkcs8, chain: [client.der, ca.der] },
    ]);
    const read = jks.toPem(file, 'store-pass') as Record<string, { cert?: string; key?: string; ca?: string }>;
    expect(read.client.key).toContain('PRIVATE KEY');
    expect(read['the-ca'].ca).toContain('CERTIFICATE');

    expect((await call('POST', 'subaccountCertificates', { Name: 'client-v1.jks', Content: file.toString('base64') })).status).toBe(201);
    expect((await call('GET', 'subaccountCertificates/client-v1.jks/publicKeys')).body).toMatchObject([
      { Alias: 'the-ca' },
      { Alias: 'client', SubjectDN: 'CN=v1-client,O=jks-foreign' },
    ]);
    expect(
      (
        await call('POST', 'subaccountDestinations', {
          Name: 'JKS_V1_MTLS',
          Type: 'HTTP',
          URL: 'https://backend.example.com',
          ProxyType: 'Internet',
          Authentication: 'OAuth2ClientCredentials',
          tokenServiceURL: tokenServerUrl,
          clientId: 'jks-client',
          'tokenService.KeyStoreLocation': 'client-v1.jks',
          'tokenService.KeyStorePassword': 'store-pass',
        })
      ).status,
    ).toBe(201);
    const found = await call('GET', 'destinations/JKS_V1_MTLS');
    expect(found.status).toBe(200);
    expect((found.body as { authTokens: { value: string; error?: string }[] }).authTokens[0]).toMatchObject({
      value: 'token-for-v1-client',
    });
    expect(tokenCalls.at(-1)).toBe('v1-client');
  });

  it('a keystore whose digest does not match the password is refused when the emulator must open it, naming why', async () => {
    const client = issue('wrong-pass-client', ca);
    const file = writeJks(2, 'right-pass', [{ alias: 'client', pkcs8: client.pkcs8, chain: [client.der] }]);
    await call('POST', 'subaccountCertificates', { Name: 'wrong-pass.jks', Content: file.toString('base64') });
    await call('POST', 'subaccountDestinations', {
      Name: 'JKS_WRONG_PASS',
      Type: 'HTTP',
      URL: 'https://backend.example.com',
      ProxyType: 'Internet',
      Authentication: 'OAuth2ClientCredentials',
      tokenServiceURL: tokenServerUrl,
      clientId: 'jks-client',
      'tokenService.KeyStoreLocation': 'wrong-pass.jks',
      'tokenService.KeyStorePassword': 'wrong-pass',
    });
    const calls = tokenCalls.length;
    const found = await call('GET', 'destinations/JKS_WRONG_PASS');
    const [authToken] = (found.body as { authTokens: { error?: string }[] }).authTokens;
    expect(authToken.error).toMatch(/password was incorrect/);
    expect(tokenCalls.length).toBe(calls);
  });
});
