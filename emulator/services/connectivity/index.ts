/** The Connectivity Service's REST API (Cloud Connector info for api_access bindings) as a plugin. */
import { definePlugin, type ServiceContext } from '../../core/plugin.ts';
import type { App } from '../../core/app-env.ts';
import type { OnPremView } from '../cloud-connector/state.ts';
import { xsuaaPlugin } from '../xsuaa/index.ts';
import { registerConnectivityServiceRoutes } from './routes.ts';

export interface ConnectivityService {
  registerRoutes(app: App): void;
}

export const connectivityPlugin = definePlugin({
  name: 'connectivity',
  paths: { service: 'connectivity', owns: (path) => path.startsWith('/connectivity/api') },
  create(ctx: ServiceContext<OnPremView>): ConnectivityService {
    const { minter } = ctx.use(xsuaaPlugin);
    const deps = { minter, state: () => ctx.state(), now: () => ctx.clock.now(), faults: ctx.faults };
    return { registerRoutes: (app) => registerConnectivityServiceRoutes(app, deps) };
  },
});
