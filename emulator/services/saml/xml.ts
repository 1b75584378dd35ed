/**
 * XML for SAML with Web Crypto only (no Node built-ins, so the core still runs in a browser): a tiny element
 * tree serialised in exclusive canonical form (exc-c14n, without comments), enveloped RSA-SHA256 signatures,
 * and verification of a parsed document (`@xmldom/xmldom`) by canonicalising it the same way.
 */
import { DOMParser, type Element as XmlElement, type Node as XmlNode } from '@xmldom/xmldom';
import { XmlSignatureError } from './errors.ts';

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const algorithms: Record<string, string> = {
  [RSA_SHA256]: 'SHA-256',
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': 'SHA-1',
  [SHA256]: 'SHA-256',
  'http://www.w3.org/2000/09/xmldsig#sha1': 'SHA-1',
};

/** An element to serialise: qualified name, attributes (`xmlns:*` included), children. */
export interface XmlNodeSpec {
  name: string;
  attrs?: Record<string, string | undefined>;
  children?: (XmlNodeSpec | string)[];
}

export const el = (name: string, attrs: XmlNodeSpec['attrs'] = {}, ...children: (XmlNodeSpec | string)[]): XmlNodeSpec => ({
  name,
  attrs,
  children,
});

const escapeText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
const escapeAttr = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');

/**
 * Canonical text of a tree built with {@link el}: namespace declarations first (by prefix), then the other
 * attributes by name, no self-closing tags. Only unprefixed attributes besides `xmlns:*` are used by the
 * builders here, so this equals exc-c14n when every prefix is declared on the element that first uses it.
 */
export function serialize(node: XmlNodeSpec | string): string {
  if (typeof node === 'string') return escapeText(node);
  const entries = Object.entries(node.attrs ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
  const ns = entries.filter(([k]) => k === 'xmlns' || k.startsWith('xmlns:')).sort(([a], [b]) => (a < b ? -1 : 1));
  const plain = entries.filter(([k]) => !(k === 'xmlns' || k.startsWith('xmlns:'))).sort(([a], [b]) => (a < b ? -1 : 1));
  const attrs = [...ns, ...plain].map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
  return `<${node.name}${attrs}>${(node.children ?? []).map(serialize).join('')}</${node.name}>`;
}

const toBase64 = (bytes: Uint8Array): string => {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
};
const fromBase64 = (b64: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(b64.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);

async function digest(text: string, algorithm = 'SHA-256'): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.digest(algorithm, utf8(text))));
}

/**
 * Sign `root` (which must carry an `ID` attribute) with an enveloped signature inserted after its first child
 * (the `Issuer`, as SAML requires). Returns the signed document as text.
 */
export async function signEnveloped(root: XmlNodeSpec, key: CryptoKey, certificateB64: string | undefined): Promise<string> {
  const id = root.attrs?.ID;
  if (!id) throw new Error('the element to sign has no ID');
  const digestValue = await digest(serialize(root));
  const signedInfo = el(
    'ds:SignedInfo',
    {},
    el('ds:CanonicalizationMethod', { Algorithm: EXC_C14N }),
    el('ds:SignatureMethod', { Algorithm: RSA_SHA256 }),
    el(
      'ds:Reference',
      { URI: `#${id}` },
      el('ds:Transforms', {}, el('ds:Transform', { Algorithm: ENVELOPED }), el('ds:Transform', { Algorithm: EXC_C14N })),
      el('ds:DigestMethod', { Algorithm: SHA256 }),
      el('ds:DigestValue', {}, digestValue),
    ),
  );
  const canonicalSignedInfo = serialize({ ...signedInfo, attrs: { 'xmlns:ds': DSIG_NS } });
  const signature = new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, utf8(canonicalSignedInfo)));
  const keyInfo = certificateB64 ? [el('ds:KeyInfo', {}, el('ds:X509Data', {}, el('ds:X509Certificate', {}, certificateB64)))] : [];
  const signatureEl = el('ds:Signature', { 'xmlns:ds': DSIG_NS }, signedInfo, el('ds:SignatureValue', {}, toBase64(signature)), ...keyInfo);
  const [first, ...rest] = root.children ?? [];
  return serialize({ ...root, children: [first, signatureEl, ...rest] });
}

// ---------------------------------------------------------------------------------------------------
// Parsing and exclusive canonicalisation of received documents.
// ---------------------------------------------------------------------------------------------------

export function parseXml(text: string): XmlElement {
  let failure: string | undefined;
  let root: XmlElement | null = null;
  try {
    const parser = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== 'warning') failure ??= message;
      },
    });
    root = parser.parseFromString(text, 'text/xml').documentElement;
  } catch (err) {
    failure ??= (err as Error).message;
  }
  if (failure || !root) throw new XmlSignatureError(`the assertion is not well-formed XML${failure ? `: ${failure}` : ''}`);
  return root;
}

export const elementChildren = (node: XmlElement): XmlElement[] =>
  Array.from(node.childNodes).filter((n): n is XmlElement => n.nodeType === 1);
export const childNamed = (node: XmlElement, local: string, ns?: string): XmlElement | undefined =>
  elementChildren(node).find((c) => c.localName === local && (ns === undefined || c.namespaceURI === ns));
export const textOf = (node: XmlElement | undefined): string => (node?.textContent ?? '').trim();

/** exc-c14n (no comments, no InclusiveNamespaces) of `node`, leaving out `omit` (the enveloped signature). */
export function excC14n(node: XmlNode, omit?: XmlNode, rendered: Map<string, string> = new Map()): string {
  if (node.nodeType === 3 || node.nodeType === 4) return escapeText(node.nodeValue ?? '');
  if (node.nodeType !== 1 || node === omit) return '';
  const element = node as XmlElement;
  const attrs = Array.from(element.attributes).filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'));
  const used = new Map<string, string>();
  used.set(element.prefix ?? '', element.namespaceURI ?? '');
  for (const a of attrs) if (a.prefix) used.set(a.prefix, a.namespaceURI ?? '');
  const next = new Map(rendered);
  const decls: string[] = [];
  for (const [prefix, uri] of [...used].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if ((rendered.get(prefix) ?? '') === uri) continue;
    if (prefix === '' && uri === '' && !rendered.has('')) continue;
    decls.push(prefix ? ` xmlns:${prefix}="${escapeAttr(uri)}"` : ` xmlns="${escapeAttr(uri)}"`);
    next.set(prefix, uri);
  }
  const sortedAttrs = attrs
    .map((a) => ({ key: `${a.namespaceURI ?? ''} ${a.localName ?? a.name}`, text: ` ${a.name}="${escapeAttr(a.value)}"` }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const inner = Array.from(element.childNodes)
    .map((c) => excC14n(c, omit, next))
    .join('');
  return `<${element.tagName}${decls.join('')}${sortedAttrs.map((a) => a.text).join('')}>${inner}</${element.tagName}>`;
}

export interface SignatureCheck {
  /** The certificate in the signature's KeyInfo (base64 DER, no whitespace), if any. */
  certificate?: string;
  /** Verifies the signature with a public key; false when it does not match. */
  verifyWith(key: CryptoKey): Promise<boolean>;
}

/**
 * Checks the enveloped signature of `root` as far as it can without a key (reference to the root's ID,
 * transforms, digest) and returns what is needed to check the signature value against candidate keys.
 */
export async function checkEnvelopedSignature(root: XmlElement): Promise<SignatureCheck> {
  const signature = childNamed(root, 'Signature', DSIG_NS);
  if (!signature) throw new XmlSignatureError('the assertion is not signed (no ds:Signature child)');
  const signedInfo = childNamed(signature, 'SignedInfo', DSIG_NS);
  const reference = signedInfo && childNamed(signedInfo, 'Reference', DSIG_NS);
  if (!signedInfo || !reference) throw new XmlSignatureError('the signature has no SignedInfo/Reference');
  const id = root.getAttribute('ID');
  if (reference.getAttribute('URI') !== `#${id}`)
    throw new XmlSignatureError(`the signature references "${reference.getAttribute('URI')}", not the assertion "#${id}"`);
  const c14n = childNamed(signedInfo, 'CanonicalizationMethod', DSIG_NS)?.getAttribute('Algorithm');
  if (c14n !== EXC_C14N)
    throw new XmlSignatureError(
      c14n ? `canonicalization "${c14n}" is not supported (only exclusive c14n)` : 'the signature has no CanonicalizationMethod',
    );
  const digestAlg = algorithms[childNamed(reference, 'DigestMethod', DSIG_NS)?.getAttribute('Algorithm') ?? ''];
  const signatureAlg = algorithms[childNamed(signedInfo, 'SignatureMethod', DSIG_NS)?.getAttribute('Algorithm') ?? ''];
  if (!digestAlg || !signatureAlg)
    throw new XmlSignatureError('the signature uses an unsupported digest or signature algorithm (RSA with SHA-256 or SHA-1 only)');
  const expected = await digest(excC14n(root, signature), digestAlg);
  if (expected !== textOf(childNamed(reference, 'DigestValue', DSIG_NS)))
    throw new XmlSignatureError('the digest does not match: the assertion was changed after it was signed');
  const signedBytes = utf8(excC14n(signedInfo));
  const value = fromBase64(textOf(childNamed(signature, 'SignatureValue', DSIG_NS)));
  const keyInfo = childNamed(signature, 'KeyInfo', DSIG_NS);
  const x509 = keyInfo && childNamed(keyInfo, 'X509Data', DSIG_NS);
  const certificate = x509 ? textOf(childNamed(x509, 'X509Certificate', DSIG_NS)).replace(/\s+/g, '') : undefined;
  return {
    certificate,
    verifyWith: async (key) => {
      const usable = await crypto.subtle.importKey(
        'spki',
        await crypto.subtle.exportKey('spki', key),
        { name: 'RSASSA-PKCS1-v1_5', hash: signatureAlg },
        false,
        ['verify'],
      );
      return crypto.subtle.verify('RSASSA-PKCS1-v1_5', usable, value, signedBytes);
    },
  };
}

export { toBase64 };
