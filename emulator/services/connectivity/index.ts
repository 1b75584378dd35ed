/** The Connectivity Service's REST API (Cloud Connector info for api_access bindings) as a plugin. */
import { definePlugin, type ServiceContext } from '../../core/plugin.ts';
import type { App } from '../../core/app-env.ts';
import type { ConnectivityView } from './state.ts';
import { xsuaaPlugin } from '../xsuaa/index.ts';
import { ConnectivityGateway } from './gateway.ts';
import { registerRoutes } from './routes.ts';

export interface ConnectivityService {
  gateway: ConnectivityGateway;
  registerRoutes(app: App): void;
}

export const connectivityPlugin = definePlugin({
  name: 'connectivity',
  paths: { service: 'connectivity', owns: (path) => path.startsWith('/connectivity/api') },
  create(ctx: ServiceContext<ConnectivityView>): ConnectivityService {
    const { minter } = ctx.use(xsuaaPlugin);
    const gateway = new ConnectivityGateway({ minter, state: () => ctx.state(), now: () => ctx.clock.now(), faults: ctx.faults });
    return { gateway, registerRoutes: (app) => registerRoutes(app, gateway) };
  },
});

export { apiAccessPlan, sccInfoPath } from './schema.ts';
