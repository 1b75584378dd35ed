/**
 * How the approuter face finds a destination: like the approuter with its destination binding, it fetches a
 * client-credentials token from the tenant's XSUAA and calls the Destination Service's find — both through
 * the core's own HTTP surface, so the journal shows the same calls a real approuter makes.
 */
import { type Tenant } from '../core/subaccount.ts';
import type { EmulatorCore } from '../app/emulator-core.ts';
import type { MockUrls } from './mock-origins.ts';

export interface FoundDestination {
  destinationConfiguration: Record<string, string>;
  authTokens?: { type: string; value: string; http_header?: { key: string; value: string }; error?: string }[];
}

export type LookupResult = { ok: true; found: FoundDestination } | { ok: false; status: number; message: string };

async function serviceToken(core: EmulatorCore, urls: MockUrls, tenant: Tenant): Promise<LookupResult | string> {
  const binding = core.state.bindings.find((b) => b.service === 'destination');
  if (!binding)
    return { ok: false, status: 500, message: 'the scenario has no destination binding; add one under bindings (service: destination)' };
  const response = await core.fetch(
    new Request(`https://${tenant.subdomain}.${urls.uaaDomain}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${binding.clientid}:${binding.clientsecret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    }),
  );
  if (!response.ok)
    return {
      ok: false,
      status: 500,
      message: `XSUAA refused the destination binding's token (${response.status}): ${await response.text()}`,
    };
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Find a destination for a tenant, with the signed-in user's token when the route has one. */
export async function lookUpDestination(
  core: EmulatorCore,
  urls: MockUrls,
  tenant: Tenant,
  name: string,
  userJwt?: string,
): Promise<LookupResult> {
  const token = await serviceToken(core, urls, tenant);
  if (typeof token !== 'string') return token;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (userJwt) headers['x-user-token'] = userJwt;
  const response = await core.fetch(
    new Request(`${urls.services}/destination-configuration/v1/destinations/${encodeURIComponent(name)}`, { headers }),
  );
  if (response.status === 404)
    return {
      ok: false,
      status: 404,
      message: `destination "${name}" not found in subaccount "${tenant.subdomain}"; add it to the scenario`,
    };
  if (!response.ok)
    return {
      ok: false,
      status: 500,
      message: `the Destination Service answered ${response.status} for "${name}": ${await response.text()}`,
    };
  return { ok: true, found: (await response.json()) as FoundDestination };
}
