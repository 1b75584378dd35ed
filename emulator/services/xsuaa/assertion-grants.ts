/**
 * The subject of XSUAA's assertion grants, checked before a user token is minted:
 * `saml2-bearer` (RFC 7522: a SAML 2.0 assertion signed with a subaccount trust certificate of this emulator)
 * and `token-exchange` (RFC 8693: a subject token this XSUAA issued; optionally answered with a SAML assertion,
 * as IAS does for the predefined chain `com.sap.iasGeneratedOAuth2SamlBearerAssertion`).
 */
import type { XsuaaView } from './state.ts';
import { completeUser, type User } from '../../core/subaccount.ts';
import {
  checkEnvelopedSignature,
  childNamed,
  decodeAssertion,
  elementChildren,
  parseXml,
  SAML_NS,
  textOf,
  trustedSamlKeys,
  XmlSignatureError,
} from '../saml/index.ts';
import { invalidGrant, invalidRequest, OAuthError } from './errors.ts';
import type { TokenMinter, XsuaaClaims } from './tokens.ts';

export const SAML2_BEARER = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
};
const CLOCK_SKEW_MS = 60_000;
const userAttributePrefix = 'user_attributes.';

/** The user a signed SAML assertion names; throws an OAuthError saying what is wrong with it. */
export async function userFromSamlAssertion(encoded: string, state: XsuaaView, now: number): Promise<User> {
  let xml: string;
  try {
    xml = encoded.trim().startsWith('<') ? encoded : decodeAssertion(decodeURIComponent(encoded));
  } catch {
    throw invalidRequest('assertion is neither base64 nor base64url encoded XML');
  }
  try {
    const root = parseXml(xml);
    if (root.localName !== 'Assertion' || root.namespaceURI !== SAML_NS)
      throw invalidGrant(`the assertion's root is ${root.tagName}, not a SAML 2.0 Assertion`);
    const check = await checkEnvelopedSignature(root);
    const keys = await trustedSamlKeys(state);
    const candidates = check.certificate ? keys.filter((k) => k.certificate === check.certificate) : keys;
    if (!candidates.length)
      throw new OAuthError(
        401,
        'invalid_token',
        'The assertion is signed with a certificate that is not a trust certificate of this emulator (see /v1/saml2Metadata/certificate)',
      );
    const verified = await Promise.all(candidates.map((k) => check.verifyWith(k.publicKey)));
    if (!verified.includes(true)) throw new OAuthError(401, 'invalid_token', 'The assertion signature is invalid');
    checkConditions(root, now);
    return samlUser(root, state);
  } catch (err) {
    if (err instanceof XmlSignatureError) throw new OAuthError(401, 'invalid_token', `The assertion is not accepted: ${err.message}`);
    throw err;
  }
}

function checkConditions(root: ReturnType<typeof parseXml>, now: number): void {
  const conditions = childNamed(root, 'Conditions', SAML_NS);
  const notBefore = conditions?.getAttribute('NotBefore');
  const notOnOrAfter = conditions?.getAttribute('NotOnOrAfter');
  if (notBefore && Date.parse(notBefore) - CLOCK_SKEW_MS > now) throw invalidGrant(`The assertion is not valid before ${notBefore}`);
  if (notOnOrAfter && Date.parse(notOnOrAfter) + CLOCK_SKEW_MS <= now) throw invalidGrant(`The assertion expired at ${notOnOrAfter}`);
}

function samlUser(root: ReturnType<typeof parseXml>, state: XsuaaView): User {
  const subject = childNamed(root, 'Subject', SAML_NS);
  const nameIdEl = subject && childNamed(subject, 'NameID', SAML_NS);
  const nameId = textOf(nameIdEl);
  if (!nameId) throw invalidGrant('The assertion has no Subject/NameID');
  const attributes: Record<string, string[]> = {};
  const statement = childNamed(root, 'AttributeStatement', SAML_NS);
  for (const attr of statement ? elementChildren(statement) : []) {
    attributes[attr.getAttribute('Name') ?? ''] = elementChildren(attr).map((v) => textOf(v));
  }
  const byEmail = nameIdEl?.getAttribute('Format')?.endsWith(':emailAddress');
  const known = byEmail ? [...state.users.values()].find((u) => u.email === nameId) : state.users.get(nameId);
  if (known) return known;
  const custom = Object.fromEntries(
    Object.entries(attributes)
      .filter(([k]) => !['email', 'first_name', 'last_name', 'user_uuid', 'Groups'].includes(k))
      .map(([k, v]) => [k.startsWith(userAttributePrefix) ? k.slice(userAttributePrefix.length) : k, v]),
  );
  return completeUser({
    name: nameId,
    email: attributes.email?.[0] ?? (byEmail ? nameId : undefined),
    givenName: attributes.first_name?.[0],
    familyName: attributes.last_name?.[0],
    origin: 'sap.default',
    attributes: custom,
  });
}

export interface ExchangeSubject {
  claims: XsuaaClaims;
  requestedTokenType: string;
  actor?: XsuaaClaims;
}

/** Checks an RFC 8693 request: the subject (and actor) token must be tokens this XSUAA issued. */
export async function tokenExchangeSubject(form: URLSearchParams, minter: TokenMinter): Promise<ExchangeSubject> {
  const subject = form.get('subject_token');
  const subjectType = form.get('subject_token_type');
  if (!subject) throw invalidRequest('Missing parameter: subject_token');
  if (!subjectType) throw invalidRequest('Missing parameter: subject_token_type');
  const accepted = [TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt, TOKEN_TYPE.idToken];
  if (!accepted.includes(subjectType))
    throw invalidRequest(`subject_token_type "${subjectType}" is not supported; use one of ${accepted.join(', ')}`);
  const verified = await minter.verify(subject);
  if (!verified.ok) throw new OAuthError(401, 'invalid_token', `The subject_token is not accepted: ${verified.reason}`);
  if (!verified.claims.user_name) throw invalidGrant('The subject_token is not a user token (it has no user_name)');
  let actor: XsuaaClaims | undefined;
  const actorToken = form.get('actor_token');
  if (actorToken) {
    if (!form.get('actor_token_type')) throw invalidRequest('actor_token_type is required together with actor_token');
    const verifiedActor = await minter.verify(actorToken);
    if (!verifiedActor.ok) throw new OAuthError(401, 'invalid_token', `The actor_token is not accepted: ${verifiedActor.reason}`);
    actor = verifiedActor.claims;
  }
  const requestedTokenType = form.get('requested_token_type') ?? TOKEN_TYPE.accessToken;
  if (![TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt, TOKEN_TYPE.saml2].includes(requestedTokenType)) {
    throw invalidRequest(
      `requested_token_type "${requestedTokenType}" is not supported; use ${TOKEN_TYPE.accessToken}, ${TOKEN_TYPE.jwt} or ${TOKEN_TYPE.saml2}`,
    );
  }
  return { claims: verified.claims, requestedTokenType, actor };
}
