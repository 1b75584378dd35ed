/**
 * The scenario file: what a subaccount looks like at start (tenants, bindings, OAuth clients, users,
 * destinations, fragments, certificates). Every scenario is validated with this schema; errors name the field.
 * The emulator's own objects are strict (an unknown key is refused with a did-you-mean); destinations and
 * fragments are open like the real service's, but a near-miss of a known property name and an unknown `Type`,
 * `ProxyType` or `Authentication` are refused (destination-properties.ts). The CRUD API and snapshots use the
 * plain destination, fragment and certificate schemas, which keep every additional property.
 */
import { backendSchema } from '../services/backend/schema.ts';
import { z } from 'zod';
import { stableGuid } from '../core/ids.ts';
import { clientSchema, tokenValiditySeconds, userSchema } from '../services/xsuaa/schema.ts';
import { cloudConnectorApiSchema, cloudConnectorsSchema } from '../services/cloud-connector/schema.ts';
import { connectivityProxySchema } from '../services/connectivity-proxy/schema.ts';
import { instanceLevelSchema, levelContentShape } from '../services/destination/schema.ts';
import { checkIdentityReferences, identitySchema } from '../services/identity/index.ts';
import {
  checkCrReferences,
  destinationCrSchema,
  transparentProxyConfigSchema,
  type DestinationCustomResource,
} from '../services/transparent-proxy/index.ts';

export { destinationTypes } from '../services/destination/schema.ts';

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
  service: z.enum(['xsuaa', 'destination', 'connectivity', 'identity']),
  plan: z.string().optional(),
  clientid: z.string().min(1).optional(),
  clientsecret: z.string().min(1).optional(),
  xsappname: z.string().min(1).optional(),
  instanceid: z.string().min(1).optional(),
  /**
   * `x509`: the binding carries a certificate and key issued by the emulator CA (and `certurl`) instead of a secret.
   * `X509_GENERATED` is the identity service's name for it (and the same as `x509` there).
   */
  credentialType: z
    .enum(['binding-secret', 'x509', 'X509_GENERATED'], { error: 'credentialType must be binding-secret, x509 or X509_GENERATED' })
    .default('binding-secret'),
  /**
   * Connectivity bindings: `token-type` (`[xsuaa, ias]`): the proxy then also takes IAS tokens requested with
   * `resource=urn:sap:identity:application:service:id:<instance guid>` (docs/ias.md).
   */
  tokenType: z
    .array(z.enum(['xsuaa', 'ias'], { error: 'tokenType entries are xsuaa or ias' }))
    .min(1)
    .optional(),
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
    /** The Cloud Connector REST configuration API: its users and each location's installation settings (docs/cloud-connector.md). */
    cloudConnectorApi: cloudConnectorApiSchema,
    /** The fake on-prem backend: stub routes (see emulator/cloud-connector/schema.ts). */
    backend: backendSchema,
    /** The connectivity proxy's operational mode (see emulator/services/connectivity-proxy/schema.ts); default cloud-foundry. */
    connectivityProxy: connectivityProxySchema.optional(),
    /** The Kyma Transparent Proxy's configuration: tenant mode, default instance, timeouts (docs/transparent-proxy.md). */
    transparentProxy: transparentProxyConfigSchema,
    /** Destination custom resources (`kind: Destination`) the Transparent Proxy serves; each is a Kubernetes Service in a cluster. */
    destinationCustomResources: z.array(destinationCrSchema).default([]),
    /** The identity service (IAS): names and app-to-app relations of the identity bindings' applications (docs/ias.md). */
    identity: identitySchema,
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
    const served = scenario.connectivityProxy?.subaccount;
    if (
      served !== undefined &&
      !scenario.tenants.some((t) => t.subdomain === served || (t.zid ?? stableGuid(`zone:${t.subdomain}`)) === served)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['connectivityProxy', 'subaccount'],
        message: `"${served}" is not the subdomain or zid of a tenant (${scenario.tenants.map((t) => t.subdomain).join(', ')})`,
      });
    const names = new Set<string>();
    scenario.bindings.forEach((b, i) => {
      if (names.has(b.name)) ctx.addIssue({ code: 'custom', path: ['bindings', i, 'name'], message: `duplicate binding name "${b.name}"` });
      names.add(b.name);
    });
    scenario.bindings.forEach((b, i) => {
      if (b.tokenType && b.service !== 'connectivity')
        ctx.addIssue({
          code: 'custom',
          path: ['bindings', i, 'tokenType'],
          message: "tokenType is a connectivity binding's (token-type); remove it here",
        });
    });
    // The standard bindings are there even when the scenario declares none of their service.
    const standard = (['destination', 'connectivity'] as const)
      .filter((service) => !scenario.bindings.some((b) => b.service === service))
      .map((service) => ({ name: `my-${service}`, service }));
    checkIdentityReferences(scenario.identity, [...scenario.bindings, ...standard], (i, path, message) =>
      ctx.addIssue({ code: 'custom', path: ['identity', 'applications', i, ...path], message }),
    );
    // The Transparent Proxy's CRs name destination bindings and tenants of this scenario.
    const declared = scenario.bindings.filter((b) => b.service === 'destination').map((b) => b.name);
    const destinationBindings = declared.length ? declared : [defaultDestinationBinding];
    const instance = scenario.transparentProxy.destinationServiceInstanceName;
    if (instance !== undefined && !destinationBindings.includes(instance))
      ctx.addIssue({
        code: 'custom',
        path: ['transparentProxy', 'destinationServiceInstanceName'],
        message: `no destination binding named "${instance}"; the destination bindings are ${destinationBindings.join(', ')}`,
      });
    checkCrReferences(
      scenario.destinationCustomResources,
      { tenants: scenario.tenants.map((t) => t.subdomain), destinationBindings },
      (i, path, message) => ctx.addIssue({ code: 'custom', path: ['destinationCustomResources', i, ...path], message }),
    );
  });

/** The destination binding a scenario without one gets (emulator/app/state.ts adds it). */
const defaultDestinationBinding = 'my-destination';

/**
 * The Destination CRs of a scenario (`destinationCustomResources`, namespaces filled in), for whatever turns them
 * into something else: `btp-emulator k8s` writes a Service per CR (see `crServices`).
 */
export function destinationCustomResourcesOf(scenario: Scenario): DestinationCustomResource[] {
  return scenario.destinationCustomResources;
}

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
