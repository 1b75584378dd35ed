/**
 * The Destination Service as a plugin: find (lookup/, with authTokens from auth-tokens/), CRUD (crud/),
 * certificates (certificates/) and the SAML metadata of the subaccount, over gateway.ts.
 */
import { definePlugin, type ServiceContext } from '../../core/plugin.ts';
import type { App } from '../../core/app-env.ts';
import { safeDecode } from '../../core/ids.ts';
import { xsuaaPlugin } from '../xsuaa/index.ts';
import type { CertificateAuthority } from './certificates/certificates.ts';
import { wireCrud } from './crud/routes.ts';
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
    const { minter } = ctx.use(xsuaaPlugin);
    const gateway = new DestinationGateway(
      () => ctx.state(),
      minter,
      ctx.fetchOutbound,
      () => ctx.placeholders(),
    );
    const certificateAuthority = ctx.options.certificateAuthority as CertificateAuthority | undefined;
    wireCrud(gateway, {
      now: () => ctx.clock.now(),
      placeholders: () => ctx.placeholders(),
      certificateAuthority: () => certificateAuthority,
      maxEntitiesPerLevel: ctx.limits.maxEntitiesPerLevel,
    });
    return { gateway, registerRoutes: (app) => registerDestinationRoutes(app, gateway) };
  },
});
