/**
 * `authTokens` of the find response: for each authentication type, what the Destination Service prepares
 * for the caller. OAuth flows really call the destination's token service; failures (including a missing
 * mandatory header) become an element with `error` while the HTTP status stays 200, as the real service
 * reports them. Forbidden header combinations are a 400. The OAuth family is in auth-tokens-oauth.ts, the
 * SAML family in auth-tokens-saml.ts, what they share in auth-tokens-common.ts.
 */
import { type DestinationProps } from '../schema.ts';
import { base64Encode } from '../../../core/ids.ts';
import { failedToken, type AuthToken, type TokenContext } from './common.ts';
import { retrieveOAuthTokens } from './oauth.ts';
import { retrieveSamlTokens } from './saml.ts';

export { failedToken, type AuthToken, type TokenContext } from './common.ts';

/** Returns the authTokens array, or undefined when the type has none. Throws only for request errors (400). */
export async function retrieveAuthTokens(cfg: DestinationProps, ctx: TokenContext): Promise<AuthToken[] | undefined> {
  const type = cfg.Authentication ?? 'NoAuthentication';
  switch (type) {
    case 'NoAuthentication':
    case 'PrincipalPropagation':
    case 'ClientCertificateAuthentication':
      return undefined;

    case 'BasicAuthentication': {
      if (cfg.User === undefined || cfg.Password === undefined)
        return [failedToken('BasicAuthentication needs the properties User and Password')];
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
