/**
 * The emulator's state, built from a validated scenario: tenants, service bindings and their OAuth clients,
 * users, the Destination Service stores per level (with their labels), the SAML trust of each tenant and the
 * Transparent Proxy's Destination CRs. Building it is cheap, so reset rebuilds it.
 */
import { buildCloudConnectorState, type CloudConnectorState } from '../services/cloud-connector/state.ts';
import { buildBackendState, type BackendState } from '../services/backend/state.ts';

/** The on-premise side: each tenant's Cloud Connectors, the fake backend's stubs and the mails its SMTP sink received. */
export type OnPremState = CloudConnectorState & BackendState;
import { stableGuid } from '../core/ids.ts';
import { completeUser, type Binding, type OAuthClient, type SubaccountState, type Tenant, type User } from '../core/subaccount.ts';
import type { XsuaaState } from '../services/xsuaa/state.ts';
import { buildSamlState, type SamlState } from '../services/saml/index.ts';
import { buildDestinationState, type DestinationState } from '../services/destination/state.ts';
import { buildTransparentProxyState, type TransparentProxyState } from '../services/transparent-proxy/index.ts';
import { buildIdentityState, type IdentityState } from '../services/identity/index.ts';
import type { Scenario } from './scenario-schema.ts';

/** The whole state: the subaccount and each service's part. */
export interface EmulatorState extends SubaccountState, XsuaaState, DestinationState, SamlState, TransparentProxyState, IdentityState {
  /** Cloud Connectors, backend stubs and received mails. */
  onPrem: OnPremState;
}

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

/** An identity binding (IAS application): a GUID client id as IAS gives one, plan `application`; never added by default. */
function identityBinding(b: Scenario['bindings'][number]): Binding {
  const clientid = b.clientid ?? stableGuid(`identity-client:${b.name}`);
  return {
    name: b.name,
    service: 'identity',
    plan: b.plan ?? 'application',
    clientid,
    clientsecret: b.clientsecret ?? `${b.name}-secret`,
    xsappname: b.xsappname ?? b.name,
    instanceid: b.instanceid ?? stableGuid(`instance:${b.name}`),
    credentialType: credentialTypeOf(b),
  };
}

const credentialTypeOf = (b: Scenario['bindings'][number]): Binding['credentialType'] =>
  b.credentialType === 'X509_GENERATED' ? 'x509' : b.credentialType;

function resolveBindings(scenario: Scenario): Binding[] {
  const declared = scenario.bindings.map((b): Binding => {
    if (b.service === 'identity') return identityBinding(b);
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
      credentialType: credentialTypeOf(b),
      ...(b.tokenType ? { tokenType: b.tokenType } : {}),
    };
  });
  for (const d of defaultBindings) {
    if (!declared.some((b) => b.service === d.service)) declared.push({ ...d, instanceid: stableGuid(`instance:${d.name}`) });
  }
  return declared;
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
  // Identity applications are the identity service's clients (services/identity), not XSUAA's.
  for (const b of bindings.filter((x) => x.service !== 'identity')) {
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

  const destination = buildDestinationState(
    scenario.tenants.map((t, i) => ({ ...t, zid: tenants[i].zid })),
    bindings,
    now,
  );

  return {
    tenants,
    provider: tenants[0],
    bindings,
    clients,
    users,
    defaultUser: scenario.defaultUser ?? scenario.users[0]?.name,
    ...destination,
    refreshTokens: new Map(),
    authCodes: new Map(),
    ...buildSamlState(),
    onPrem: { ...buildCloudConnectorState(scenario, tenants), ...buildBackendState(scenario) },
    ...buildTransparentProxyState(scenario.transparentProxy, scenario.destinationCustomResources),
    ...buildIdentityState(scenario.identity, bindings, scenario.tokenValidity),
  };
}
