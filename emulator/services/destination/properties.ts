/**
 * The destination property names and values the emulator knows, for checking scenario destinations and
 * fragments at load. Destinations are open: the real service keeps any additional property, so an unknown
 * name is accepted; only a near-miss of a known name (`ProxyTyp`, `clientid`, `URL.header.x`) is refused,
 * with the name it probably meant. See docs/destination-service-decisions.md ("Scenario destinations").
 */
import { didYouMean, levenshtein } from '../../core/name-hints.ts';

export const destinationTypes = ['HTTP', 'RFC', 'MAIL', 'LDAP', 'TCP'] as const;

export const proxyTypes = ['Internet', 'OnPremise', 'PrivateLink'] as const;

/** Every `Authentication` the emulator's Destination Service handles (auth-tokens*.ts). */
export const authenticationTypes = [
  'NoAuthentication',
  'BasicAuthentication',
  'ClientCertificateAuthentication',
  'PrincipalPropagation',
  'OAuth2ClientCredentials',
  'OAuth2Password',
  'OAuth2JWTBearer',
  'OAuth2UserTokenExchange',
  'OAuth2SAMLBearerAssertion',
  'SAMLAssertion',
  'OAuth2RefreshToken',
  'OAuth2AuthorizationCode',
  'OAuth2TechnicalUserPropagation',
  'OAuth2TokenExchange',
] as const;

/** Property names SAP documents for destinations, that the emulator or SAP's clients read. */
export const knownDestinationProperties: readonly string[] = [
  // common
  'Name',
  'Type',
  'URL',
  'Authentication',
  'ProxyType',
  'Description',
  'CloudConnectorLocationId',
  'FragmentName',
  // trust and client certificates
  'TrustAll',
  'TrustStoreLocation',
  'TrustStorePassword',
  'HostnameVerifier',
  'KeyStoreLocation',
  'KeyStorePassword',
  'KeyStore.Source',
  // basic
  'User',
  'Password',
  'Preemptive',
  // OAuth
  'clientId',
  'clientSecret',
  'tokenServiceURL',
  'tokenServiceURLType',
  'tokenServiceUser',
  'tokenServicePassword',
  'scope',
  'tokenServiceURL.ProxyType',
  'tokenService.KeyStoreLocation',
  'tokenService.KeyStorePassword',
  'tokenService.addClientCredentialsInBody',
  'tokenServiceURL.ConnectionTimeoutInSeconds',
  'tokenServiceURL.SocketReadTimeoutInSeconds',
  'clientAssertion.type',
  'clientAssertion.destinationName',
  'x_user_token.jwks',
  'x_user_token.jwks_uri',
  'x_user_token.header.typ',
  // SAML
  'audience',
  'authnContextClassRef',
  'clientKey',
  'nameIdFormat',
  'nameQualifier',
  'assertionIssuer',
  'assertionRecipient',
  'userIdSource',
  'SAMLAssertionProvider',
  'skipUserAttributesPrefixInSAMLAttributes',
  'includeSigningCertificateInSAMLAssertion',
  'skipUserUuidInSAMLAttributes',
  'samlAssertionEncoding',
  'companyId',
  'SystemUser',
  // read by SAP's clients (SDK, approuter, Business Application Studio)
  'sap-client',
  'forwardAuthToken',
  'HTML5.ForwardAuthToken',
  'HTML5.DynamicDestination',
  'WebIDEEnabled',
  'WebIDESystem',
  'WebIDEUsage',
];

/** Families whose last part is free (`URL.headers.apikey`): the prefix itself is checked for near-misses. */
export const destinationPropertyFamilies: readonly string[] = [
  'URL.headers.',
  'URL.queries.',
  'tokenServiceURL.headers.',
  'tokenServiceURL.queries.',
  'tokenService.body.',
];

const known = new Set(knownDestinationProperties);

/** A near-miss: the same name in another casing, or one edit away (two for names of 8 characters and more). */
function isNearMiss(name: string, knownName: string): boolean {
  const distance = levenshtein(name.toLowerCase(), knownName.toLowerCase());
  return distance <= (Math.min(name.length, knownName.length) >= 8 ? 2 : 1);
}

/**
 * The known property `key` probably meant, or undefined when `key` is known, in a known family, or not near
 * any known name (an additional property, kept as it is).
 */
export function knownPropertyNear(key: string): string | undefined {
  if (known.has(key) || destinationPropertyFamilies.some((family) => key.startsWith(family))) return undefined;
  const near = knownDestinationProperties.filter((name) => isNearMiss(key, name));
  if (near.length)
    return near.sort((a, b) => levenshtein(key.toLowerCase(), a.toLowerCase()) - levenshtein(key.toLowerCase(), b.toLowerCase()))[0];
  const parts = key.split('.');
  for (const family of destinationPropertyFamilies) {
    const depth = family.split('.').length - 1;
    if (parts.length <= depth) continue;
    const head = `${parts.slice(0, depth).join('.')}.`;
    if (isNearMiss(head, family)) return family + parts.slice(depth).join('.');
  }
  return undefined;
}

/** `Type must be one of HTTP, RFC, …; did you mean \`HTTP\`?` for a value outside `allowed`. */
export function oneOfMessage(field: string, allowed: readonly string[], input: unknown): string {
  const hint = typeof input === 'string' ? didYouMean(input, allowed) : '';
  return `${field} must be one of ${allowed.join(', ')}${hint ? `; ${hint}` : ''}`;
}
