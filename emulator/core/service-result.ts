/**
 * What a transport-free gateway answers (plugin.ts: gateway.ts has no HTTP): a status, an optional JSON body and
 * headers. A service's routes turn it into a Response with {@link resultResponse}.
 */
import { sha256Hex, stableJson } from './ids.ts';

export interface ServiceResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The Response of a result: the body as JSON, none when the result has none (304, 201). */
export function resultResponse(result: ServiceResult): Response {
  const headers = new Headers(result.headers);
  if (result.body === undefined) return new Response(null, { status: result.status, headers });
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify(result.body), { status: result.status, headers });
}

/** The ETag of a JSON value: the SHA-256 of its stable JSON text (the same value gives the same ETag). */
export const etagOf = (value: unknown): string => sha256Hex(stableJson(value));
