/** The Destination Service's HTTP routes under /destination-configuration. Behaviour lives in the gateway. */
import type { Context } from 'hono';
import type { App, AppEnv } from '../../core/app-env.ts';
import { consume } from './lookup/consume.ts';
import { registerCrudRoutes } from './crud/routes.ts';
import { callerLink, lookupLink, markLookup } from '../../core/journal-chains.ts';
import { registerLabelRoutes } from './crud/labels.ts';
import { registerSamlMetadataRoutes } from '../saml/routes.ts';
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
    const { headers, lookupRef } = markLookup(c.req.raw.headers);
    c.set('journal', { ...callerLink(c.req.header('authorization')), lookupRef });
    const caller = await gateway.authenticate(c.req.header('authorization'));
    c.set('tenant', caller.tenant.subdomain);
    const result = await gateway.find(caller, name, {
      skipTokenRetrieval: flag(c.req.query('$skipTokenRetrieval')),
      skipCredentials: flag(c.req.query('$skipCredentials')),
      headers,
    });
    c.set('journal', { ...c.get('journal'), ...lookupLink(result.body) });
    return send(c, result);
  });
  app.get(`${destinationBase}/v2/destinations/:reference`, async (c) => {
    const reference = c.req.param('reference');
    c.set('destination', reference);
    const { headers, lookupRef } = markLookup(c.req.raw.headers);
    c.set('journal', { ...callerLink(c.req.header('authorization')), lookupRef });
    const caller = await gateway.authenticate(c.req.header('authorization'));
    c.set('tenant', caller.tenant.subdomain);
    const result = await consume(gateway, caller, reference, { headers, query: (name) => c.req.query(name) });
    c.set('journal', { ...c.get('journal'), ...lookupLink(result.body) });
    return send(c, result);
  });
  registerSamlMetadataRoutes(app, gateway, destinationBase);
  registerLabelRoutes(app, gateway, destinationBase);
  registerCrudRoutes(app, gateway);
}
