/**
 * A proxy hop's refusal, in every transport's words at once: the HTTP status and plain-text body, the SOCKS5
 * reply code, and the check and reason the journal keeps. The transports pick what they can say.
 */
import type { AccessDenied, DeniedCheck } from '../cloud-connector/access.ts';

export interface ProxyDenial {
  kind: 'denied';
  /**
   * `auth` (the connectivity token), `service-token` (trusted shared mode's tenant token), `user` (a user in two
   * headers), else the Cloud Connector's check (tenant, location, offline, mapping, protocol, resource).
   */
  check: 'auth' | 'service-token' | 'user' | DeniedCheck;
  status: number;
  /** RFC 1928 REP with SAP's meanings (5 = refused, 3 = no connector, 2 = not allowed). */
  socksReply: number;
  body: string;
  reason: string;
}

export const authDenied = (reason: string): ProxyDenial => ({
  kind: 'denied',
  check: 'auth',
  status: 407,
  socksReply: 5,
  body: 'Proxy Authentication Required',
  reason,
});

export const accessDenied = (denied: AccessDenied): ProxyDenial => ({
  kind: 'denied',
  check: denied.check,
  status: denied.status,
  socksReply: denied.socksReply,
  body: denied.body,
  reason: denied.reason,
});

/**
 * Trusted shared mode without a usable tenant token: missing (400) or not verifying (401). SAP documents neither
 * answer; see docs/connectivity-proxy.md, "Trusted mode".
 */
export const serviceTokenDenied = (missing: boolean, reason: string): ProxyDenial => ({
  kind: 'denied',
  check: 'service-token',
  status: missing ? 400 : 401,
  socksReply: 5,
  body: missing ? 'Bad Request' : 'Unauthorized',
  reason,
});

/** The user in `SAP-Connectivity-Authentication` and in `Proxy-Authorization` at once: SAP allows one of them only. */
export const userTwiceDenied = (reason: string): ProxyDenial => ({
  kind: 'denied',
  check: 'user',
  status: 400,
  socksReply: 5,
  body: 'The user is sent twice: in Proxy-Authorization and in SAP-Connectivity-Authentication; send it in one of them',
  reason,
});

/** Trusted dedicated mode whose configured subaccount is not a tenant (any more): no connector can serve it. */
export const unknownSubaccountDenied = (subaccount: string, locationId: string): ProxyDenial => ({
  kind: 'denied',
  check: 'tenant',
  status: 503,
  socksReply: 3,
  body: `There is no SAP Cloud Connector (SCC) connected to your subaccount with location ID '${locationId}'`,
  reason: `the trusted proxy serves subaccount \`${subaccount}\`, which is not a tenant of this emulator (connectivityProxy.subaccount)`,
});
