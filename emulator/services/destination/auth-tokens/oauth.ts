/**
 * authTokens of the OAuth family: client credentials (also technical user propagation), password, JWT bearer
 * and user token exchange, refresh token, authorization code and RFC 8693 token exchange — each checks its
 * mandatory headers, then calls the token service (with a client assertion instead of the secret if one is
 * given) and maps the answer to one element.
 */
import { type DestinationProps } from '../schema.ts';
import { decodeJwtPayload } from '../../../core/jwt.ts';
import { JWT_BEARER } from '../../xsuaa/gateway.ts';
import { bearer, failedToken, isCommon, userToken, type AuthToken, type TokenContext } from './common.ts';
import { clientAssertionFor } from './client-assertion.ts';
import { DestinationError } from '../errors.ts';
import { requestToken, TokenRetrievalError } from './token-service-client.ts';
import { isIasToken } from '../../../core/jwt.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

function subdomainOf(jwt: string | undefined): string | undefined {
  const payload = jwt ? decodeJwtPayload(jwt) : undefined;
  return (payload?.ext_attr as { zdn?: string } | undefined)?.zdn ?? undefined;
}

/** One token request for the destination; a failure becomes an error element. */
export async function oauthToken(
  cfg: DestinationProps,
  grant: Record<string, string>,
  tenant: string | undefined,
  ctx: TokenContext,
  headerKey?: string,
): Promise<AuthToken[]> {
  try {
    const clientAssertion = await clientAssertionFor(cfg, ctx);
    return [bearer(await requestToken(cfg, grant, tenant, ctx.fetch, clientAssertion), headerKey)];
  } catch (err) {
    if (err instanceof TokenRetrievalError) return [failedToken(`Retrieval of OAuth token failed: ${err.message}`)];
    throw err;
  }
}

const missingHeader = (type: string, header: string): AuthToken[] => [
  failedToken(`${type} needs the ${header} header, which the request did not send (or sent empty)`),
];

export async function retrieveOAuthTokens(type: string, cfg: DestinationProps, ctx: TokenContext): Promise<AuthToken[]> {
  const header = (name: string): string | undefined => ctx.headers.get(name)?.trim() || undefined;
  const callerTenant = isCommon(cfg) ? ctx.caller.tenant.subdomain : undefined;
  switch (type) {
    case 'OAuth2ClientCredentials':
    case 'OAuth2TechnicalUserPropagation': {
      if (ctx.xTenant && !isCommon(cfg)) {
        throw new DestinationError(
          400,
          `X-tenant may only be sent for destinations with tokenServiceURLType "Common"; "${cfg.Name}" uses "${cfg.tokenServiceURLType ?? 'Dedicated'}"`,
        );
      }
      const tenant = isCommon(cfg) ? (ctx.xTenant ?? ctx.caller.tenant.subdomain) : undefined;
      const key = type === 'OAuth2TechnicalUserPropagation' ? 'SAP-Connectivity-Technical-Authentication' : 'Authorization';
      return oauthToken(cfg, { grant_type: 'client_credentials' }, tenant, ctx, key);
    }

    case 'OAuth2Password':
      if (cfg.User === undefined || cfg.Password === undefined)
        return [failedToken('OAuth2Password needs the properties User and Password')];
      return oauthToken(cfg, { grant_type: 'password', username: cfg.User, password: cfg.Password }, callerTenant, ctx);

    case 'OAuth2JWTBearer':
    case 'OAuth2UserTokenExchange': {
      const user = userToken(ctx);
      if (!user) return [failedToken(`${type} needs a user token: send it in X-user-token or as the Authorization bearer token`)];
      // A non-XSUAA (IAS) user token is verified here, against the identity service's keys, before it goes anywhere.
      if (isIasToken(user) && ctx.verifyUserToken) {
        const verified = await ctx.verifyUserToken(user);
        if (!verified.ok) return [failedToken(`The user token is not accepted: ${verified.reason}`)];
      }
      const tenant = isCommon(cfg) ? (subdomainOf(user) ?? ctx.caller.tenant.subdomain) : undefined;
      return oauthToken(cfg, { grant_type: JWT_BEARER, assertion: user }, tenant, ctx);
    }

    case 'OAuth2RefreshToken': {
      const refresh = header('x-refresh-token');
      if (!refresh) return missingHeader(type, 'X-refresh-token');
      return oauthToken(cfg, { grant_type: 'refresh_token', refresh_token: refresh }, callerTenant, ctx);
    }

    case 'OAuth2AuthorizationCode': {
      const code = header('x-code');
      if (!code) return missingHeader(type, 'X-code');
      const grant: Record<string, string> = { grant_type: 'authorization_code', code };
      const redirect = header('x-redirect-uri');
      if (redirect) grant.redirect_uri = decodeURIComponent(redirect);
      const verifier = header('x-code-verifier');
      if (verifier) grant.code_verifier = verifier;
      return oauthToken(cfg, grant, callerTenant, ctx);
    }

    case 'OAuth2TokenExchange': {
      const subject = header('x-subject-token');
      const subjectType = header('x-subject-token-type');
      if (!subject) return missingHeader(type, 'X-subject-token');
      if (!subjectType) return missingHeader(type, 'X-subject-token-type');
      const grant: Record<string, string> = { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject, subject_token_type: subjectType };
      const actor = header('x-actor-token');
      const actorType = header('x-actor-token-type');
      if (actor && !actorType) return missingHeader(type, 'X-actor-token-type (X-actor-token was sent)');
      if (actor && actorType) Object.assign(grant, { actor_token: actor, actor_token_type: actorType });
      // tokenServiceURLType is not supported for this type: the URL is used as it is.
      return oauthToken({ ...cfg, tokenServiceURLType: 'Dedicated' }, grant, undefined, ctx);
    }

    default:
      return [failedToken(`Authentication type "${type}" is not supported by the Destination Service (or not by this emulator)`)];
  }
}
