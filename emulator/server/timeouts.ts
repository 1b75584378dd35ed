/**
 * Connection timeouts of every listener (docs/security.md, "Limits and timeouts"): how long a client may take to
 * send a request head (and, before it, a TLS or SOCKS5 handshake), a whole request, and how long an idle
 * keep-alive connection stays open. A timed-out HTTP request is answered `408 Request Timeout` and closed.
 */
import type { Server as HttpServer } from 'node:http';

export interface ConnectionTimeouts {
  /**
   * From connect to a complete request head: HTTP headers (every HTTP listener), the first byte and the TLS
   * handshake (services port), the SOCKS5 handshake (20004), the wait between SMTP commands. Default 60 s.
   */
  headersTimeoutMs?: number;
  /** A whole HTTP request, head and body. Default 300 s. At least `headersTimeoutMs`. */
  requestTimeoutMs?: number;
  /** An idle keep-alive HTTP connection between requests. Default 5 s. */
  idleTimeoutMs?: number;
}

export const defaultTimeouts = {
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  idleTimeoutMs: 5_000,
} as const satisfies Required<ConnectionTimeouts>;

/** The timeouts in force: defaults filled in; a request timeout shorter than the header timeout is raised to it. */
export function resolveTimeouts(given: ConnectionTimeouts = {}): Required<ConnectionTimeouts> {
  const headersTimeoutMs = given.headersTimeoutMs ?? defaultTimeouts.headersTimeoutMs;
  return {
    headersTimeoutMs,
    requestTimeoutMs: Math.max(given.requestTimeoutMs ?? defaultTimeouts.requestTimeoutMs, headersTimeoutMs),
    idleTimeoutMs: given.idleTimeoutMs ?? defaultTimeouts.idleTimeoutMs,
  };
}

/** Options for `http.createServer`: Node's own header, request and keep-alive timeouts (408 on the first two). */
export function httpTimeoutOptions(timeouts: Required<ConnectionTimeouts>): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.idleTimeoutMs,
    // Node checks the header and request timeouts at this interval (default 30 s); short timeouts need shorter checks.
    connectionsCheckingInterval: Math.max(25, Math.min(30_000, Math.floor(timeouts.headersTimeoutMs / 4))),
  };
}

/**
 * A server that gets its sockets through `emit('connection')` and never listens itself: Node starts its header
 * and request timeout checks (and the connection list closeAllConnections uses) on `'listening'`, so emit it.
 * {@link stopTimeoutChecks} ends them.
 */
export function startTimeoutChecks(server: HttpServer): void {
  server.emit('listening');
}

/** Stop the checks {@link startTimeoutChecks} started (http.Server#close clears them; the server was never listening). */
export function stopTimeoutChecks(server: HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
