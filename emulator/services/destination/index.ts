/**
 * The Destination Service as a plugin: find and consume (lookup/, with authTokens from auth-tokens/ and keystores
 * from certificates/), CRUD with labels (crud/) and the SAML metadata of the subaccount (saml-metadata/), over
 * gateway.ts. `create` builds the gateway with all it depends on: the state, XSUAA's tokens, outbound calls, the
 * clock, the placeholder values, the certificate authority and the per-level limit.
 */
import { definePlugin, type ServiceContext } from '../../core/plugin.ts';
import type { App } from '../../core/app-env.ts';
import { safeDecode } from '../../core/ids.ts';
import { identityPlugin, verifyIasToken } from '../identity/index.ts';
import { xsuaaPlugin } from '../xsuaa/index.ts';
import type { CertificateAuthority } from './certificates/certificates.ts';
import { DestinationGateway } from './gateway.ts';
import { registerDestinationRoutes } from './routes.ts';
import type { DestinationView } from './state.ts';

const lookupPath = /^\/destination-configuration\/v[12]\/destinations\/([^/]+)$/;

export interface DestinationService {
  gateway: DestinationGateway;
  registerRoutes(app: App): void;
}

export const destinationPlugin = definePlugin({
  name: 'destination',
  paths: {
    service: 'destination',
    owns: (path) => path.startsWith('/destination-configuration'),
    changesState: () => true,
    destinationOf: (path) => {
      const name = lookupPath.exec(path)?.[1];
      return name === undefined ? undefined : safeDecode(name);
    },
  },
  create(ctx: ServiceContext<DestinationView>): DestinationService {
    const identity = ctx.use(identityPlugin);
    const gateway = new DestinationGateway({
      state: () => ctx.state(),
      minter: ctx.use(xsuaaPlugin).minter,
      ias: {
        verify: (jwt) => verifyIasToken(identity, ctx.state().tenants, jwt),
        application: (clientid) => identity.gateway.application(clientid),
      },
      verifiesClientCertificates: ctx.options.verifiesClientCertificates === true,
      fetch: ctx.fetchOutbound,
      now: () => ctx.clock.now(),
      placeholders: () => ctx.placeholders(),
      certificateAuthority: ctx.options.certificateAuthority as CertificateAuthority | undefined,
      maxEntitiesPerLevel: ctx.limits.maxEntitiesPerLevel,
    });
    return { gateway, registerRoutes: (app) => registerDestinationRoutes(app, gateway) };
  },
});
