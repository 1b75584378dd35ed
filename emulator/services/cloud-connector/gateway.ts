/**
 * Changing the Cloud Connectors at run time (control API and programmatic handle): put a connector online or
 * offline, add or replace a connector, remove one. Input is validated first; bad input
 * throws a ValidationError and changes nothing.
 */
import type { OnPremView } from './state.ts';
import { findTenant, type Tenant } from '../../core/subaccount.ts';
import { parseWith, ValidationError } from '../../core/validation.ts';
import { sccInstanceOf, type CloudConnector } from './state.ts';
import { cloudConnectorSchema } from './schema.ts';

/** A tenant by subdomain or zid; none given = the provider. */
export function resolveTenant(state: OnPremView, tenant?: string): Tenant {
  if (!tenant) return state.provider;
  const found = findTenant(state, { name: tenant });
  if (!found) throw new ValidationError('tenant', [{ path: 'tenant', message: `"${tenant}" is not a subdomain or zid of this emulator` }]);
  return found;
}

export function listConnectors(state: OnPremView): { tenant: string; zid: string; connectors: CloudConnector[] }[] {
  return state.tenants.map((t) => ({ tenant: t.subdomain, zid: t.zid, connectors: state.onPrem.connectors.get(t.zid) ?? [] }));
}

/** `now` (the emulator clock) records when it went offline: a high-availability shadow takes over from then. */
export function setConnectorOnline(
  state: OnPremView,
  opts: { tenant?: string; locationId?: string; online: boolean },
  now?: number,
): CloudConnector {
  const tenant = resolveTenant(state, opts.tenant);
  const locationId = opts.locationId ?? '';
  const connector = state.onPrem.connectors.get(tenant.zid)?.find((c) => c.locationId === locationId);
  if (!connector) {
    throw new ValidationError('connector', [
      { path: 'locationId', message: `no Cloud Connector with location ID "${locationId}" in subaccount "${tenant.subdomain}"` },
    ]);
  }
  if (now !== undefined) {
    const downTimes = sccInstanceOf(state.onPrem.sccApi, locationId).offlineSince;
    if (opts.online) delete downTimes[tenant.zid];
    else if (connector.online || downTimes[tenant.zid] === undefined) downTimes[tenant.zid] = now;
  }
  connector.online = opts.online;
  return connector;
}

/** Add a connector, or replace the one with the same location ID. */
export function putConnector(state: OnPremView, tenantName: string | undefined, value: unknown): CloudConnector {
  const tenant = resolveTenant(state, tenantName);
  const connector = parseWith(cloudConnectorSchema, value, 'cloud connector');
  const list = state.onPrem.connectors.get(tenant.zid) ?? [];
  const index = list.findIndex((c) => c.locationId === connector.locationId);
  if (index >= 0) list[index] = connector;
  else list.push(connector);
  state.onPrem.connectors.set(tenant.zid, list);
  return connector;
}

export function removeConnector(state: OnPremView, tenantName: string | undefined, locationId: string): boolean {
  const tenant = resolveTenant(state, tenantName);
  const list = state.onPrem.connectors.get(tenant.zid) ?? [];
  const index = list.findIndex((c) => c.locationId === locationId);
  if (index < 0) return false;
  list.splice(index, 1);
  return true;
}
