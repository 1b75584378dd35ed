/**
 * The request description a proxy hop is given, whatever its transport: who asks (the credential), through
 * which Cloud Connector (location ID), for which virtual host, port and path, over which channel.
 */
import type { Tenant } from '../../core/subaccount.ts';
import type { AccessChannel } from '../cloud-connector/access.ts';

/** The face that carries the hop: the HTTP proxy (20003), SOCKS5 (20004), the MSW approuter. */
export type ProxyTransport = 'http-proxy' | 'socks5' | 'approuter';

/**
 * A connectivity token (the HTTP proxy's `Proxy-Authorization`, SOCKS5's 0x80 method), or an in-process hop
 * that stands for the connectivity binding of a tenant it already knows (the MSW approuter).
 */
export type ProxyCredential = { token: string | undefined } | { binding: Tenant };

export interface ProxyTarget {
  virtualHost: string;
  virtualPort: number;
  /** HTTP: the path without the query, as received (the access check normalises it). */
  path?: string;
  protocol: AccessChannel;
}

/** What the transport knows when the hop starts; the journal entry begins with it. */
export interface ProxyHopStart {
  transport: ProxyTransport;
  method: string;
  /** The request target as the client sent it (HTTP) or `host:port` (SOCKS5, once known). */
  target: string;
  /** `performance.now()` when the request (or connection) arrived. */
  started: number;
  correlationId?: string;
}

/** A whole request at once: the one-shot form of a hop (HTTP proxy, approuter). */
export interface ProxyRequest extends ProxyHopStart {
  credential: ProxyCredential;
  /** '' = the default connector. */
  locationId: string;
  to: ProxyTarget;
}
