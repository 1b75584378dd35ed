/**
 * The typed client of the control API, built on its contract (`emulator/app/control/contract.ts`): `call(id, args)`
 * reaches any operation with its path parameters, query and body typed from the same zod schemas the emulator
 * checks them with, and the methods below are the everyday ones by name. Plain `fetch`: it runs in Node, in a
 * browser and in a container test alike.
 *
 *   const control = new ControlClient('http://localhost:20000');
 *   await control.reset();
 *   const hit = await control.waitFor((e) => e.service === 'connectivity-proxy' && e.status === 200);
 */
import type { z } from 'zod';
import { controlBase, operations, type OperationId, type Operations } from '../app/control/contract.ts';

type Op<K extends OperationId> = Operations[K];
type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? { [N in Name]: string } & PathParams<Rest>
  : unknown;
type ParamArgs<K extends OperationId> = Op<K>['path'] extends `${string}{${string}}${string}`
  ? { params: PathParams<Op<K>['path']> }
  : { params?: never };
type QueryArgs<K extends OperationId> = Op<K> extends { query: infer Q extends z.ZodType } ? { query?: z.input<Q> } : { query?: never };
type BodyArgs<K extends OperationId> =
  Op<K> extends { body: infer B extends z.ZodType }
    ? { body?: z.input<B> | (Op<K> extends { yamlBody: true } ? string : never) }
    : { body?: never };

/** What `call(id, …)` takes: path parameters, query and body as the operation declares them. */
export type CallArgs<K extends OperationId> = ParamArgs<K> & QueryArgs<K> & BodyArgs<K> & { headers?: Record<string, string> };
/** What `call(id, …)` gives: the parsed JSON answer, or undefined for 204. */
export type CallResult<K extends OperationId> = Op<K>['ok'] extends { schema: infer S extends z.ZodType } ? z.output<S> : undefined;

export type JournalEntry = CallResult<'listJournal'>['entries'][number];
export type JournalQuery = Omit<NonNullable<CallArgs<'listJournal'>['query']>, 'since' | 'until'> & {
  since?: string | number | Date;
  until?: string | number | Date;
};

export interface ControlClientOptions {
  /** The control token, when the emulator was started with one. */
  token?: string;
  /** Another fetch (e.g. one with a proxy agent); default the global one. */
  fetch?: typeof fetch;
}

export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Poll every this long (default 50 ms). */
  intervalMs?: number;
  /** Narrow on the server before the predicate sees entries. */
  query?: Omit<JournalQuery, 'afterId' | 'limit'>;
}

/** A refused control API call: the status and the error body, whose `issues` name the fields. */
export class ControlApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(message: string, status: number, body: unknown) {
    super(message);
    this.name = 'ControlApiError';
    this.status = status;
    this.body = body;
  }
}

const instant = (value: string | number | Date | undefined): string | undefined =>
  value === undefined ? undefined : value instanceof Date ? value.toISOString() : String(value);

export class ControlClient {
  /** The control API base, ending in /_emulator. */
  readonly baseUrl: string;
  private readonly token?: string;
  private readonly fetchFn: typeof fetch;

  /** `url`: the emulator's services URL (`http://localhost:20000`) or its control URL (`…/_emulator`). */
  constructor(url: string, options: ControlClientOptions = {}) {
    const trimmed = url.replace(/\/+$/, '');
    this.baseUrl = trimmed.endsWith(controlBase) ? trimmed : trimmed + controlBase;
    this.token = options.token;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Any operation of the contract by its id (see `GET /_emulator/openapi.json`). */
  async call<K extends OperationId>(
    id: K,
    ...[args]: Partial<CallArgs<K>> extends CallArgs<K> ? [CallArgs<K>?] : [CallArgs<K>]
  ): Promise<CallResult<K>> {
    const operation = operations[id];
    const {
      params,
      query,
      body,
      headers: extraHeaders,
    } = (args ?? {}) as {
      params?: Record<string, string>;
      query?: Record<string, unknown>;
      body?: unknown;
      headers?: Record<string, string>;
    };
    const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params?.[name];
      if (value === undefined) throw new TypeError(`${id}: the path parameter "${name}" is missing`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
    const method = operation.method.toUpperCase();
    const url = `${this.baseUrl}${path}${search.size ? `?${search}` : ''}`;
    const res = await this.fetchFn(url, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    if (!res.ok) {
      const message = (parsed as { message?: string; error_description?: string } | undefined)?.message ?? text;
      throw new ControlApiError(`${method} ${url} answered ${res.status}: ${message}`, res.status, parsed);
    }
    return parsed as CallResult<K>;
  }

  health(): Promise<CallResult<'getHealth'>> {
    return this.call('getHealth');
  }
  /** The control API's OpenAPI 3.1 document. */
  openapi(): Promise<Record<string, unknown>> {
    return this.call('getOpenApi');
  }
  /** Back to the loaded scenario; clears the journal (and faults). */
  async reset(): Promise<void> {
    await this.call('reset');
  }
  /** Load another scenario: an object, or YAML/JSON text. */
  async loadScenario(scenario: object | string): Promise<void> {
    await this.call('loadScenario', { body: scenario as CallArgs<'loadScenario'>['body'] });
  }
  scenario(): Promise<CallResult<'getScenario'>> {
    return this.call('getScenario');
  }
  /** The env an app under test needs (VCAP_SERVICES, NODE_EXTRA_CA_CERTS as the emulator sees it). */
  env(): Promise<Record<string, string>> {
    return this.call('getEnv');
  }
  /** A user JWT (for principal propagation, JWT bearer destinations, …). */
  async issueUserToken(request: NonNullable<CallArgs<'issueUserToken'>['body']>): Promise<string> {
    return (await this.call('issueUserToken', { body: request })).access_token;
  }

  /** Journal entries, oldest first; `since`/`until` take a Date, epoch ms or ISO text. */
  async journal(query: JournalQuery = {}): Promise<JournalEntry[]> {
    const { since, until, ...rest } = query;
    return (await this.call('listJournal', { query: { ...rest, since: instant(since), until: instant(until) } })).entries;
  }
  async clearJournal(): Promise<void> {
    await this.call('clearJournal');
  }
  /**
   * The first journal entry (already there, or arriving within the timeout) the predicate accepts: for apps that
   * call asynchronously. Polls with `afterId`, so each poll reads only what is new.
   */
  async waitFor(predicate: (entry: JournalEntry) => boolean = () => true, options: WaitForOptions = {}): Promise<JournalEntry> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const intervalMs = options.intervalMs ?? 50;
    const deadline = Date.now() + timeoutMs;
    let afterId: number | undefined;
    let seen = 0;
    for (;;) {
      const entries = await this.journal({ ...options.query, ...(afterId !== undefined ? { afterId } : {}) });
      seen += entries.length;
      const hit = entries.find(predicate);
      if (hit) return hit;
      if (entries.length) afterId = entries[entries.length - 1].id;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `waitFor: no journal entry matched within ${timeoutMs} ms (${seen} entries looked at${options.query ? ` with query ${JSON.stringify(options.query)}` : ''})`,
        );
      await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
    }
  }
  /** The hops that carried a correlation id, with the first failure. */
  chain(correlationId: string): Promise<CallResult<'getChain'>> {
    return this.call('getChain', { params: { correlationId } });
  }
  /** The hops of the last call to a destination, with the first failure. */
  lastCall(destination: string): Promise<CallResult<'getLastCall'>> {
    return this.call('getLastCall', { query: { destination } });
  }

  cloudConnectors(): Promise<CallResult<'listCloudConnectors'>['tenants']> {
    return this.call('listCloudConnectors').then((r) => r.tenants);
  }
  putCloudConnector(
    connector: NonNullable<CallArgs<'putCloudConnector'>['body']>['connector'],
    tenant?: string,
  ): Promise<CallResult<'putCloudConnector'>> {
    return this.call('putCloudConnector', { body: { connector, ...(tenant ? { tenant } : {}) } });
  }
  /** Take a Cloud Connector offline (`online: false`) or bring it back. */
  setCloudConnectorOnline(
    online: boolean,
    where: { locationId?: string; tenant?: string } = {},
  ): Promise<CallResult<'setCloudConnectorState'>> {
    return this.call('setCloudConnectorState', { body: { online, ...where } });
  }
  async removeCloudConnector(where: { locationId?: string; tenant?: string } = {}): Promise<void> {
    await this.call('removeCloudConnector', { query: where });
  }

  stubs(): Promise<CallResult<'listStubs'>['stubs']> {
    return this.call('listStubs').then((r) => r.stubs);
  }
  addStub(stub: NonNullable<CallArgs<'addStub'>['body']>): Promise<CallResult<'addStub'>> {
    return this.call('addStub', { body: stub });
  }
  async removeStub(id: string): Promise<void> {
    await this.call('removeStub', { params: { id } });
  }
  async clearStubs(): Promise<void> {
    await this.call('clearStubs');
  }
  mails(): Promise<CallResult<'listMails'>['mails']> {
    return this.call('listMails').then((r) => r.mails);
  }
  async clearMails(): Promise<void> {
    await this.call('clearMails');
  }

  /** The Transparent Proxy's Destination custom resources. */
  destinationCrs(): Promise<CallResult<'listDestinationCrs'>['resources']> {
    return this.call('listDestinationCrs').then((r) => r.resources);
  }
  /** Add a Destination CR (an object, or YAML text as `kubectl apply -f` takes it), or replace the one with its namespace and name. */
  putDestinationCr(cr: NonNullable<CallArgs<'putDestinationCr'>['body']>): Promise<CallResult<'putDestinationCr'>> {
    return this.call('putDestinationCr', { body: cr });
  }
  async removeDestinationCr(name: string, namespace = 'default'): Promise<void> {
    await this.call('removeDestinationCr', { params: { namespace, name } });
  }

  /** Read the clock, or freeze / advance / return it to real time. */
  clock(action?: NonNullable<CallArgs<'setClock'>['body']>): Promise<CallResult<'getClock'>> {
    return action ? this.call('setClock', { body: action }) : this.call('getClock');
  }
  /** The published signing keys of XSUAA, or (`'identity'`) of the identity service. */
  keys(service?: 'xsuaa' | 'identity'): Promise<CallResult<'listKeys'>> {
    return service ? this.call('listKeys', { query: { service } }) : this.call('listKeys');
  }
  /** The identity service's (IAS) applications: one per identity binding, with what each consumes. */
  identityApplications(): Promise<CallResult<'listIdentityApplications'>['applications']> {
    return this.call('listIdentityApplications').then((r) => r.applications);
  }
  rotateSigningKey(options: NonNullable<CallArgs<'rotateKeys'>['body']> = {}): Promise<CallResult<'rotateKeys'>> {
    return this.call('rotateKeys', { body: options });
  }

  /** Inject a fault (docs/faults.md); the answer carries its id. */
  addFault(spec: NonNullable<CallArgs<'addFault'>['body']>): Promise<CallResult<'addFault'>> {
    return this.call('addFault', { body: spec });
  }
  faults(): Promise<CallResult<'listFaults'>['faults']> {
    return this.call('listFaults').then((r) => r.faults);
  }
  async removeFault(id: string): Promise<void> {
    await this.call('removeFault', { params: { id } });
  }
  async clearFaults(): Promise<void> {
    await this.call('clearFaults');
  }

  /** The whole state as one JSON document (docs/persistence.md). */
  snapshot(): Promise<CallResult<'exportSnapshot'>> {
    return this.call('exportSnapshot');
  }
  /** Replace the whole state with a snapshot; a bad one is refused and changes nothing. */
  async restoreSnapshot(snapshot: NonNullable<CallArgs<'importSnapshot'>['body']>): Promise<void> {
    await this.call('importSnapshot', { body: snapshot });
  }
}
