/**
 * A proxy hop's refusal, in every transport's words at once: the HTTP status and plain-text body, the SOCKS5
 * reply code, and the check and reason the journal keeps. The transports pick what they can say.
 */
import type { AccessDenied, DeniedCheck } from '../cloud-connector/access.ts';

export interface ProxyDenial {
  kind: 'denied';
  /** `auth` (the credential), else the Cloud Connector's check (tenant, location, offline, mapping, protocol, resource). */
  check: 'auth' | DeniedCheck;
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
