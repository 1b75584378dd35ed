/**
 * The socket backend's side of a fault (core/faults.ts): wait, then answer the fault's status or 429, or
 * destroy the connection without an answer; a latency-only fault lets the backend answer as usual.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { recordBackendFault } from '../cloud-connector/backend-faults.ts';
import type { EmulatorCore } from '../core/emulator-core.ts';
import { sleep, type FaultDecision } from '../core/faults.ts';

/** True when the fault answered (or dropped) the request; false when the backend should answer it now. */
export async function answerWithFault(core: EmulatorCore, decision: FaultDecision, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const started = performance.now();
  const correlation = req.headers['x-correlation-id'] ?? req.headers['x-vcap-request-id'];
  const entry = (status: number): void => recordBackendFault(core, decision, { method: req.method ?? 'GET', path: req.url ?? '/', status, started, correlationId: typeof correlation === 'string' ? correlation : undefined });
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  if (decision.kind === 'drop') {
    req.socket.destroy();
    entry(0);
    return true;
  }
  if (decision.response) {
    req.resume();
    const body = Buffer.from(decision.response.body);
    if (!res.destroyed) {
      res.writeHead(decision.response.status, { ...decision.response.headers, 'content-length': body.length });
      res.end(body);
    }
    entry(decision.response.status);
    return true;
  }
  res.once('finish', () => entry(res.statusCode));
  return false;
}
