/**
 * The IAS → XSUAA exchange: XSUAA's jwt-bearer grant with an identity service (IAS) user token as the assertion, as
 * apps that sign users in with IAS and call XSUAA-protected services do (the SAP Cloud SDK's
 * `iasToXsuaaTokenExchange`, xssec's `XsuaaService.fetchJwtBearerToken`). XSUAA trusts the emulator's identity service
 * (as a subaccount trusts its IAS tenant): the token must verify against the identity service's keys and name a
 * tenant of this emulator in `app_tid`. The user is found by `user_uuid`/`scim_id` or `email`, else it is the IAS
 * user itself (a shadow user, in the token only: nothing is stored).
 */
import { completeUser, type User } from '../../core/subaccount.ts';
import type { XsuaaView } from './state.ts';

/** The claims of an IAS user token XSUAA reads. */
export interface IasAssertionClaims {
  app_tid: string;
  sub: string;
  sap_id_type?: string;
  user_uuid?: string;
  scim_id?: string;
  email?: string;
  given_name?: string;
  family_name?: string;
  jti?: string;
}

/** Verifies an IAS token (the identity service's keys, expiry, issuer of its tenant). */
export type IasAssertionVerifier = (jwt: string) => Promise<{ ok: true; claims: IasAssertionClaims } | { ok: false; reason: string }>;

/** The XSUAA user of an IAS user: a scenario user with its user_uuid, scim_id or email, else the IAS user as it is. */
export function userFromIasClaims(claims: IasAssertionClaims, state: XsuaaView): User {
  const ids = [claims.user_uuid, claims.scim_id].filter((v): v is string => typeof v === 'string' && v.length > 0);
  const users = [...state.users.values()];
  const known =
    users.find((u) => ids.includes(u.userId)) ??
    (claims.email ? users.find((u) => u.email.toLowerCase() === claims.email!.toLowerCase()) : undefined);
  if (known) return known;
  return completeUser({
    name: claims.email ?? claims.sub,
    email: claims.email,
    userId: ids[0],
    givenName: claims.given_name,
    familyName: claims.family_name,
    origin: 'sap.custom',
  });
}
