/**
 * The control API under /_emulator: health, reset, load a scenario, issue user tokens, the request journal,
 * and the env an app under test needs. Every route is an operation of `contract.ts` (served as OpenAPI at
 * /_emulator/openapi.json); every body is validated, and a bad one changes nothing.
 */
import type { App } from '../../core/app-env.ts';
import type { EmulatorCore } from '../emulator-core.ts';
import { registerChainRoutes } from './chain-routes.ts';
import { registerClockRoutes } from './clock-routes.ts';
import { registerConnectivityRoutes } from './connectivity-routes.ts';
import { registerFaultRoutes } from './fault-routes.ts';
import { controlBase } from './contract.ts';
import { controlTokenGuard } from './control-token.ts';
import { registerKeyRoutes } from './key-routes.ts';
import { registerSnapshotRoutes } from './snapshot-routes.ts';
import { controlOpenApi } from './openapi.ts';
import { bodyOf, queryOf, registerOperation } from './operation.ts';

export { controlBase };

export function registerControlRoutes(app: App, core: EmulatorCore): void {
  app.use(
    `${controlBase}/*`,
    controlTokenGuard(() => core.controlToken),
  );
  registerOperation(app, 'getHealth', (c) => c.json({ status: 'ok', scenario: core.scenario.name, tenants: core.state.tenants.length }));

  registerOperation(app, 'getOpenApi', (c) => c.json(controlOpenApi()));

  registerOperation(app, 'reset', (c) => {
    core.reset();
    return c.json({ status: 'reset', scenario: core.scenario.name });
  });

  registerOperation(app, 'loadScenario', async (c) => {
    core.loadScenarioText(await c.req.text(), 'scenario', c.req.header('content-type'));
    return c.json({ status: 'loaded', scenario: core.scenario.name });
  });

  registerOperation(app, 'getScenario', (c) => c.json(core.scenario));

  registerOperation(app, 'issueUserToken', async (c) => {
    const body = await bodyOf(c, 'issueUserToken');
    const minted = await core.xsuaa.issueUserToken(body);
    return c.json({ access_token: minted.jwt, token_type: 'bearer', expires_in: minted.expiresIn, claims: minted.claims });
  });

  registerOperation(app, 'listJournal', (c) => {
    const query = queryOf(c, 'listJournal');
    // Entries name tenants by subdomain; a zid in the query means the same tenant.
    const byZid = query.tenant ? core.state.tenants.find((t) => t.zid === query.tenant) : undefined;
    return c.json({ entries: core.journal.list(byZid ? { ...query, tenant: byZid.subdomain } : query) });
  });

  registerOperation(app, 'clearJournal', (c) => {
    core.journal.clear();
    return c.body(null, 204);
  });

  registerOperation(app, 'getEnv', (c) => c.json(core.env()));

  registerConnectivityRoutes(app, core);
  registerClockRoutes(app, core);
  registerKeyRoutes(app, core);
  registerSnapshotRoutes(app, core);
  registerChainRoutes(app, core);
  registerFaultRoutes(app, core);
}
