/**
 * The subaccount trust certificate the emulator writes as DER by hand (`saml-certificate.ts`): Node's
 * X509Certificate (OpenSSL) must parse it for every serial. The default serial is the first 8 bytes of
 * sha256("default:<zid>"), so tenants whose hash starts with 0x00 (and a byte below 0x80) or with a byte of
 * 0x80 and above are looked up among a few thousand subdomains and served over the Destination Service API.
 */
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { sha256Hex, stableGuid } from '../emulator/core/ids.ts';
import { derInteger, selfSignedCertificate, toPem } from '../emulator/services/saml/certificate.ts';
import { serviceToken } from './helpers.ts';

type SerialCase = 'zero, then below 0x80' | 'zero, then 0x80 or above' | 'high bit set';

/** The first subdomains (tenant-0, tenant-1, …) whose default serial falls in each case. */
async function subdomainsBySerialCase(
  perCase: number,
  candidates: number,
): Promise<Map<SerialCase, { subdomain: string; serialHex: string }[]>> {
  const found = new Map<SerialCase, { subdomain: string; serialHex: string }[]>([
    ['zero, then below 0x80', []],
    ['zero, then 0x80 or above', []],
    ['high bit set', []],
  ]);
  for (let i = 0; i < candidates; i++) {
    const subdomain = `tenant-${i}`;
    const serialHex = (await sha256Hex(`default:${stableGuid(`zone:${subdomain}`)}`)).slice(0, 16);
    const [first, second] = [parseInt(serialHex.slice(0, 2), 16), parseInt(serialHex.slice(2, 4), 16)];
    const kind: SerialCase | undefined =
      first >= 0x80 ? 'high bit set' : first === 0 ? (second < 0x80 ? 'zero, then below 0x80' : 'zero, then 0x80 or above') : undefined;
    const list = kind && found.get(kind)!;
    if (list && list.length < perCase) list.push({ subdomain, serialHex });
    if ([...found.values()].every((l) => l.length === perCase)) break;
  }
  return found;
}

const bigintOf = (bytes: Uint8Array): bigint => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);

describe('default trust certificates of tenants whose serial needs care in DER', () => {
  let emu: EmulatorHandle;
  let cases: Map<SerialCase, { subdomain: string; serialHex: string }[]>;

  beforeAll(async () => {
    cases = await subdomainsBySerialCase(3, 5000);
    const subdomains = [...cases.values()].flat().map((c) => c.subdomain);
    emu = await startEmulator({ port: 0, scenario: { name: 'serials', tenants: subdomains.map((subdomain) => ({ subdomain })) } });
  });
  afterAll(() => emu?.stop());

  it.each(['zero, then below 0x80', 'zero, then 0x80 or above', 'high bit set'] as const)(
    '%s: Node parses the certificate and reads the serial back',
    async (kind) => {
      const tenants = cases.get(kind)!;
      expect(tenants).toHaveLength(3); // the search found the case (about one subdomain in 512 for the rarest)
      for (const { subdomain, serialHex } of tenants) {
        const tenant = emu.core.state.tenants.find((t) => t.subdomain === subdomain)!;
        expect(tenant.zid).toBe(stableGuid(`zone:${subdomain}`));
        const res = await fetch(`${emu.urls.services}/destination-configuration/v1/saml2Metadata/certificate`, {
          headers: { authorization: `Bearer ${await serviceToken(emu, 'destination', tenant.zid)}` },
        });
        expect(res.status).toBe(200);
        const { certificate } = (await res.json()) as { certificate: string };
        const parsed = new X509Certificate(certificate);
        expect(parsed.subject).toContain(`OU=${subdomain}`);
        expect(BigInt(`0x${parsed.serialNumber}`)).toBe(BigInt(`0x${serialHex}`));
        expect(parsed.verify(parsed.publicKey)).toBe(true);
      }
    },
  );
});

describe('derInteger', () => {
  /** A big-endian magnitude, often with leading zero bytes. */
  const magnitude = fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 0, maxLength: 20 }))
    .map(([zeros, rest]) => new Uint8Array([...new Array<number>(zeros).fill(0), ...rest]));

  it('is the shortest non-negative two’s-complement form of the number (X.690 8.3.2)', () => {
    fc.assert(
      fc.property(magnitude, (bytes) => {
        const der = derInteger(bytes);
        expect(der[0]).toBe(0x02);
        expect(der[1]).toBe(der.length - 2);
        const content = der.subarray(2);
        expect(content.length).toBeGreaterThan(0);
        expect(content[0] & 0x80).toBe(0); // non-negative
        if (content.length > 1) expect(content[0] === 0 && content[1] < 0x80).toBe(false); // no redundant 0x00
        expect(bigintOf(content)).toBe(bigintOf(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives certificates Node parses, with the serial asked for, for random serials', async () => {
    const keys = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const serial = magnitude.filter((bytes) => bytes.length <= 20 && bytes.some((b) => b !== 0));
    await fc.assert(
      fc.asyncProperty(serial, async (bytes) => {
        const der = await selfSignedCertificate({
          subject: [['CN', 'serial']],
          serial: bytes,
          notBefore: new Date('2024-01-01T00:00:00Z'),
          notAfter: new Date('2025-01-01T00:00:00Z'),
          ...keys,
        });
        expect(BigInt(`0x${new X509Certificate(toPem(der)).serialNumber}`)).toBe(bigintOf(bytes));
      }),
      { numRuns: 100 },
    );
  });
});
