/**
 * What the control API does, transport-free (no Hono): health, reset, load a scenario, issue user tokens, the
 * request journal (and its chains), the env an app under test needs, the clock, key rotation, faults, the
 * on-premise side (Cloud Connectors, backend stubs, received mails), the Transparent Proxy's CRs and snapshots. It works on a ControlContext:
 * what it needs of the emulator, which `EmulatorCore` is (structurally; this folder does not import it). Input
 * arrives parsed by the operation's schema (contract.ts), or raw where the same check serves the programmatic
 * handle too (clock, keys, stubs, snapshots); what is asked for and not there throws a ControlNotFound.
 */
import { findTenant } from '../../core/subaccount.ts';
import type { z } from 'zod';
import type { Journal, JournalEntry } from '../../core/journal.ts';
import { chainByCorrelationId, lastCallTo, type Chain } from '../../core/journal-chains.ts';
import type { Fault } from '../../core/faults.ts';
import type { MintedToken } from '../../services/xsuaa/tokens.ts';
import { clearStubs, putStub, removeStub } from '../../services/backend/gateway.ts';
import type { BackendStub, ReceivedMail } from '../../services/backend/state.ts';
import { listConnectors, putConnector, removeConnector, setConnectorOnline } from '../../services/cloud-connector/gateway.ts';
import type { CloudConnector } from '../../services/cloud-connector/state.ts';
import {
  listDestinationCrs,
  putDestinationCr,
  removeDestinationCr,
  type DestinationCustomResource,
} from '../../services/transparent-proxy/index.ts';
import type { Scenario } from '../scenario-schema.ts';
import { exportSnapshot, importSnapshot, type Snapshot, type SnapshotTarget } from '../snapshot.ts';
import { applyClockAction, clockView, type ClockView } from './clock-actions.ts';
import { chainNotFound, connectorNotFound, destinationCrNotFound, faultNotFound, lastCallNotFound, stubNotFound } from './errors.ts';
import { keyRingOf, keysView, rotateSigningKey, type KeyHolder, type KeysView } from './key-rotation.ts';
import type { IdentityApplicationView, MintedIasToken } from '../../services/identity/index.ts';
import type * as s from './schema.ts';

/** What the control API needs of the emulator (it reads and replaces `scenario` and `state`, see SnapshotTarget). */
export interface ControlContext extends SnapshotTarget, KeyHolder {
  readonly journal: Journal;
  readonly xsuaa: { issueUserToken(opts: z.output<typeof s.userTokenBody>): Promise<MintedToken> };
  readonly identity: KeyHolder['identity'] & {
    readonly gateway: {
      issueUserToken(opts: z.output<typeof s.userTokenBody>): Promise<MintedIasToken>;
      applications(): IdentityApplicationView[];
    };
  };
  /** When set, every control route but health needs it as a Bearer token. */
  readonly controlToken?: string;
  /** Back to the loaded scenario: state rebuilt, journal and faults cleared. */
  reset(): void;
  /** Replace the scenario (JSON or YAML text); an invalid one throws a ValidationError and changes nothing. */
  loadScenarioText(text: string, source?: string, contentType?: string): void;
  env(): Record<string, string>;
}

type Body<S extends z.ZodType> = z.output<S>;
type Status = z.output<typeof s.statusResponse>;

export class ControlGateway {
  private readonly ctx: ControlContext;
  constructor(ctx: ControlContext) {
    this.ctx = ctx;
  }

  health(): z.output<typeof s.healthResponse> {
    return { status: 'ok', scenario: this.ctx.scenario.name, tenants: this.ctx.state.tenants.length };
  }

  reset(): Status {
    this.ctx.reset();
    return { status: 'reset', scenario: this.ctx.scenario.name };
  }

  loadScenario(text: string, contentType?: string): Status {
    this.ctx.loadScenarioText(text, 'scenario', contentType);
    return { status: 'loaded', scenario: this.ctx.scenario.name };
  }

  scenario(): Scenario {
    return this.ctx.scenario;
  }

  env(): Record<string, string> {
    return this.ctx.env();
  }

  async issueUserToken(body: Body<typeof s.userTokenBody>): Promise<z.output<typeof s.userTokenResponse>> {
    const minted =
      body.service === 'identity' ? await this.ctx.identity.gateway.issueUserToken(body) : await this.ctx.xsuaa.issueUserToken(body);
    return { access_token: minted.jwt, token_type: 'bearer', expires_in: minted.expiresIn, claims: minted.claims };
  }

  identityApplications(): z.output<typeof s.identityApplicationsResponse> {
    return { applications: this.ctx.identity.gateway.applications() };
  }

  // ── journal ────────────────────────────────────────────────────────────────────────────────────────────

  journal(query: Body<typeof s.journalQuery>): { entries: JournalEntry[] } {
    // Entries name tenants by subdomain; a zid in the query means the same tenant.
    const byZid = query.tenant ? findTenant(this.ctx.state, { zid: query.tenant }) : undefined;
    return { entries: this.ctx.journal.list(byZid ? { ...query, tenant: byZid.subdomain } : query) };
  }

  clearJournal(): void {
    this.ctx.journal.clear();
  }

  /** The hops that carried a correlation id, with the first failure. */
  chain(correlationId: string): Chain {
    const chain = chainByCorrelationId(this.ctx.journal.list(), correlationId);
    if (!chain) throw chainNotFound(correlationId);
    return chain;
  }

  /** The hops of the last call to a destination, with the first failure. */
  lastCall(destination: string): Chain {
    const chain = lastCallTo(this.ctx.journal.list(), destination);
    if (!chain) throw lastCallNotFound(destination);
    return chain;
  }

  // ── clock and keys ─────────────────────────────────────────────────────────────────────────────────────

  clock(): ClockView {
    return clockView(this.ctx.clock);
  }

  /** One clock action (raw input: the checks are clock-actions.ts's, shared with the programmatic handle). */
  setClock(input: unknown): ClockView {
    return applyClockAction(this.ctx.clock, input);
  }

  keys(query: Body<typeof s.keysQuery> = { service: 'xsuaa' }): KeysView {
    return keysView(keyRingOf(this.ctx, query.service));
  }

  /** Sign with a new key from now on (raw input, checked in key-rotation.ts). */
  rotateKeys(input: unknown): Promise<KeysView> {
    return rotateSigningKey(this.ctx, input);
  }

  // ── faults ─────────────────────────────────────────────────────────────────────────────────────────────

  addFault(spec: Body<typeof s.faultBody>): Fault {
    return this.ctx.faults.add(spec);
  }

  faults(): { faults: Fault[] } {
    return { faults: this.ctx.faults.list() };
  }

  fault(id: string): Fault {
    const fault = this.ctx.faults.get(id);
    if (!fault) throw faultNotFound(id);
    return fault;
  }

  removeFault(id: string): void {
    if (!this.ctx.faults.remove(id)) throw faultNotFound(id);
  }

  clearFaults(): void {
    this.ctx.faults.clear();
  }

  // ── the on-premise side ────────────────────────────────────────────────────────────────────────────────

  connectors(): { tenants: ReturnType<typeof listConnectors> } {
    return { tenants: listConnectors(this.ctx.state) };
  }

  /** Connect or disconnect a connector (drives 503 / SOCKS reply 03). */
  setConnectorState(body: Body<typeof s.connectorStateBody>): CloudConnector {
    return setConnectorOnline(this.ctx.state, body, this.ctx.clock.now());
  }

  /** Add a connector, or replace the one with its location ID. */
  putConnector(body: Body<typeof s.connectorBody>): CloudConnector {
    return putConnector(this.ctx.state, body.tenant, body.connector);
  }

  removeConnector(query: Body<typeof s.removeConnectorQuery>): void {
    if (!removeConnector(this.ctx.state, query.tenant, query.locationId)) throw connectorNotFound(query.locationId);
  }

  stubs(): { stubs: BackendStub[] } {
    return { stubs: this.ctx.state.onPrem.stubs };
  }

  /** Add a stub route, or replace the one with its id (raw input, checked as a stub). */
  addStub(input: unknown): BackendStub {
    return putStub(this.ctx.state, input);
  }

  removeStub(id: string): void {
    if (!removeStub(this.ctx.state, id)) throw stubNotFound(id);
  }

  clearStubs(): void {
    clearStubs(this.ctx.state);
  }

  mails(): { mails: ReceivedMail[] } {
    return { mails: this.ctx.state.onPrem.mails };
  }

  clearMails(): void {
    this.ctx.state.onPrem.mails.length = 0;
  }

  // ── the Transparent Proxy's Destination CRs ──────────────────────────────────────────────────────────────

  destinationCrs(): { resources: DestinationCustomResource[] } {
    return { resources: listDestinationCrs(this.ctx.state) };
  }

  /** Add a CR, or replace the one with its namespace and name (raw input: checked whole, with the names it refers to). */
  putDestinationCr(input: unknown): DestinationCustomResource {
    return putDestinationCr(this.ctx.state, input);
  }

  removeDestinationCr(namespace: string, name: string): void {
    if (!removeDestinationCr(this.ctx.state, namespace, name)) throw destinationCrNotFound(namespace, name);
  }

  // ── snapshots ──────────────────────────────────────────────────────────────────────────────────────────

  exportSnapshot(): Promise<Snapshot> {
    return exportSnapshot(this.ctx);
  }

  /** Replace the whole state (raw input: snapshot.ts checks everything first and changes nothing on a refusal). */
  async importSnapshot(input: unknown): Promise<Status> {
    await importSnapshot(this.ctx, input);
    return { status: 'restored', scenario: this.ctx.scenario.name };
  }
}
