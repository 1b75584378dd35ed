/**
 * `authTokens` of the find response: for each authentication type, what the Destination Service prepares
 * for the caller. OAuth flows really call the destination's token service; failures become an element with
 * `error` (HTTP status stays 200), as the real service reports them.
 */
import { base64Encode } from '../core/ids.ts';
import type { DestinationProps } from '../core/scenario-schema.ts';
import { JWT_BEARER } from '../xsuaa/gateway.ts';
import { decodeJwtPayload } from '../xsuaa/tokens.ts';
import type { Caller } from './caller.ts';
import { DestinationError } from './errors.ts';
import { requestToken, TokenRetrievalError, type OutboundFetch, type TokenServiceResult } from './token-service-client.ts';

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
}

export const failedToken = (error: string): AuthToken => ({ type: '', value: '', error, expires_in: '0', http_header: { key: '', value: '' } });

function bearer(result: TokenServiceResult, headerKey = 'Authorization'): AuthToken {
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
function userToken(ctx: TokenContext): string | undefined {
  if (ctx.xUserToken) return ctx.xUserToken;
  return ctx.caller.isUser ? ctx.caller.jwt : undefined;
}

function subdomainOf(jwt: string | undefined): string | undefined {
  const payload = jwt ? decodeJwtPayload(jwt) : undefined;
  const zdn = (payload?.ext_attr as { zdn?: string } | undefined)?.zdn;
  return zdn ?? undefined;
}

const isCommon = (cfg: DestinationProps): boolean => (cfg.tokenServiceURLType ?? '').toLowerCase() === 'common';

/** Returns the authTokens array, or undefined when the type has none. Throws only for request errors (400). */
export async function retrieveAuthTokens(cfg: DestinationProps, ctx: TokenContext): Promise<AuthToken[] | undefined> {
  const type = cfg.Authentication ?? 'NoAuthentication';
  const oauth = async (grant: Record<string, string>, tenant: string | undefined, headerKey?: string): Promise<AuthToken[]> => {
    try {
      return [bearer(await requestToken(cfg, grant, tenant, ctx.fetch), headerKey)];
    } catch (err) {
      if (err instanceof TokenRetrievalError) return [failedToken(`Retrieval of OAuth token failed: ${err.message}`)];
      throw err;
    }
  };

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

    case 'OAuth2ClientCredentials':
    case 'OAuth2TechnicalUserPropagation': {
      if (ctx.xTenant && !isCommon(cfg)) {
        throw new DestinationError(400, `X-tenant may only be sent for destinations with tokenServiceURLType "Common"; "${cfg.Name}" uses "${cfg.tokenServiceURLType ?? 'Dedicated'}"`);
      }
      const tenant = isCommon(cfg) ? (ctx.xTenant ?? ctx.caller.tenant.subdomain) : undefined;
      const key = type === 'OAuth2TechnicalUserPropagation' ? 'SAP-Connectivity-Technical-Authentication' : 'Authorization';
      return oauth({ grant_type: 'client_credentials' }, tenant, key);
    }

    case 'OAuth2Password': {
      if (cfg.User === undefined || cfg.Password === undefined) return [failedToken('OAuth2Password needs the properties User and Password')];
      const tenant = isCommon(cfg) ? ctx.caller.tenant.subdomain : undefined;
      return oauth({ grant_type: 'password', username: cfg.User, password: cfg.Password }, tenant);
    }

    case 'OAuth2JWTBearer':
    case 'OAuth2UserTokenExchange': {
      const user = userToken(ctx);
      if (!user) {
        return [failedToken(`${type} needs a user token: send it in X-user-token or as the Authorization bearer token`)];
      }
      const tenant = isCommon(cfg) ? (subdomainOf(user) ?? ctx.caller.tenant.subdomain) : undefined;
      return oauth({ grant_type: JWT_BEARER, assertion: user }, tenant);
    }

    case 'OAuth2RefreshToken': {
      const refresh = ctx.headers.get('x-refresh-token');
      if (!refresh) return [failedToken('OAuth2RefreshToken needs the X-refresh-token header')];
      return oauth({ grant_type: 'refresh_token', refresh_token: refresh }, isCommon(cfg) ? ctx.caller.tenant.subdomain : undefined);
    }

    case 'OAuth2AuthorizationCode': {
      const code = ctx.headers.get('x-code');
      if (!code) return [failedToken('OAuth2AuthorizationCode needs the X-code header')];
      const grant: Record<string, string> = { grant_type: 'authorization_code', code };
      const redirect = ctx.headers.get('x-redirect-uri');
      if (redirect) grant.redirect_uri = decodeURIComponent(redirect);
      const verifier = ctx.headers.get('x-code-verifier');
      if (verifier) grant.code_verifier = verifier;
      return oauth(grant, isCommon(cfg) ? ctx.caller.tenant.subdomain : undefined);
    }

    default:
      return [failedToken(`Authentication type "${type}" is not supported by this emulator yet`)];
  }
}
