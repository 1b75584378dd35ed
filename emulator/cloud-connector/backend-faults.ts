/**
 * Faults on the fake backend's HTTP routes, shared by its faces (the socket backend and the MSW handlers):
 * which fault a request meets, and the journal entry (`service: backend`) of a request a fault touched. The
 * backend journals only those; what reached it through the proxy is in the proxy's entry with the same
 * correlation id. No transport here.
 */
import type { EmulatorCore } from '../core/emulator-core.ts';
import { describeFault } from '../core/fault-middleware.ts';
import { faultJournalFields, sleep, type FaultDecision } from '../core/faults.ts';

/** The fault this backend request meets (its route is the path without the query), if any. */
export function backendFault(core: EmulatorCore, method: string, path: string): FaultDecision | undefined {
  return core.faults.empty ? undefined : core.faults.decide({ service: 'backend', method, path });
}

export interface BackendFaultRequest {
  method: string;
  /** Path and query as requested. */
  path: string;
  /** 0 when the connection was dropped. */
  status: number;
  started: number;
  correlationId?: string;
}

export function recordBackendFault(core: EmulatorCore, decision: FaultDecision, request: BackendFaultRequest): void {
  core.journal.record({
    time: new Date(core.clock.now()).toISOString(),
    service: 'backend',
    method: request.method,
    path: request.path,
    status: request.status,
    durationMs: Math.round((performance.now() - request.started) * 1000) / 1000,
    ...(decision.kind === 'latency' ? {} : { reason: describeFault(decision) }),
    ...(request.correlationId ? { correlationId: request.correlationId } : {}),
    ...faultJournalFields(decision),
  });
}

/**
 * The MSW face: wait the fault's latency, then its answer as a web Response (a dropped connection is
 * `Response.error()`), or undefined when the backend answers as usual (latency only; journalled here).
 */
export async function answerBackendFault(core: EmulatorCore, decision: FaultDecision, request: Request): Promise<Response | undefined> {
  const started = performance.now();
  const url = new URL(request.url);
  const entry = (status: number): void =>
    recordBackendFault(core, decision, { method: request.method, path: url.pathname + url.search, status, started, correlationId: request.headers.get('x-correlation-id') ?? undefined });
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  if (decision.kind === 'drop') {
    entry(0);
    return Response.error();
  }
  if (decision.response) {
    entry(decision.response.status);
    return new Response(decision.response.body, { status: decision.response.status, headers: decision.response.headers });
  }
  entry(200);
  return undefined;
}
