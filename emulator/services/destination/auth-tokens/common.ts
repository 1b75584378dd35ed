/**
 * What every authentication family shares: the `authTokens` element and its failure form, the context of one
 * lookup (headers, the user, outbound calls, SAML signing, other destinations), and small helpers.
 */
import { type DestinationProps } from '../schema.ts';
import type { Caller } from '../lookup/caller.ts';
import type { TrustKeyPair } from '../../saml/index.ts';
import type { OutboundFetch, TokenServiceResult } from './token-service-client.ts';

export interface AuthToken {
  type: string;
  value: string;
  http_header: { key: string; value: string };
  expires_in?: string;
  scope?: string;
  refresh_token?: string;
  issued_token_type?: string;
  error?: string;
}

export interface TokenContext {
  caller: Caller;
  /** `X-user-token`, if sent and not empty. */
  xUserToken?: string;
  /** `X-tenant`, if sent and not empty. */
  xTenant?: string;
  headers: Headers;
  fetch: OutboundFetch;
  /** The emulator clock (ms); default: real time. */
  now?: () => number;
  /**
   * Verifies a user token the way the emulator's XSUAA does, or (a non-XSUAA token: IAS) against the identity
   * service's keys and tenants; default: decode only.
   */
  verifyUserToken?: (jwt: string) => Promise<{ ok: true; claims: Record<string, unknown> } | { ok: false; reason: string }>;
  /** The signing key pair (the destination's keystore, else the subaccount trust certificate) and issuer of SAML assertions. */
  samlSigning?: () => Promise<{ keys: TrustKeyPair; issuer: string }>;
  /** A destination of the caller's levels by name (instance first), for `clientAssertion.destinationName`. */
  lookupDestination?: (name: string) => DestinationProps | undefined;
}

export const failedToken = (error: string): AuthToken => ({
  type: '',
  value: '',
  error,
  expires_in: '0',
  http_header: { key: '', value: '' },
});

export function bearer(result: TokenServiceResult, headerKey = 'Authorization'): AuthToken {
  const type = !result.token_type || result.token_type.toLowerCase() === 'bearer' ? 'Bearer' : result.token_type;
  return {
    type,
    value: result.access_token,
    http_header: { key: headerKey, value: `${type} ${result.access_token}` },
    ...(result.expires_in !== undefined ? { expires_in: String(result.expires_in) } : {}),
    ...(result.scope !== undefined ? { scope: result.scope } : {}),
    ...(result.refresh_token ? { refresh_token: result.refresh_token } : {}),
    ...(result.issued_token_type ? { issued_token_type: result.issued_token_type } : {}),
  };
}

/** The user of a user flow: `X-user-token` wins, else a user token in `Authorization`. */
export function userToken(ctx: TokenContext): string | undefined {
  if (ctx.xUserToken) return ctx.xUserToken;
  return ctx.caller.isUser ? ctx.caller.jwt : undefined;
}

export const isCommon = (cfg: DestinationProps): boolean => (cfg.tokenServiceURLType ?? '').toLowerCase() === 'common';
