/**
 * The programmatic face of the on-premise side, for tests: switch connectors, replace them, add stubs and
 * read the mails the SMTP sink received. Same rules as the control API (bad input throws, changes nothing).
 */
import { type StubInput } from '../services/backend/schema.ts';
import { type BackendStub, type ReceivedMail } from '../services/backend/state.ts';
import { clearStubs, putStub, removeStub } from '../services/backend/gateway.ts';
import type { EmulatorCore } from './emulator-core.ts';
import { listConnectors, putConnector, removeConnector, setConnectorOnline } from '../services/cloud-connector/gateway.ts';
import type { CloudConnector } from '../services/cloud-connector/state.ts';

export interface OnPremHandle {
  connectors(): ReturnType<typeof listConnectors>;
  setConnectorOnline(opts: { tenant?: string; locationId?: string; online: boolean }): CloudConnector;
  /** Add a connector to a tenant (subdomain or zid; default provider), or replace the one with its location ID. */
  putConnector(connector: unknown, tenant?: string): CloudConnector;
  removeConnector(locationId: string, tenant?: string): boolean;
  addStub(stub: StubInput): BackendStub;
  removeStub(id: string): boolean;
  /** Remove every stub route, the scenario's too (a reset brings those back). */
  clearStubs(): void;
  mails(): ReceivedMail[];
  clearMails(): void;
}

export function createOnPremHandle(core: EmulatorCore): OnPremHandle {
  /** Run a change and tell the core's change listeners (the state directory writes it in the background). */
  const changing = <T>(change: () => T): T => {
    const result = change();
    core.changes.notifyInBackground();
    return result;
  };
  return {
    connectors: () => listConnectors(core.state),
    setConnectorOnline: (opts) => changing(() => setConnectorOnline(core.state, opts)),
    putConnector: (connector, tenant) => changing(() => putConnector(core.state, tenant, connector)),
    removeConnector: (locationId, tenant) => changing(() => removeConnector(core.state, tenant, locationId)),
    addStub: (stub) => changing(() => putStub(core.state, stub)),
    removeStub: (id) => changing(() => removeStub(core.state, id)),
    clearStubs: () => changing(() => clearStubs(core.state)),
    mails: () => [...core.state.onPrem.mails],
    clearMails: () =>
      changing(() => {
        core.state.onPrem.mails.length = 0;
      }),
  };
}
