/**
 * The subaccount trust certificate routes: `/v1/saml2Metadata` (IdP metadata), `/v1/saml2Metadata/certificate`
 * (read, renew), `…/certificate/passive` (read, generate, delete), `/v1/saml2Metadata/rotateCertificate`, and
 * `DELETE /maintenance/v1/caches/ias` (nothing is cached, so it only answers 200). Behaviour: metadata.ts.
 */
import type { Context } from 'hono';
import type { App, AppEnv } from '../../../core/app-env.ts';
import type { Tenant } from '../../../core/subaccount.ts';
import { DestinationError } from '../errors.ts';
import type { DestinationGateway } from '../gateway.ts';

export function registerSamlMetadataRoutes(app: App, gateway: DestinationGateway, base: string): void {
  const trust = gateway.trust;
  const tenantOf = async (c: Context<AppEnv>): Promise<Tenant> => {
    const who = await gateway.authenticate(c.req.header('authorization'), { headers: c.req.raw.headers });
    c.set('tenant', who.tenant.subdomain);
    return who.tenant;
  };
  const refuseBody = async (c: Context<AppEnv>): Promise<void> => {
    if ((await c.req.text()).trim()) throw new DestinationError(400, 'This request takes no body');
  };

  app.get(`${base}/v1/saml2Metadata`, async (c) => c.json({ idpMetadata: await trust.metadata(await tenantOf(c)) }));

  app.get(`${base}/v1/saml2Metadata/certificate`, async (c) => c.json({ certificate: await trust.active(await tenantOf(c)) }));

  app.post(`${base}/v1/saml2Metadata/certificate`, async (c) => {
    const tenant = await tenantOf(c);
    await refuseBody(c);
    return c.json({ certificate: await trust.renew(tenant, 'active') });
  });

  app.get(`${base}/v1/saml2Metadata/certificate/passive`, async (c) => c.json({ certificate: await trust.passive(await tenantOf(c)) }));

  app.post(`${base}/v1/saml2Metadata/certificate/passive`, async (c) => {
    const tenant = await tenantOf(c);
    await refuseBody(c);
    return c.json({ certificate: await trust.renew(tenant, 'passive') });
  });

  app.delete(`${base}/v1/saml2Metadata/certificate/passive`, async (c) => {
    await trust.deletePassive(await tenantOf(c));
    return c.json({ Count: 1 });
  });

  app.post(`${base}/v1/saml2Metadata/rotateCertificate`, async (c) => {
    const rotated = await trust.rotate(await tenantOf(c));
    return c.json({ activeCertificate: rotated.active, passiveCertificate: rotated.passive });
  });

  app.delete(`${base}/maintenance/v1/caches/ias`, async (c) => {
    await tenantOf(c);
    return c.body(null, 200);
  });
}
