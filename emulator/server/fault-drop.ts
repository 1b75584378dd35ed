/**
 * The Node face of a "dropped connection" fault: the core marks such an answer with an internal header (it
 * has no socket); here the connection is destroyed instead of answered, so the client sees a reset, as when a
 * server goes away mid-request.
 */
import type { Http2Bindings, HttpBindings } from '@hono/node-server';
import { droppedHeader } from '../core/fault-middleware.ts';

/** Wrap the core's fetch for `getRequestListener`: a dropped answer destroys the socket and sends nothing. */
export function withDroppedConnections(
  fetch: (request: Request) => Promise<Response>,
): (request: Request, env: HttpBindings | Http2Bindings) => Promise<Response> {
  return async (request, env) => {
    const response = await fetch(request);
    if (!response.headers.has(droppedHeader)) return response;
    env.incoming.socket.destroy();
    return new Response(null, { status: 502 });
  };
}
