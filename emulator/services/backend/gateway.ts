/**
 * The fake on-prem backend's behaviour, shared by its faces (the socket backend in emulator/server/backend and the
 * MSW handlers): stub routes added, removed and cleared at run time (validated first: bad input throws a
 * ValidationError and changes nothing), a stub's answer, the echo's query, and the faults on its HTTP routes —
 * which fault a request meets, its latency, what it does (drop, answer, or let the backend answer) and the journal
 * entry (`service: backend`) of a request a fault touched. The backend journals only those; what reached it through
 * the proxy is in the proxy's entry with the same correlation id. No transport here.
 */
import type { Clock } from '../../core/clock.ts';
import { describeFault, faultJournalFields, sleep, type FaultDecision, type FaultList } from '../../core/faults.ts';
import { correlationIdOf } from '../../core/journal-chains.ts';
import { entryTiming, type Journal } from '../../core/journal.ts';
import { parseWith } from '../../core/validation.ts';
import { stubSchema } from './schema.ts';
import { addStub, type BackendStub, type BackendView } from './state.ts';

/** What the backend's faults need from the emulator. */
export interface BackendContext {
  readonly faults: FaultList;
  readonly journal: Journal;
  readonly clock: Clock;
}

export function putStub(state: BackendView, value: unknown): BackendStub {
  return addStub(state.onPrem, parseWith(stubSchema, value, 'stub'));
}

export function removeStub(state: BackendView, id: string): boolean {
  const index = state.onPrem.stubs.findIndex((s) => s.id === id);
  if (index < 0) return false;
  state.onPrem.stubs.splice(index, 1);
  return true;
}

/** Remove every stub route (the scenario's too, until a reset); the backend then answers as if none were declared. */
export function clearStubs(state: BackendView): void {
  state.onPrem.stubs.length = 0;
}

export interface StubResponse {
  status: number;
  headers: Record<string, string>;
  /** null when the answer has no body (HEAD, 204, 304, or a stub without one). */
  body: string | null;
}

export function stubResponse(stub: BackendStub, method: string): StubResponse {
  const headers: Record<string, string> = { ...stub.headers };
  const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  if (!hasType && stub.body !== undefined)
    headers['content-type'] = typeof stub.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  const bodyless = method === 'HEAD' || stub.status === 204 || stub.status === 304 || stub.body === undefined;
  return { status: stub.status, headers, body: bodyless ? null : typeof stub.body === 'string' ? stub.body : JSON.stringify(stub.body) };
}

/** Query parameters as the echo shows them: repeated names become arrays. */
export function echoQuery(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return query;
}

export interface BackendFaultRequest {
  method: string;
  /** Path and query as requested; the route a fault matches is the path without the query. */
  path: string;
  header: (name: string) => string | string[] | null | undefined;
}

/** What the face does after a fault: close the connection, send this answer, or answer as usual and report its status. */
export type BackendFaultOutcome =
  | { kind: 'drop' }
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'pass'; answered(status: number): void };

/** The fault this backend request meets (after its latency), or undefined when no fault touches it. */
export async function meetBackendFault(ctx: BackendContext, request: BackendFaultRequest): Promise<BackendFaultOutcome | undefined> {
  if (ctx.faults.empty) return undefined;
  const decision = ctx.faults.decide({ service: 'backend', method: request.method, path: request.path.split('?')[0] });
  if (!decision) return undefined;
  const started = performance.now();
  const record = (status: number): void => recordBackendFault(ctx, decision, request, status, started);
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  if (decision.kind === 'drop') {
    record(0);
    return { kind: 'drop' };
  }
  if (decision.response) {
    record(decision.response.status);
    return { kind: 'answer', ...decision.response };
  }
  return { kind: 'pass', answered: record };
}

function recordBackendFault(
  ctx: BackendContext,
  decision: FaultDecision,
  request: BackendFaultRequest,
  status: number,
  started: number,
): void {
  const correlationId = correlationIdOf(request.header);
  ctx.journal.record({
    ...entryTiming(ctx.clock.now(), started),
    service: 'backend',
    method: request.method,
    path: request.path,
    status,
    ...(decision.kind === 'latency' ? {} : { reason: describeFault(decision) }),
    ...(correlationId ? { correlationId } : {}),
    ...faultJournalFields(decision),
  });
}
