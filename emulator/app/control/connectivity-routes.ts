/**
 * Control API for the on-premise side, under /_emulator: Cloud Connectors (list, add/replace, remove,
 * online/offline), the fake backend's stub routes and the mails its SMTP sink received.
 */
import { clearStubs, putStub, removeStub } from '../../services/backend/gateway.ts';
import type { App } from '../../core/app-env.ts';
import type { EmulatorCore } from '../emulator-core.ts';
import { listConnectors, putConnector, removeConnector, setConnectorOnline } from '../../services/cloud-connector/gateway.ts';
import { readControlJson } from './json-body.ts';
import { bodyOf, paramOf, queryOf, registerOperation } from './operation.ts';

export function registerConnectivityRoutes(app: App, core: EmulatorCore): void {
  registerOperation(app, 'listCloudConnectors', (c) => c.json({ tenants: listConnectors(core.state) }));

  /** `{tenant?, locationId?, online}`: connect or disconnect a connector (drives 503 / SOCKS reply 03). */
  registerOperation(app, 'setCloudConnectorState', async (c) =>
    c.json(setConnectorOnline(core.state, await bodyOf(c, 'setCloudConnectorState'))),
  );

  /** `{tenant?, connector: {locationId, online, systems}}`: add, or replace the one with that location ID. */
  registerOperation(app, 'putCloudConnector', async (c) => {
    const body = await bodyOf(c, 'putCloudConnector');
    return c.json(putConnector(core.state, body.tenant, body.connector));
  });

  registerOperation(app, 'removeCloudConnector', (c) => {
    const { tenant, locationId } = queryOf(c, 'removeCloudConnector');
    if (!removeConnector(core.state, tenant, locationId))
      return c.json({ error: 'not_found', message: `no Cloud Connector with location ID "${locationId}"` }, 404);
    return c.body(null, 204);
  });

  registerOperation(app, 'listStubs', (c) => c.json({ stubs: core.state.onPrem.stubs }));

  registerOperation(app, 'addStub', async (c) => c.json(putStub(core.state, await readControlJson(c)), 201));

  registerOperation(app, 'removeStub', (c) => {
    if (!removeStub(core.state, paramOf(c, 'id'))) return c.json({ error: 'not_found', message: `no stub "${paramOf(c, 'id')}"` }, 404);
    return c.body(null, 204);
  });

  registerOperation(app, 'clearStubs', (c) => {
    clearStubs(core.state);
    return c.body(null, 204);
  });

  registerOperation(app, 'listMails', (c) => c.json({ mails: core.state.onPrem.mails }));

  registerOperation(app, 'clearMails', (c) => {
    core.state.onPrem.mails.length = 0;
    return c.body(null, 204);
  });
}
