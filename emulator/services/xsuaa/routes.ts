/** XSUAA's HTTP routes: /oauth/token, /oauth/authorize, /token_keys, /userinfo and OIDC discovery. */
import { bearerToken } from '../../core/auth-header.ts';
import type { XsuaaView } from './state.ts';
import { type PublicUrls } from '../../core/urls.ts';
import { decodeJwtPayload } from '../../core/jwt.ts';
import type { App } from '../../core/app-env.ts';
import { clientCertificateSubject } from '../../core/client-certificate.ts';
import { invalidRequest, OAuthError } from './errors.ts';
import type { XsuaaGateway } from './gateway.ts';
import type { KeyRing } from '../../core/signing-keys.ts';
import { type TokenMinter } from './tokens.ts';

export interface XsuaaDeps {
  gateway: XsuaaGateway;
  keys: KeyRing;
  minter: TokenMinter;
  state: () => XsuaaView;
  urls: () => PublicUrls;
  /** True when the face verifies TLS client certificates and passes their subject in a header; else the header is ignored. */
  verifiesClientCertificates?: boolean;
}

export function registerRoutes(app: App, deps: XsuaaDeps): void {
  app.post('/oauth/token', async (c) => {
    const type = c.req.header('content-type') ?? '';
    const text = await c.req.text();
    if (text && !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw invalidRequest(`the token request must be sent as application/x-www-form-urlencoded, not "${type}"`);
    }
    const form = new URLSearchParams(text);
    // UAA also reads request parameters from the query (e.g. a destination's tokenServiceURL.queries.*); the body wins.
    for (const [key, value] of new URL(c.req.url).searchParams) if (!form.has(key)) form.set(key, value);
    const response = await deps.gateway.token({
      form,
      authorization: c.req.header('authorization'),
      zid: c.req.header('x-zid'),
      host: new URL(c.req.url).host,
      clientCertificateSubject: deps.verifiesClientCertificates ? clientCertificateSubject(c.req.raw.headers) : undefined,
    });
    const issued = decodeJwtPayload(response.access_token);
    const zdn = (issued?.ext_attr as { zdn?: string } | undefined)?.zdn;
    if (zdn) c.set('tenant', zdn);
    c.set('journal', { clientId: issued?.client_id, grantType: issued?.grant_type, issuedJti: issued?.jti });
    return c.json(response, 200, { 'cache-control': 'no-store' });
  });

  app.on(['GET', 'PUT', 'DELETE', 'PATCH'], '/oauth/token', () => {
    throw new OAuthError(405, 'method_not_allowed', 'Request method not supported; use POST');
  });

  app.get('/oauth/authorize', (c) => c.redirect(deps.gateway.authorize(new URL(c.req.url).searchParams, new URL(c.req.url).host), 302));

  app.get('/token_keys', (c) => {
    const zid = c.req.query('zid');
    if (zid && !deps.state().tenants.some((t) => t.zid === zid)) {
      return c.json({ error: 'invalid_request', error_description: `zid "${zid}" is not a zone of this emulator` }, 400);
    }
    return c.json(deps.keys.jwks());
  });

  app.get('/userinfo', async (c) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new OAuthError(401, 'unauthorized', 'Full authentication is required to access this resource');
    const verified = await deps.minter.verify(token);
    if (!verified.ok) throw new OAuthError(401, 'invalid_token', verified.reason);
    const cl = verified.claims;
    // UAA guards /userinfo with the resource id and scope `openid`, which user tokens carry and client tokens do not.
    if (!cl.scope.includes('openid')) throw new OAuthError(403, 'access_denied', 'Invalid token does not contain resource id (openid)');
    return c.json({
      user_id: cl.user_id,
      sub: cl.sub,
      user_name: cl.user_name,
      email: cl.email,
      given_name: cl.given_name,
      family_name: cl.family_name,
      origin: cl.origin,
      zid: cl.zid,
    });
  });

  app.get('/.well-known/openid-configuration', (c) => {
    const origin = new URL(c.req.url).origin;
    return c.json({
      issuer: `${origin}/oauth/token`,
      authorization_endpoint: `${origin}/oauth/authorize`,
      token_endpoint: `${origin}/oauth/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      userinfo_endpoint: `${origin}/userinfo`,
      jwks_uri: `${origin}/token_keys`,
      scopes_supported: ['openid'],
      response_types_supported: ['code', 'code id_token', 'id_token', 'token id_token'],
      grant_types_supported: [
        'client_credentials',
        'password',
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        'urn:ietf:params:oauth:grant-type:saml2-bearer',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: [
        'sub',
        'user_name',
        'origin',
        'iss',
        'auth_time',
        'amr',
        'acr',
        'client_id',
        'aud',
        'zid',
        'grant_type',
        'user_id',
        'azp',
        'scope',
        'exp',
        'iat',
        'jti',
        'rev_sig',
        'cid',
        'given_name',
        'family_name',
        'phone_number',
        'email',
      ],
      claims_parameter_supported: false,
      code_challenge_methods_supported: ['S256', 'plain'],
    });
  });
}
