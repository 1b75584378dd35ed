/**
 * Who calls a service with a bearer token, checked the same way by every service: the token verifies, its zone
 * is a tenant of this emulator (looked up by zid), and its client belongs to a binding the service accepts. Each
 * service words the refusal its own way (status and body as the real service answers).
 */
import { findTenant, type Binding, type SubaccountState, type Tenant } from './subaccount.ts';

export interface CallerClaims {
  zid: string;
  client_id?: string;
  cid?: string;
}

export type TokenVerifier<C> = (jwt: string) => Promise<{ ok: true; claims: C } | { ok: false; reason: string }>;

export type CallerCheck<C> =
  | { ok: true; claims: C; tenant: Tenant; clientId: string; binding?: Binding }
  /** `token`: it does not verify (reason says why); `zone`: no tenant has its zid; `binding`: its client is not accepted. */
  | { ok: false; failed: 'token' | 'zone' | 'binding'; reason: string; claims?: C; tenant?: Tenant; clientId?: string; binding?: Binding };

export async function checkCaller<C extends CallerClaims>(
  jwt: string,
  verify: TokenVerifier<C>,
  state: Pick<SubaccountState, 'tenants' | 'clients'>,
  accepts: (binding: Binding | undefined, clientId: string) => boolean,
): Promise<CallerCheck<C>> {
  const verified = await verify(jwt);
  if (!verified.ok) return { ok: false, failed: 'token', reason: verified.reason };
  const claims = verified.claims;
  const clientId = claims.client_id ?? claims.cid ?? '';
  const tenant = findTenant(state, { zid: claims.zid });
  if (!tenant)
    return { ok: false, failed: 'zone', reason: `the token's zone ${claims.zid} is not a tenant of this emulator`, claims, clientId };
  const binding = state.clients.get(clientId)?.binding;
  if (!accepts(binding, clientId))
    return { ok: false, failed: 'binding', reason: `client ${clientId} is not accepted`, claims, tenant, clientId, binding };
  return { ok: true, claims, tenant, clientId, binding };
}
