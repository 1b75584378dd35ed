/**
 * What the fake backend answers, shared by its faces (the socket backend and the MSW handlers): a stub's
 * status, headers and body, and the query part of the echo. No transport here.
 */
import type { BackendStub } from '../cloud-connector/state.ts';

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
