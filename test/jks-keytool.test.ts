/**
 * JKS keystores against the JDK's own `keytool`, the reference implementation of the format: a keystore the
 * emulator's certificates API generates must open in keytool with its password (store digest) and give up its key
 * (key protector), also when password and alias hold characters outside the Basic Multilingual Plane (UTF-16
 * surrogate pairs in the password bytes, Java's modified UTF-8 for the alias). And a keystore keytool wrote, with
 * a key entry and a trusted-certificate entry, is accepted on upload and read by the emulator. Needs a JDK
 * (`keytool` on PATH or in $JAVA_HOME/bin). A JDK is not an npm package, so on a machine without one these tests are
 * reported as skipped with the reason; BTP_EMULATOR_REQUIRE_KEYTOOL=1 (set by .ci/run, which installs a JDK when
 * missing) makes its absence a failure.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { readJks, unprotectKey } from '../emulator/services/destination/certificates/jks.ts';
import { serviceToken } from './helpers.ts';

const run = promisify(execFile);
const keytoolPath = [process.env.JAVA_HOME && join(process.env.JAVA_HOME, 'bin'), ...(process.env.PATH ?? '').split(delimiter)]
  .filter((dir): dir is string => Boolean(dir))
  .map((dir) => join(dir, 'keytool'))
  .find((file) => existsSync(file));

/** keytool with UTF-8 arguments and English messages; rejects with keytool's output when it exits non-zero. */
async function keytool(...args: string[]): Promise<string> {
  const { stdout } = await run(keytoolPath!, ['-J-Duser.language=en', '-J-Duser.country=US', ...args], {
    env: { ...process.env, LC_ALL: 'C.UTF-8' },
  });
  return stdout;
}

const keytoolRequired = process.env.BTP_EMULATOR_REQUIRE_KEYTOOL === '1';
const keytoolMissing = 'keytool (a JDK) is not installed: apt-get install -y default-jdk-headless to run the JKS checks against Java';
// The default reporter shows only a count of skipped tests; this names the reason once.
if (!keytoolPath && !keytoolRequired) console.warn(`JKS keytool tests skipped: ${keytoolMissing}`);

let emu: EmulatorHandle;
let token: string;
let dir: string;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${emu.urls.services}/destination-configuration/v1/subaccountCertificates${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

describe.runIf(Boolean(keytoolPath) || keytoolRequired)('JKS and the JDK keytool', () => {
  beforeAll(async () => {
    if (!keytoolPath) throw new Error(`BTP_EMULATOR_REQUIRE_KEYTOOL=1: ${keytoolMissing}`);
    dir = mkdtempSync(join(tmpdir(), 'jks-keytool-'));
    emu = await startEmulator({ port: 0, scenario: { name: 'jks', tenants: [{ subdomain: 'provider' }] } });
    token = await serviceToken(emu, 'destination');
  });
  afterAll(async () => {
    await emu?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => emu.reset());

  it.each([
    ['an ASCII password and CN', 'changeit', 'Orders Client'],
    ['a password outside the BMP', 'key🔑pass', 'Orders Client'],
    ['a CN (alias) outside the BMP', 'changeit', 'Client 🔑 Ünï 漢字'],
  ])('keytool opens a generated JKS with %s and recovers its key', { timeout: 90_000 }, async (_, password, cn) => {
    expect(
      (await call('POST', '', { Name: 'gen.jks', Attributes: { CN: cn, Validity: { TimeUnit: 'DAYS', Value: 1 }, Password: password } }))
        .status,
    ).toBe(201);
    const file = join(dir, `gen-${Math.random().toString(36).slice(2)}.jks`);
    writeFileSync(file, Buffer.from(((await call('GET', '/gen.jks')).body as { Content: string }).Content, 'base64'));
    const alias = cn.toLowerCase();
    // -list checks the store's integrity digest (password bytes) and finds the alias (modified UTF-8).
    expect(await keytool('-list', '-keystore', file, '-storepass', password, '-alias', alias)).toContain('PrivateKeyEntry');
    // Copying the entry into a new keystore makes keytool unprotect the key with the key password.
    const copy = `${file}.copy`;
    await keytool(
      '-importkeystore',
      '-noprompt',
      '-srckeystore',
      file,
      '-srcstorepass',
      password,
      '-srcalias',
      alias,
      '-srckeypass',
      password,
      '-destkeystore',
      copy,
      '-deststoretype',
      'jks',
      '-deststorepass',
      'copy-pass',
      '-destkeypass',
      'copy-pass',
    );
    expect(await keytool('-list', '-keystore', copy, '-storepass', 'copy-pass', '-alias', alias)).toContain('PrivateKeyEntry');
  });

  it(
    'reads a keystore keytool wrote: a key entry and a trusted-certificate entry, aliases outside the BMP',
    { timeout: 90_000 },
    async () => {
      const file = join(dir, 'keytool.jks');
      const password = 'store🔑pass';
      const [keyAlias, caAlias] = ['server 🔑', 'trusted ca'];
      const common = ['-keystore', file, '-storetype', 'jks', '-storepass', password];
      await keytool(
        '-genkeypair',
        ...common,
        '-alias',
        keyAlias,
        '-keypass',
        password,
        '-keyalg',
        'RSA',
        '-keysize',
        '2048',
        '-dname',
        'CN=From Keytool',
        '-validity',
        '2',
      );
      await keytool('-importcert', '-noprompt', ...common, '-alias', caAlias, '-file', emu.caFile); // the emulator's CA as a trusted entry
      const caSubjectDn = new X509Certificate(readFileSync(emu.caFile)).subject.split('\n').reverse().join(',');

      const content = readFileSync(file);
      expect((await call('POST', '', { Name: 'keytool.jks', Type: 'CERTIFICATE', Content: content.toString('base64') })).status).toBe(201);
      const keys = await call('GET', '/keytool.jks/publicKeys');
      expect(keys.status).toBe(200);
      expect(keys.body).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Alias: keyAlias, SubjectDN: 'CN=From Keytool' }),
          expect.objectContaining({ Alias: caAlias, SubjectDN: caSubjectDn }),
        ]),
      );

      // The key the emulator presents in an outbound mTLS call: unprotected with the password, matching its certificate.
      const entries = readJks(forge, content.toString('binary'), password);
      expect(entries.map((e) => [e.alias, Boolean(e.protectedKey)])).toEqual(
        expect.arrayContaining([
          [keyAlias, true],
          [caAlias, false],
        ]),
      );
      const keyEntry = entries.find((e) => e.protectedKey)!;
      const key = createPrivateKey(forge.pem.encode({ type: 'PRIVATE KEY', body: unprotectKey(forge, keyEntry.protectedKey!, password) }));
      expect(new X509Certificate(Buffer.from(keyEntry.chain[0], 'binary')).checkPrivateKey(key)).toBe(true);
      expect(() => readJks(forge, content.toString('binary'), 'store?pass')).toThrow(/password was incorrect/);
    },
  );
});
