/**
 * The shape of a fault as the control API and the handle take it: where it applies (`target`), what it does
 * (`effect`) and for how long (`times`, `durationMs` or `until`). Checked with zod; an error names the field.
 * The behaviour lives in faults.ts.
 */
import { z } from 'zod';
import { durationText, isoInstant, maxDurationMs } from './time-bounds.ts';

export const faultServices = ['xsuaa', 'identity', 'destination', 'connectivity-proxy', 'socks5', 'backend', 'connectivity'] as const;
export type FaultService = (typeof faultServices)[number];

/** Services whose requests an effect can change (the rest of a fault's matches are skipped). */
const servicesFor = {
  status: ['xsuaa', 'identity', 'destination', 'connectivity-proxy', 'backend', 'connectivity'],
  rateLimit: ['xsuaa', 'identity', 'destination', 'connectivity-proxy', 'backend', 'connectivity'],
  tokenValidity: ['xsuaa'],
  offline: ['connectivity-proxy', 'socks5', 'connectivity'],
} satisfies Partial<Record<string, FaultService[]>>;

const positiveInt = (field: string, max: number) =>
  z
    .number({ error: `${field} must be a whole number` })
    .int(`${field} must be a whole number`)
    .min(0, `${field} must be 0 or more`)
    .max(max, `${field} must be at most ${max}`);

export const faultTargetSchema = z
  .object({
    service: z.enum(faultServices, { error: `service must be one of ${faultServices.join(', ')}` }).optional(),
    destination: z.string().min(1, 'destination must not be empty').optional(),
    locationId: z.string().optional(),
    tenant: z.string().min(1, 'tenant must not be empty (a subdomain or zid)').optional(),
    clientId: z.string().min(1, 'clientId must not be empty').optional(),
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, 'method must be an HTTP method like GET')
      .transform((m) => m.toUpperCase())
      .optional(),
    path: z.string().startsWith('/', 'path must start with /').optional(),
  })
  .strict();

export const faultEffectSchema = z
  .object({
    latencyMs: positiveInt('latencyMs', 600_000).optional(),
    status: z
      .number({ error: 'status must be a number' })
      .int('status must be a whole number')
      .min(400, 'status must be an error status (400-599)')
      .max(599, 'status must be an error status (400-599)')
      .optional(),
    body: z
      .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())], { error: 'body must be a string or JSON' })
      .optional(),
    headers: z.record(z.string(), z.string(), { error: 'headers must map names to strings' }).optional(),
    drop: z.literal(true, { error: 'drop must be true (close the connection without an answer)' }).optional(),
    rateLimit: z
      .object({
        limit: positiveInt('rateLimit.limit', 1_000_000),
        windowMs: positiveInt('rateLimit.windowMs', 86_400_000).min(1, 'rateLimit.windowMs must be at least 1'),
      })
      .strict()
      .optional(),
    tokenValidity: positiveInt('tokenValidity', 86_400 * 365).optional(),
    offline: z.literal(true, { error: 'offline must be true (the Cloud Connector is offline while the fault is on)' }).optional(),
  })
  .strict();

export const faultSpecSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'id must be 1-64 letters, digits, ".", "_" or "-"')
      .optional(),
    target: faultTargetSchema.default({}),
    effect: faultEffectSchema,
    times: z
      .number({ error: 'times must be a number' })
      .int('times must be a whole number')
      .min(1, 'times must be at least 1')
      .max(Number.MAX_SAFE_INTEGER, 'times must be a safe integer')
      .optional(),
    skip: z
      .number({ error: 'skip must be a number' })
      .int('skip must be a whole number')
      .min(0, 'skip must be 0 or more')
      .max(Number.MAX_SAFE_INTEGER, 'skip must be a safe integer')
      .optional(),
    durationMs: z
      .number({ error: 'durationMs must be a number' })
      .int('durationMs must be a whole number')
      .min(1, 'durationMs must be at least 1')
      .max(maxDurationMs, `durationMs must be ${durationText}`)
      .optional(),
    until: isoInstant('until').optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const { effect, target } = spec;
    const issue = (path: (string | number)[], message: string): void => void ctx.addIssue({ code: 'custom', path, message });
    const kinds = (['latencyMs', 'status', 'drop', 'rateLimit', 'tokenValidity', 'offline'] as const).filter(
      (k) => effect[k] !== undefined,
    );
    if (!kinds.length) issue(['effect'], 'effect needs one of latencyMs, status, drop, rateLimit, tokenValidity, offline');
    const answers = kinds.filter((k) => k === 'status' || k === 'drop' || k === 'rateLimit');
    if (answers.length > 1) issue(['effect', answers[1]], `${answers[1]} cannot be combined with ${answers[0]}: a request gets one answer`);
    if (effect.offline && kinds.length > 1)
      issue(['effect', 'offline'], 'offline stands alone: the Cloud Connector is offline, other effects do not apply');
    if ((effect.body !== undefined || effect.headers !== undefined) && effect.status === undefined)
      issue(['effect', effect.body !== undefined ? 'body' : 'headers'], 'body and headers go with status');
    for (const kind of ['status', 'rateLimit', 'tokenValidity', 'offline'] as const) {
      const allowed: readonly FaultService[] = servicesFor[kind];
      if (effect[kind] !== undefined && target.service && !allowed.includes(target.service)) {
        issue(['effect', kind], `${kind} does not apply to service ${target.service} (only ${allowed.join(', ')})`);
      }
    }
    if (target.destination !== undefined && target.service && target.service !== 'destination')
      issue(['target', 'destination'], 'destination narrows Destination Service lookups: use it with service destination');
    if (target.locationId !== undefined && target.service && !['connectivity-proxy', 'socks5'].includes(target.service))
      issue(['target', 'locationId'], 'locationId narrows proxy traffic: use it with service connectivity-proxy or socks5');
    if (target.clientId !== undefined && target.service === 'backend')
      issue(['target', 'clientId'], `clientId is not known to service ${target.service}`);
    if (spec.durationMs !== undefined && spec.until !== undefined) issue(['until'], 'give durationMs or until, not both');
  });

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A fault as it is listed and kept in a snapshot: the spec plus what it has done so far. */
export const storedFaultSchema = z
  .object({
    id: z.string().min(1),
    target: faultTargetSchema,
    effect: faultEffectSchema,
    times: count.optional(),
    remaining: count.optional(),
    skip: count.optional(),
    skipped: count.optional(),
    until: isoInstant('until').optional(),
    added: isoInstant('added'),
    hits: count,
  })
  .strict();

/** The fault list in a snapshot. */
export const faultStateSchema = z.object({ faults: z.array(storedFaultSchema), nextId: z.number().int().positive() }).strict();

/** What the control API and the handle accept. */
export type FaultSpec = z.input<typeof faultSpecSchema>;
export type ParsedFaultSpec = z.output<typeof faultSpecSchema>;
export type FaultTarget = z.output<typeof faultTargetSchema>;
export type FaultEffect = z.output<typeof faultEffectSchema>;
export type FaultEffectKind = 'latency' | 'status' | 'drop' | 'rateLimit' | 'tokenValidity' | 'offline';
