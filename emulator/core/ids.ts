/** Identifiers: deterministic GUIDs derived from names (stable across restarts) and random ids. */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

function fnv1a(input: string, seed: number): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let i = 0; i < input.length; i++) {
    hash ^= input.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A GUID-shaped id that is always the same for the same name, so zids and instance ids survive restarts. */
export function stableGuid(name: string): string {
  const hex = [0, 1, 2, 3].map((seed) => fnv1a(name, seed).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const hexOfByte = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
/** Random bytes fetched 4 KiB at a time (one `getRandomValues` call costs a system call); each byte is used once. */
const randomPool = new Uint8Array(4096);
let randomPoolOffset = randomPool.length;

export function randomHex(bytes = 16): string {
  let source = randomPool;
  let start: number;
  if (bytes > randomPool.length) {
    source = crypto.getRandomValues(new Uint8Array(bytes));
    start = 0;
  } else {
    if (randomPoolOffset + bytes > randomPool.length) {
      crypto.getRandomValues(randomPool);
      randomPoolOffset = 0;
    }
    start = randomPoolOffset;
    randomPoolOffset += bytes;
  }
  let hex = '';
  for (let i = start; i < start + bytes; i++) hex += hexOfByte[source[i]];
  return hex;
}

/**
 * The SHA-256 of the UTF-8 text, as hex. Synchronous and pure JS (`@noble/hashes`), so it runs in a browser too and
 * an ETag costs no round trip to the thread pool (WebCrypto's digest is async: ~60 µs per call against ~2 µs).
 */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** JSON with sorted keys, so equal objects hash to equal ETags. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function base64Encode(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function base64Decode(b64: string): string {
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** `decodeURIComponent`, or the text as it is when it is not valid percent-encoding. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
