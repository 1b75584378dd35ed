/**
 * Fault injection under /_emulator/faults: add a fault (201 with its id), list them, read one, remove one
 * (404 when unknown) or all (204). The fault model and its schema are in core/faults.ts and
 * core/fault-schema.ts; `POST /_emulator/reset` clears the faults too. A bad body changes nothing.
 */
import type { App } from '../core/app-env.ts';
import type { EmulatorCore } from '../core/emulator-core.ts';
import { z } from 'zod';
import { faultEffectSchema, faultSpecSchema, faultTargetSchema } from '../core/fault-schema.ts';
import { parseWith } from '../core/scenario-schema.ts';
import { readControlJson } from './json-body.ts';

const base = '/_emulator/faults';

/** The body of `POST /_emulator/faults` (for the OpenAPI contract). */
export const faultBody = faultSpecSchema;

/** A fault as the routes answer it (for the OpenAPI contract): the spec plus what it has done so far. */
export const faultResponse = z.object({
  id: z.string(),
  target: faultTargetSchema,
  effect: faultEffectSchema,
  times: z.number().int().optional(),
  remaining: z.number().int().optional(),
  skip: z.number().int().optional(),
  skipped: z.number().int().optional(),
  until: z.string().optional(),
  added: z.string(),
  hits: z.number().int(),
});

export const faultListResponse = z.object({ faults: z.array(faultResponse) });

const notFound = (id: string) => ({ error: 'not_found', message: `no fault "${id}" (it may have expired: times used up, or durationMs/until passed)` });

export function registerFaultRoutes(app: App, core: EmulatorCore): void {
  app.post(base, async (c) => {
    const spec = parseWith(faultBody, await readControlJson(c), 'request body');
    return c.json(core.faults.add(spec), 201);
  });

  app.get(base, (c) => c.json({ faults: core.faults.list() }));

  app.get(`${base}/:id`, (c) => {
    const fault = core.faults.get(c.req.param('id'));
    return fault ? c.json(fault) : c.json(notFound(c.req.param('id')), 404);
  });

  app.delete(`${base}/:id`, (c) => (core.faults.remove(c.req.param('id')) ? c.body(null, 204) : c.json(notFound(c.req.param('id')), 404)));

  app.delete(base, (c) => {
    core.faults.clear();
    return c.body(null, 204);
  });
}
