/**
 * The Cloud Connector's state: each tenant's connectors, with their mappings and resources. Built from the
 * scenario; reset rebuilds it. (The fake backend's stubs and mails sit beside it under `onPrem`: services/backend.)
 */
import { type Tenant } from '../../core/subaccount.ts';
import type { SubaccountState } from '../../core/subaccount.ts';
import type { CloudConnectorConfig } from './schema.ts';

export type CloudConnector = CloudConnectorConfig;

export interface CloudConnectorState {
  /** Cloud Connectors per tenant zid. */
  connectors: Map<string, CloudConnector[]>;
}

/** Deep copy, so changes through the control API never touch the loaded scenario. */
const copyConnector = (c: CloudConnectorConfig): CloudConnector => structuredClone(c);

/** Each tenant's connectors from the scenario (`tenants[i].cloudConnectors`). */
export function buildCloudConnectorState(
  scenario: { tenants: { cloudConnectors?: CloudConnectorConfig[] }[] },
  tenants: Tenant[],
): CloudConnectorState {
  const connectors = new Map<string, CloudConnector[]>();
  scenario.tenants.forEach((t, i) => connectors.set(tenants[i].zid, (t.cloudConnectors ?? []).map(copyConnector)));
  return { connectors };
}

/** What the Cloud Connector reads: the subaccount and the connectors (kept under `onPrem`, beside the backend's part). */
export type OnPremView = SubaccountState & { onPrem: CloudConnectorState };
