/**
 * The Connectivity Service REST API (plan `api_access`): `GET <url><scc_info_path>` answers, for the
 * token's subaccount, one element per connected (online) Cloud Connector of the Cloud Connector model,
 * `{ attributes: { … } }` with string values only; `security_status` and `exposed_systems` are JSON documents
 * serialised into strings, as the real service sends them.
 */
import { bearerToken } from '../../core/auth-header.ts';
import type { OnPremView } from '../cloud-connector/state.ts';
import type { Context } from 'hono';
import type { App, AppEnv } from '../../core/app-env.ts';
import type { CloudConnector } from '../cloud-connector/state.ts';
import type { Fault, FaultList } from '../../core/faults.ts';
import type { TokenMinter } from '../xsuaa/tokens.ts';

/** The path the binding's `connectivity_service.scc_info_path` names, relative to `connectivity_service.url`. */
export const sccInfoPath = '/connectivity/api/v1/scc_info';

/** The plan whose bindings may call the REST API (and whose bindings show `connectivity_service`). */
export const apiAccessPlan = 'api_access';

export interface ConnectivityServiceDeps {
  minter: TokenMinter;
  state: () => OnPremView;
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

export function cloudConnectorInfo(connector: CloudConnector, zid: string, now: number): { attributes: Record<string, string> } {
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

function refuse(c: Context<AppEnv>, status: 401 | 403, error: string, description: string): Response {
  c.set('reason', description);
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': `Bearer error="${error}"` } : {};
  return c.json({ error, error_description: description }, status, headers);
}

export function registerConnectivityServiceRoutes(app: App, deps: ConnectivityServiceDeps): void {
  app.get(sccInfoPath, async (c) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token)
      return refuse(
        c,
        401,
        'unauthorized',
        'Full authentication is required: send "Authorization: Bearer <token of a connectivity api_access binding>"',
      );
    const verified = await deps.minter.verify(token);
    if (!verified.ok) return refuse(c, 401, 'invalid_token', verified.reason);
    const state = deps.state();
    const tenant = state.tenants.find((t) => t.zid === verified.claims.zid);
    if (!tenant) return refuse(c, 401, 'invalid_token', `the token's zone ${verified.claims.zid} is not a subaccount of this emulator`);
    c.set('tenant', tenant.subdomain);
    const binding = state.clients.get(verified.claims.client_id)?.binding;
    if (!binding || binding.service !== 'connectivity' || binding.plan !== apiAccessPlan) {
      const what = binding ? `a ${binding.service} binding with plan "${binding.plan}"` : 'no service binding';
      return refuse(
        c,
        403,
        'insufficient_scope',
        `the token's client "${verified.claims.client_id}" belongs to ${what}; the Connectivity Service REST API needs a connectivity binding with plan "${apiAccessPlan}"`,
      );
    }
    const offline = (connector: CloudConnector): Fault | undefined =>
      deps.faults?.peekOffline({ service: 'connectivity', method: 'GET', path: sccInfoPath, tenant, locationId: connector.locationId });
    const connectors = (state.onPrem.connectors.get(tenant.zid) ?? []).filter((connector) => connector.online && !offline(connector));
    const hidden = (state.onPrem.connectors.get(tenant.zid) ?? []).map(offline).find((fault) => fault !== undefined);
    if (hidden) c.set('journal', { fault: hidden.id, faultEffect: 'offline' });
    return c.json(connectors.map((connector) => cloudConnectorInfo(connector, tenant.zid, deps.now())));
  });
}
