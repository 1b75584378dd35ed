/**
 * The Destination Service's part of the scenario and of its CRUD bodies: destinations, fragments and certificates,
 * and what a level (subaccount or instance) holds. Destinations and fragments are open like the real service's;
 * a scenario also refuses near-misses of known property names and unknown `Type`, `ProxyType` or `Authentication`.
 * Three parts: the property names and values the emulator knows; the schemas; the credentials `$skipCredentials`
 * removes and the `{{placeholders}}` in values.
 */
import { z } from 'zod';
import { didYouMean, levenshtein } from '../../core/name-hints.ts';

// ---------------------------------------------------------------------------------------------------------
// Destination properties: the names and values the emulator knows, for checking scenario destinations and
// fragments at load. Destinations are open: the real service keeps any additional property, so an unknown
// name is accepted; only a near-miss of a known name (`ProxyTyp`, `clientid`, `URL.header.x`) is refused,
// with the name it probably meant. See docs/destination-service-decisions.md ("Scenario destinations").

export const destinationTypes = ['HTTP', 'RFC', 'MAIL', 'LDAP', 'TCP'] as const;

export const proxyTypes = ['Internet', 'OnPremise', 'PrivateLink'] as const;

/** Every `Authentication` the emulator's Destination Service handles (auth-tokens/). */
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
  if (known.has(key)) return undefined;
  // Additional properties recur in every destination of a scenario; the edit distances to ~100 names are worked out once.
  if (nearCache.has(key)) return nearCache.get(key);
  const meant = nearestKnownProperty(key);
  if (nearCache.size >= 10_000) nearCache.clear();
  nearCache.set(key, meant);
  return meant;
}

const nearCache = new Map<string, string | undefined>();

function nearestKnownProperty(key: string): string | undefined {
  if (destinationPropertyFamilies.some((family) => key.startsWith(family))) return undefined;
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

// ---------------------------------------------------------------------------------------------------------
// Destinations, fragments and certificates

const always = { when: () => true };

/**
 * Destination property values are strings on the wire; scalars from YAML (`TRUE`, 8080) are turned into strings.
 * Checked in one pass over the keys rather than by a schema per property: a scenario of 100,000 destinations has
 * most of a million of them, and a per-key schema cost about 1 µs each (issue 19).
 */
function checkPropertyValues(value: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const key in value) {
    const v = value[key];
    const type = typeof v;
    if (type === 'string' || type === 'number' || type === 'boolean') continue;
    const received = v === null ? 'null' : Array.isArray(v) ? 'array' : type;
    ctx.addIssue({ code: 'custom', path: [key], message: `Invalid input: expected a string, number or boolean, received ${received}` });
  }
}

/** The checked properties with every number and boolean as a string (zod's output is its own copy, so in place). */
function propertiesAsStrings<T extends Record<string, unknown>>(value: T): T & Record<string, string> {
  for (const key in value) if (typeof value[key] !== 'string') (value as Record<string, unknown>)[key] = String(value[key]);
  return value as T & Record<string, string>;
}

// The checks come before the transform: a failed check stops a transform and every check after it.
const destinationBase = z.looseObject({
  Name: z.string({ error: 'Name is required and must be a string' }).min(1, 'Name must not be empty').max(200),
  Type: z.enum(destinationTypes, { error: (issue) => oneOfMessage('Type', destinationTypes, issue.input) }),
});
const destinationObject = destinationBase.superRefine(checkPropertyValues, always);

export const destinationSchema = destinationObject.transform(propertiesAsStrings);

const fragmentObject = z
  .looseObject({
    FragmentName: z.string({ error: 'FragmentName is required and must be a string' }).min(1).max(200),
  })
  .superRefine(checkPropertyValues, always)
  .superRefine((value, ctx) => {
    for (const forbidden of ['Name', 'Type']) {
      if (forbidden in value) ctx.addIssue({ code: 'custom', path: [forbidden], message: `a fragment must not contain ${forbidden}` });
    }
  });

export const fragmentSchema = fragmentObject.transform(propertiesAsStrings);

export const certificateSchema = z.object({
  Name: z.string({ error: 'Name is required and must be a string' }).min(1).max(200),
  Type: z.string().nullish(),
  Content: z.string({ error: 'Content is required (base64 of the file)' }).min(1),
});

/**
 * What a scenario adds to the CRUD rules of a destination or fragment: no near-miss of a known property name
 * (`ProxyTyp`, `clientid`), and `ProxyType` and `Authentication` from the lists the emulator knows. Runs even
 * when another field failed, so every mistake is reported at once.
 */
function checkScenarioProperties(value: unknown, ctx: z.RefinementCtx): void {
  if (typeof value !== 'object' || value === null) return;
  for (const key in value) {
    const meant = knownPropertyNear(key);
    if (meant)
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `did you mean \`${meant}\`? (a destination keeps any additional property, but not a near-miss of a known one)`,
      });
  }
  const props = value as Record<string, unknown>;
  for (const [field, allowed] of listedProperties) {
    const given = props[field];
    if (given !== undefined && !allowed.includes(given))
      ctx.addIssue({ code: 'custom', path: [field], message: oneOfMessage(field, allowed as readonly string[], given) });
  }
}

const listedProperties: readonly (readonly [string, readonly unknown[]])[] = [
  ['ProxyType', proxyTypes],
  ['Authentication', authenticationTypes],
];

/** A scenario destination's checks in one refinement (one per destination counts in a scenario of 100,000). */
function checkScenarioDestination(value: Record<string, unknown>, ctx: z.RefinementCtx): void {
  checkPropertyValues(value, ctx);
  checkScenarioProperties(value, ctx);
}

const scenarioDestinationSchema = destinationBase.superRefine(checkScenarioDestination, always).transform(propertiesAsStrings);
const scenarioFragmentSchema = fragmentObject.superRefine(checkScenarioProperties, always).transform(propertiesAsStrings);
const scenarioCertificateSchema = certificateSchema.strict();

export const levelContentShape = {
  destinations: z.array(scenarioDestinationSchema).default([]),
  fragments: z.array(scenarioFragmentSchema).default([]),
  certificates: z.array(scenarioCertificateSchema).default([]),
};

/**
 * An instance level; on the provider, `sharedWithSubscriber` names its entries that are in the shared zone of
 * every subscription level (as `$metadata.shared_with_subscriber: true` does through the REST API).
 */
export const instanceLevelSchema = z
  .strictObject({ ...levelContentShape, sharedWithSubscriber: z.array(z.string()).default([]) })
  .superRefine((level, ctx) => {
    const known = new Set([
      ...level.destinations.map((d) => d.Name),
      ...level.fragments.map((f) => f.FragmentName),
      ...level.certificates.map((c) => c.Name),
    ]);
    level.sharedWithSubscriber.forEach((name, j) => {
      if (!known.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['sharedWithSubscriber', j],
          message: `"${name}" is not a destination, fragment or certificate of this instance level`,
        });
    });
  });

export type DestinationProps = z.output<typeof destinationSchema>;
export type FragmentProps = z.output<typeof fragmentSchema>;
export type CertificateProps = z.output<typeof certificateSchema>;

// ---------------------------------------------------------------------------------------------------------
// Credentials and placeholders in property values

/** Properties `$skipCredentials=true` removes. */
export const credentialProperties = [
  'Password',
  'clientSecret',
  'tokenServicePassword',
  'KeyStorePassword',
  'TrustStorePassword',
  'tokenService.KeyStorePassword',
];

export function withoutCredentials(cfg: DestinationProps): DestinationProps {
  const copy = { ...cfg };
  for (const key of credentialProperties) delete copy[key];
  return copy;
}

/** Replace `{{services}}`-style placeholders in every property value. Unknown names stay as they are. */
export function expandPlaceholders(cfg: DestinationProps, values: Record<string, string>): DestinationProps {
  for (const [key, value] of Object.entries(cfg)) {
    if (value.includes('{{')) cfg[key] = value.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
  }
  return cfg;
}
