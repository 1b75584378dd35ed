/**
 * The subaccount every service shares: its tenants (the provider first, then subscribers), the service bindings
 * and their OAuth clients, and the users. Services look tenants and bindings up here, and nowhere else.
 */
import { stableGuid } from './ids.ts';

/** The services a subaccount has bindings of. */
export type ServiceName = 'xsuaa' | 'destination' | 'connectivity' | 'identity';

export interface Tenant {
  subdomain: string;
  zid: string;
  subaccountId: string;
  isProvider: boolean;
}

export interface Binding {
  name: string;
  service: ServiceName;
  plan: string;
  clientid: string;
  clientsecret: string;
  xsappname: string;
  instanceid: string;
  /** `x509`: the binding shows a client certificate instead of its secret. */
  credentialType?: 'binding-secret' | 'x509';
  /** A connectivity binding's `token-type`: with `ias`, the proxy also takes IAS tokens for this instance. */
  tokenType?: ('xsuaa' | 'ias')[];
}

export interface OAuthClient {
  clientid: string;
  clientsecret: string;
  xsappname?: string;
  authorities: string[];
  redirectUris: string[];
  /** Access token lifetime in seconds (default 12 h). */
  tokenValidity?: number;
  /** The service binding this client belongs to, if any. */
  binding?: Binding;
}

export interface User {
  name: string;
  password?: string;
  email: string;
  givenName: string;
  familyName: string;
  userId: string;
  origin: string;
  scopes: string[];
  attributes: Record<string, string[]>;
  roleCollections: string[];
  tenants: string[];
}

export interface SubaccountState {
  tenants: Tenant[];
  provider: Tenant;
  bindings: Binding[];
  clients: Map<string, OAuthClient>;
  users: Map<string, User>;
  defaultUser?: string;
}

/** Fill in what a user declared only by name gets: e-mail, a stable id, names. */
export function completeUser(u: Partial<User> & { name: string }): User {
  const [given = u.name, family = 'User'] = u.name.split(/[._\s-]/);
  return {
    name: u.name,
    password: u.password,
    email: u.email ?? (u.name.includes('@') ? u.name : `${u.name}@example.com`),
    givenName: u.givenName ?? given.charAt(0).toUpperCase() + given.slice(1),
    familyName: u.familyName ?? family.charAt(0).toUpperCase() + family.slice(1),
    userId: u.userId ?? stableGuid(`user:${u.name}`),
    origin: u.origin ?? 'sap.default',
    scopes: u.scopes ?? [],
    attributes: u.attributes ?? {},
    roleCollections: u.roleCollections ?? [],
    tenants: u.tenants ?? [],
  };
}

/** The tenant with this zid, this subdomain, or (`name`) either: the one tenant lookup every service uses. */
export function findTenant(
  state: Pick<SubaccountState, 'tenants'>,
  by: { zid?: string; subdomain?: string; name?: string },
): Tenant | undefined {
  if (by.zid) return state.tenants.find((t) => t.zid === by.zid);
  if (by.subdomain) return state.tenants.find((t) => t.subdomain === by.subdomain);
  if (by.name) return state.tenants.find((t) => t.subdomain === by.name || t.zid === by.name);
  return undefined;
}

export function bindingFor(state: Pick<SubaccountState, 'bindings'>, service: ServiceName): Binding {
  return state.bindings.find((b) => b.service === service)!;
}
