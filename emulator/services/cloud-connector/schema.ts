/**
 * Scenario schema for the on-premise side: the Cloud Connectors of a tenant (location ID, online state,
 * system mappings with protocol, host-in-header, principal type and HTTP resources) and the fake backend's
 * stub routes. Validated like the rest of the scenario (strict: an unknown key is refused); errors name the field.
 */
import { z } from 'zod';

export const mappingProtocols = ['HTTP', 'HTTPS', 'TCP', 'TCPS', 'LDAP', 'LDAPS', 'RFC'] as const;
export type MappingProtocol = (typeof mappingProtocols)[number];

/** A port, or a `{{placeholder}}` the emulator fills in once its servers listen (e.g. `{{backendHttpPort}}`). */
const portOrPlaceholder = z.union([
  z.number().int().min(1).max(65535),
  z.string().regex(/^(\d{1,5}|\{\{\w+\}\})$/, 'must be a port number or a {{placeholder}} such as {{backendHttpPort}}'),
]);

export const resourceSchema = z.strictObject({
  /** URL path; matching is case-sensitive and ignores the query. */
  path: z.string().startsWith('/', 'a resource path starts with /'),
  /** `true`: the path only ("Path only"); `false`: the path and everything it prefixes ("Path and all sub-paths"). */
  exactMatchOnly: z.boolean().default(false),
  enabled: z.boolean().default(true),
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
});

export const cloudConnectorSchema = z
  .strictObject({
    /** Empty string = the connector connected without a location ID (the default one). */
    locationId: z.string().default(''),
    online: z.boolean().default(true),
    /** Validity of principal propagation certificates, in minutes (SAP: certificateValidityInMin). */
    certificateValidityMinutes: z.number().int().min(1).max(43200).default(60),
    systems: z.array(systemMappingSchema).default([]),
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

export type ResourceConfig = z.output<typeof resourceSchema>;
export type SystemMappingConfig = z.output<typeof systemMappingSchema>;
export type CloudConnectorConfig = z.output<typeof cloudConnectorSchema>;
