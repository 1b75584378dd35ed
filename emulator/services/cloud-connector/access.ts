/**
 * The Cloud Connector's access decision for one request: which connector (tenant + location ID), whether it
 * is online, which system mapping (virtual host:port, protocol) and, for HTTP, which resource (path) allows
 * it. The answer is the internal target, or a denial with the HTTP status, the SOCKS5 reply code and a reason
 * a person can act on.
 */
import { findTenant } from '../../core/subaccount.ts';
import type { OnPremView } from './state.ts';
import type { CloudConnector } from './state.ts';
import { haGate, offlineSinceOf } from './ha.ts';
import type { MappingProtocol, ResourceConfig, SystemMappingConfig } from './schema.ts';

/** The client's channel: the HTTP proxy (20003) or SOCKS5 (20004). */
export type AccessChannel = 'HTTP' | 'TCP';

export interface AccessRequest {
  zid: string;
  /** '' or undefined = the default connector. */
  locationId?: string;
  virtualHost: string;
  virtualPort: number;
  /** URL path without the query (HTTP only), as received: it is normalised here (see normaliseResourcePath). */
  path?: string;
  protocol: AccessChannel;
  /** Treat the connector as offline (an `offline` fault, see core/faults.ts). */
  offline?: boolean;
  /** When that offline fault was added (ms), for a high-availability takeover (ha.ts). */
  offlineFaultSince?: number;
  /** The emulator clock now: high availability (switch and takeover times) needs it; without it there is none. */
  now?: number;
}

export type DeniedCheck = 'tenant' | 'location' | 'offline' | 'mapping' | 'protocol' | 'resource';

export interface AccessGranted {
  ok: true;
  connector: CloudConnector;
  system: SystemMappingConfig;
  internalHost: string;
  internalPort: number;
  protocol: MappingProtocol;
  /** HTTP: the normalised path the resources were matched against, which is the one to forward. */
  path?: string;
}

export interface AccessDenied {
  ok: false;
  check: DeniedCheck;
  /** Status the HTTP proxy answers with. */
  status: 403 | 503;
  /** Reply code SOCKS5 answers with (RFC 1928 REP, SAP's meanings). */
  socksReply: 2 | 3;
  /** Body the HTTP proxy sends (plain text). */
  body: string;
  reason: string;
}

export type AccessDecision = AccessGranted | AccessDenied;

const channelProtocols: Record<AccessChannel, MappingProtocol[]> = {
  HTTP: ['HTTP', 'HTTPS'],
  TCP: ['TCP', 'TCPS', 'LDAP', 'LDAPS'],
};

const describeLocation = (locationId: string): string =>
  locationId ? `location \`${locationId}\`` : 'the default location (no location ID)';

export function describeResources(resources: ResourceConfig[]): string {
  const enabled = resources.filter((r) => r.enabled);
  if (!enabled.length) return 'no enabled resources';
  return enabled.map((r) => `\`${r.path}\`${r.exactMatchOnly ? ' (path only)' : ' with sub-paths'}`).join(', ');
}

/**
 * The path a resource rule is matched against, and the one the backend receives: dot segments removed as a
 * WHATWG URL parser (and so every web server and proxy in front of a backend) removes them — `..`, `.`, `%2e`
 * in any case, `\` as `/`. A segment that would still climb once percent-decoded (`..%2f`, `%2e%2e%5c`) is
 * refused (undefined): a backend that decodes before resolving would otherwise leave the checked resource.
 */
export function normaliseResourcePath(rawPath: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(`http://resource.invalid${rawPath.startsWith('/') ? '' : '/'}${rawPath}`).pathname;
  } catch {
    return undefined;
  }
  for (const segment of pathname.split('/')) {
    if (!segment.includes('%')) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      continue; // not valid percent-encoding: no backend decodes it to a dot segment either
    }
    if (decoded.split(/[/\\]/).some((part) => part === '.' || part === '..')) return undefined;
  }
  return pathname;
}

/** "Path and all sub-paths" is a plain, case-sensitive prefix match; "path only" an exact one. */
export function resourceAllows(resources: ResourceConfig[] | undefined, path: string): boolean {
  if (!resources) return true;
  return resources.some((r) => r.enabled && (r.exactMatchOnly ? path === r.path : path.startsWith(r.path)));
}

export function findConnector(state: OnPremView, zid: string, locationId = ''): CloudConnector | undefined {
  return state.onPrem.connectors.get(zid)?.find((c) => c.locationId === locationId);
}

/**
 * Index of `host:port` → position per systems array, so a request does not scan 10,000 mappings. A hit is
 * checked against the array (it may have been changed in place); a miss or a stale hit scans and re-indexes.
 */
const systemIndexes = new WeakMap<SystemMappingConfig[], Map<string, number>>();

function findSystem(systems: SystemMappingConfig[], host: string, port: number): SystemMappingConfig | undefined {
  const matches = (s: SystemMappingConfig | undefined): s is SystemMappingConfig =>
    s !== undefined && s.virtualPort === port && s.virtualHost.toLowerCase() === host;
  const key = `${host}:${port}`;
  const cached = systems[systemIndexes.get(systems)?.get(key) ?? -1];
  if (matches(cached)) return cached;
  const index = systems.findIndex(matches);
  if (index >= 0) systemIndexes.set(systems, new Map(systems.map((s, i) => [`${s.virtualHost.toLowerCase()}:${s.virtualPort}`, i])));
  return systems[index];
}

/** Fill `{{name}}` placeholders in the internal host and port (the backend's ports are known only after listen). */
function resolveTarget(system: SystemMappingConfig, placeholders: Record<string, string>): { host: string; port: number } | string {
  const fill = (value: string): string => value.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => placeholders[name] ?? whole);
  const host = fill(system.internalHost);
  const port = Number(fill(String(system.internalPort)));
  if (host.includes('{{') || !Number.isInteger(port) || port < 1 || port > 65535) {
    return `the internal target \`${system.internalHost}:${system.internalPort}\` has an unknown placeholder`;
  }
  return { host, port };
}

export function decideAccess(state: OnPremView, request: AccessRequest, placeholders: Record<string, string> = {}): AccessDecision {
  const locationId = request.locationId ?? '';
  const tenant = findTenant(state, { zid: request.zid });
  const subaccount = tenant ? `\`${tenant.subdomain}\`` : `with zone \`${request.zid}\``;
  const vhost = `${request.virtualHost}:${request.virtualPort}`;
  const noConnector = (check: DeniedCheck, reason: string): AccessDenied => ({
    ok: false,
    check,
    status: 503,
    socksReply: 3,
    body: `There is no SAP Cloud Connector (SCC) connected to your subaccount with location ID '${locationId}'`,
    reason,
  });
  const accessDenied = (check: DeniedCheck, reason: string, body = `Access denied to system ${vhost}`): AccessDenied => ({
    ok: false,
    check,
    status: 403,
    socksReply: 2,
    body,
    reason,
  });

  if (!tenant) return noConnector('tenant', `the token's zone \`${request.zid}\` is not a tenant of this emulator`);
  const connector = findConnector(state, tenant.zid, locationId);
  if (!connector) return noConnector('location', `no Cloud Connector for ${describeLocation(locationId)} in subaccount ${subaccount}`);
  const instance = state.onPrem.sccApi.instances.find((i) => i.locationId === locationId);
  const down = !connector.online || request.offline === true;
  const gate = haGate(
    instance,
    {
      down,
      offlineSince: offlineSinceOf(
        instance?.offlineSince[tenant.zid],
        connector.online,
        request.offline ? request.offlineFaultSince : undefined,
      ),
    },
    request.now,
  );
  if (gate.kind === 'offline')
    return noConnector('offline', `the Cloud Connector for ${describeLocation(locationId)} in subaccount ${subaccount} is offline`);
  if (gate.kind === 'switching') {
    const what = gate.why === 'switch' ? 'is switching between master and shadow' : 'is offline and its shadow takes over';
    return noConnector(
      'offline',
      `the Cloud Connector for ${describeLocation(locationId)} in subaccount ${subaccount} ${what} (high availability) until ${new Date(gate.until).toISOString()} on the emulator clock`,
    );
  }

  const system = findSystem(connector.systems, request.virtualHost.toLowerCase(), request.virtualPort);
  if (!system)
    return accessDenied(
      'mapping',
      `virtual host \`${vhost}\` is not mapped in the Cloud Connector for ${describeLocation(locationId)} of subaccount ${subaccount}`,
    );
  if (!channelProtocols[request.protocol].includes(system.protocol)) {
    const via = request.protocol === 'HTTP' ? 'the HTTP proxy' : 'SOCKS5';
    return accessDenied('protocol', `virtual host \`${vhost}\` is mapped with protocol ${system.protocol}, which ${via} does not serve`);
  }
  let checkedPath: string | undefined;
  if (request.protocol === 'HTTP') {
    const raw = request.path ?? '/';
    const path = (checkedPath = normaliseResourcePath(raw));
    if (path === undefined) {
      return accessDenied(
        'resource',
        `path \`${raw}\` has a segment that climbs out of its parent once decoded (e.g. \`..%2f\`); such paths are refused`,
        `Access denied to resource ${raw} on system ${vhost}`,
      );
    }
    if (!resourceAllows(system.resources, path)) {
      return accessDenied(
        'resource',
        `path \`${path}\`${path === raw ? '' : ` (sent as \`${raw}\`)`} is outside the allowed resources (${describeResources(system.resources ?? [])}) of \`${vhost}\``,
        `Access denied to resource ${path} on system ${vhost}`,
      );
    }
  }
  const target = resolveTarget(system, placeholders);
  if (typeof target === 'string') return accessDenied('mapping', target);
  return {
    ok: true,
    connector,
    system,
    internalHost: target.host,
    internalPort: target.port,
    protocol: system.protocol,
    ...(checkedPath === undefined ? {} : { path: checkedPath }),
  };
}
