/**
 * The Connectivity Service REST API's behaviour (plan `api_access`): for the token's subaccount, one element per
 * connected (online) Cloud Connector of the Cloud Connector model, `{ attributes: { … } }` with string values only;
 * `security_status` and `exposed_systems` are JSON documents serialised into strings, as the real service sends them.
 */
import { checkCaller } from '../../core/caller.ts';
import type { Fault, FaultList } from '../../core/faults.ts';
import type { Tenant } from '../../core/subaccount.ts';
import type { CloudConnector } from '../cloud-connector/state.ts';
import type { TokenMinter } from '../xsuaa/tokens.ts';
import { ConnectivityError } from './errors.ts';
import { apiAccessPlan, sccInfoPath, type ConnectorInfo } from './schema.ts';
import type { ConnectivityView } from './state.ts';

export interface ConnectivityServiceDeps {
  minter: TokenMinter;
  state: () => ConnectivityView;
  now: () => number;
  /** Injected faults: a connector under an `offline` fault is not listed. */
  faults?: FaultList;
}

const securityStatus = JSON.stringify({
  summary: 'low_risk',
  cpic_trace: 'ok',
  trust_store: 'ok',
  ciphers: 'low_risk',
  ui_certificate: 'low_risk',
  payload_trace: 'ok',
  authentication_type: 'low_risk',
  application_whitelist: 'ok',
});

/** A stable 9-digit id per tenant and location, like the connector's `client_id`. */
function connectorId(zid: string, locationId: string): string {
  let hash = 7;
  for (const c of `${zid}|${locationId}`) hash = (hash * 31 + c.charCodeAt(0)) % 1_000_000_000;
  return String(100_000_000 + (hash % 900_000_000));
}

/** When the API first saw a connector object: it stands for "connected since" until the state is rebuilt. */
const firstSeen = new WeakMap<CloudConnector, number>();

export function cloudConnectorInfo(connector: CloudConnector, zid: string, now: number): ConnectorInfo {
  let since = firstSeen.get(connector);
  if (since === undefined) {
    since = now;
    firstSeen.set(connector, since);
  }
  const exposed = connector.systems.map((s) => ({
    protocol: s.protocol,
    host: `${s.virtualHost}:${s.virtualPort}`,
    description: s.description ?? '',
    type: s.protocol === 'RFC' ? 'abapSys' : 'nonSAPsys',
    status: 'exposed',
  }));
  return {
    attributes: {
      connected_by: 'cloud-connector-admin@example.com',
      connected_since: String(since),
      security_status: securityStatus,
      agent_version: '2.18.0',
      agent_type: 'master',
      client_id: connectorId(zid, connector.locationId),
      location_id: connector.locationId,
      exposed_systems: JSON.stringify(exposed),
      jvm_vendor_version: 'OpenJDK 64-Bit Server VM (SAP SE, 17.0.14+7-LTS, mixed mode, sharing)',
      agent_recent_start_ms: String(since),
      java_version: '17.0.14 (SAP SE)',
    },
  };
}

export class ConnectivityGateway {
  private readonly deps: ConnectivityServiceDeps;
  constructor(deps: ConnectivityServiceDeps) {
    this.deps = deps;
  }

  /** The caller's subaccount and its connected connectors; `hidden` is the offline fault that hid one, if any. */
  async sccInfo(token: string | undefined): Promise<{ tenant: Tenant; connectors: ConnectorInfo[]; hidden?: Fault }> {
    if (!token)
      throw new ConnectivityError(
        401,
        'unauthorized',
        'Full authentication is required: send "Authorization: Bearer <token of a connectivity api_access binding>"',
      );
    const state = this.deps.state();
    const caller = await checkCaller(
      token,
      (jwt) => this.deps.minter.verify(jwt),
      state,
      (b) => b?.service === 'connectivity' && b.plan === apiAccessPlan,
    );
    if (!caller.ok && caller.failed === 'token') throw new ConnectivityError(401, 'invalid_token', caller.reason);
    if (!caller.ok && caller.failed === 'zone')
      throw new ConnectivityError(401, 'invalid_token', `the token's zone ${caller.claims!.zid} is not a subaccount of this emulator`);
    if (!caller.ok) {
      const binding = caller.binding;
      const what = binding ? `a ${binding.service} binding with plan "${binding.plan}"` : 'no service binding';
      throw Object.assign(
        new ConnectivityError(
          403,
          'insufficient_scope',
          `the token's client "${caller.clientId}" belongs to ${what}; the Connectivity Service REST API needs a connectivity binding with plan "${apiAccessPlan}"`,
        ),
        { tenant: caller.tenant },
      );
    }
    const tenant = caller.tenant;
    const offline = (connector: CloudConnector): Fault | undefined =>
      this.deps.faults?.peekOffline({
        service: 'connectivity',
        method: 'GET',
        path: sccInfoPath,
        tenant,
        locationId: connector.locationId,
      });
    const all = state.onPrem.connectors.get(tenant.zid) ?? [];
    const connectors = all.filter((connector) => connector.online && !offline(connector));
    const hidden = all.map(offline).find((fault) => fault !== undefined);
    return { tenant, hidden, connectors: connectors.map((connector) => cloudConnectorInfo(connector, tenant.zid, this.deps.now())) };
  }
}
