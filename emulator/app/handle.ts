/**
 * The programmatic handle, written once for every face: what a test can do to an {@link EmulatorCore} without a
 * socket. Transport-free and browser-safe (no Node built-ins). Every method that changes state tells the core's
 * change listeners (`core.changes`: the state directory writes the change, waiting listeners wake up), the same
 * way whichever face it is called on.
 *
 * The faces add only what needs their transport, on top of this object (Object.assign, so `env` stays a getter):
 * - `startEmulator()` (emulator/server/start-emulator.ts), `EmulatorHandle`: `urls` and `ports` of the sockets,
 *   `caFile` (the TLS material), `control` (the control API client over HTTP), `stop()`; its `loadScenario` also
 *   takes a file path or `'default'`.
 * - `createBtpHandlers()` (emulator/msw/create-btp-handlers.ts), `BtpHandlers`: `handlers` for MSW and the mock
 *   `urls`.
 * test/msw-parity.test.ts checks that both faces carry exactly these members plus their own.
 */
import { type StubInput } from '../services/backend/schema.ts';
import { type BackendStub, type ReceivedMail } from '../services/backend/state.ts';
import { clearStubs, putStub, removeStub } from '../services/backend/gateway.ts';
import type { EmulatorCore } from './emulator-core.ts';
import { exportSnapshot, importSnapshot, type Snapshot } from './snapshot.ts';
import type { JournalEntry, JournalFilter } from '../core/journal.ts';
import { chainByCorrelationId, lastCallTo, type Chain } from '../core/journal-chains.ts';
import type { Fault, FaultSpec } from '../core/faults.ts';
import type { MintedToken } from '../services/xsuaa/tokens.ts';
import type { IdentityApplicationView, MintedIasToken } from '../services/identity/index.ts';
import { applyClockAction, clockView, rotateSigningKey, type ClockAction, type ClockView, type KeysView } from './control/index.ts';
import { listConnectors, putConnector, removeConnector, setConnectorOnline } from '../services/cloud-connector/gateway.ts';
import type { CloudConnector } from '../services/cloud-connector/state.ts';

/**
 * The on-premise side, for tests: switch connectors, replace them, add stubs and read the mails the SMTP sink
 * received. Same rules as the control API (bad input throws, changes nothing).
 */
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

export interface UserTokenRequest {
  user: string;
  tenant?: string;
  scopes?: string[];
  /** The client the token is issued to (default: the xsuaa binding's; with `service: 'identity'`, the first identity binding's). */
  clientid?: string;
  /** Whose token: XSUAA's (default) or the identity service's (IAS). */
  service?: 'xsuaa' | 'identity';
  /** `service: 'identity'`: app-to-app resources (`urn:sap:identity:application:provider:name:<name>`, …); the token is for them. */
  resource?: string[];
}

/** A request for an identity service (IAS) user token. */
export type IasUserTokenRequest = UserTokenRequest & { service: 'identity' };

/** What every face's handle has; see the header of this file for what each face adds. */
export interface SharedHandle {
  /** The core behind the face (the same class on every face). */
  core: EmulatorCore;
  /** The environment for the app under test (`VCAP_SERVICES`, and what the face adds, e.g. `NODE_EXTRA_CA_CERTS`). Always current. */
  readonly env: Record<string, string>;
  /** A signed user token (the JWT), as the control API's `POST /_emulator/users/token` issues it. */
  issueUserToken(opts: UserTokenRequest): Promise<string>;
  /** The same, with its claims and expiry. */
  issueUserTokenDetails(opts: IasUserTokenRequest): Promise<MintedIasToken>;
  issueUserTokenDetails(opts: UserTokenRequest): Promise<MintedToken>;
  /** The identity service's (IAS) applications: one per identity binding, with what each consumes. */
  identityApplications(): IdentityApplicationView[];
  /** Back to the loaded scenario: state rebuilt, stubs added at run time gone, journal and faults cleared. */
  reset(): void;
  /** Replace the scenario (validated; a bad one throws a ValidationError and changes nothing). */
  loadScenario(scenario: unknown): void;
  journal(filter?: JournalFilter): JournalEntry[];
  /** The hops of the last call to a destination (lookup, its tokens, the proxy request), with the first failure. */
  lastCall(destination: string): Chain | undefined;
  /** The hops that carried this correlation id (x-correlation-id / x-vcap-request-id), and their tokens' grants. */
  chain(correlationId: string): Chain | undefined;
  /** Cloud Connectors, backend stubs and received mails. */
  onPrem: OnPremHandle;
  /** Add a backend stub (or replace the one with the same id), as `POST /_emulator/.../backend/stubs` does; = `onPrem.addStub`. */
  addStub(stub: StubInput): BackendStub;
  /** The emulator's clock: read it, or freeze / advance (`by: '30m'` or ms) / return to real time. */
  clock(action?: ClockAction): ClockView;
  /**
   * Sign with a new XSUAA key (or, `service: 'identity'`, identity service key) from now on; old keys stay
   * (optionally for `grace`) unless `keepOld: false`.
   */
  rotateSigningKey(options?: {
    keepOld?: boolean;
    grace?: number | string;
    kid?: string;
    service?: 'xsuaa' | 'identity';
  }): Promise<KeysView>;
  /** Add a fault (or replace the one with the same id); a bad spec throws a ValidationError. See docs/faults.md. */
  addFault(spec: FaultSpec): Fault;
  /** Remove one fault; false when there is none with that id. */
  removeFault(id: string): boolean;
  clearFaults(): void;
  /** The active faults, oldest first. */
  faults(): Fault[];
  /** The whole state as plain JSON (what `GET /_emulator/snapshot` returns and a state directory keeps). */
  snapshot(): Promise<Snapshot>;
  /** Replace the whole state with a snapshot; a bad one throws a ValidationError naming the field and changes nothing. */
  restoreSnapshot(snapshot: unknown): Promise<void>;
}

export interface SharedHandleOptions {
  /** Turns what `loadScenario` is given into a scenario object (the Node face reads files). Default: as given. */
  resolveScenario?: (scenario: unknown) => unknown;
}

export function createOnPremHandle(core: EmulatorCore): OnPremHandle {
  const changing = changeReporter(core);
  return {
    connectors: () => listConnectors(core.state),
    setConnectorOnline: (opts) => changing(() => setConnectorOnline(core.state, opts, core.clock.now())),
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

export function createSharedHandle(core: EmulatorCore, options: SharedHandleOptions = {}): SharedHandle {
  const changing = changeReporter(core);
  const resolveScenario = options.resolveScenario ?? ((scenario: unknown) => scenario);
  const onPrem = createOnPremHandle(core);
  const issueUserTokenDetails = (opts: UserTokenRequest): Promise<MintedToken | MintedIasToken> =>
    opts.service === 'identity' ? core.identity.gateway.issueUserToken(opts) : core.xsuaa.issueUserToken(opts);
  return {
    core,
    get env() {
      return core.env();
    },
    issueUserToken: async (opts) => (await issueUserTokenDetails(opts)).jwt,
    issueUserTokenDetails: issueUserTokenDetails as SharedHandle['issueUserTokenDetails'],
    identityApplications: () => core.identity.gateway.applications(),
    reset: () => changing(() => core.reset()),
    loadScenario: (scenario) => changing(() => core.loadScenario(resolveScenario(scenario))),
    journal: (filter) => core.journal.list(filter),
    lastCall: (destination) => lastCallTo(core.journal.list(), destination),
    chain: (correlationId) => chainByCorrelationId(core.journal.list(), correlationId),
    onPrem,
    addStub: (stub) => onPrem.addStub(stub),
    clock: (action) => (action ? changing(() => applyClockAction(core.clock, action)) : clockView(core.clock)),
    rotateSigningKey: async (rotate) => {
      const view = await rotateSigningKey(core, rotate ?? {});
      await core.changes.notify();
      return view;
    },
    addFault: (spec) => changing(() => core.faults.add(spec)),
    removeFault: (id) => changing(() => core.faults.remove(id)),
    clearFaults: () => changing(() => core.faults.clear()),
    faults: () => core.faults.list(),
    snapshot: () => exportSnapshot(core),
    restoreSnapshot: async (snapshot) => {
      await importSnapshot(core, snapshot);
      await core.changes.notify();
    },
  };
}

/**
 * Run a change, then tell the core's change listeners without waiting (the handle answers synchronously; the
 * state directory writes in the background and reports a failed write when it is closed). A change that throws
 * changed nothing and tells nobody.
 */
function changeReporter(core: EmulatorCore): <T>(change: () => T) => T {
  return (change) => {
    const result = change();
    core.changes.notifyInBackground();
    return result;
  };
}
