/**
 * The identity service's HTTP routes on its own port: /oauth2/token, /oauth2/authorize, /oauth2/certs and OIDC
 * discovery. The same core serves the services port; there these paths answer 404 naming the identity port, and
 * discovery is XSUAA's (which hands identity-port requests on to the route here).
 */
import type { App } from '../../core/app-env.ts';
import { clientCertificateSubject, clientCertificateThumbprint } from '../../core/client-certificate.ts';
import { decodeJwtPayload } from '../../core/jwt.ts';
import { findTenant } from '../../core/subaccount.ts';
import { isIdentityRequest, type PublicUrls } from '../../core/urls.ts';
import { IdentityOAuthError, invalidRequest } from './errors.ts';
import type { IdentityGateway } from './gateway.ts';
import { openIdConfiguration } from './schema.ts';
import type { IdentityView } from './state.ts';

export interface IdentityDeps {
  gateway: IdentityGateway;
  state: () => IdentityView;
  urls: () => PublicUrls;
  /** True when the face verifies TLS client certificates and passes subject and thumbprint in headers. */
  verifiesClientCertificates?: boolean;
}

export function registerRoutes(app: App, deps: IdentityDeps): void {
  app.use('/oauth2/*', async (c, next) => {
    const url = new URL(c.req.url);
    if (!isIdentityRequest(url, deps.urls())) {
      const origin = deps.gateway.minter.hosts().origin;
      return c.json(
        {
          error: 'not_found',
          message: `${url.pathname} is the identity service's (IAS): it is served on its own port, ${origin}${url.pathname} (the identity binding's url)`,
        },
        404,
      );
    }
    c.set('journal', { service: 'identity' });
    return next();
  });

  app.post('/oauth2/token', async (c) => {
    const type = c.req.header('content-type') ?? '';
    const text = await c.req.text();
    if (text && !type.toLowerCase().startsWith('application/x-www-form-urlencoded'))
      throw invalidRequest(`the token request must be sent as application/x-www-form-urlencoded, not "${type}"`);
    const form = new URLSearchParams(text);
    const headers = c.req.raw.headers;
    const response = await deps.gateway.token({
      form,
      authorization: c.req.header('authorization'),
      host: new URL(c.req.url).host,
      ...(deps.verifiesClientCertificates
        ? { clientCertificateSubject: clientCertificateSubject(headers), clientCertificateX5t: clientCertificateThumbprint(headers) }
        : {}),
    });
    const issued = decodeJwtPayload(response.access_token);
    const tenant = typeof issued?.app_tid === 'string' ? findTenant(deps.state(), { zid: issued.app_tid }) : undefined;
    if (tenant) c.set('tenant', tenant.subdomain);
    c.set('journal', { service: 'identity', clientId: issued?.azp, grantType: form.get('grant_type'), issuedJti: issued?.jti });
    return c.json(response, 200, { 'cache-control': 'no-store' });
  });

  app.on(['GET', 'PUT', 'DELETE', 'PATCH'], '/oauth2/token', () => {
    throw new IdentityOAuthError(405, 'invalid_request', 'the token endpoint takes POST only');
  });

  app.get('/oauth2/authorize', (c) => {
    const url = new URL(c.req.url);
    return c.redirect(deps.gateway.authorize(url.searchParams, url.host), 302);
  });

  // xssec's online validation: a client id or app_tid the identity service does not know is refused with 400.
  app.get('/oauth2/certs', (c) => {
    const clientid = c.req.header('x-client_id');
    if (clientid && !deps.gateway.application(clientid))
      return c.json(
        { error: 'invalid_client', error_description: `x-client_id "${clientid}" is not an application of this identity service` },
        400,
      );
    const appTid = c.req.header('x-app_tid');
    if (appTid && !findTenant(deps.state(), { zid: appTid }))
      return c.json({ error: 'invalid_request', error_description: `x-app_tid "${appTid}" is not a tenant of this identity service` }, 400);
    return c.json({ keys: deps.gateway.minter.keys.jwks().keys.map(({ value: _pem, ...jwk }) => jwk) });
  });

  app.get('/.well-known/openid-configuration', (c) => {
    const url = new URL(c.req.url);
    c.set('journal', { service: 'identity' });
    return c.json(openIdConfiguration(`https://${url.host}`));
  });
}
