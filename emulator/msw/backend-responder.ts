/**
 * The fake backend without a socket: a request is answered by the newest matching backend stub of the
 * core's state (the same stubs and matching as the socket backend), else echoed as JSON (method, path,
 * query, headers, body) so a test can see exactly what arrived. Web-standard Request/Response only.
 */
import { matchStub, type BackendStub } from '../cloud-connector/model.ts';
import type { EmulatorCore } from '../core/emulator-core.ts';

function stubResponse(stub: BackendStub, method: string): Response {
  const body = stub.body === undefined ? null : typeof stub.body === 'string' ? stub.body : JSON.stringify(stub.body);
  const headers = new Headers(stub.headers);
  if (!headers.has('content-type') && stub.body !== undefined) {
    headers.set('content-type', typeof stub.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
  }
  const bodyless = method === 'HEAD' || stub.status === 204 || stub.status === 304;
  return new Response(bodyless ? null : body, { status: stub.status, headers });
}

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return query;
}

async function echoResponse(request: Request, url: URL): Promise<Response> {
  const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
  const echo = { method: request.method, path: url.pathname, query: queryOf(url), headers: Object.fromEntries(request.headers), body };
  return new Response(request.method === 'HEAD' ? null : JSON.stringify(echo), { status: 200, headers: { 'content-type': 'application/json' } });
}

/** Answer one backend request from the core's stubs (honouring `delayMs`), or echo it. */
export async function answerFromBackend(core: EmulatorCore, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const stub = matchStub(core.state.onPrem, request.method, url.pathname);
  if (!stub) return echoResponse(request, url);
  if (stub.delayMs) await new Promise((resolve) => setTimeout(resolve, stub.delayMs));
  return stubResponse(stub, request.method);
}
