/**
 * The Cloud Connector's state: each tenant's connectors, with their mappings and resources. Built from the
 * scenario; reset rebuilds it. (The fake backend's stubs and mails sit beside it under `onPrem`: services/backend.)
 */
import { type Tenant } from '../../core/subaccount.ts';
import type { SubaccountState } from '../../core/subaccount.ts';
import { sccInstanceSchema, type CloudConnectorApiConfig, type CloudConnectorConfig, type SccInstance, type SccUser } from './schema.ts';

export type CloudConnector = CloudConnectorConfig;

export interface CloudConnectorState {
  /** Cloud Connectors per tenant zid. */
  connectors: Map<string, CloudConnector[]>;
  /** The REST configuration API's users and each location's installation settings (admin/). */
  sccApi: SccApiState;
}

export interface SccApiState {
  /** The region host of a subaccount that names none (a scenario connector, unreadable authentication data). */
  regionHost: string;
  users: SccUser[];
  /** By location ID; one is added (with the defaults) the first time a location is configured. */
  instances: SccInstance[];
}

/** A fresh installation: `Administrator` / `manage`, to be changed on first use. */
export const initialSccUsers = (): SccUser[] => [
  { name: 'Administrator', password: 'manage', roles: ['sccadmin'], mustChangePassword: true },
];

export function buildSccApiState(config: CloudConnectorApiConfig | undefined): SccApiState {
  return {
    regionHost: config?.regionHost ?? 'cf.eu10.hana.ondemand.com',
    users: config?.users ? structuredClone(config.users) : initialSccUsers(),
    instances: structuredClone(config?.instances ?? []),
  };
}

/** The installation of a location ID, added with the defaults when it is not there yet. */
export function sccInstanceOf(api: SccApiState, locationId: string): SccInstance {
  let instance = api.instances.find((i) => i.locationId === locationId);
  if (!instance) {
    instance = sccInstanceSchema.parse({ locationId });
    api.instances.push(instance);
  }
  return instance;
}

/** Deep copy, so changes through the control API never touch the loaded scenario. */
const copyConnector = (c: CloudConnectorConfig): CloudConnector => structuredClone(c);

/** Each tenant's connectors from the scenario (`tenants[i].cloudConnectors`). */
export function buildCloudConnectorState(
  scenario: { tenants: { cloudConnectors?: CloudConnectorConfig[] }[]; cloudConnectorApi?: CloudConnectorApiConfig },
  tenants: Tenant[],
): CloudConnectorState {
  const connectors = new Map<string, CloudConnector[]>();
  scenario.tenants.forEach((t, i) => connectors.set(tenants[i].zid, (t.cloudConnectors ?? []).map(copyConnector)));
  return { connectors, sccApi: buildSccApiState(scenario.cloudConnectorApi) };
}

/** What the Cloud Connector reads: the subaccount and the connectors (kept under `onPrem`, beside the backend's part). */
export type OnPremView = SubaccountState & { onPrem: CloudConnectorState };
