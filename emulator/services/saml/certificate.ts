/**
 * Self-signed X.509 certificates for a subaccount's SAML signing key, written as DER by hand and signed with
 * Web Crypto (RSA, SHA-256), so no Node built-in and no big library enters the core.
 */
import { toBase64 } from './xml.ts';

type Der = Uint8Array;

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}
const tlv = (tag: number, ...parts: Der[]): Der => {
  const body = parts.reduce((acc, p) => new Uint8Array([...acc, ...p]), new Uint8Array());
  return new Uint8Array([tag, ...length(body.length), ...body]);
};
const seq = (...parts: Der[]): Der => tlv(0x30, ...parts);
const set = (...parts: Der[]): Der => tlv(0x31, ...parts);
const utf8String = (s: string): Der => tlv(0x0c, new TextEncoder().encode(s));
const nullDer = new Uint8Array([0x05, 0x00]);

function oid(text: string): Der {
  const [a, b, ...rest] = text.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(bytes));
}

/**
 * A DER INTEGER for the non-negative big-endian number `magnitude`: the shortest two's-complement form, so
 * redundant leading zero bytes are dropped and one 0x00 is added only when the high bit of the first byte is
 * set (X.690 8.3.2; Node's X509Certificate refuses anything else as "illegal padding"). Zero is one 0x00 byte.
 */
export function derInteger(magnitude: Uint8Array): Der {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const digits = magnitude.length ? magnitude.subarray(start) : new Uint8Array([0]);
  return tlv(0x02, digits[0] & 0x80 ? new Uint8Array([0, ...digits]) : digits);
}

function time(date: Date): Der {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return date.getUTCFullYear() < 2050 ? tlv(0x17, new TextEncoder().encode(iso.slice(2))) : tlv(0x18, new TextEncoder().encode(iso));
}

const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), nullDer);

function name(parts: [string, string][]): Der {
  const oids: Record<string, string> = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', L: '2.5.4.7', C: '2.5.4.6' };
  return seq(...parts.map(([k, v]) => set(seq(oid(oids[k]), utf8String(v)))));
}

export interface CertificateRequest {
  subject: [string, string][];
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

/** A self-signed certificate as base64 DER (the form SAML's `X509Certificate` and PEM bodies use). */
export async function selfSignedCertificate(req: CertificateRequest): Promise<string> {
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', req.publicKey));
  const subject = name(req.subject);
  const tbs = seq(
    tlv(0xa0, derInteger(new Uint8Array([2]))),
    derInteger(req.serial),
    sha256WithRsa,
    subject,
    seq(time(req.notBefore), time(req.notAfter)),
    subject,
    spki,
  );
  const signature = new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', req.privateKey, tbs as Uint8Array<ArrayBuffer>));
  return toBase64(seq(tbs, sha256WithRsa, tlv(0x03, new Uint8Array([0, ...signature]))));
}

/** Base64 DER → PEM with 64-character lines. */
export function toPem(derB64: string): string {
  return `-----BEGIN CERTIFICATE-----\n${derB64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----`;
}
