/** XSUAA's HTTP routes: /oauth/token, /oauth/authorize, /token_keys, /userinfo and OIDC discovery. */
import { openIdConfiguration } from './schema.ts';
import { bearerToken } from '../../core/auth-header.ts';
import type { XsuaaView } from './state.ts';
import { isIdentityRequest, type PublicUrls } from '../../core/urls.ts';
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
    return c.json(await deps.gateway.userinfo(token));
  });

  // On the identity service's port the discovery document is the identity service's (services/identity/routes.ts).
  app.get('/.well-known/openid-configuration', (c, next) => {
    const url = new URL(c.req.url);
    if (isIdentityRequest(url, deps.urls())) return next();
    return c.json(openIdConfiguration(url.origin));
  });
}
