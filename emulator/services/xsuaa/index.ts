/** XSUAA as a plugin: the token endpoint for every grant, JWKS, discovery and userinfo (routes.ts), over gateway.ts. */
import { definePlugin, type ServiceContext } from '../../core/plugin.ts';
import type { App } from '../../core/app-env.ts';
import { XsuaaGateway } from './gateway.ts';
import { registerRoutes } from './routes.ts';
import type { XsuaaView } from './state.ts';
import { TokenMinter } from './tokens.ts';

// `/oauth/…`, not `/oauth2/…` (the identity service's).
const ownsPath = (path: string): boolean =>
  path === '/oauth' || path.startsWith('/oauth/') || path === '/token_keys' || path.startsWith('/.well-known') || path === '/userinfo';

export interface XsuaaService {
  gateway: XsuaaGateway;
  minter: TokenMinter;
  registerRoutes(app: App): void;
}

export const xsuaaPlugin = definePlugin({
  name: 'xsuaa',
  paths: { service: 'xsuaa', owns: ownsPath, tenantBy: 'token-request' },
  create(ctx: ServiceContext<XsuaaView>): XsuaaService {
    const minter = new TokenMinter(ctx.keys, ctx.clock, () => ctx.urls());
    const gateway = new XsuaaGateway(() => ctx.state(), minter, ctx.clock);
    const deps = {
      gateway,
      keys: ctx.keys,
      minter,
      state: () => ctx.state(),
      urls: () => ctx.urls(),
      verifiesClientCertificates: ctx.options.verifiesClientCertificates === true,
    };
    return { gateway, minter, registerRoutes: (app) => registerRoutes(app, deps) };
  },
});
