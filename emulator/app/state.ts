/**
 * The emulator's state, built from a validated scenario: tenants, service bindings and their OAuth clients,
 * users, and the Destination Service stores per level. Building it is cheap, so reset rebuilds it.
 */
import { buildOnPremState, type OnPremState } from '../services/cloud-connector/state.ts';
import { stableGuid } from '../core/ids.ts';
import type { CertificateProps, DestinationProps, FragmentProps, Scenario } from './scenario-schema.ts';

export type ServiceName = 'xsuaa' | 'destination' | 'connectivity';

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

export interface Stored<T> {
  props: T;
  modifiedAt: number;
  /** On the application's instance level: shared with the subscription levels (`$metadata.shared_with_subscriber`). */
  sharedWithSubscriber?: boolean;
}

export interface LevelStore {
  destinations: Map<string, Stored<DestinationProps>>;
  fragments: Map<string, Stored<FragmentProps>>;
  certificates: Map<string, Stored<CertificateProps>>;
  /** On a per-request view of a level (see destination-service/subscription-zones.ts): the stored level it shows. */
  raw?: LevelStore;
  /** Only on the provider's instance level: why `name` cannot be shared with subscribers, if it cannot. */
  shareConflict?: (entriesOf: (level: LevelStore) => Map<string, unknown>, name: string) => string | undefined;
}

export interface EmulatorState {
  tenants: Tenant[];
  provider: Tenant;
  bindings: Binding[];
  clients: Map<string, OAuthClient>;
  users: Map<string, User>;
  defaultUser?: string;
  /** Destination Service stores, see {@link levelKey}. */
  levels: Map<string, LevelStore>;
  /** Opaque refresh tokens and authorization codes handed out by XSUAA. */
  refreshTokens: Map<string, { clientid: string; zid: string; user: string; scopes?: string[] }>;
  authCodes: Map<
    string,
    {
      clientid: string;
      zid: string;
      user: string;
      redirectUri?: string;
      codeChallenge?: string;
      codeChallengeMethod?: string;
      expiresAt: number;
    }
  >;
  /** Cloud Connectors, backend stubs and received mails. */
  onPrem: OnPremState;
}

/** Subaccount level: `zid`; instance (or subscription) level: `zid|instanceid`. */
export const levelKey = (zid: string, instanceid?: string | null): string => (instanceid ? `${zid}|${instanceid}` : zid);

const defaultBindings: Omit<Binding, 'instanceid'>[] = [
  {
    name: 'my-xsuaa',
    service: 'xsuaa',
    plan: 'application',
    clientid: 'sb-emu-app!t1',
    clientsecret: 'xsuaa-secret',
    xsappname: 'emu-app!t1',
  },
  {
    name: 'my-destination',
    service: 'destination',
    plan: 'lite',
    clientid: 'sb-clone-dest!b1|destination-xsappname!b9',
    clientsecret: 'destination-secret',
    xsappname: 'clone-dest!b1|destination-xsappname!b9',
  },
  {
    name: 'my-connectivity',
    service: 'connectivity',
    plan: 'lite',
    clientid: 'sb-clone-conn!b2|connectivity!b17',
    clientsecret: 'connectivity-secret',
    xsappname: 'clone-conn!b2|connectivity!b17',
  },
];

function resolveBindings(scenario: Scenario): Binding[] {
  const declared = scenario.bindings.map((b): Binding => {
    const fallback = defaultBindings.find((d) => d.service === b.service)!;
    const standard = b.name === fallback.name;
    const clientid = b.clientid ?? (standard ? fallback.clientid : `sb-${b.name}!t1`);
    return {
      name: b.name,
      service: b.service,
      plan: b.plan ?? fallback.plan,
      clientid,
      clientsecret: b.clientsecret ?? (standard ? fallback.clientsecret : `${b.name}-secret`),
      xsappname: b.xsappname ?? (standard ? fallback.xsappname : clientid.replace(/^sb-/, '')),
      instanceid: b.instanceid ?? stableGuid(`instance:${b.name}`),
      credentialType: b.credentialType,
    };
  });
  for (const d of defaultBindings) {
    if (!declared.some((b) => b.service === d.service)) declared.push({ ...d, instanceid: stableGuid(`instance:${d.name}`) });
  }
  return declared;
}

const emptyLevel = (): LevelStore => ({ destinations: new Map(), fragments: new Map(), certificates: new Map() });

function fillLevel(
  store: LevelStore,
  content: { destinations: DestinationProps[]; fragments: FragmentProps[]; certificates: CertificateProps[] },
  now: number,
): void {
  for (const d of content.destinations) store.destinations.set(d.Name, { props: { ...d }, modifiedAt: now });
  for (const f of content.fragments) store.fragments.set(f.FragmentName, { props: { ...f }, modifiedAt: now });
  for (const c of content.certificates) store.certificates.set(c.Name, { props: { ...c }, modifiedAt: now });
}

export function buildState(scenario: Scenario, now: number): EmulatorState {
  const bindings = resolveBindings(scenario);
  const tenants = scenario.tenants.map((t, i): Tenant => ({
    subdomain: t.subdomain,
    zid: t.zid ?? stableGuid(`zone:${t.subdomain}`),
    subaccountId: t.subaccountId ?? t.zid ?? stableGuid(`zone:${t.subdomain}`),
    isProvider: i === 0,
  }));

  const clients = new Map<string, OAuthClient>();
  for (const b of bindings) {
    clients.set(b.clientid, {
      clientid: b.clientid,
      clientsecret: b.clientsecret,
      xsappname: b.xsappname,
      authorities: ['uaa.resource'],
      redirectUris: [],
      binding: b,
      ...(scenario.tokenValidity ? { tokenValidity: scenario.tokenValidity } : {}),
    });
  }
  for (const c of scenario.clients) {
    const tokenValidity = c.tokenValidity ?? scenario.tokenValidity;
    clients.set(c.clientid, { ...c, ...(tokenValidity ? { tokenValidity } : {}) });
  }

  const users = new Map<string, User>();
  for (const u of scenario.users) users.set(u.name, completeUser(u));

  const levels = new Map<string, LevelStore>();
  scenario.tenants.forEach((t, i) => {
    const zid = tenants[i].zid;
    const subaccount = emptyLevel();
    fillLevel(subaccount, t, now);
    levels.set(levelKey(zid), subaccount);
    for (const [bindingName, content] of Object.entries(t.instances)) {
      const binding = bindings.find((b) => b.name === bindingName && b.service === 'destination');
      if (!binding) throw new Error(`tenants[${i}].instances.${bindingName}: no destination binding named "${bindingName}"`);
      const level = emptyLevel();
      fillLevel(level, content, now);
      for (const name of content.sharedWithSubscriber) {
        for (const entries of [level.destinations, level.fragments, level.certificates] as Map<string, Stored<unknown>>[]) {
          const entry = entries.get(name);
          if (entry) entry.sharedWithSubscriber = true;
        }
      }
      levels.set(levelKey(zid, binding.instanceid), level);
    }
  });

  return {
    tenants,
    provider: tenants[0],
    bindings,
    clients,
    users,
    defaultUser: scenario.defaultUser ?? scenario.users[0]?.name,
    levels,
    refreshTokens: new Map(),
    authCodes: new Map(),
    onPrem: buildOnPremState(scenario, tenants),
  };
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

export function findTenant(state: EmulatorState, by: { zid?: string; subdomain?: string }): Tenant | undefined {
  if (by.zid) return state.tenants.find((t) => t.zid === by.zid);
  if (by.subdomain) return state.tenants.find((t) => t.subdomain === by.subdomain);
  return undefined;
}

export function bindingFor(state: EmulatorState, service: ServiceName): Binding {
  return state.bindings.find((b) => b.service === service)!;
}

export function levelStore(state: EmulatorState, zid: string, instanceid?: string | null): LevelStore {
  const key = levelKey(zid, instanceid);
  let store = state.levels.get(key);
  if (!store) {
    store = emptyLevel();
    state.levels.set(key, store);
  }
  return store;
}
