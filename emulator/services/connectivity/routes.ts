/** The Connectivity Service REST API's route: `GET <url><scc_info_path>` (gateway.ts has the behaviour). */
import { bearerToken } from '../../core/auth-header.ts';
import type { App } from '../../core/app-env.ts';
import { ConnectivityError } from './errors.ts';
import type { ConnectivityGateway } from './gateway.ts';
import { sccInfoPath } from './schema.ts';

export function registerRoutes(app: App, gateway: ConnectivityGateway): void {
  app.get(sccInfoPath, async (c) => {
    try {
      const { tenant, connectors, hidden } = await gateway.sccInfo(bearerToken(c.req.header('authorization')));
      c.set('tenant', tenant.subdomain);
      if (hidden) c.set('journal', { fault: hidden.id, faultEffect: 'offline' });
      return c.json(connectors);
    } catch (err) {
      const tenant = (err as { tenant?: { subdomain: string } }).tenant;
      if (err instanceof ConnectivityError && tenant) c.set('tenant', tenant.subdomain);
      throw err;
    }
  });
}
