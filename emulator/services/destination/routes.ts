/**
 * The Destination Service's HTTP routes under /destination-configuration: the find (v1) and consume (v2) APIs here,
 * the SAML metadata (saml-metadata/routes.ts) and the CRUD API with labels (crud/routes.ts). Behaviour lives in the
 * gateway.
 */
import type { App } from '../../core/app-env.ts';
import { callerLink, lookupLink, markLookup } from '../../core/journal-chains.ts';
import { resultResponse } from '../../core/service-result.ts';
import { registerCrudRoutes } from './crud/routes.ts';
import type { DestinationGateway } from './gateway.ts';
import { registerSamlMetadataRoutes } from './saml-metadata/routes.ts';

export const destinationBase = '/destination-configuration';

const flag = (value: string | undefined): boolean => value?.toLowerCase() === 'true';

export function registerDestinationRoutes(app: App, gateway: DestinationGateway): void {
  app.get(`${destinationBase}/v1/destinations/:name`, async (c) => {
    const name = c.req.param('name');
    c.set('destination', name);
    const { headers, lookupRef } = markLookup(c.req.raw.headers);
    c.set('journal', { ...callerLink(c.req.header('authorization')), lookupRef });
    const caller = await gateway.authenticate(c.req.header('authorization'), { headers: c.req.raw.headers });
    c.set('tenant', caller.tenant.subdomain);
    const result = await gateway.find(caller, name, {
      skipTokenRetrieval: flag(c.req.query('$skipTokenRetrieval')),
      skipCredentials: flag(c.req.query('$skipCredentials')),
      headers,
    });
    c.set('journal', { ...c.get('journal'), ...lookupLink(result.body) });
    return resultResponse(result);
  });
  app.get(`${destinationBase}/v2/destinations/:reference`, async (c) => {
    const reference = c.req.param('reference');
    c.set('destination', reference);
    const { headers, lookupRef } = markLookup(c.req.raw.headers);
    c.set('journal', { ...callerLink(c.req.header('authorization')), lookupRef });
    const caller = await gateway.authenticate(c.req.header('authorization'), { headers: c.req.raw.headers, api: 'v2' });
    c.set('tenant', caller.tenant.subdomain);
    const result = await gateway.consume(caller, reference, { headers, query: (name) => c.req.query(name) });
    c.set('journal', { ...c.get('journal'), ...lookupLink(result.body) });
    return resultResponse(result);
  });
  registerSamlMetadataRoutes(app, gateway, destinationBase);
  registerCrudRoutes(app, gateway, destinationBase);
}
