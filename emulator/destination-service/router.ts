/** The Destination Service's HTTP routes under /destination-configuration. Behaviour lives in the gateway. */
import type { Context } from 'hono';
import type { App, AppEnv } from '../core/app-env.ts';
import { registerCrudRoutes } from './crud-router.ts';
import type { DestinationGateway, ServiceResult } from './gateway.ts';

export const destinationBase = '/destination-configuration';

/** Turn a gateway result into a Response. */
export function send(c: Context<AppEnv>, result: ServiceResult): Response {
  const headers = new Headers(result.headers);
  if (result.body === undefined) return new Response(null, { status: result.status, headers });
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify(result.body), { status: result.status, headers });
}

const flag = (value: string | undefined): boolean => value?.toLowerCase() === 'true';

export function registerDestinationRoutes(app: App, gateway: DestinationGateway): void {
  app.get(`${destinationBase}/v1/destinations/:name`, async (c) => {
    const name = c.req.param('name');
    c.set('destination', name);
    const caller = await gateway.authenticate(c.req.header('authorization'));
    c.set('tenant', caller.tenant.subdomain);
    const result = await gateway.find(caller, name, {
      skipTokenRetrieval: flag(c.req.query('$skipTokenRetrieval')),
      skipCredentials: flag(c.req.query('$skipCredentials')),
      headers: c.req.raw.headers,
    });
    return send(c, result);
  });
  registerCrudRoutes(app, gateway);
}
