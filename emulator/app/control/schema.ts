/**
 * The shapes of the control API: request bodies and queries (each route parses its input with these, so an
 * error names the field) and the answers. `contract.ts` turns the same objects into the OpenAPI document, so
 * what is documented is what is checked.
 */
import { receivedMailSchema, stubSchema } from '../../services/backend/schema.ts';
import { z } from 'zod';
import { cloudConnectorSchema } from '../../services/cloud-connector/schema.ts';
import { faultSpecSchema, storedFaultSchema } from '../../core/fault-schema.ts';
import { scenarioSchema } from '../scenario-schema.ts';
import { destinationCrSchema } from '../../services/transparent-proxy/index.ts';

// ── request bodies ────────────────────────────────────────────────────────────────────────────────────────

export const userTokenBody = z
  .object({
    user: z.string({ error: 'user is required (a user name)' }).min(1),
    tenant: z.string().min(1).optional().describe('subdomain or zid; default: the provider'),
    scopes: z.array(z.string()).optional(),
    clientid: z
      .string()
      .min(1)
      .optional()
      .describe('the client the token is issued to; default: the xsuaa binding (service identity: the first identity binding)'),
    service: z
      .enum(['xsuaa', 'identity'], { error: 'service must be xsuaa or identity' })
      .optional()
      .describe('whose token: XSUAA (default) or the identity service (IAS)'),
    resource: z
      .array(z.string().min(1))
      .optional()
      .describe('service identity: app-to-app resources (urn:sap:identity:application:provider:name:<name>, …); the token is for them'),
  })
  .meta({ title: 'UserTokenRequest' });

export const connectorStateBody = z
  .object({
    tenant: z.string().min(1).optional(),
    locationId: z.string().default(''),
    online: z.boolean({ error: 'online is required (true or false)' }),
  })
  .meta({ title: 'CloudConnectorStateRequest' });

export const connectorBody = z
  .object({ tenant: z.string().min(1).optional(), connector: cloudConnectorSchema })
  .meta({ title: 'CloudConnectorRequest' });

export const stubBody = stubSchema.meta({ title: 'BackendStub' });

export const clockBody = z
  .object({
    action: z.enum(['freeze', 'advance', 'real'], { error: 'action must be one of freeze, advance, real' }),
    by: z.union([z.number(), z.string()], { error: 'by must be a duration: milliseconds, or text like "30m", "90s", "1h30m"' }).optional(),
    at: z.string({ error: 'at must be an ISO date-time like "2030-01-01T00:00:00Z"' }).optional(),
  })
  .strict()
  .meta({ title: 'ClockAction' });

export const rotateBody = z
  .object({
    keepOld: z.boolean({ error: 'keepOld must be true (old keys still verify) or false (dropped at once)' }).default(true),
    grace: z.union([z.number(), z.string()], { error: 'grace must be a duration: milliseconds, or text like "10m", "1h"' }).optional(),
    service: z
      .enum(['xsuaa', 'identity'], { error: 'service must be xsuaa or identity' })
      .default('xsuaa')
      .describe("whose keys: XSUAA's (default) or the identity service's (IAS)"),
    kid: z
      .string()
      .min(1, { error: 'kid must not be empty' })
      .regex(/^[\w.-]+$/, { error: 'kid may contain letters, digits, "_", "." and "-"' })
      .optional(),
  })
  .strict()
  .meta({ title: 'KeyRotation' });

export const scenarioBody = scenarioSchema.meta({ title: 'Scenario' });

export const keysQuery = z
  .object({
    service: z
      .enum(['xsuaa', 'identity'], { error: 'service must be xsuaa or identity' })
      .default('xsuaa')
      .describe("whose keys: XSUAA's (default) or the identity service's (IAS)"),
  })
  .strict();

export const faultBody = faultSpecSchema.meta({ title: 'FaultSpec' });

export const destinationCrBody = destinationCrSchema;

// ── queries ──────────────────────────────────────────────────────────────────────────────────────────────

/** An instant: ISO date-time or epoch milliseconds. */
const instant = (name: string) =>
  z
    .string()
    .refine((v) => !Number.isNaN(/^\d+$/.test(v) ? Number(v) : Date.parse(v)), {
      error: `${name} must be an ISO date-time like "2030-01-01T00:00:00Z" or epoch milliseconds`,
    })
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v)));

export const journalQuery = z
  .object({
    service: z
      .enum(
        [
          'xsuaa',
          'identity',
          'destination',
          'control',
          'connectivity-proxy',
          'socks5',
          'backend',
          'connectivity',
          'transparent-proxy',
          'cloud-connector',
          'other',
        ],
        {
          error:
            'service must be one of xsuaa, identity, destination, control, connectivity-proxy, socks5, backend, connectivity, transparent-proxy, cloud-connector, other',
        },
      )
      .optional(),
    status: z.coerce.number({ error: 'status must be a number' }).int().optional(),
    tenant: z.string().optional().describe('subdomain or zid'),
    destination: z.string().optional(),
    correlationId: z.string().optional(),
    method: z.string().optional(),
    path: z.string().optional().describe('prefix of the path (with query) the entry records'),
    since: instant('since').optional().describe('entries at or after this instant (emulator clock)'),
    until: instant('until').optional().describe('entries before this instant (emulator clock)'),
    afterId: z.coerce
      .number({ error: 'afterId must be a number' })
      .int()
      .nonnegative()
      .optional()
      .describe('entries with a larger id (for polling)'),
    limit: z.coerce
      .number({ error: 'limit must be a positive number' })
      .int()
      .positive()
      .optional()
      .describe('the newest N of the matches'),
  })
  .strict();

export const chainQuery = z.object({ format: z.enum(['json', 'text']).optional() }).strict();
export const lastCallQuery = z
  .object({
    destination: z.string({ error: 'destination is required: the name the app looked up' }).min(1),
    format: z.enum(['json', 'text']).optional(),
  })
  .strict();
export const removeConnectorQuery = z.object({ tenant: z.string().optional(), locationId: z.string().default('') }).strict();

// ── answers ──────────────────────────────────────────────────────────────────────────────────────────────

export const errorResponse = z
  .object({ error: z.string(), message: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() })
  .meta({ title: 'Error' });

export const healthResponse = z.object({ status: z.literal('ok'), scenario: z.string(), tenants: z.number().int() });
export const statusResponse = z.object({ status: z.string(), scenario: z.string() });
export const identityApplicationsResponse = z
  .object({
    applications: z.array(
      z.object({
        name: z.string(),
        clientid: z.string(),
        binding: z.string(),
        credentialType: z.enum(['binding-secret', 'X509_GENERATED']),
        consumes: z.array(z.string()),
        consumedBy: z.array(z.string()),
      }),
    ),
  })
  .meta({ title: 'IdentityApplications' });

export const userTokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number(),
  claims: z.record(z.string(), z.unknown()),
});

export const journalEntry = z
  .object({
    id: z.number().int(),
    time: z.string(),
    service: z.string(),
    method: z.string(),
    path: z.string(),
    status: z.number().int(),
    durationMs: z.number(),
    tenant: z.string().optional(),
    destination: z.string().optional(),
    reason: z.string().optional(),
    correlationId: z.string().optional(),
  })
  .catchall(z.unknown())
  .meta({ title: 'JournalEntry' });
export const journalResponse = z.object({ entries: z.array(journalEntry) });

export const chainResponse = z
  .object({
    by: z.union([z.object({ correlationId: z.string() }), z.object({ destination: z.string() })]),
    steps: z.array(z.object({ role: z.string(), entry: journalEntry })),
    failed: z.object({ role: z.string(), entryId: z.number(), status: z.number(), reason: z.string().optional() }).optional(),
    summary: z.array(z.string()),
  })
  .meta({ title: 'Chain' });

export const envResponse = z.record(z.string(), z.string());
const connector = cloudConnectorSchema.meta({ title: 'CloudConnector' });
export const connectorResponse = connector;
export const connectorsResponse = z.object({
  tenants: z.array(z.object({ tenant: z.string(), zid: z.string(), connectors: z.array(connector) })),
});
export const storedStub = stubSchema.extend({ id: z.string() });
export const stubsResponse = z.object({ stubs: z.array(storedStub) });
export const mailsResponse = z.object({
  mails: z.array(receivedMailSchema),
});
export const clockResponse = z
  .object({ now: z.string(), nowMs: z.number(), frozen: z.boolean(), offsetMs: z.number() })
  .meta({ title: 'Clock' });
export const keysResponse = z
  .object({ active: z.string(), keys: z.array(z.object({ kid: z.string(), active: z.boolean(), retiresAt: z.string().optional() })) })
  .meta({ title: 'Keys' });
export const scenarioResponse = scenarioSchema;
export const destinationCrResponse = destinationCrSchema;
export const destinationCrsResponse = z.object({ resources: z.array(destinationCrSchema) });
export const openapiResponse = z.record(z.string(), z.unknown());

/** A fault as the routes answer it: the spec plus what it has done so far. */
export const faultResponse = storedFaultSchema.meta({ title: 'Fault' });
export const faultListResponse = z.object({ faults: z.array(faultResponse) });
