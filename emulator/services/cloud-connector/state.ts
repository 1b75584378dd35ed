/**
 * The on-premise side of the emulator's state: each tenant's Cloud Connectors, the fake backend's stub
 * routes and the mails its SMTP sink received. Built from the scenario; reset rebuilds it.
 */
import { type Tenant } from '../../core/subaccount.ts';
import type { SubaccountState } from '../../core/subaccount.ts';
import type { CloudConnectorConfig, StubConfig } from './schema.ts';

export type CloudConnector = CloudConnectorConfig;

export interface BackendStub extends StubConfig {
  id: string;
}

export interface ReceivedMail {
  id: number;
  receivedAt: string;
  /** Envelope sender and recipients (MAIL FROM / RCPT TO). */
  from: string;
  to: string[];
  /** The user the client authenticated as, if it did. */
  user?: string;
  subject?: string;
  /** The message as received (headers and body). */
  raw: string;
}

export interface OnPremState {
  /** Cloud Connectors per tenant zid. */
  connectors: Map<string, CloudConnector[]>;
  stubs: BackendStub[];
  mails: ReceivedMail[];
  nextStubId: number;
  nextMailId: number;
}

/** Deep copy, so changes through the control API never touch the loaded scenario. */
const copyConnector = (c: CloudConnectorConfig): CloudConnector => structuredClone(c);

/** The scenario's parts the on-prem side is built from. */
export interface OnPremScenario {
  tenants: { cloudConnectors?: CloudConnectorConfig[] }[];
  backend?: { stubs: StubConfig[] };
}

export function buildOnPremState(scenario: OnPremScenario, tenants: Tenant[]): OnPremState {
  const connectors = new Map<string, CloudConnector[]>();
  scenario.tenants.forEach((t, i) => connectors.set(tenants[i].zid, (t.cloudConnectors ?? []).map(copyConnector)));
  const state: OnPremState = { connectors, stubs: [], mails: [], nextStubId: 1, nextMailId: 1 };
  for (const stub of scenario.backend?.stubs ?? []) addStub(state, stub);
  return state;
}

export function addStub(state: OnPremState, stub: StubConfig): BackendStub {
  const id = stub.id ?? `stub-${state.nextStubId++}`;
  const full: BackendStub = { ...structuredClone(stub), id };
  const existing = state.stubs.findIndex((s) => s.id === id);
  if (existing >= 0) state.stubs[existing] = full;
  else state.stubs.push(full);
  return full;
}

/** The most recently added stub wins, like WireMock. */
export function matchStub(state: OnPremState, method: string, path: string): BackendStub | undefined {
  for (let i = state.stubs.length - 1; i >= 0; i--) {
    const stub = state.stubs[i];
    if ((stub.method === '*' || stub.method === method.toUpperCase()) && pathMatches(stub.path, path)) return stub;
  }
  return undefined;
}

function pathMatches(pattern: string, path: string): boolean {
  if (!pattern.includes('*')) return pattern === path;
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(path);
}

export function recordMail(state: OnPremState, mail: Omit<ReceivedMail, 'id'>, max = 1000): ReceivedMail {
  const full = { ...mail, id: state.nextMailId++ };
  state.mails.push(full);
  if (state.mails.length > max) state.mails.splice(0, state.mails.length - max);
  return full;
}

/** What the Cloud Connector and the on-prem side read: the subaccount and the on-prem state. */
export type OnPremView = SubaccountState & { onPrem: OnPremState };
