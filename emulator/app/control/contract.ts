/**
 * The control API's contract: every operation under /_emulator with its method, path, query, body and answer,
 * as the zod schemas the routes parse their input with. `openapi.ts` renders it as an OpenAPI 3.1 document,
 * the typed client (`emulator/client/`) calls by operation id, and a test checks that the app's route table
 * and this list are the same set.
 */
import { z } from 'zod';
import { snapshotBody } from '../snapshot.ts';
import * as s from './schema.ts';

export const controlBase = '/_emulator';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface Operation {
  method: HttpMethod;
  /** Relative to /_emulator, with `{param}` placeholders as in OpenAPI. */
  path: `/${string}`;
  summary: string;
  tag: string;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body may also be YAML (or JSON) text, sent as `application/yaml`. */
  yamlBody?: boolean;
  ok: { status: 200 | 201 | 204; description: string; schema?: z.ZodType; alsoText?: boolean };
  /** Documented failure statuses; each answers an `Error` body. */
  errors?: readonly number[];
}

const op = <const O extends Operation>(o: O): O => o;

export const operations = {
  getHealth: op({
    method: 'get',
    path: '/health',
    tag: 'Emulator',
    summary: 'Liveness and the loaded scenario (open even when a control token is set)',
    ok: { status: 200, description: 'running', schema: s.healthResponse },
  }),
  getOpenApi: op({
    method: 'get',
    path: '/openapi.json',
    tag: 'Emulator',
    summary: 'This document',
    ok: { status: 200, description: 'the OpenAPI 3.1 document of the control API', schema: s.openapiResponse },
  }),
  reset: op({
    method: 'post',
    path: '/reset',
    tag: 'Emulator',
    summary: 'Back to the loaded scenario: state rebuilt, journal and faults cleared',
    ok: { status: 200, description: 'reset', schema: s.statusResponse },
  }),
  getScenario: op({
    method: 'get',
    path: '/scenario',
    tag: 'Emulator',
    summary: 'The loaded scenario, with defaults filled in',
    ok: { status: 200, description: 'the scenario', schema: s.scenarioResponse },
  }),
  loadScenario: op({
    method: 'post',
    path: '/scenario',
    tag: 'Emulator',
    summary: 'Replace the scenario (JSON, or YAML text); a bad one changes nothing',
    body: s.scenarioBody,
    yamlBody: true,
    ok: { status: 200, description: 'loaded', schema: s.statusResponse },
    errors: [400],
  }),
  getEnv: op({
    method: 'get',
    path: '/env',
    tag: 'Emulator',
    summary: 'The environment an app under test needs (VCAP_SERVICES, NODE_EXTRA_CA_CERTS)',
    ok: { status: 200, description: 'variables', schema: s.envResponse },
  }),
  issueUserToken: op({
    method: 'post',
    path: '/users/token',
    tag: 'Emulator',
    summary: 'A user JWT of the emulated XSUAA (or, with service identity, of the identity service), without a login flow',
    body: s.userTokenBody,
    ok: { status: 200, description: 'the token and its claims', schema: s.userTokenResponse },
    errors: [400],
  }),

  listJournal: op({
    method: 'get',
    path: '/journal',
    tag: 'Journal',
    summary: 'Requests the emulator served, oldest first, filtered',
    query: s.journalQuery,
    ok: { status: 200, description: 'matching entries', schema: s.journalResponse },
    errors: [400],
  }),
  clearJournal: op({
    method: 'delete',
    path: '/journal',
    tag: 'Journal',
    summary: 'Forget every entry',
    ok: { status: 204, description: 'cleared' },
  }),
  getChain: op({
    method: 'get',
    path: '/journal/chains/{correlationId}',
    tag: 'Journal',
    summary: 'The hops that carried a correlation id, with the first failure',
    query: s.chainQuery,
    ok: { status: 200, description: 'the chain', schema: s.chainResponse, alsoText: true },
    errors: [404],
  }),
  getLastCall: op({
    method: 'get',
    path: '/journal/last-call',
    tag: 'Journal',
    summary: 'The hops of the last call to a destination, with the first failure',
    query: s.lastCallQuery,
    ok: { status: 200, description: 'the chain', schema: s.chainResponse, alsoText: true },
    errors: [400, 404],
  }),

  listCloudConnectors: op({
    method: 'get',
    path: '/cloud-connectors',
    tag: 'Cloud Connector',
    summary: 'Cloud Connectors per tenant',
    ok: { status: 200, description: 'connectors', schema: s.connectorsResponse },
  }),
  putCloudConnector: op({
    method: 'put',
    path: '/cloud-connectors',
    tag: 'Cloud Connector',
    summary: 'Add a Cloud Connector, or replace the one with its location ID',
    body: s.connectorBody,
    ok: { status: 200, description: 'the connector as stored', schema: s.connectorResponse },
    errors: [400],
  }),
  removeCloudConnector: op({
    method: 'delete',
    path: '/cloud-connectors',
    tag: 'Cloud Connector',
    summary: 'Remove a Cloud Connector',
    query: s.removeConnectorQuery,
    ok: { status: 204, description: 'removed' },
    errors: [400, 404],
  }),
  setCloudConnectorState: op({
    method: 'put',
    path: '/cloud-connectors/state',
    tag: 'Cloud Connector',
    summary: 'Take a Cloud Connector offline or bring it back',
    body: s.connectorStateBody,
    ok: { status: 200, description: 'the connector', schema: s.connectorResponse },
    errors: [400],
  }),

  listStubs: op({
    method: 'get',
    path: '/backend/stubs',
    tag: 'Backend',
    summary: 'Stub routes of the fake on-prem backend',
    ok: { status: 200, description: 'stubs', schema: s.stubsResponse },
  }),
  addStub: op({
    method: 'post',
    path: '/backend/stubs',
    tag: 'Backend',
    summary: 'Add a stub route (or replace the one with its id)',
    body: s.stubBody,
    ok: { status: 201, description: 'the stub', schema: s.storedStub },
    errors: [400],
  }),
  removeStub: op({
    method: 'delete',
    path: '/backend/stubs/{id}',
    tag: 'Backend',
    summary: 'Remove one stub route',
    ok: { status: 204, description: 'removed' },
    errors: [404],
  }),
  clearStubs: op({
    method: 'delete',
    path: '/backend/stubs',
    tag: 'Backend',
    summary: 'Remove every stub route',
    ok: { status: 204, description: 'removed' },
  }),
  listMails: op({
    method: 'get',
    path: '/backend/mails',
    tag: 'Backend',
    summary: 'Mails the SMTP sink received',
    ok: { status: 200, description: 'mails', schema: s.mailsResponse },
  }),
  clearMails: op({
    method: 'delete',
    path: '/backend/mails',
    tag: 'Backend',
    summary: 'Forget received mails',
    ok: { status: 204, description: 'cleared' },
  }),

  listDestinationCrs: op({
    method: 'get',
    path: '/transparent-proxy/destination-crs',
    tag: 'Transparent Proxy',
    summary: 'The Destination custom resources the Transparent Proxy serves',
    ok: { status: 200, description: 'the CRs', schema: s.destinationCrsResponse },
  }),
  putDestinationCr: op({
    method: 'put',
    path: '/transparent-proxy/destination-crs',
    tag: 'Transparent Proxy',
    summary: 'Add a Destination CR (JSON, or YAML text), or replace the one with its namespace and name; a bad one changes nothing',
    body: s.destinationCrBody,
    yamlBody: true,
    ok: { status: 200, description: 'the CR as stored', schema: s.destinationCrResponse },
    errors: [400],
  }),
  removeDestinationCr: op({
    method: 'delete',
    path: '/transparent-proxy/destination-crs/{namespace}/{name}',
    tag: 'Transparent Proxy',
    summary: 'Remove a Destination CR',
    ok: { status: 204, description: 'removed' },
    errors: [404],
  }),

  listIdentityApplications: op({
    method: 'get',
    path: '/identity/applications',
    tag: 'Emulator',
    summary: 'The identity service (IAS) applications: one per identity binding, with what each consumes',
    ok: { status: 200, description: 'applications', schema: s.identityApplicationsResponse },
  }),

  getClock: op({
    method: 'get',
    path: '/clock',
    tag: 'Clock and keys',
    summary: "The emulator's clock",
    ok: { status: 200, description: 'the clock', schema: s.clockResponse },
  }),
  setClock: op({
    method: 'post',
    path: '/clock',
    tag: 'Clock and keys',
    summary: 'Freeze, advance or return the clock to real time',
    body: s.clockBody,
    ok: { status: 200, description: 'the clock', schema: s.clockResponse },
    errors: [400],
  }),
  listKeys: op({
    method: 'get',
    path: '/keys',
    tag: 'Clock and keys',
    summary: 'Published signing keys of XSUAA (default) or of the identity service (?service=identity)',
    query: s.keysQuery,
    ok: { status: 200, description: 'keys', schema: s.keysResponse },
    errors: [400],
  }),
  rotateKeys: op({
    method: 'post',
    path: '/keys/rotate',
    tag: 'Clock and keys',
    summary: 'Sign with a new key from now on (XSUAA, or the identity service with service: identity)',
    body: s.rotateBody,
    ok: { status: 200, description: 'keys', schema: s.keysResponse },
    errors: [400],
  }),

  addFault: op({
    method: 'post',
    path: '/faults',
    tag: 'Faults',
    summary:
      'Inject a fault: latency, an error status, a dropped connection, a 429 rate limit, short-lived tokens or an offline Cloud Connector',
    body: s.faultBody,
    ok: { status: 201, description: 'the fault with its id', schema: s.faultResponse },
    errors: [400],
  }),
  listFaults: op({
    method: 'get',
    path: '/faults',
    tag: 'Faults',
    summary: 'Active faults, oldest first',
    ok: { status: 200, description: 'faults', schema: s.faultListResponse },
  }),
  getFault: op({
    method: 'get',
    path: '/faults/{id}',
    tag: 'Faults',
    summary: 'One fault and what it has done so far',
    ok: { status: 200, description: 'the fault', schema: s.faultResponse },
    errors: [404],
  }),
  removeFault: op({
    method: 'delete',
    path: '/faults/{id}',
    tag: 'Faults',
    summary: 'Remove one fault',
    ok: { status: 204, description: 'removed' },
    errors: [404],
  }),
  clearFaults: op({
    method: 'delete',
    path: '/faults',
    tag: 'Faults',
    summary: 'Remove every fault',
    ok: { status: 204, description: 'removed' },
  }),

  exportSnapshot: op({
    method: 'get',
    path: '/snapshot',
    tag: 'Snapshot',
    summary: 'The whole state as one JSON document',
    ok: { status: 200, description: 'the snapshot', schema: snapshotBody },
  }),
  importSnapshot: op({
    method: 'put',
    path: '/snapshot',
    tag: 'Snapshot',
    summary: 'Replace the whole state with a snapshot; a bad one changes nothing',
    body: snapshotBody,
    ok: { status: 200, description: 'restored', schema: s.statusResponse },
    errors: [400],
  }),
} as const satisfies Record<string, Operation>;

export type Operations = typeof operations;
export type OperationId = keyof Operations;

/** `/backend/stubs/{id}` → `/_emulator/backend/stubs/:id`, the form Hono's route table uses. */
export const routePath = (operation: Operation): string => controlBase + operation.path.replace(/\{(\w+)\}/g, ':$1');
