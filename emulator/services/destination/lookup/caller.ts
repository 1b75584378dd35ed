/**
 * Who calls the Destination Service: the bearer token's zone selects the tenant, its client the instance; and the
 * level store a caller addresses.
 */
import { bearerToken } from '../../../core/auth-header.ts';
import { checkCaller } from '../../../core/caller.ts';
import { levelStore, type DestinationView, type Level, type LevelStore } from '../state.ts';
import type { Tenant } from '../../../core/subaccount.ts';
import type { TokenMinter, XsuaaClaims } from '../../xsuaa/tokens.ts';
import { DestinationError, UNPARSABLE_JWT_MESSAGE } from '../errors.ts';
import { withSubscriptionZones } from './subscription-zones.ts';
import type { IasClaims } from '../../identity/index.ts';
import { isIasToken } from '../../../core/jwt.ts';
import { authenticateIasCaller, type CallerTls, type IasTrust } from './ias-caller.ts';

export interface Caller {
  jwt: string;
  claims: XsuaaClaims | IasClaims;
  /** Who issued the token: the subaccount's XSUAA, or the identity service (IAS, over mTLS). */
  issuer?: 'ias';
  tenant: Tenant;
  /** The destination service instance of the token's client. */
  instanceid: string;
  /** True for user tokens (they have a user_name). */
  isUser: boolean;
}

export async function authenticateCaller(
  authorization: string | undefined | null,
  state: DestinationView,
  minter: TokenMinter,
  ias?: IasTrust,
  tls: CallerTls = {},
): Promise<Caller> {
  const token = bearerToken(authorization);
  if (!token) throw new DestinationError(401, `${UNPARSABLE_JWT_MESSAGE} (no "Authorization: Bearer <token>" header)`);
  if (isIasToken(token)) {
    const { claims, tenant, instanceid } = await authenticateIasCaller(token, state, ias, tls);
    return { jwt: token, claims, tenant, instanceid, isUser: claims.sap_id_type === 'user', issuer: 'ias' };
  }
  const checked = await checkCaller(
    token,
    (jwt) => minter.verify(jwt),
    state,
    (binding) => binding?.service === 'destination',
  );
  if (!checked.ok && checked.failed === 'token') {
    const status = checked.reason.startsWith('the token is not a JWT') ? 400 : 401;
    throw new DestinationError(status, status === 400 ? UNPARSABLE_JWT_MESSAGE : `Unauthorized: ${checked.reason}`);
  }
  if (!checked.ok && checked.failed === 'zone')
    throw new DestinationError(401, `Unauthorized: the token's zone ${checked.claims!.zid} is not a subaccount of this emulator`);
  if (!checked.ok)
    throw new DestinationError(
      403,
      `Forbidden: the token was issued to client "${checked.claims!.client_id}", which is not bound to a destination service instance`,
    );
  const { claims, tenant, binding } = checked;
  return { jwt: token, claims, tenant, instanceid: binding!.instanceid, isUser: Boolean(claims.user_name) };
}

/** The store a caller addresses: its tenant's subaccount level, or its instance in its tenant (subscription level for subscribers). */
export function callerLevel(state: DestinationView, caller: Caller, level: Level): LevelStore {
  if (level === 'subaccount') return levelStore(state, caller.tenant.zid, null);
  return withSubscriptionZones(state, caller.tenant, caller.instanceid, levelStore(state, caller.tenant.zid, caller.instanceid));
}
