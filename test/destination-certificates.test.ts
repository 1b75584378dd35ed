/**
 * Destination Service certificates: uploads checked against their file type, generation from Attributes
 * (PEM, PKCS#12, JKS, from a CSR), public keys, bulk operations, and ClientCertificateAuthentication end to
 * end — the SAP Cloud SDK presents the keystore from the find response to a backend that requires mTLS and
 * trusts the backend through a `.pem` truststore it fetches from the Destination Service.
 */
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import * as jks from 'jks-js';
import forge from 'node-forge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClock, startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { EmulatorCore } from '../emulator/app/emulator-core.ts';
import { readJks, unprotectKey } from '../emulator/services/destination/certificates/jks.ts';
import { serviceToken } from './helpers.ts';

type Json = Record<string, unknown>;

const clock = createClock();
let emu: EmulatorHandle;
let token: string;
let caPem: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, clock, scenario: { name: 'certificates', tenants: [{ subdomain: 'provider' }] } });
  token = await serviceToken(emu, 'destination');
  caPem = (await import('node:fs')).readFileSync(emu.caFile, 'utf8');
});
afterAll(() => emu.stop());
beforeEach(() => emu.reset());

interface Call {
  status: number;
  body: unknown;
}

async function call(method: string, path: string, body?: unknown): Promise<Call> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.urls.services}/destination-configuration${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const errorOf = (c: Call): string => (c.body as { ErrorMessage: string }).ErrorMessage;
const contentOf = async (level: string, name: string): Promise<Buffer> => {
  const read = await call('GET', `/v1/${level}Certificates/${encodeURIComponent(name)}`);
  expect(read.status).toBe(200);
  return Buffer.from((read.body as { Content: string }).Content, 'base64');
};
const validity = (value: number, unit = 'DAYS'): Json => ({ TimeUnit: unit, Value: value });
const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64');

/** A key pair and a self-signed certificate for `cn` (also valid as a server certificate for localhost). */
function selfSigned(cn: string): { certPem: string; keyPem: string } {
  const keyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '02';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  cert.setIssuer([{ name: 'commonName', value: cn }]);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }]);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

describe.each(['subaccount', 'instance'] as const)('certificate generation on %s level', (level) => {
  const collection = `/v1/${level}Certificates`;

  it('generates a PEM with chain and private key, issued by the emulator CA for CN, valid for the requested time', async () => {
    const issuedAt = Math.floor(Date.now() / 1000) * 1000 + 60_000; // a whole second, as X.509 times are
    clock.freeze(issuedAt);
    try {
      expect(
        (
          await call('POST', collection, {
            Name: 'gen.pem',
            Attributes: { CN: 'orders-client', Validity: validity(30), AutomaticRenew: true },
          })
        ).status,
      ).toBe(201);
    } finally {
      clock.useRealTime();
    }
    const read = await call('GET', `${collection}/gen.pem`);
    expect(read.body).toMatchObject({ Name: 'gen.pem', Type: 'CERTIFICATE' });
    const text = (await contentOf(level, 'gen.pem')).toString();
    expect(text.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(text).toContain('-----BEGIN PRIVATE KEY-----');
    const leaf = new X509Certificate(text);
    expect(leaf.subject).toContain('CN=orders-client');
    expect(leaf.verify(new X509Certificate(caPem).publicKey)).toBe(true);
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    expect(Date.parse(leaf.validFrom)).toBe(issuedAt); // notBefore is the emulator clock's now
    expect(leaf.checkPrivateKey(createPrivateKey(text))).toBe(true);

    const keys = await call('GET', `${collection}/gen.pem/publicKeys`);
    expect(keys.status).toBe(200);
    expect(keys.body).toEqual([
      { Content: expect.stringContaining('-----BEGIN CERTIFICATE-----'), SubjectDN: 'CN=orders-client,O=btp-connectivity-emulator' },
    ]);
  });

  it('generates PKCS#12 keystores: with Password they are protected, without they show their public keys', async () => {
    const bulk = await call('POST', collection, [
      { Name: 'locked.p12', Attributes: { CN: 'locked', Validity: validity(1, 'YEARS'), Password: 'changeit' } },
      { Name: 'open.pfx', Attributes: { CN: 'open', Validity: validity(6, 'MONTHS') } },
    ]);
    expect(bulk.status).toBe(201);
    expect(bulk.body).toEqual([
      { name: 'locked.p12', status: 201, etag: expect.any(String) },
      { name: 'open.pfx', status: 201, etag: expect.any(String) },
    ]);
    const locked = await contentOf(level, 'locked.p12');
    expect(() => createSecureContext({ pfx: locked, passphrase: 'changeit' })).not.toThrow();
    expect(() => createSecureContext({ pfx: locked, passphrase: 'wrong' })).toThrow();
    const lockedKeys = await call('GET', `${collection}/locked.p12/publicKeys`);
    expect(lockedKeys.status).toBe(400);
    expect(errorOf(lockedKeys)).toBe('The keystore is password-protected and public keys cannot be retrieved');

    const open = await contentOf(level, 'open.pfx');
    expect(() => createSecureContext({ pfx: open })).not.toThrow();
    // what the emulator packed: the CN=open leaf its CA issued, and the private key of that leaf, without a password
    const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(open.toString('binary')));
    const bags = (type: string): forge.pkcs12.Bag[] => p12.getBags({ bagType: type })[type] ?? [];
    const leafBag = bags(forge.pki.oids.certBag).find((bag) => bag.cert?.subject.getField('CN')?.value === 'open')!;
    const [keyBag] = [...bags(forge.pki.oids.keyBag), ...bags(forge.pki.oids.pkcs8ShroudedKeyBag)];
    const openLeaf = new X509Certificate(forge.pki.certificateToPem(leafBag.cert!));
    expect(openLeaf.verify(new X509Certificate(caPem).publicKey)).toBe(true);
    expect(openLeaf.checkPrivateKey(createPrivateKey(forge.pki.privateKeyToPem(keyBag.key!)))).toBe(true);
    const openKeys = await call('GET', `${collection}/open.pfx/publicKeys`);
    expect(openKeys.status).toBe(200);
    expect(openKeys.body).toEqual([
      { Alias: 'open', Content: expect.stringContaining('-----BEGIN CERTIFICATE-----'), SubjectDN: 'CN=open,O=btp-connectivity-emulator' },
    ]);
  });

  it('generates a JKS keystore the SDK’s JKS reader opens, and lists its public keys by alias', async () => {
    expect(
      (
        await call('POST', collection, {
          Name: 'client.jks',
          Attributes: { CN: 'Jks-Client', Validity: validity(90), Password: 'storepass' },
        })
      ).status,
    ).toBe(201);
    const file = await contentOf(level, 'client.jks');
    const entries = jks.toPem(file, 'storepass') as Record<string, { cert: string; key: string }>;
    expect(Object.keys(entries)).toEqual(['jks-client']);
    expect(new X509Certificate(entries['jks-client'].cert).subject).toContain('CN=Jks-Client');
    expect(() => createSecureContext({ cert: entries['jks-client'].cert, key: entries['jks-client'].key })).not.toThrow();

    const keys = await call('GET', `${collection}/client.jks/publicKeys`);
    expect(keys.status).toBe(200);
    expect(keys.body).toEqual([
      {
        Alias: 'jks-client',
        Content: expect.stringMatching(/^(-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n){2}$/),
        SubjectDN: 'CN=Jks-Client,O=btp-connectivity-emulator',
      },
    ]);
    // An uploaded JKS (the same bytes under another name) is accepted as well.
    expect((await call('POST', collection, { Name: 'copy.keystore', Type: 'CERTIFICATE', Content: file.toString('base64') })).status).toBe(
      201,
    );
  });

  it('signs a CSR: PEM only, the CSR’s public key, no private key kept; refuses a CSR for other file types', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    csr.setSubject([{ name: 'commonName', value: 'requested-cn' }]);
    csr.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
    const csrPem = forge.pki.certificationRequestToPem(csr);

    expect(
      (
        await call('POST', collection, {
          Name: 'from-csr.pem',
          Attributes: { CN: 'service-cn', Validity: validity(2, 'MONTHS'), CSR: b64(csrPem) },
        })
      ).status,
    ).toBe(201);
    const text = (await contentOf(level, 'from-csr.pem')).toString();
    expect(text).not.toContain('PRIVATE KEY');
    const leaf = new X509Certificate(text);
    expect(leaf.subject).toContain('CN=service-cn');
    expect(leaf.checkPrivateKey(privateKey)).toBe(true);

    const p12 = await call('POST', collection, { Name: 'from-csr.p12', Attributes: { CN: 'x', Validity: validity(2), CSR: b64(csrPem) } });
    expect(p12.status).toBe(400);
    expect(errorOf(p12)).toMatch(/Attributes\.CSR/);
    const garbage = await call('POST', collection, {
      Name: 'bad-csr.pem',
      Attributes: { CN: 'x', Validity: validity(2), CSR: b64('not a csr') },
    });
    expect(garbage.status).toBe(400);
    expect(errorOf(garbage)).toMatch(/Attributes\.CSR/);
  });

  it('keeps a non-ASCII CN (UTF8String) and password', async () => {
    const cn = 'Bestellungen Ünïcödé 漢字';
    expect(
      (
        await call('POST', collection, [
          { Name: 'utf8.pem', Attributes: { CN: cn, Validity: validity(1), Password: 'pässwörd' } },
          { Name: 'utf8.jks', Attributes: { CN: cn, Validity: validity(1), Password: 'pässwörd' } },
        ])
      ).status,
    ).toBe(201);
    const pemText = (await contentOf(level, 'utf8.pem')).toString();
    expect(new X509Certificate(pemText).subject).toContain(`CN=${cn}`);
    expect(() => createPrivateKey({ key: pemText, passphrase: 'pässwörd' })).not.toThrow();
    expect(((await call('GET', `${collection}/utf8.pem/publicKeys`)).body as { SubjectDN: string }[])[0].SubjectDN).toBe(
      `CN=${cn},O=btp-connectivity-emulator`,
    );
    expect(((await call('GET', `${collection}/utf8.jks/publicKeys`)).body as { Alias: string }[])[0].Alias).toBe(cn.toLowerCase());
  });

  it('protects a JKS whose password has a character outside the BMP as Java does (UTF-16 code units), so jks-js opens it', async () => {
    const password = 'key🔑pass'; // the emoji is a surrogate pair: two Java chars
    expect(
      (await call('POST', collection, { Name: 'emoji.jks', Attributes: { CN: 'emoji-client', Validity: validity(1), Password: password } }))
        .status,
    ).toBe(201);
    const file = await contentOf(level, 'emoji.jks');
    const entries = jks.toPem(file, password) as Record<string, { cert: string; key: string }>;
    expect(new X509Certificate(entries['emoji-client'].cert).subject).toContain('CN=emoji-client');
    expect(new X509Certificate(entries['emoji-client'].cert).checkPrivateKey(createPrivateKey(entries['emoji-client'].key))).toBe(true);
    expect(() => jks.toPem(file, 'key?pass')).toThrow(/password/i);
    // The emulator's own reader (used when it presents the keystore in an outbound mTLS call) agrees.
    const entry = readJks(forge, file.toString('binary'), password).find((e) => e.protectedKey)!;
    const key = createPrivateKey(forge.pem.encode({ type: 'PRIVATE KEY', body: unprotectKey(forge, entry.protectedKey!, password) }));
    expect(key.equals(createPrivateKey(entries['emoji-client'].key))).toBe(true);
  });

  it('refuses bad generation requests with a 400 naming the field, and stores nothing', async () => {
    const cases: [Json, RegExp][] = [
      [{ Name: 'a.pem', Attributes: { CN: 'a', Validity: validity(2, 'YEARS') } }, /Attributes\.Validity/],
      [{ Name: 'a.pem', Attributes: { CN: 'a', Validity: validity(13, 'MONTHS') } }, /Attributes\.Validity/],
      [{ Name: 'a.pem', Attributes: { CN: 'a', Validity: validity(366) } }, /Attributes\.Validity/],
      [{ Name: 'a.pem', Attributes: { CN: 'a', Validity: validity(0) } }, /Attributes\.Validity\.Value/],
      [{ Name: 'a.pem', Attributes: { CN: 'a', Validity: validity(1, 'WEEKS') } }, /Attributes\.Validity\.TimeUnit/],
      [{ Name: 'a.pem', Attributes: { CN: 'a' } }, /Attributes\.Validity/],
      [{ Name: 'a.pem', Attributes: { Validity: validity(1) } }, /Attributes\.CN/],
      [{ Name: 'a.pem', Attributes: { CN: 'a', Validity: validity(1), Colour: 'red' } }, /Attributes\.Colour/],
      [{ Name: 'a.crt', Attributes: { CN: 'a', Validity: validity(1) } }, /Name/],
      [{ Name: 'a.pem', Attributes: { CN: 'a', Validity: validity(1) }, Content: b64('x') }, /Content/],
      [{ Attributes: { CN: 'a', Validity: validity(1) } }, /Name/],
    ];
    for (const [body, field] of cases) {
      const res = await call('POST', collection, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(res)).toMatch(field);
    }
    expect((await call('GET', collection)).body).toEqual([]);
  });
});

describe('certificate generation without a CA (MSW, direct core.fetch)', () => {
  it('issues a self-signed certificate from Web Crypto keys, and refuses a CSR', async () => {
    const core = await EmulatorCore.create({ scenario: { tenants: [{ subdomain: 'provider' }] } });
    const dest = core.state.bindings.find((b) => b.service === 'destination')!;
    const tokenRes = await core.fetch(
      new Request('http://localhost:20000/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: dest.clientid, client_secret: dest.clientsecret }),
      }),
    );
    const bearer = `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}`;
    const post = (body: unknown): Promise<Response> =>
      core.fetch(
        new Request('http://localhost:20000/destination-configuration/v1/subaccountCertificates', {
          method: 'POST',
          headers: { authorization: bearer, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
    expect((await post({ Name: 'self.pem', Attributes: { CN: 'self', Validity: validity(1) } })).status).toBe(201);
    const read = await core.fetch(
      new Request('http://localhost:20000/destination-configuration/v1/subaccountCertificates/self.pem', {
        headers: { authorization: bearer },
      }),
    );
    const leaf = new X509Certificate(Buffer.from(((await read.json()) as { Content: string }).Content, 'base64').toString());
    expect(leaf.issuer).toBe(leaf.subject);
    expect(leaf.verify(leaf.publicKey)).toBe(true);
    const csr = await post({
      Name: 'csr.pem',
      Attributes: { CN: 'x', Validity: validity(1), CSR: b64('-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n') },
    });
    expect(csr.status).toBe(400);
    expect(((await csr.json()) as { ErrorMessage: string }).ErrorMessage).toMatch(/Attributes\.CSR/);
  });
});

describe('certificate uploads are checked against the file type their Name says', () => {
  const collection = '/v1/subaccountCertificates';

  it('accepts PEM, DER (.cer/.crt), PKCS#12 and JKS files', async () => {
    const { certPem } = selfSigned('upload');
    const der = new X509Certificate(certPem).raw;
    await call('POST', collection, { Name: 'gen.p12', Attributes: { CN: 'p12', Validity: validity(1) } });
    const p12 = await contentOf('subaccount', 'gen.p12');
    const res = await call('POST', collection, [
      { Name: 'a.pem', Type: 'CERTIFICATE', Content: b64(certPem) },
      { Name: 'b.cer', Type: 'CERTIFICATE', Content: der.toString('base64') },
      { Name: 'c.crt', Type: 'CERTIFICATE', Content: b64(certPem) },
      { Name: 'd.pfx', Type: 'CERTIFICATE', Content: p12.toString('base64') },
    ]);
    expect(res.status).toBe(201);
    const dnOf = async (name: string): Promise<string> =>
      ((await call('GET', `${collection}/${name}/publicKeys`)).body as { SubjectDN: string }[])[0].SubjectDN;
    expect(await dnOf('b.cer')).toBe('CN=upload');
    expect(await dnOf('c.crt')).toBe('CN=upload');
  });

  it('refuses Content that does not parse as the announced type, and unknown extensions, per item in bulk', async () => {
    const { certPem } = selfSigned('upload');
    const res = await call('POST', collection, [
      { Name: 'ok.pem', Content: b64(certPem) },
      { Name: 'pem-as.p12', Content: b64(certPem) },
      { Name: 'garbage.jks', Content: b64('definitely not a keystore') },
      { Name: 'truncated.pem', Content: b64(certPem.slice(0, 200) + '\n-----END CERTIFICATE-----\n') },
      { Name: 'notes.txt', Content: b64(certPem) },
      { Name: 'not-base64.pem', Content: '%%%' },
    ]);
    expect(res.status).toBe(207);
    const results = res.body as { name: string; status: number; cause?: string }[];
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['ok.pem', 201],
      ['pem-as.p12', 400],
      ['garbage.jks', 400],
      ['truncated.pem', 400],
      ['notes.txt', 400],
      ['not-base64.pem', 400],
    ]);
    for (const r of results.slice(1, 4)) expect(r.cause).toMatch(/\bContent\b/);
    expect(results[4].cause).toMatch(/\bName\b/);
    expect(results[5].cause).toMatch(/\bContent\b/);
    const single = await call('PUT', collection, {
      Name: 'ok.pem',
      Content: b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
    });
    expect(single.status).toBe(400);
    expect(errorOf(single)).toMatch(/\bContent\b/);
    expect(((await call('GET', `${collection}/ok.pem`)).body as Json).Content).toBe(b64(certPem));
  });

  it('overwrites with PUT (generation too) and deletes in bulk by $filter', async () => {
    await call('POST', collection, [
      { Name: 'one.pem', Attributes: { CN: 'one', Validity: validity(1) } },
      { Name: 'two.pem', Attributes: { CN: 'two', Validity: validity(1) } },
    ]);
    const before = (await contentOf('subaccount', 'one.pem')).toString();
    const put = await call('PUT', collection, [
      { Name: 'one.pem', Attributes: { CN: 'one-renewed', Validity: validity(2) } },
      { Name: 'three.pem', Attributes: { CN: 'three', Validity: validity(1) } },
    ]);
    expect(put.status).toBe(207);
    expect((put.body as { status: number }[]).map((r) => r.status)).toEqual([200, 404]);
    const after = (await contentOf('subaccount', 'one.pem')).toString();
    expect(after).not.toBe(before);
    expect(new X509Certificate(after).subject).toContain('CN=one-renewed');
    const deleted = await call('DELETE', `${collection}?$filter=${encodeURIComponent("Name in ('one.pem','two.pem','three.pem')")}`);
    expect(deleted.body).toEqual({
      Count: 2,
      Summary: [
        { name: 'one.pem', status: 'DELETED' },
        { name: 'two.pem', status: 'DELETED' },
        { name: 'three.pem', status: 'NOT_FOUND', reason: 'Could not find configuration' },
      ],
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// ClientCertificateAuthentication end to end with the SAP Cloud SDK
// ---------------------------------------------------------------------------------------------------------

interface MtlsBackend {
  url: string;
  serverCertPem: string;
  /** CN of the client certificate of each request, in order. */
  seen: string[];
  close(): Promise<void>;
}

/** A backend that requires a client certificate issued by the emulator CA; its own certificate is self-signed. */
async function startMtlsBackend(trusted: string): Promise<MtlsBackend> {
  const { certPem, keyPem } = selfSigned('mtls-backend');
  const seen: string[] = [];
  const server: Server = createServer(
    { key: keyPem, cert: certPem, requestCert: true, rejectUnauthorized: true, ca: [trusted] },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push(String(peer.subject.CN));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, client: peer.subject.CN }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://localhost:${port}`,
    serverCertPem: certPem,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('ClientCertificateAuthentication with the SAP Cloud SDK and a backend that requires mTLS', () => {
  let backend: MtlsBackend;

  beforeAll(async () => {
    backend = await startMtlsBackend(caPem);
    process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
  });
  afterAll(async () => {
    delete process.env.VCAP_SERVICES;
    await backend?.close();
  });

  /** Upload the backend's certificate as truststore and a destination using `keystore`. */
  async function setUp(
    level: 'subaccount' | 'instance',
    name: string,
    keystore: Json | undefined,
    extra: Record<string, string> = {},
  ): Promise<void> {
    const certificates: Json[] = [{ Name: 'backend-trust.pem', Type: 'CERTIFICATE', Content: b64(backend.serverCertPem) }];
    if (keystore) certificates.push(keystore);
    const created = await call('POST', `/v1/${level}Certificates`, certificates);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const destination = {
      Name: name,
      Type: 'HTTP',
      URL: backend.url,
      ProxyType: 'Internet',
      Authentication: 'ClientCertificateAuthentication',
      TrustStoreLocation: 'backend-trust.pem',
      ...(keystore ? { KeyStoreLocation: keystore.Name as string } : {}),
      ...extra,
    };
    expect((await call('POST', `/v1/${level}Destinations`, destination)).status).toBe(201);
  }

  const generate = (name: string, cn: string, password?: string): Json => ({
    Name: name,
    Attributes: { CN: cn, Validity: validity(7), ...(password ? { Password: password } : {}) },
  });

  it('P12 with KeyStorePassword: the backend sees the generated client certificate', async () => {
    await setUp('subaccount', 'MTLS_P12', generate('client.p12', 'sdk-p12-client', 'p12-pass'), { KeyStorePassword: 'p12-pass' });
    const destination = await getDestination({ destinationName: 'MTLS_P12', useCache: false });
    expect(destination?.certificates?.map((c) => c.name)).toEqual(['client.p12', 'backend-trust.pem']);
    const res = await executeHttpRequest({ destinationName: 'MTLS_P12', useCache: false }, { method: 'get', url: '/orders' });
    expect(res.data).toEqual({ path: '/orders', client: 'sdk-p12-client' });
    const journal = emu.journal({ service: 'destination' }).map((e) => e.path);
    expect(journal).toContain('/destination-configuration/v1/subaccountCertificates/backend-trust.pem');
  });

  it('PEM keystore (certificate chain and key in one file) on instance level: the truststore is fetched from the instance path', async () => {
    await setUp('instance', 'MTLS_PEM', generate('client.pem', 'sdk-pem-client'));
    const res = await executeHttpRequest({ destinationName: 'MTLS_PEM', useCache: false }, { method: 'get', url: '/pem' });
    expect(res.data).toEqual({ path: '/pem', client: 'sdk-pem-client' });
    const paths = emu.journal({ service: 'destination' }).map((e) => `${e.status} ${e.path}`);
    expect(paths).toContain('404 /destination-configuration/v1/subaccountCertificates/backend-trust.pem');
    expect(paths).toContain('200 /destination-configuration/v1/instanceCertificates/backend-trust.pem');
  });

  it('JKS keystore: the SDK converts it and the backend sees the client certificate', async () => {
    await setUp('subaccount', 'MTLS_JKS', generate('client.jks', 'sdk-jks-client', 'jks-pass'), { KeyStorePassword: 'jks-pass' });
    const res = await executeHttpRequest({ destinationName: 'MTLS_JKS', useCache: false }, { method: 'get', url: '/jks' });
    expect(res.data).toEqual({ path: '/jks', client: 'sdk-jks-client' });
  });

  it('fails without a keystore (the backend refuses the handshake) and without the truststore (self-signed backend)', async () => {
    await setUp('subaccount', 'MTLS_NO_KEYSTORE', undefined);
    const seenBefore = backend.seen.length;
    expect((await getDestination({ destinationName: 'MTLS_NO_KEYSTORE', useCache: false }))?.certificates?.map((c) => c.name)).toEqual([
      'backend-trust.pem',
    ]);
    // the backend asks for a client certificate, none comes: TLS 1.3 alert 116 "certificate required"
    await expect(
      executeHttpRequest({ destinationName: 'MTLS_NO_KEYSTORE', useCache: false }, { method: 'get', url: '/x' }),
    ).rejects.toMatchObject({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
    expect(backend.seen).toHaveLength(seenBefore);
    expect((await call('POST', '/v1/subaccountCertificates', generate('other.p12', 'no-trust'))).status).toBe(201);
    expect(
      (
        await call('POST', '/v1/subaccountDestinations', {
          Name: 'MTLS_NO_TRUST',
          Type: 'HTTP',
          URL: backend.url,
          ProxyType: 'Internet',
          Authentication: 'ClientCertificateAuthentication',
          KeyStoreLocation: 'other.p12',
        })
      ).status,
    ).toBe(201);
    await expect(executeHttpRequest({ destinationName: 'MTLS_NO_TRUST', useCache: false }, { method: 'get', url: '/x' })).rejects.toThrow(
      /self[- ]signed/i,
    );
    expect(backend.seen).not.toContain('no-trust');
  });
});
