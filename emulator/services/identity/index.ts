/**
 * SAP Cloud Identity Services (IAS) as a plugin, beside XSUAA: the token service of the identity bindings (every
 * grant, app-to-app `resource`, mTLS with the binding's certificate and `cnf`), its JWKS and OIDC discovery, on
 * the identity port (routes.ts). Other services use its minter and {@link verifyIasToken}.
 */
import type { App } from '../../core/app-env.ts';
import { definePlugin, type ServiceContext } from '../../core/plugin.ts';
import { xsuaaPlugin } from '../xsuaa/index.ts';
import { IdentityGateway } from './gateway.ts';
import { registerRoutes } from './routes.ts';
import type { IdentityView } from './state.ts';
import { identityKeyRing, IdentityTokenMinter, type IasVerification } from './tokens.ts';

export { buildIdentityState, type IdentityApplication, type IdentityState, type IdentityView } from './state.ts';
export { checkIdentityReferences, identitySchema, type IdentityScenario } from './schema.ts';
export { IdentityHosts, type IasClaims, type MintedIasToken } from './tokens.ts';
export type { IdentityApplicationView, IdentityGateway } from './gateway.ts';
export type { IdentityTokenMinter } from './tokens.ts';

const ownsPath = (path: string): boolean => path.startsWith('/oauth2/');

export interface IdentityService {
  gateway: IdentityGateway;
  minter: IdentityTokenMinter;
  registerRoutes(app: App): void;
}

export const identityPlugin = definePlugin({
  name: 'identity',
  paths: { service: 'identity', owns: ownsPath, tenantBy: 'token-request' },
  create(ctx: ServiceContext<IdentityView>): IdentityService {
    const keys = identityKeyRing(ctx.keys);
    keys.useClock(() => ctx.clock.now());
    const minter = new IdentityTokenMinter(keys, ctx.clock, () => ctx.urls());
    const gateway = new IdentityGateway(() => ctx.state(), minter, ctx.clock);
    // XSUAA trusts this identity service: its jwt-bearer takes IAS user tokens (the IAS → XSUAA exchange).
    ctx.use(xsuaaPlugin).gateway.trustIdentityService((jwt) => minter.verify(jwt, { tenants: ctx.state().tenants }));
    const deps = {
      gateway,
      state: () => ctx.state(),
      urls: () => ctx.urls(),
      verifiesClientCertificates: ctx.options.verifiesClientCertificates === true,
    };
    return { gateway, minter, registerRoutes: (app) => registerRoutes(app, deps) };
  },
});

/**
 * Verify a token of this emulator's identity service: signature (the identity key ring), expiry on the one clock,
 * the issuer of the tenant in its `app_tid` and, with `audience`, that `aud` contains it. For other services (the
 * Destination Service, the connectivity proxy, XSUAA's jwt-bearer) that accept IAS tokens.
 */
export function verifyIasToken(
  identity: IdentityService,
  tenants: IdentityView['tenants'],
  jwt: string,
  options: { audience?: string } = {},
): Promise<IasVerification> {
  return identity.minter.verify(jwt, { ...options, tenants });
}
