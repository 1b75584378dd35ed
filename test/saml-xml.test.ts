/**
 * The emulator's own XML signature code (Web Crypto, no xml-crypto in the core) against xml-crypto as an
 * independent implementation: exclusive canonicalisation of random documents must agree, and an assertion that
 * xml-crypto signs with the subaccount trust key must be accepted by the emulator's XSUAA.
 */
import { createPrivateKey } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { defaultSamlJwk } from '../emulator/services/saml/default-key.ts';
import { excC14n, parseXml } from '../emulator/services/saml/xml.ts';
import { postForm } from './helpers.ts';

const namespaces: Record<string, string> = { '': 'urn:default', a: 'urn:a', b: 'urn:b', c: 'urn:a' };
const prefixes = ['', 'a', 'b', 'c'];
const text = fc.string({ unit: fc.constantFrom('x', ' ', '&', '<', '>', '"', "'", '\t', '\n', 'é') });
const escape = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;');

interface Tree {
  prefix: string;
  name: string;
  declare: string[];
  attrs: [string, string, string][];
  children: (Tree | string)[];
}
const { tree } = fc.letrec<{ tree: Tree; node: Tree | string }>((tie) => ({
  tree: fc.record({
    prefix: fc.constantFrom(...prefixes),
    name: fc.constantFrom('r', 's', 'T'),
    declare: fc.subarray(prefixes),
    attrs: fc.uniqueArray(fc.tuple(fc.constantFrom('', 'a', 'b'), fc.constantFrom('id', 'Z', 'k'), text), {
      maxLength: 3,
      selector: ([p, n]) => `${namespaces[p] ?? ''}|${n}`,
    }),
    children: fc.array(tie('node'), { maxLength: 3, depthIdentifier: 'tree' }),
  }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, tie('tree')),
}));

/** Serialises non-canonically: redundant declarations, self-closing empty elements, attributes in given order. */
function write(t: Tree | string, root = true): string {
  if (typeof t === 'string') return escape(t);
  const declared = root ? prefixes : t.declare;
  const decls = declared.map((p) => (p ? ` xmlns:${p}="${namespaces[p]}"` : ` xmlns="${namespaces['']}"`)).join('');
  const attrs = t.attrs.map(([p, n, v]) => ` ${p ? `${p}:` : ''}${n}="${escape(v)}"`).join('');
  const tag = t.prefix ? `${t.prefix}:${t.name}` : t.name;
  const inner = t.children.map((c) => write(c, false)).join('');
  return inner ? `<${tag}${decls}${attrs}>${inner}</${tag}>` : `<${tag}${decls}${attrs}/>`;
}

describe('exclusive canonicalisation', () => {
  it('agrees with xml-crypto on random documents with namespaces, prefixed attributes and escapes', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const root = parseXml(write(t));
        const theirs = new ExclusiveCanonicalization().process(root as unknown as Element, {});
        expect(excC14n(root)).toBe(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees on a subtree whose namespaces are declared on an ancestor', () => {
    const root = parseXml('<a:r xmlns:a="urn:a" xmlns:b="urn:b"><b:s a:k="1"><a:t/></b:s></a:r>');
    const child = root.getElementsByTagNameNS('urn:b', 's')[0];
    expect(excC14n(child)).toBe(new ExclusiveCanonicalization().process(child as unknown as Element, {}));
    expect(excC14n(child)).toBe('<b:s xmlns:a="urn:a" xmlns:b="urn:b" a:k="1"><a:t></a:t></b:s>');
  });
});

describe('assertions signed by xml-crypto', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startEmulator({
      port: 0,
      scenario: {
        name: 'saml-xml',
        tenants: [{ subdomain: 'provider' }],
        clients: [{ clientid: 'c1', clientsecret: 's1', authorities: [] }],
        users: [{ name: 'bob', email: 'bob@example.com' }],
      },
    });
  });
  afterAll(() => emu?.stop());

  function signedByXmlCrypto(nameId: string, format: string, pretty: boolean): string {
    const now = emu.core.clock.now();
    const nl = pretty ? '\n  ' : '';
    const xml =
      `<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" Version="2.0" IssueInstant="${new Date(now).toISOString()}" ID="_ext1">${nl}` +
      `<saml2:Issuer>external-signer</saml2:Issuer>${nl}` +
      `<saml2:Subject><saml2:NameID Format="${format}">${nameId}</saml2:NameID></saml2:Subject>${nl}` +
      `<saml2:Conditions NotBefore="${new Date(now - 1000).toISOString()}" NotOnOrAfter="${new Date(now + 300_000).toISOString()}"/>${nl}` +
      '</saml2:Assertion>';
    const privateKey = createPrivateKey({ key: defaultSamlJwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' });
    const signer = new SignedXml({
      privateKey,
      signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    });
    signer.addReference({
      xpath: "/*[local-name()='Assertion']",
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    });
    signer.computeSignature(xml, { location: { reference: "/*[local-name()='Assertion']/*[local-name()='Issuer']", action: 'after' } });
    return signer.getSignedXml();
  }

  it.each([false, true])('are accepted by the saml2-bearer grant when signed with the trust key (pretty-printed: %s)', async (pretty) => {
    const assertion = Buffer.from(
      signedByXmlCrypto('bob@example.com', 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', pretty),
    ).toString('base64');
    const res = await postForm(`${emu.urls.services}/oauth/token`, {
      grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
      client_id: 'c1',
      client_secret: 's1',
      assertion,
    });
    expect(res.status).toBe(200);
    const claims = JSON.parse(
      Buffer.from(((await res.json()) as { access_token: string }).access_token.split('.')[1], 'base64url').toString(),
    );
    expect([claims.user_name, claims.email]).toEqual(['bob', 'bob@example.com']);
  });
});
