/**
 * The control API under /_emulator: health, reset, load a scenario, issue user tokens, the request journal,
 * and the env an app under test needs. Every body is validated; a bad one changes nothing.
 */
import { z } from 'zod';
import type { App } from '../core/app-env.ts';
import type { EmulatorCore } from '../core/emulator-core.ts';
import { parseWith } from '../core/scenario-schema.ts';
import { registerChainRoutes } from './chain-routes.ts';
import { registerClockRoutes } from './clock-routes.ts';
import { registerConnectivityRoutes } from './connectivity-routes.ts';
import { registerKeyRoutes } from './key-routes.ts';
import { readControlJson } from './json-body.ts';

export const controlBase = '/_emulator';

const userTokenBody = z.object({
  user: z.string({ error: 'user is required (a user name)' }).min(1),
  tenant: z.string().min(1).optional(),
  scopes: z.array(z.string()).optional(),
  clientid: z.string().min(1).optional(),
});

const journalQuery = z.object({
  service: z.string().optional(),
  status: z.coerce.number().int().optional(),
  tenant: z.string().optional(),
  destination: z.string().optional(),
  since: z.string().optional(),
  limit: z.coerce.number().int().positive().optional(),
});

export function registerControlRoutes(app: App, core: EmulatorCore): void {
  app.get(`${controlBase}/health`, (c) => c.json({ status: 'ok', scenario: core.scenario.name, tenants: core.state.tenants.length }));

  app.post(`${controlBase}/reset`, (c) => {
    core.reset();
    return c.json({ status: 'reset', scenario: core.scenario.name });
  });

  app.post(`${controlBase}/scenario`, async (c) => {
    core.loadScenarioText(await c.req.text(), 'scenario');
    return c.json({ status: 'loaded', scenario: core.scenario.name });
  });

  app.get(`${controlBase}/scenario`, (c) => c.json(core.scenario));

  app.post(`${controlBase}/users/token`, async (c) => {
    const body = parseWith(userTokenBody, await readControlJson(c), 'request body');
    const minted = await core.xsuaa.issueUserToken(body);
    return c.json({ access_token: minted.jwt, token_type: 'bearer', expires_in: minted.expiresIn, claims: minted.claims });
  });

  app.get(`${controlBase}/journal`, (c) => {
    const filter = parseWith(journalQuery, c.req.query(), 'journal query');
    return c.json({ entries: core.journal.list(filter) });
  });

  app.delete(`${controlBase}/journal`, (c) => {
    core.journal.clear();
    return c.body(null, 204);
  });

  app.get(`${controlBase}/env`, (c) => c.json(core.env()));

  registerConnectivityRoutes(app, core);
  registerClockRoutes(app, core);
  registerKeyRoutes(app, core);
  registerChainRoutes(app, core);
}
