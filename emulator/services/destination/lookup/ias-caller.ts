/**
 * A caller of the Destination Service REST API with an identity service (IAS) token. The service accepts one only on
 * the v1 API, over mTLS, from an IAS application whose `consumed-services` name this destination instance (scenario
 * `identity.applications[].consumedServices`), and with the application's own certificate (the token's
 * `cnf["x5t#S256"]`, if it has one, must be that certificate's). Everything else is refused as the service refuses
 * a token it does not accept: 401 (422 on the v2 consume API, which takes no IAS tokens at all).
 */
import { clientCertificateSubject, clientCertificateThumbprint, commonNameOf } from '../../../core/client-certificate.ts';
import { findTenant, type Tenant } from '../../../core/subaccount.ts';
import type { IasClaims, IdentityApplication } from '../../identity/index.ts';
import { DestinationError } from '../errors.ts';
import type { DestinationView } from '../state.ts';

export type IasTokenVerifier = (jwt: string) => Promise<{ ok: true; claims: IasClaims } | { ok: false; reason: string }>;

/** What the Destination Service takes of the identity service: its token check and its applications. */
export interface IasTrust {
  verify: IasTokenVerifier;
  application(clientid: string): IdentityApplication | undefined;
}

/** The TLS side of a request, as the face passed it on (only when it verifies client certificates). */
export interface CallerTls {
  /** The headers of the request (the face's client-certificate headers). */
  headers?: Headers;
  /** Which API: the v2 consume API refuses IAS tokens with 422. */
  api?: 'v1' | 'v2';
}

const unauthorized = (why: string): DestinationError => new DestinationError(401, `Unauthorized: ${why}`);

export async function authenticateIasCaller(
  jwt: string,
  state: DestinationView,
  ias: IasTrust | undefined,
  tls: CallerTls,
): Promise<{ claims: IasClaims; tenant: Tenant; instanceid: string }> {
  if (tls.api === 'v2')
    throw new DestinationError(
      422,
      'IAS-issued tokens are not accepted by the v2 consume API: call /destination-configuration/v1/destinations/{name} over mTLS, or use a token of the destination binding (XSUAA)',
    );
  if (!ias) throw unauthorized('this emulator has no identity service to verify the IAS token with');
  const verified = await ias.verify(jwt);
  if (!verified.ok) throw unauthorized(`the IAS token is not accepted: ${verified.reason}`);
  const claims = verified.claims;
  const subject = tls.headers ? clientCertificateSubject(tls.headers) : undefined;
  if (!subject)
    throw unauthorized(
      "an IAS token is accepted only over mTLS: call the Destination Service over https with the identity binding's certificate and key (credential-type X509_GENERATED)",
    );
  const app = ias.application(claims.azp);
  if (!app) throw unauthorized(`the IAS token was issued to "${claims.azp}", which is not an identity application of this emulator`);
  if (commonNameOf(subject) !== app.clientid)
    throw unauthorized(`the TLS client certificate (${subject}) is not the one of identity application "${app.name}" (${app.clientid})`);
  const bound = claims.cnf?.['x5t#S256'];
  if (bound && bound !== clientCertificateThumbprint(tls.headers!))
    throw unauthorized('the IAS token is bound to another client certificate (its cnf x5t#S256 does not match the TLS client certificate)');
  const destinations = state.bindings.filter((b) => b.service === 'destination');
  const consumed = destinations.find((b) => app.consumedServices.includes(b.name));
  if (!consumed)
    throw unauthorized(
      `identity application "${app.name}" does not consume a destination service instance: add one of ${destinations.map((b) => `"${b.name}"`).join(', ') || '(none)'} to its consumedServices (scenario identity.applications)`,
    );
  const tenant = findTenant(state, { zid: claims.app_tid });
  if (!tenant) throw unauthorized(`the IAS token's app_tid ${claims.app_tid} is not a subaccount of this emulator`);
  return { claims, tenant, instanceid: consumed.instanceid };
}
