/**
 * The fake on-prem backend's state: its stub routes (from the scenario and added at run time), the mails its
 * SMTP sink received and its LDAP directory (from the scenario). It sits under `onPrem` in the state, beside the Cloud Connectors.
 */
import { buildLdapDirectory, type LdapDirectory } from './ldap-directory.ts';
import type { LdapConfig, StubConfig } from './schema.ts';

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

export interface BackendState {
  stubs: BackendStub[];
  mails: ReceivedMail[];
  nextStubId: number;
  nextMailId: number;
  /** The LDAP directory, from the scenario; read-only, so a snapshot does not carry it. */
  ldap: LdapDirectory;
}

export function buildBackendState(scenario: { backend?: { stubs: StubConfig[]; ldap?: LdapConfig } }): BackendState {
  const state: BackendState = { stubs: [], mails: [], nextStubId: 1, nextMailId: 1, ldap: buildLdapDirectory(scenario.backend?.ldap) };
  for (const stub of scenario.backend?.stubs ?? []) addStub(state, stub);
  return state;
}

export function addStub(state: BackendState, stub: StubConfig): BackendStub {
  const id = stub.id ?? `stub-${state.nextStubId++}`;
  const full: BackendStub = { ...structuredClone(stub), id };
  const existing = state.stubs.findIndex((s) => s.id === id);
  if (existing >= 0) state.stubs[existing] = full;
  else state.stubs.push(full);
  return full;
}

/** The most recently added stub wins, like WireMock. */
export function matchStub(state: BackendState, method: string, path: string): BackendStub | undefined {
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

export function recordMail(state: BackendState, mail: Omit<ReceivedMail, 'id'>, max = 1000): ReceivedMail {
  const full = { ...mail, id: state.nextMailId++ };
  state.mails.push(full);
  if (state.mails.length > max) state.mails.splice(0, state.mails.length - max);
  return full;
}

/** What the backend reads. */
export type BackendView = { onPrem: BackendState };
