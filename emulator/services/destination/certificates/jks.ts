/**
 * Java KeyStore (JKS) files without Java: read the entries (aliases, certificate chains, password-protected
 * private keys) and write a keystore with one key entry. The format is Sun's: magic 0xFEEDFEED, version 2,
 * entries, and a SHA-1 integrity digest over "password + 'Mighty Aphrodite' + data"; private keys are
 * protected with Sun's SHA-1 key stream (OID 1.3.6.1.4.1.42.2.17.1.1). Pure JS, so the core can use it.
 */
import type forgeNamespace from 'node-forge';

type Forge = typeof forgeNamespace;

const MAGIC = 0xfeedfeed;
const KEY_PROTECTOR_OID = '1.3.6.1.4.1.42.2.17.1.1';
const PRIVATE_KEY_ENTRY = 1;
const TRUSTED_CERT_ENTRY = 2;

export interface JksEntry {
  alias: string;
  /** DER bytes (binary strings) of the chain, leaf first. */
  chain: string[];
  /** The protected PKCS#8 key (binary string) of a key entry; absent for trusted certificates. */
  protectedKey?: string;
}

export class JksFormatError extends Error {}

/** True when the bytes start like a JKS (or JCEKS) keystore. */
export const looksLikeJks = (binary: string): boolean =>
  binary.length >= 8 && ['\xfe\xed\xfe\xed', '\xce\xce\xce\xce'].includes(binary.slice(0, 4));

class Reader {
  private offset = 0;
  private readonly data: string;
  constructor(data: string) {
    this.data = data;
  }
  bytes(n: number): string {
    if (n < 0 || this.offset + n > this.data.length) throw new JksFormatError('the keystore is truncated');
    const out = this.data.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  u16(): number {
    const b = this.bytes(2);
    return (b.charCodeAt(0) << 8) | b.charCodeAt(1);
  }
  u32(): number {
    const b = this.bytes(4);
    return ((b.charCodeAt(0) << 24) >>> 0) + ((b.charCodeAt(1) << 16) | (b.charCodeAt(2) << 8) | b.charCodeAt(3));
  }
  utf(): string {
    return decodeJavaUtf(this.bytes(this.u16()));
  }
  get position(): number {
    return this.offset;
  }
  get remaining(): number {
    return this.data.length - this.offset;
  }
}

/**
 * Java's modified UTF-8 (`DataOutput.writeUTF`), which JKS uses for aliases and certificate types: every UTF-16
 * code unit on its own in one to three bytes, so a character outside the BMP is two three-byte surrogates, and
 * U+0000 is two bytes. (Plain UTF-8's four-byte form makes Java's readUTF fail with "malformed input".)
 */
function encodeJavaUtf(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x01 && c <= 0x7f) out += String.fromCharCode(c);
    else if (c <= 0x7ff) out += String.fromCharCode(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else out += String.fromCharCode(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  if (out.length > 0xffff)
    throw new JksFormatError(`a JKS alias is at most 65535 bytes in modified UTF-8; "${text.slice(0, 20)}…" is longer`);
  return out;
}

/** Modified UTF-8 back to text; also takes plain UTF-8's four-byte form, which keystores of other writers may hold. */
function decodeJavaUtf(binary: string): string {
  const malformed = (): never => {
    throw new JksFormatError('an alias in the keystore is not valid (modified) UTF-8');
  };
  let out = '';
  for (let i = 0; i < binary.length;) {
    const lead = binary.charCodeAt(i);
    const length = lead < 0x80 ? 1 : (lead & 0xe0) === 0xc0 ? 2 : (lead & 0xf0) === 0xe0 ? 3 : (lead & 0xf8) === 0xf0 ? 4 : malformed();
    if (i + length > binary.length) malformed();
    let value = length === 1 ? lead : lead & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = binary.charCodeAt(i + k);
      if ((next & 0xc0) !== 0x80) malformed();
      value = (value << 6) | (next & 0x3f);
    }
    out += String.fromCodePoint(value);
    i += length;
  }
  return out;
}

const u16 = (n: number): string => String.fromCharCode((n >> 8) & 0xff, n & 0xff);
const u32 = (n: number): string => String.fromCharCode((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const utf = (text: string): string => {
  const bytes = encodeJavaUtf(text);
  return u16(bytes.length) + bytes;
};

/**
 * Java's password bytes for JKS: each Java `char` (UTF-16 code unit) as two bytes, big-endian. A character
 * outside the Basic Multilingual Plane is a surrogate pair, so it contributes both of its code units.
 */
const passwordBytes = (password: string): string => Array.from({ length: password.length }, (_, i) => u16(password.charCodeAt(i))).join('');

/** Parse a JKS file (binary string). Checks the integrity digest only when `password` is given. */
export function readJks(forge: Forge, binary: string, password?: string): JksEntry[] {
  if (!looksLikeJks(binary)) throw new JksFormatError('the file does not start with the JKS magic number 0xFEEDFEED');
  const reader = new Reader(binary);
  if (reader.u32() !== MAGIC) throw new JksFormatError('JCEKS keystores are not supported; use JKS or PKCS#12');
  const version = reader.u32();
  if (version !== 1 && version !== 2) throw new JksFormatError(`unsupported JKS version ${version}`);
  const count = reader.u32();
  if (count > 10_000) throw new JksFormatError('the keystore claims an implausible number of entries');
  const entries: JksEntry[] = [];
  const certificate = (): string => {
    if (version === 2) reader.utf();
    return reader.bytes(reader.u32());
  };
  for (let i = 0; i < count; i++) {
    const tag = reader.u32();
    const alias = reader.utf();
    reader.bytes(8);
    if (tag === PRIVATE_KEY_ENTRY) {
      const protectedKey = reader.bytes(reader.u32());
      const chain = Array.from({ length: reader.u32() }, certificate);
      entries.push({ alias, chain, protectedKey });
    } else if (tag === TRUSTED_CERT_ENTRY) {
      entries.push({ alias, chain: [certificate()] });
    } else {
      throw new JksFormatError(`unknown JKS entry tag ${tag}`);
    }
  }
  const body = binary.slice(0, reader.position);
  const digest = reader.bytes(20);
  if (reader.remaining) throw new JksFormatError('unexpected bytes after the keystore digest');
  if (password !== undefined && sha1(forge, passwordBytes(password) + 'Mighty Aphrodite' + body) !== digest) {
    throw new JksFormatError('Keystore was tampered with, or password was incorrect');
  }
  return entries;
}

function sha1(forge: Forge, data: string): string {
  return forge.md.sha1.create().update(data).digest().getBytes();
}

/** Sun's key protector: XOR with a SHA-1 stream seeded by the salt, then a SHA-1 check over password + key. */
function keyStream(forge: Forge, password: string, salt: string, length: number): string {
  let digest = salt;
  let stream = '';
  while (stream.length < length) {
    digest = sha1(forge, password + digest);
    stream += digest;
  }
  return stream.slice(0, length);
}

const xor = (a: string, b: string): string => Array.from(a, (c, i) => String.fromCharCode(c.charCodeAt(0) ^ b.charCodeAt(i))).join('');

/** The PKCS#8 PrivateKeyInfo (DER, binary string) inside a key entry. */
export function unprotectKey(forge: Forge, protectedKey: string, password: string): string {
  const info = forge.asn1.fromDer(protectedKey);
  const parts = info.value as forgeNamespace.asn1.Asn1[];
  const oid = forge.asn1.derToOid((parts[0].value as forgeNamespace.asn1.Asn1[])[0].value as string);
  if (oid !== KEY_PROTECTOR_OID) throw new JksFormatError(`unsupported key protection ${oid}`);
  const data = parts[1].value as string;
  const salt = data.slice(0, 20);
  const encrypted = data.slice(20, data.length - 20);
  const check = data.slice(data.length - 20);
  const pwd = passwordBytes(password);
  const key = xor(encrypted, keyStream(forge, pwd, salt, encrypted.length));
  if (sha1(forge, pwd + key) !== check) throw new JksFormatError('the key password is wrong');
  return key;
}

/** A JKS with one private key entry (`alias`) and its chain; store and key share `password`. */
export function writeJks(
  forge: Forge,
  entry: { alias: string; privateKeyInfoDer: string; chainDer: string[]; password: string; timestamp: number },
): string {
  const pwd = passwordBytes(entry.password);
  const salt = forge.random.getBytesSync(20);
  const encrypted = xor(entry.privateKeyInfoDer, keyStream(forge, pwd, salt, entry.privateKeyInfoDer.length));
  const protectedData = salt + encrypted + sha1(forge, pwd + entry.privateKeyInfoDer);
  const { asn1 } = forge;
  const protectedKey = asn1
    .toDer(
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(KEY_PROTECTOR_OID).getBytes()),
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
        ]),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, protectedData),
      ]),
    )
    .getBytes();
  const high = Math.floor(entry.timestamp / 2 ** 32);
  let body = u32(MAGIC) + u32(2) + u32(1);
  body += u32(PRIVATE_KEY_ENTRY) + utf(entry.alias) + u32(high) + u32(entry.timestamp >>> 0);
  body += u32(protectedKey.length) + protectedKey + u32(entry.chainDer.length);
  for (const der of entry.chainDer) body += utf('X.509') + u32(der.length) + der;
  return body + sha1(forge, pwd + 'Mighty Aphrodite' + body);
}
