/**
 * The subaccount trust certificate routes: `/v1/saml2Metadata` (IdP metadata), `/v1/saml2Metadata/certificate`
 * (read, renew), `…/certificate/passive` (read, generate, delete), `/v1/saml2Metadata/rotateCertificate`, and
 * `DELETE /maintenance/v1/caches/ias` (nothing is cached, so it only answers 200).
 */
import type { Context } from 'hono';
import type { App, AppEnv } from '../../core/app-env.ts';
import { base64Encode } from '../../core/ids.ts';
import type { Caller } from '../destination/lookup/caller.ts';
import { DestinationError } from '../destination/errors.ts';
import type { DestinationGateway } from '../destination/gateway.ts';
import { deletePassive, entityIdOf, idpMetadata, renewTrust, rotateTrust, toPem, trustOf } from './trust.ts';

export function registerSamlMetadataRoutes(app: App, gateway: DestinationGateway, base: string): void {
  const caller = async (c: Context<AppEnv>): Promise<Caller> => {
    const who = await gateway.authenticate(c.req.header('authorization'));
    c.set('tenant', who.tenant.subdomain);
    return who;
  };
  const refuseBody = async (c: Context<AppEnv>): Promise<void> => {
    if ((await c.req.text()).trim()) throw new DestinationError(400, 'This request takes no body');
  };
  const noPassive = (who: Caller): DestinationError =>
    new DestinationError(404, `Passive keypair for subaccount - ${who.tenant.subaccountId} does not exist`);

  app.get(`${base}/v1/saml2Metadata`, async (c) => {
    const who = await caller(c);
    const { state, uaaDomain } = gateway.runtime();
    const trust = await trustOf(state, who.tenant);
    const certificates = [trust.active.certificate, ...(trust.passive ? [trust.passive.certificate] : [])];
    return c.json({ idpMetadata: base64Encode(idpMetadata(entityIdOf(who.tenant, uaaDomain), certificates)) });
  });

  app.get(`${base}/v1/saml2Metadata/certificate`, async (c) => {
    const who = await caller(c);
    return c.json({ certificate: toPem((await trustOf(gateway.runtime().state, who.tenant)).active.certificate) });
  });

  app.post(`${base}/v1/saml2Metadata/certificate`, async (c) => {
    const who = await caller(c);
    await refuseBody(c);
    const { state, now } = gateway.runtime();
    return c.json({ certificate: toPem((await renewTrust(state, who.tenant, now, 'active')).certificate) });
  });

  app.get(`${base}/v1/saml2Metadata/certificate/passive`, async (c) => {
    const who = await caller(c);
    const passive = (await trustOf(gateway.runtime().state, who.tenant)).passive;
    if (!passive) throw noPassive(who);
    return c.json({ certificate: toPem(passive.certificate) });
  });

  app.post(`${base}/v1/saml2Metadata/certificate/passive`, async (c) => {
    const who = await caller(c);
    await refuseBody(c);
    const { state, now } = gateway.runtime();
    return c.json({ certificate: toPem((await renewTrust(state, who.tenant, now, 'passive')).certificate) });
  });

  app.delete(`${base}/v1/saml2Metadata/certificate/passive`, async (c) => {
    const who = await caller(c);
    if (!(await deletePassive(gateway.runtime().state, who.tenant))) throw noPassive(who);
    return c.json({ Count: 1 });
  });

  app.post(`${base}/v1/saml2Metadata/rotateCertificate`, async (c) => {
    const who = await caller(c);
    const rotated = await rotateTrust(gateway.runtime().state, who.tenant);
    if (!rotated?.passive) throw noPassive(who);
    return c.json({ activeCertificate: toPem(rotated.active.certificate), passiveCertificate: toPem(rotated.passive.certificate) });
  });

  app.delete(`${base}/maintenance/v1/caches/ias`, async (c) => {
    await caller(c);
    return c.body(null, 200);
  });
}
