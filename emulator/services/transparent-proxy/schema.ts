/**
 * The Transparent Proxy's inputs: Destination custom resources in SAP's own format
 * (`apiVersion: destination.connectivity.api.sap/v1`, `kind: Destination`), the proxy's configuration (its tenant
 * mode and defaults), and the request headers it reads. Strict like the rest of the scenario: an unknown key is
 * refused with a did-you-mean, every error names the field. Which names a CR may refer to (destination bindings,
 * tenants) is checked against the scenario by {@link checkCrReferences}.
 */
import { z } from 'zod';
import { consumeLevels } from '../destination/lookup/consume.ts';
import { IAS_SAML_CHAIN, SEQUENTIAL_USER_CHAIN } from '../destination/lookup/destination-chains.ts';

export const destinationCrApiVersion = 'destination.connectivity.api.sap/v1';
export const destinationCrKind = 'Destination';
/** Non-HTTP multitenancy: one Service per tenant, `<cr>-<tenant>` (a JSON array of subdomains). */
export const tenantSubdomainsAnnotation = 'transparent-proxy.connectivity.api.sap/tenant-subdomains';
/** `destinationRef.name` of a dynamic CR: the destination comes from `X-Destination-Name`. */
export const dynamicDestinationName = '*';
/** The port of the Kubernetes Service the real proxy creates for a CR when `spec.service.port` is not given. */
export const defaultServicePort = 80;

export const destinationLevels = consumeLevels;
export type DestinationLevel = (typeof consumeLevels)[number];
export const destinationChains = [IAS_SAML_CHAIN, SEQUENTIAL_USER_CHAIN] as const;

const levelSchema = z.enum(destinationLevels, { error: `level must be one of ${destinationLevels.join(', ')}` });

/** A Kubernetes Service name (RFC 1035 label): the real proxy names the Service after the CR. */
const serviceName = z
  .string({ error: 'name is required' })
  .min(1, 'name must not be empty')
  .max(63, 'name has at most 63 characters (it names a Kubernetes Service)')
  .regex(
    /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    'name must be lower-case letters, digits and inner dashes, starting with a letter (a Service name)',
  );

const namespaceName = z
  .string()
  .min(1, 'namespace must not be empty')
  .max(63, 'namespace has at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'namespace must be lower-case letters, digits and inner dashes');

/** The tenant-subdomains annotation's value: a JSON array of subdomains, as text. */
export function parseTenantSubdomains(value: string): string[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return `must be a JSON array of subdomains as text, e.g. '["tenant1","tenant2"]'`;
  }
  if (!Array.isArray(parsed) || !parsed.every((s): s is string => typeof s === 'string' && s.length > 0))
    return 'must be a JSON array of non-empty subdomain strings';
  if (new Set(parsed).size !== parsed.length) return 'names a subdomain twice';
  return parsed;
}

const metadataSchema = z.strictObject({
  name: serviceName,
  /** kubectl's default namespace when the manifest names none. */
  namespace: namespaceName.default('default'),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z
    .record(z.string(), z.string({ error: 'annotation values are strings (quote JSON arrays)' }))
    .optional()
    .superRefine((annotations, ctx) => {
      const value = annotations?.[tenantSubdomainsAnnotation];
      if (value === undefined) return;
      const parsed = parseTenantSubdomains(value);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', path: [tenantSubdomainsAnnotation], message: parsed });
    }),
  // What `kubectl get -o yaml` adds: accepted, not used.
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
  managedFields: z.array(z.unknown()).optional(),
});

const specSchema = z
  .strictObject({
    destinationRef: z.strictObject(
      {
        name: z
          .string({ error: 'destinationRef.name is required (a destination name, or "*" for a dynamic CR)' })
          .min(1, 'name must not be empty')
          .max(200, 'name has at most 200 characters'),
        level: levelSchema.optional(),
      },
      // Only its own absence: other issues (an unknown key) keep the messages that name the keys.
      {
        error: (issue) =>
          issue.code === 'invalid_type' ? 'destinationRef is required: { name: <destination> } (or name "*" for a dynamic CR)' : undefined,
      },
    ),
    fragmentRef: z
      .strictObject({
        name: z.string({ error: 'fragmentRef.name is required' }).min(1, 'name must not be empty'),
        level: levelSchema.optional(),
        optional: z.boolean({ error: 'optional must be true or false' }).optional(),
      })
      .optional(),
    chainRef: z
      .strictObject({
        name: z.enum(destinationChains, { error: `name must be a predefined destination chain: ${destinationChains.join(', ')}` }),
        variables: z
          .array(z.strictObject({ name: z.string().min(1, 'name must not be empty'), value: z.string({ error: 'value is a string' }) }))
          .default([]),
      })
      .optional(),
    /** The destination service instance (a binding of the scenario) the proxy looks the destination up with. */
    destinationServiceInstanceName: z.string().min(1, 'destinationServiceInstanceName must not be empty').optional(),
    /** The Kubernetes Service the real proxy creates for the CR (default port 80). */
    service: z
      .strictObject({ port: z.number({ error: 'port is a number' }).int().min(1).max(65535) })
      .partial()
      .optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.destinationRef.name !== dynamicDestinationName) return;
    // A dynamic CR takes all of these from the request (X-Destination-Level, X-Fragment-*, X-Chain-*).
    if (spec.destinationRef.level)
      ctx.addIssue({
        code: 'custom',
        path: ['destinationRef', 'level'],
        message: 'a dynamic CR (name "*") takes the level from X-Destination-Level',
      });
    if (spec.fragmentRef)
      ctx.addIssue({
        code: 'custom',
        path: ['fragmentRef'],
        message: 'a dynamic CR (destinationRef.name "*") takes fragments from X-Fragment-Name',
      });
    if (spec.chainRef)
      ctx.addIssue({
        code: 'custom',
        path: ['chainRef'],
        message: 'a dynamic CR (destinationRef.name "*") takes the chain from X-Chain-Name',
      });
  });

/** One Destination custom resource, as `kubectl apply` takes it (`status` as the real proxy writes it is ignored). */
export const destinationCrSchema = z
  .strictObject({
    apiVersion: z.literal(destinationCrApiVersion, { error: `apiVersion must be "${destinationCrApiVersion}"` }),
    kind: z.literal(destinationCrKind, { error: `kind must be "${destinationCrKind}"` }),
    metadata: metadataSchema,
    spec: specSchema,
    status: z.unknown().optional(),
  })
  .meta({ title: 'DestinationCustomResource' });

export type DestinationCrInput = z.input<typeof destinationCrSchema>;
export type DestinationCustomResource = z.output<typeof destinationCrSchema>;

const seconds = (name: string, max: number, fallback: number) =>
  z
    .number({ error: `${name} is a number of seconds` })
    .int(`${name} is a whole number of seconds`)
    .min(1, `${name} is at least 1 second`)
    .max(max, `${name} is at most ${max} seconds`)
    .default(fallback);

/** The proxy's own configuration (the `config` of SAP's Helm chart, as far as the emulator uses it). */
export const transparentProxyConfigSchema = z
  .strictObject({
    /** `dedicated`: every request is the provider's; `shared`: the caller names the tenant (X-Tenant-Subdomain or X-Tenant-Id). */
    tenantMode: z.enum(['dedicated', 'shared'], { error: 'tenantMode must be dedicated or shared' }).default('dedicated'),
    /** The destination binding a CR without `destinationServiceInstanceName` uses; default: the first destination binding. */
    destinationServiceInstanceName: z.string().min(1).optional(),
    /** `false`: as if no connectivity proxy were installed; OnPremise destinations answer 502. */
    connectivityProxy: z.boolean({ error: 'connectivityProxy must be true or false' }).default(true),
    timeouts: z
      .strictObject({
        /** Connecting to the target (SAP: default 5, 1–300). */
        connectSeconds: seconds('connectSeconds', 300, 5),
        /** Waiting for the target's answer (SAP: default 30, 1–43200). */
        readSeconds: seconds('readSeconds', 43_200, 30),
      })
      .prefault({}),
  })
  .prefault({});

export type TransparentProxyConfig = z.output<typeof transparentProxyConfigSchema>;

/** The names a CR may refer to: the scenario's tenant subdomains and destination binding names. */
export interface CrReferences {
  tenants: readonly string[];
  destinationBindings: readonly string[];
}

/** Cross-checks of CRs against the scenario: duplicates, the instance each uses, the tenants it names. */
export function checkCrReferences(
  crs: readonly DestinationCustomResource[],
  refs: CrReferences,
  issue: (index: number, path: (string | number)[], message: string) => void,
): void {
  const seen = new Set<string>();
  crs.forEach((cr, i) => {
    const key = crKey(cr.metadata.namespace, cr.metadata.name);
    if (seen.has(key))
      issue(i, ['metadata', 'name'], `a Destination CR "${cr.metadata.name}" already exists in namespace "${cr.metadata.namespace}"`);
    seen.add(key);
    const instance = cr.spec.destinationServiceInstanceName;
    if (instance !== undefined && !refs.destinationBindings.includes(instance))
      issue(
        i,
        ['spec', 'destinationServiceInstanceName'],
        `no destination binding named "${instance}"; the destination bindings are ${refs.destinationBindings.join(', ')}`,
      );
    const annotation = cr.metadata.annotations?.[tenantSubdomainsAnnotation];
    const tenants = annotation === undefined ? [] : parseTenantSubdomains(annotation);
    if (Array.isArray(tenants))
      for (const t of tenants)
        if (!refs.tenants.includes(t))
          issue(
            i,
            ['metadata', 'annotations', tenantSubdomainsAnnotation],
            `"${t}" is not a tenant subdomain (${refs.tenants.join(', ')})`,
          );
  });
}

/** The key of a CR in the state: `<namespace>/<name>`. */
export const crKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The tenants of a CR's tenant-subdomains annotation (none when absent or invalid). */
export function crTenants(cr: DestinationCustomResource): string[] {
  const value = cr.metadata.annotations?.[tenantSubdomainsAnnotation];
  const parsed = value === undefined ? [] : parseTenantSubdomains(value);
  return Array.isArray(parsed) ? parsed : [];
}

/** A Kubernetes Service the real proxy creates for a CR: its name, namespace and port, and the tenant it stands for. */
export interface CrService {
  name: string;
  namespace: string;
  port: number;
  /** Set for the per-tenant Services of the tenant-subdomains annotation. */
  tenant?: string;
}

/**
 * The Services of a CR: one named after it, and one `<cr>-<tenant>` per tenant of the annotation. The
 * emulator's routing answers exactly these names (docs/transparent-proxy.md); `btp-emulator k8s` writes them.
 */
export function crServices(cr: DestinationCustomResource): CrService[] {
  const { name, namespace } = cr.metadata;
  const port = cr.spec.service?.port ?? defaultServicePort;
  return [{ name, namespace, port }, ...crTenants(cr).map((tenant) => ({ name: `${name}-${tenant}`, namespace, port, tenant }))];
}

/** The request headers the proxy reads (lower case); none of them reaches the target. */
export const tpHeaders = {
  destinationName: 'x-destination-name',
  destinationLevel: 'x-destination-level',
  fragmentName: 'x-fragment-name',
  fragmentLevel: 'x-fragment-level',
  fragmentOptional: 'x-fragment-optional',
  chainName: 'x-chain-name',
  chainVarPrefix: 'x-chain-var-',
  tenantSubdomain: 'x-tenant-subdomain',
  tenantId: 'x-tenant-id',
  tokenServiceTenant: 'x-token-service-tenant',
  redirectUri: 'x-redirect-uri',
  codeVerifier: 'x-code-verifier',
  clientAssertion: 'x-client-assertion',
  clientAssertionType: 'x-client-assertion-type',
  clientAssertionDestination: 'x-client-assertion-destination-name',
  subjectTokenType: 'x-subject-token-type',
  actorToken: 'x-actor-token',
  actorTokenType: 'x-actor-token-type',
  locationId: 'sap-connectivity-scc-location_id',
  requestId: 'x-request-id',
} as const;

/** The headers of a dynamic lookup; sent to a CR bound to one destination they are a 400. */
export const dynamicHeaders = [
  tpHeaders.destinationName,
  tpHeaders.destinationLevel,
  tpHeaders.fragmentName,
  tpHeaders.fragmentLevel,
  tpHeaders.fragmentOptional,
  tpHeaders.chainName,
] as const;
