/** The fake on-prem backend's part of the scenario (`backend.stubs`) and of the stub bodies of the control API. */
import { z } from 'zod';

export const stubSchema = z.strictObject({
  /** Optional id; the emulator assigns one if missing. */
  id: z.string().min(1).optional(),
  /** HTTP method or `*`. */
  method: z
    .string()
    .min(1)
    .default('*')
    .transform((m) => m.toUpperCase()),
  /** Path pattern: exact, or with `*` matching any characters (`/api/*`). The query is ignored. */
  path: z.string().startsWith('/', 'a stub path starts with /'),
  status: z.number().int().min(100).max(599).default(200),
  headers: z.record(z.string(), z.string()).default({}),
  /** A string is sent as is; anything else as JSON. */
  body: z.unknown().optional(),
  delayMs: z.number().int().min(0).max(600_000).default(0),
});

export const backendSchema = z.strictObject({ stubs: z.array(stubSchema).default([]) }).default({ stubs: [] });

export type StubInput = z.input<typeof stubSchema>;
export type StubConfig = z.output<typeof stubSchema>;

/** A mail the SMTP sink received, as the control API lists it and a snapshot keeps it (state.ts ReceivedMail). */
export const receivedMailSchema = z.object({
  id: z.number().int(),
  receivedAt: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  user: z.string().optional(),
  subject: z.string().optional(),
  raw: z.string(),
});
