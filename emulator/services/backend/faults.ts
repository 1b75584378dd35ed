/**
 * Faults on the fake backend's HTTP routes, one implementation for both of its faces (the socket backend and
 * the MSW handlers): which fault a request meets, waiting its latency, what it does (drop, answer, or let the
 * backend answer) and the journal entry (`service: backend`) of a request a fault touched. The backend journals
 * only those; what reached it through the proxy is in the proxy's entry with the same correlation id. The faces
 * only turn the outcome into socket operations or a web Response. No transport here.
 */
import { correlationIdOf } from '../../core/journal-chains.ts';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { describeFault, faultJournalFields, sleep, type FaultDecision } from '../../core/faults.ts';

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
export async function meetBackendFault(core: EmulatorCore, request: BackendFaultRequest): Promise<BackendFaultOutcome | undefined> {
  if (core.faults.empty) return undefined;
  const decision = core.faults.decide({ service: 'backend', method: request.method, path: request.path.split('?')[0] });
  if (!decision) return undefined;
  const started = performance.now();
  const record = (status: number): void => recordBackendFault(core, decision, request, status, started);
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
  core: EmulatorCore,
  decision: FaultDecision,
  request: BackendFaultRequest,
  status: number,
  started: number,
): void {
  const correlationId = correlationIdOf(request.header);
  core.journal.record({
    time: new Date(core.clock.now()).toISOString(),
    service: 'backend',
    method: request.method,
    path: request.path,
    status,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    ...(decision.kind === 'latency' ? {} : { reason: describeFault(decision) }),
    ...(correlationId ? { correlationId } : {}),
    ...faultJournalFields(decision),
  });
}
