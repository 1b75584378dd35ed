/**
 * The fake backend without a socket: a request is answered by the newest matching backend stub of the
 * core's state (the same stubs and matching as the socket backend), else echoed as JSON (method, path,
 * query, headers, body) so a test can see exactly what arrived. Web-standard Request/Response only.
 */
import { matchStub } from '../services/backend/state.ts';
import { echoQuery, stubResponse } from '../services/backend/gateway.ts';
import { meetBackendFault } from '../services/backend/gateway.ts';
import type { EmulatorCore } from '../app/emulator-core.ts';

async function echoResponse(request: Request, url: URL): Promise<Response> {
  const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
  const echo = { method: request.method, path: url.pathname, query: echoQuery(url), headers: Object.fromEntries(request.headers), body };
  return new Response(request.method === 'HEAD' ? null : JSON.stringify(echo), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}

/** Answer one backend request as a fault says (a dropped connection is a network error), else as the backend does. */
export async function answerFromBackend(core: EmulatorCore, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const fault = await meetBackendFault(core, {
    method: request.method,
    path: url.pathname + url.search,
    header: (name) => request.headers.get(name),
  });
  if (fault?.kind === 'drop') return Response.error();
  if (fault?.kind === 'answer') return new Response(fault.body, { status: fault.status, headers: fault.headers });
  const response = await answerAsBackend(core, request, url);
  fault?.answered(response.status);
  return response;
}

/** Answer one backend request from the core's stubs (honouring `delayMs`), or echo it. */
async function answerAsBackend(core: EmulatorCore, request: Request, url: URL): Promise<Response> {
  const stub = matchStub(core.state.onPrem, request.method, url.pathname);
  if (!stub) return echoResponse(request, url);
  if (stub.delayMs) await new Promise((resolve) => setTimeout(resolve, stub.delayMs));
  const answer = stubResponse(stub, request.method);
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
