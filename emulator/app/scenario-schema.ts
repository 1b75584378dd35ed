/**
 * The scenario file: what a subaccount looks like at start (tenants, bindings, OAuth clients, users,
 * destinations, fragments, certificates). Every scenario is validated with this schema; errors name the field.
 * The emulator's own objects are strict (an unknown key is refused with a did-you-mean); destinations and
 * fragments are open like the real service's, but a near-miss of a known property name and an unknown `Type`,
 * `ProxyType` or `Authentication` are refused (destination-properties.ts). The CRUD API and snapshots use the
 * plain destination, fragment and certificate schemas, which keep every additional property.
 */
import { z } from 'zod';
import { tooDeepAt, tooDeepMessage } from '../core/json-depth.ts';
import { durationText, maxDurationMs } from '../core/time-bounds.ts';
import { backendSchema, cloudConnectorsSchema } from '../services/cloud-connector/schema.ts';
import { authenticationTypes, destinationTypes, knownPropertyNear, oneOfMessage, proxyTypes } from '../services/destination/properties.ts';
import { didYouMean } from '../core/name-hints.ts';

export { destinationTypes } from '../services/destination/properties.ts';

/** An access token lifetime in seconds: positive, at most 100 years (so `exp` stays a date). */
const tokenValiditySeconds = z
  .number({ error: 'tokenValidity must be a number of seconds' })
  .int('tokenValidity must be a whole number of seconds')
  .positive('tokenValidity must be positive')
  .max(maxDurationMs / 1000, `tokenValidity must be ${durationText}`)
  .optional();

/** Destination property values are strings on the wire; scalars from YAML (`TRUE`, 8080) are turned into strings. */
const propertyValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

export const destinationSchema = z
  .object({
    Name: z.string({ error: 'Name is required and must be a string' }).min(1, 'Name must not be empty').max(200),
    Type: z.enum(destinationTypes, { error: (issue) => oneOfMessage('Type', destinationTypes, issue.input) }),
  })
  .catchall(propertyValue);

export const fragmentSchema = z
  .object({
    FragmentName: z.string({ error: 'FragmentName is required and must be a string' }).min(1).max(200),
  })
  .catchall(propertyValue)
  .superRefine((value, ctx) => {
    for (const forbidden of ['Name', 'Type']) {
      if (forbidden in value) ctx.addIssue({ code: 'custom', path: [forbidden], message: `a fragment must not contain ${forbidden}` });
    }
  });

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
  for (const key of Object.keys(value)) {
    const meant = knownPropertyNear(key);
    if (meant)
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `did you mean \`${meant}\`? (a destination keeps any additional property, but not a near-miss of a known one)`,
      });
  }
  const props = value as Record<string, unknown>;
  for (const [field, allowed] of [
    ['ProxyType', proxyTypes],
    ['Authentication', authenticationTypes],
  ] as const) {
    const given = props[field];
    if (given !== undefined && !(allowed as readonly unknown[]).includes(given))
      ctx.addIssue({ code: 'custom', path: [field], message: oneOfMessage(field, allowed, given) });
  }
}

const always = { when: () => true };
const scenarioDestinationSchema = destinationSchema.superRefine(checkScenarioProperties, always);
const scenarioFragmentSchema = fragmentSchema.superRefine(checkScenarioProperties, always);
const scenarioCertificateSchema = certificateSchema.strict();

const levelContentShape = {
  destinations: z.array(scenarioDestinationSchema).default([]),
  fragments: z.array(scenarioFragmentSchema).default([]),
  certificates: z.array(scenarioCertificateSchema).default([]),
};

/**
 * An instance level; on the provider, `sharedWithSubscriber` names its entries that are in the shared zone of
 * every subscription level (as `$metadata.shared_with_subscriber: true` does through the REST API).
 */
const instanceLevelSchema = z
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

const subdomainSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'subdomain must be lower-case letters, digits and inner dashes');

export const tenantSchema = z.strictObject({
  subdomain: subdomainSchema,
  zid: z.string().min(1).optional(),
  subaccountId: z.string().min(1).optional(),
  ...levelContentShape,
  /** Destination service instance level, keyed by the instance's binding name. */
  instances: z.record(z.string(), instanceLevelSchema).default({}),
  /** Cloud Connectors connected to this subaccount (see emulator/cloud-connector/schema.ts). */
  cloudConnectors: cloudConnectorsSchema,
});

export const bindingSchema = z.strictObject({
  name: z.string().min(1),
  service: z.enum(['xsuaa', 'destination', 'connectivity']),
  plan: z.string().optional(),
  clientid: z.string().min(1).optional(),
  clientsecret: z.string().min(1).optional(),
  xsappname: z.string().min(1).optional(),
  instanceid: z.string().min(1).optional(),
  /** `x509`: the binding carries a certificate and key issued by the emulator CA (and `certurl`) instead of a secret. */
  credentialType: z.enum(['binding-secret', 'x509'], { error: 'credentialType must be binding-secret or x509' }).default('binding-secret'),
});

export const clientSchema = z.strictObject({
  clientid: z.string().min(1),
  clientsecret: z.string().min(1),
  xsappname: z.string().min(1).optional(),
  /** Scopes a client_credentials token of this client carries. */
  authorities: z.array(z.string()).default([]),
  redirectUris: z.array(z.string()).default([]),
  /** Lifetime of this client's access tokens in seconds (xs-security.json `token-validity`); default: the scenario's. */
  tokenValidity: tokenValiditySeconds,
});

export const userSchema = z.strictObject({
  name: z.string().min(1),
  password: z.string().optional(),
  email: z.string().optional(),
  givenName: z.string().optional(),
  familyName: z.string().optional(),
  userId: z.string().optional(),
  origin: z.string().default('sap.default'),
  /** Scopes; a name without a dot (`Display`) is prefixed with the requesting app's xsappname. */
  scopes: z.array(z.string()).default([]),
  attributes: z.record(z.string(), z.array(z.string())).default({}),
  roleCollections: z.array(z.string()).default([]),
  /** Subdomains the user may sign in to; empty = every tenant. */
  tenants: z.array(z.string()).default([]),
});

export const scenarioSchema = z
  .strictObject({
    name: z.string().default('scenario'),
    /** The first tenant is the provider subaccount; the others are subscribers. */
    tenants: z.array(tenantSchema).min(1, 'at least one tenant (the provider) is required'),
    bindings: z.array(bindingSchema).default([]),
    clients: z.array(clientSchema).default([]),
    users: z.array(userSchema).default([]),
    /** User `/oauth/authorize` signs in when the request names none. */
    defaultUser: z.string().optional(),
    /** Lifetime of access tokens in seconds, for every client without its own (XSUAA's default: 43200 = 12 h). */
    tokenValidity: tokenValiditySeconds,
    /** The fake on-prem backend: stub routes (see emulator/cloud-connector/schema.ts). */
    backend: backendSchema,
  })
  .superRefine((scenario, ctx) => {
    const seen = new Set<string>();
    scenario.tenants.forEach((t, i) => {
      if (seen.has(t.subdomain))
        ctx.addIssue({ code: 'custom', path: ['tenants', i, 'subdomain'], message: `duplicate subdomain "${t.subdomain}"` });
      seen.add(t.subdomain);
    });
    // Subscription level zones: only the provider shares, and a shared name cannot also be a subscriber's own.
    scenario.tenants.forEach((t, i) => {
      for (const [binding, level] of Object.entries(t.instances)) {
        if (i > 0 && level.sharedWithSubscriber.length) {
          ctx.addIssue({
            code: 'custom',
            path: ['tenants', i, 'instances', binding, 'sharedWithSubscriber'],
            message: 'only the provider (the first tenant) shares instance-level entries with subscribers',
          });
        }
        const shared = new Set(i > 0 ? (scenario.tenants[0].instances[binding]?.sharedWithSubscriber ?? []) : []);
        level.destinations.forEach((d, j) => {
          if (shared.has(d.Name))
            ctx.addIssue({
              code: 'custom',
              path: ['tenants', i, 'instances', binding, 'destinations', j, 'Name'],
              message: `"${d.Name}" is shared with subscribers by the provider; names are unique across both zones`,
            });
        });
      }
    });
    const names = new Set<string>();
    scenario.bindings.forEach((b, i) => {
      if (names.has(b.name)) ctx.addIssue({ code: 'custom', path: ['bindings', i, 'name'], message: `duplicate binding name "${b.name}"` });
      names.add(b.name);
    });
  });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type DestinationProps = z.output<typeof destinationSchema>;
export type FragmentProps = z.output<typeof fragmentSchema>;
export type CertificateProps = z.output<typeof certificateSchema>;

/** A validation failure whose message names every offending field, e.g. `tenants[0].destinations[1].Type: …`. */
export class ValidationError extends Error {
  readonly issues: { path: string; message: string }[];
  constructor(what: string, issues: { path: string; message: string }[]) {
    super(`${what} is invalid: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** The keys a strict object schema knows (its shape), for the did-you-mean of an unknown key. */
function shapeKeys(schema: unknown): string[] {
  const shape = (schema as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

/** `unknown key; did you mean \`tenants\`?`, or the keys there are when none is near. */
function unknownKeyMessage(key: string, keys: string[]): string {
  const hint = didYouMean(key, keys);
  return `unknown key; ${hint || `the keys here are ${keys.join(', ')}`}`;
}

/**
 * Parse with a schema, throwing a ValidationError that names the fields. An unknown key of a strict object
 * is reported at its own path (`tenants[0].destinatons`) with the key it probably meant. A value nested too
 * deep (json-depth.ts) is refused first.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const deep = tooDeepAt(value);
  if (deep) throw new ValidationError(what, [{ path: formatPath(deep), message: tooDeepMessage }]);
  const keysAt = new Map<string, string[]>();
  const result = schema.safeParse(value, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') keysAt.set(formatPath(issue.path ?? []), shapeKeys(issue.inst));
      return undefined;
    },
  });
  if (result.success) return result.data;
  throw new ValidationError(
    what,
    result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({
            path: formatPath([...issue.path, key]),
            message: unknownKeyMessage(key, keysAt.get(formatPath(issue.path)) ?? []),
          }))
        : [{ path: formatPath(issue.path), message: issue.message }],
    ),
  );
}
