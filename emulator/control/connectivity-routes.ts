/**
 * Control API for the on-premise side, under /_emulator: Cloud Connectors (list, add/replace, remove,
 * online/offline), the fake backend's stub routes and the mails its SMTP sink received.
 */
import { z } from 'zod';
import type { App } from '../core/app-env.ts';
import type { EmulatorCore } from '../core/emulator-core.ts';
import { parseWith } from '../core/scenario-schema.ts';
import { listConnectors, putConnector, putStub, removeConnector, removeStub, setConnectorOnline } from '../cloud-connector/control.ts';
import { readControlJson } from './json-body.ts';

const base = '/_emulator';

const stateBody = z.object({
  tenant: z.string().min(1).optional(),
  locationId: z.string().default(''),
  online: z.boolean({ error: 'online is required (true or false)' }),
});

const connectorBody = z.object({ tenant: z.string().min(1).optional(), connector: z.unknown() });

export function registerConnectivityRoutes(app: App, core: EmulatorCore): void {
  app.get(`${base}/cloud-connectors`, (c) => c.json({ tenants: listConnectors(core.state) }));

  /** `{tenant?, locationId?, online}`: connect or disconnect a connector (drives 503 / SOCKS reply 03). */
  app.put(`${base}/cloud-connectors/state`, async (c) => {
    const body = parseWith(stateBody, await readControlJson(c), 'request body');
    return c.json(setConnectorOnline(core.state, body));
  });

  /** `{tenant?, connector: {locationId, online, systems}}`: add, or replace the one with that location ID. */
  app.put(`${base}/cloud-connectors`, async (c) => {
    const body = parseWith(connectorBody, await readControlJson(c), 'request body');
    return c.json(putConnector(core.state, body.tenant, body.connector));
  });

  app.delete(`${base}/cloud-connectors`, (c) => {
    const locationId = c.req.query('locationId') ?? '';
    if (!removeConnector(core.state, c.req.query('tenant'), locationId)) return c.json({ error: 'not_found', message: `no Cloud Connector with location ID "${locationId}"` }, 404);
    return c.body(null, 204);
  });

  app.get(`${base}/backend/stubs`, (c) => c.json({ stubs: core.state.onPrem.stubs }));

  app.post(`${base}/backend/stubs`, async (c) => c.json(putStub(core.state, await readControlJson(c)), 201));

  app.delete(`${base}/backend/stubs/:id`, (c) => {
    if (!removeStub(core.state, c.req.param('id'))) return c.json({ error: 'not_found', message: `no stub "${c.req.param('id')}"` }, 404);
    return c.body(null, 204);
  });

  app.delete(`${base}/backend/stubs`, (c) => {
    core.state.onPrem.stubs.length = 0;
    return c.body(null, 204);
  });

  app.get(`${base}/backend/mails`, (c) => c.json({ mails: core.state.onPrem.mails }));

  app.delete(`${base}/backend/mails`, (c) => {
    core.state.onPrem.mails.length = 0;
    return c.body(null, 204);
  });
}
