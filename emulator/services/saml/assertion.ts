/**
 * Builds and signs the SAML 2.0 assertion the Destination Service generates for `OAuth2SAMLBearerAssertion`
 * and `SAMLAssertion` destinations: the subject from the user token (`userIdSource`, else by `nameIdFormat`)
 * or `SystemUser`, issuer, audience, recipient, name qualifier, authentication context and user attributes
 * as the destination's properties say; signed with the subaccount trust key (reference §4.3).
 */
import { randomHex } from '../../core/ids.ts';
import { el, signEnveloped, type XmlNodeSpec } from './xml.ts';
import type { TrustKeyPair } from './state.ts';
import { SamlAssertionError } from './errors.ts';

export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const PREVIOUS_SESSION = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PreviousSession';
/** Prefix of custom user attributes unless `skipUserAttributesPrefixInSAMLAttributes` is true (emulator's choice). */
export const USER_ATTRIBUTE_PREFIX = 'user_attributes.';
const LIFETIME_MS = 10 * 60_000;

/** The properties of the destination an assertion is built for (`nameIdFormat`, `audience`, `SystemUser`, ...). */
export type AssertionProperties = Readonly<Record<string, string | undefined>>;

export interface AssertionInput {
  cfg: AssertionProperties;
  /** Claims of the user token; undefined with `SystemUser`. */
  claims?: Record<string, unknown>;
  issuer: string;
  now: number;
  keys: TrustKeyPair;
}

const isTrue = (v: string | undefined): boolean => v?.toLowerCase() === 'true';

/** A root claim name or a simple JsonPath (`$.ext_attr.zdn`, `$['a']['b']`). */
function claimAt(claims: Record<string, unknown>, source: string): unknown {
  if (!source.startsWith('$')) return claims[source];
  const steps = [...source.slice(1).matchAll(/\.([^.[\]]+)|\['([^']+)'\]|\[(\d+)\]/g)].map((m) => m[1] ?? m[2] ?? Number(m[3]));
  return steps.reduce<unknown>(
    (value, step) => (value && typeof value === 'object' ? (value as Record<string | number, unknown>)[step] : undefined),
    claims,
  );
}

/** The NameID value and format (reference §4.3). */
export function subjectOf(cfg: AssertionProperties, claims: Record<string, unknown> | undefined): { nameId: string; format: string } {
  const format = cfg.nameIdFormat || NAMEID_UNSPECIFIED;
  if (cfg.SystemUser) return { nameId: cfg.SystemUser, format };
  if (!claims) throw new SamlAssertionError('user ID could not be determined: no user token was given');
  const source = cfg.userIdSource || (format === NAMEID_EMAIL ? 'email' : 'user_name');
  const value = claimAt(claims, source);
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new SamlAssertionError(
      `user ID could not be determined: the user token has no "${source}"${cfg.userIdSource ? ' (userIdSource)' : ` (nameIdFormat ${format})`}`,
    );
  }
  return { nameId: String(value), format };
}

function attributesOf(cfg: AssertionProperties, claims: Record<string, unknown> | undefined): [string, string[]][] {
  if (!claims) return [];
  const out: [string, string[]][] = [];
  const add = (name: string, value: unknown): void => {
    const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined && v !== null).map(String);
    if (values.length) out.push([name, values]);
  };
  add('email', claims.email);
  add('first_name', claims.given_name);
  add('last_name', claims.family_name);
  if (!isTrue(cfg.skipUserUuidInSAMLAttributes)) add('user_uuid', claims.user_uuid ?? claims.user_id);
  const prefix = isTrue(cfg.skipUserAttributesPrefixInSAMLAttributes) ? '' : USER_ATTRIBUTE_PREFIX;
  for (const [key, value] of Object.entries((claims['xs.user.attributes'] as Record<string, unknown> | undefined) ?? {}))
    add(`${prefix}${key}`, value);
  add('Groups', claims['xs.saml.groups']);
  return out;
}

/** The signed assertion as XML text. */
export async function buildSignedAssertion(input: AssertionInput): Promise<string> {
  const { cfg, claims, now } = input;
  const { nameId, format } = subjectOf(cfg, claims);
  const instant = new Date(now).toISOString();
  const notOnOrAfter = new Date(now + LIFETIME_MS).toISOString();
  const audience = cfg.audience || cfg.tokenServiceURL || input.issuer;
  const recipient = cfg.assertionRecipient || cfg.tokenServiceURL || audience;
  const attributes = attributesOf(cfg, claims);
  const saml = (name: string, attrs: XmlNodeSpec['attrs'] = {}, ...children: (XmlNodeSpec | string)[]): XmlNodeSpec =>
    el(`saml2:${name}`, attrs, ...children);
  const assertion = saml(
    'Assertion',
    { 'xmlns:saml2': SAML_NS, ID: `_${randomHex(16)}`, IssueInstant: instant, Version: '2.0' },
    saml('Issuer', {}, cfg.assertionIssuer || input.issuer),
    saml(
      'Subject',
      {},
      saml('NameID', { Format: format, NameQualifier: cfg.nameQualifier || undefined }, nameId),
      saml(
        'SubjectConfirmation',
        { Method: BEARER },
        saml('SubjectConfirmationData', { NotOnOrAfter: notOnOrAfter, Recipient: recipient }),
      ),
    ),
    saml(
      'Conditions',
      { NotBefore: new Date(now - 60_000).toISOString(), NotOnOrAfter: notOnOrAfter },
      saml('AudienceRestriction', {}, saml('Audience', {}, audience)),
    ),
    saml(
      'AuthnStatement',
      { AuthnInstant: instant, SessionIndex: `_${randomHex(8)}` },
      saml('AuthnContext', {}, saml('AuthnContextClassRef', {}, cfg.authnContextClassRef || PREVIOUS_SESSION)),
    ),
    ...(attributes.length
      ? [
          saml(
            'AttributeStatement',
            {},
            ...attributes.map(([name, values]) => saml('Attribute', { Name: name }, ...values.map((v) => saml('AttributeValue', {}, v)))),
          ),
        ]
      : []),
  );
  const includeCertificate = (cfg.includeSigningCertificateInSAMLAssertion ?? 'true').toLowerCase() !== 'false';
  return signEnveloped(assertion, input.keys.privateKey, includeCertificate ? input.keys.certificate : undefined);
}

/** base64 or base64url (no padding) of the UTF-8 XML. */
export function encodeAssertion(xml: string, encoding: 'base64' | 'base64url'): string {
  const bytes = new TextEncoder().encode(xml);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  const b64 = btoa(binary);
  return encoding === 'base64' ? b64 : b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Inverse of {@link encodeAssertion}, accepting either alphabet, with or without padding. */
export function decodeAssertion(text: string): string {
  const b64 = text.trim().replace(/-/g, '+').replace(/_/g, '/').replace(/\s+/g, '');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}
