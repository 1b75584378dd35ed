/**
 * Scenario schema for the on-premise side: the Cloud Connectors of a tenant (location ID, online state,
 * system mappings with protocol, host-in-header, principal type and HTTP resources) and the fake backend's
 * stub routes. Validated like the rest of the scenario (strict: an unknown key is refused); errors name the field.
 */
import { z } from 'zod';

export const mappingProtocols = ['HTTP', 'HTTPS', 'TCP', 'TCPS', 'LDAP', 'LDAPS', 'RFC', 'RFCS'] as const;
export type MappingProtocol = (typeof mappingProtocols)[number];

/** A port, or a `{{placeholder}}` the emulator fills in once its servers listen (e.g. `{{backendHttpPort}}`). */
const portOrPlaceholder = z.union([
  z.number().int().min(1).max(65535),
  z.string().regex(/^(\d{1,5}|\{\{\w+\}\})$/, 'must be a port number or a {{placeholder}} such as {{backendHttpPort}}'),
]);

export const backendTypes = [
  'abapSys',
  'netweaverCE',
  'netweaverGW',
  'applServerJava',
  'BC',
  'PI',
  'hana',
  'otherSAPsys',
  'nonSAPsys',
] as const;
export const authenticationModes = ['NONE', 'NONE_RESTRICTED', 'X509_GENERAL', 'X509_RESTRICTED', 'KERBEROS'] as const;
export const channelTypes = ['K8S', 'ABAPCloud', 'ABAPCloudSNC'] as const;

export const domainMappingSchema = z.strictObject({
  virtualDomain: z.string().min(1),
  internalDomain: z.string().min(1),
});

/** A service channel (on-premise to cloud): K8S (a Kubernetes cluster's service) or ABAP Cloud (with or without SNC). */
export const serviceChannelSchema = z.strictObject({
  /** Unique across the channel types of one Cloud Connector instance; from 1. */
  id: z.number().int().positive(),
  type: z.enum(channelTypes, { error: `type must be one of ${channelTypes.join(', ')}` }),
  k8sCluster: z.string().optional(),
  k8sService: z.string().optional(),
  abapCloudTenantHost: z.string().optional(),
  instanceNumber: z.number().int().min(0).max(99).optional(),
  /** The local port the channel listens on. */
  port: z.number().int().min(1).max(65535),
  connections: z.number().int().min(1).default(1),
  comment: z.string().default(''),
  enabled: z.boolean().default(false),
});

export const resourceSchema = z.strictObject({
  /** URL path; matching is case-sensitive and ignores the query. */
  path: z.string().startsWith('/', 'a resource path starts with /'),
  /** `true`: the path only ("Path only"); `false`: the path and everything it prefixes ("Path and all sub-paths"). */
  exactMatchOnly: z.boolean().default(false),
  enabled: z.boolean().default(true),
  /** REST API fields (docs/cloud-connector.md): kept and shown, not enforced. */
  websocketUpgradeAllowed: z.boolean().optional(),
  description: z.string().optional(),
  /** Creation time, ms since the epoch on the emulator clock. */
  creationDate: z.number().int().nonnegative().optional(),
});

export const systemMappingSchema = z.strictObject({
  virtualHost: z
    .string()
    .min(1)
    .regex(/^[^\s/:]+$/, 'virtualHost is a host name without scheme, port or path'),
  virtualPort: z.number().int().min(1).max(65535),
  internalHost: z.string().min(1),
  internalPort: portOrPlaceholder,
  protocol: z.enum(mappingProtocols, { error: `protocol must be one of ${mappingProtocols.join(', ')}` }).default('HTTP'),
  /** Which host the backend sees in `Host`: the virtual one (SAP's default) or the internal one. */
  hostInHeader: z.enum(['virtual', 'internal']).default('virtual'),
  /** `X509`: principal propagation with a short-lived client certificate in `SSL_CLIENT_CERT`. */
  principalType: z.enum(['none', 'X509']).default('none'),
  /** HTTP(S) only. Omitted: everything (`/` with sub-paths) is exposed; `[]`: nothing is. */
  resources: z.array(resourceSchema).optional(),
  description: z.string().optional(),
  /** REST API fields: the back-end type, the SAP system id, the authentication mode as the REST API names it. */
  backendType: z.enum(backendTypes, { error: `backendType must be one of ${backendTypes.join(', ')}` }).optional(),
  sid: z.string().optional(),
  /** `X509_GENERAL`/`X509_RESTRICTED` are principalType X509; the others none (see docs/cloud-connector.md). */
  authenticationMode: z
    .enum(authenticationModes, { error: `authenticationMode must be one of ${authenticationModes.join(', ')}` })
    .optional(),
  creationDate: z.number().int().nonnegative().optional(),
});

export const cloudConnectorSchema = z
  .strictObject({
    /** Empty string = the connector connected without a location ID (the default one). */
    locationId: z.string().default(''),
    online: z.boolean().default(true),
    /** Validity of principal propagation certificates, in minutes (SAP: certificateValidityInMin). */
    certificateValidityMinutes: z.number().int().min(1).max(43200).default(60),
    systems: z.array(systemMappingSchema).default([]),
    /** How the REST configuration API shows this subaccount (docs/cloud-connector.md); defaults there. */
    regionHost: z.string().min(1).optional(),
    displayName: z.string().optional(),
    description: z.string().optional(),
    cloudUser: z.string().optional(),
    autoCertRenewal: z.boolean().optional(),
    isManaged: z.boolean().optional(),
    /** When the tunnel last connected (ms on the emulator clock); shown as `tunnel.connectedSinceTimeStamp`. */
    connectedSince: z.number().int().nonnegative().optional(),
    domainMappings: z.array(domainMappingSchema).optional(),
    channels: z.array(serviceChannelSchema).optional(),
  })
  .superRefine((connector, ctx) => {
    const seen = new Set<string>();
    connector.systems.forEach((s, i) => {
      const key = `${s.virtualHost.toLowerCase()}:${s.virtualPort}`;
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['systems', i, 'virtualHost'], message: `virtual host ${key} is mapped twice` });
      seen.add(key);
    });
  });

export const cloudConnectorsSchema = z
  .array(cloudConnectorSchema)
  .default([])
  .superRefine((connectors, ctx) => {
    const seen = new Set<string>();
    connectors.forEach((c, i) => {
      if (seen.has(c.locationId))
        ctx.addIssue({ code: 'custom', path: [i, 'locationId'], message: `two Cloud Connectors with location ID "${c.locationId}"` });
      seen.add(c.locationId);
    });
  });

export type DomainMappingConfig = z.output<typeof domainMappingSchema>;
export type ServiceChannelConfig = z.output<typeof serviceChannelSchema>;
export type ResourceConfig = z.output<typeof resourceSchema>;
export type SystemMappingConfig = z.output<typeof systemMappingSchema>;
export type CloudConnectorConfig = z.output<typeof cloudConnectorSchema>;

/** The Cloud Connector administrator roles (SAP's names). `sccadmin` may change everything; the others only read. */
export const sccRoles = ['sccadmin', 'sccassocadmin', 'sccsubadmin', 'sccsupport', 'sccdisplay', 'sccmonitoring'] as const;

/** A user of the REST configuration API and the admin console (HTTP Basic). */
export const sccUserSchema = z.strictObject({
  name: z.string().min(1),
  password: z.string().min(1),
  roles: z.array(z.enum(sccRoles, { error: `a role is one of ${sccRoles.join(', ')}` })).default(['sccadmin']),
  /** A fresh installation's `Administrator`/`manage`: refused until the password is changed. */
  mustChangePassword: z.boolean().default(false),
});

const subjectPatternRuleSchema = z.strictObject({
  /** As the API reads it back: `always true`, or `<variable> <operator> <value>`. */
  condition: z.string().default('always true'),
  description: z.string().optional(),
  subjectPattern: z.record(z.string(), z.string()),
});

const proxySettingsSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().optional(),
  password: z.string().optional(),
});

const trustedBackendSchema = z.strictObject({
  alias: z.string().min(1),
  subjectDN: z.string(),
  issuer: z.string(),
  notAfterTimeStamp: z.number().int(),
});

/** The shadow instance of a high-availability pair (docs/cloud-connector.md "High availability"). */
const shadowSchema = z.strictObject({
  ownHost: z.string().min(1).default('shadow.localhost'),
  masterHost: z.string().min(1).default('localhost'),
  masterPort: z.number().int().min(1).max(65535).default(8443),
  checkIntervalInSeconds: z.number().int().min(1).max(3600).default(1),
  connectTimeoutInMillis: z.number().int().min(1).default(10000),
  requestTimeoutInMillis: z.number().int().min(1).default(10000),
  /** Whether the shadow is connected to the master (it takes over only then). */
  connected: z.boolean().default(true),
});

const haSchema = z.strictObject({
  haEnabled: z.boolean().default(false),
  haPort: z.number().int().min(1).max(65535).default(8444),
  allowedShadowHost: z.string().default(''),
  /** The shadow instance; absent: no shadow is installed. */
  shadow: shadowSchema.optional(),
  /** Seconds from the master going offline until the shadow serves the tunnels. */
  takeoverDelaySeconds: z.number().int().min(0).max(3600).default(30),
  /** Seconds a switch (`SWITCH`, `FORCE_SWITCH`) lasts: proxy calls fail with 503 meanwhile. */
  switchSeconds: z.number().int().min(0).max(3600).default(10),
  /** Which installation is master now: the primary (the instance URL) or the shadow (`…/shadow`). */
  master: z.enum(['primary', 'shadow']).default('primary'),
  /** When the last switch began (ms on the emulator clock). */
  switchedAt: z.number().int().nonnegative().optional(),
});

/** One Cloud Connector installation, by location ID: its subaccounts are every tenant's connector of that location. */
export const sccInstanceSchema = z.strictObject({
  locationId: z.string().default(''),
  proxy: proxySettingsSchema.optional(),
  subjectPatternRules: z.array(subjectPatternRuleSchema).default([{ condition: 'always true', subjectPattern: { CN: '${name}' } }]),
  trustAllBackends: z.boolean().default(false),
  trustedBackends: z.array(trustedBackendSchema).default([]),
  ha: haSchema.default(() => haSchema.parse({})),
  /** When each tenant's connector (by zid) of this location was taken offline (ms): the shadow's takeover counts from it. */
  offlineSince: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /** The next service channel id (unique across channel types). */
  nextChannelId: z.number().int().positive().default(1),
});

/**
 * The scenario's `cloudConnectorApi`: the REST configuration API's users and the installation-wide settings of
 * each location's Cloud Connector. Without `users`, the fresh install's `Administrator`/`manage` is the only user
 * and must change the password first.
 */
export const cloudConnectorApiSchema = z
  .strictObject({
    /** The region host of a subaccount that names none (scenario connectors, authentication data the emulator cannot read). */
    regionHost: z.string().min(1).default('cf.eu10.hana.ondemand.com'),
    users: z.array(sccUserSchema).optional(),
    instances: z.array(sccInstanceSchema).default([]),
  })
  .superRefine((api, ctx) => {
    const seen = new Set<string>();
    api.instances.forEach((instance, i) => {
      if (seen.has(instance.locationId))
        ctx.addIssue({
          code: 'custom',
          path: ['instances', i, 'locationId'],
          message: `two instances with location ID "${instance.locationId}"`,
        });
      seen.add(instance.locationId);
    });
    const names = new Set<string>();
    api.users?.forEach((user, i) => {
      if (names.has(user.name))
        ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `user "${user.name}" is listed twice` });
      names.add(user.name);
    });
  })
  .default({ regionHost: 'cf.eu10.hana.ondemand.com', instances: [] });

export type SccUser = z.output<typeof sccUserSchema>;
export type SccInstance = z.output<typeof sccInstanceSchema>;
export type CloudConnectorApiConfig = z.output<typeof cloudConnectorApiSchema>;
