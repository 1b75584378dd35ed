/**
 * `authTokens` of the find response: for each authentication type, what the Destination Service prepares
 * for the caller. OAuth flows really call the destination's token service; failures (including a missing
 * mandatory header) become an element with `error` while the HTTP status stays 200, as the real service
 * reports them. Forbidden header combinations are a 400. The OAuth family is in auth-tokens-oauth.ts, the
 * SAML family in auth-tokens-saml.ts.
 */
import { base64Encode } from '../core/ids.ts';
import type { DestinationProps } from '../core/scenario-schema.ts';
import type { XsuaaClaims } from '../xsuaa/tokens.ts';
import type { Caller } from './caller.ts';
import { retrieveOAuthTokens } from './auth-tokens-oauth.ts';
import { retrieveSamlTokens } from './auth-tokens-saml.ts';
import type { TrustKeyPair } from './saml-trust.ts';
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
  /** Verifies a user token the way the emulator's XSUAA does; default: decode only. */
  verifyUserToken?: (jwt: string) => Promise<{ ok: true; claims: XsuaaClaims } | { ok: false; reason: string }>;
  /** The signing key pair (the destination's keystore, else the subaccount trust certificate) and issuer of SAML assertions. */
  samlSigning?: () => Promise<{ keys: TrustKeyPair; issuer: string }>;
  /** A destination of the caller's levels by name (instance first), for `clientAssertion.destinationName`. */
  lookupDestination?: (name: string) => DestinationProps | undefined;
}

export const failedToken = (error: string): AuthToken => ({ type: '', value: '', error, expires_in: '0', http_header: { key: '', value: '' } });

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

/** Returns the authTokens array, or undefined when the type has none. Throws only for request errors (400). */
export async function retrieveAuthTokens(cfg: DestinationProps, ctx: TokenContext): Promise<AuthToken[] | undefined> {
  const type = cfg.Authentication ?? 'NoAuthentication';
  switch (type) {
    case 'NoAuthentication':
    case 'PrincipalPropagation':
    case 'ClientCertificateAuthentication':
      return undefined;

    case 'BasicAuthentication': {
      if (cfg.User === undefined || cfg.Password === undefined) return [failedToken('BasicAuthentication needs the properties User and Password')];
      const value = base64Encode(`${cfg.User}:${cfg.Password}`);
      return [{ type: 'Basic', value, http_header: { key: 'Authorization', value: `Basic ${value}` } }];
    }

    case 'SAMLAssertion':
    case 'OAuth2SAMLBearerAssertion':
      return retrieveSamlTokens(type, cfg, ctx);

    default:
      return retrieveOAuthTokens(type, cfg, ctx);
  }
}
