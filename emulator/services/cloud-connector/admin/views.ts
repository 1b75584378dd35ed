/**
 * How the REST configuration API shows the one Cloud Connector model (state.ts): a tenant's connector of a
 * location is a subaccount of that location's installation; its systems are system mappings (ports as strings,
 * `localHost`/`localPort` for the internal target, `hostInHeader` upper case), and so on. Field names, order and
 * types follow the recorded answers of a Cloud Connector 2.19 (docs/cloud-connector.md).
 */
import type { Tenant } from '../../../core/subaccount.ts';
import type { CloudConnector, SccApiState } from '../state.ts';
import type { DomainMappingConfig, ResourceConfig, SccInstance, ServiceChannelConfig, SystemMappingConfig } from '../schema.ts';

/** A resource id in a URL path: `+` → `+2B`, `-` → `+2D`, `/` → `-`. */
export function encodeResourceId(id: string): string {
  return id.replace(/\+/g, '+2B').replace(/-/g, '+2D').replace(/\//g, '-');
}

export function decodeResourceId(encoded: string): string {
  let out = '';
  for (let i = 0; i < encoded.length; i++) {
    if (encoded.startsWith('+2B', i) || encoded.startsWith('+2b', i)) {
      out += '+';
      i += 2;
    } else if (encoded.startsWith('+2D', i) || encoded.startsWith('+2d', i)) {
      out += '-';
      i += 2;
    } else out += encoded[i] === '-' ? '/' : encoded[i];
  }
  return out;
}

const link = (href: string) => ({ href });

export function subaccountLinks(href: string) {
  return {
    'ABAPCloud-channels': link(`${href}/channels/ABAPCloud`),
    'HANA-channels': link(`${href}/channels/HANA`),
    systemMappings: link(`${href}/systemMappings`),
    self: link(href),
    'K8S-channels': link(`${href}/channels/K8S`),
    validity: link(`${href}/validity`),
    state: link(`${href}/state`),
    'VirtualMachine-channels': link(`${href}/channels/VirtualMachine`),
    domainMappings: link(`${href}/domainMappings`),
  };
}

/** The connector's region host, else the installation's default (`cloudConnectorApi.regionHost`). */
export const regionHostOf = (connector: CloudConnector, api: Pick<SccApiState, 'regionHost'>): string =>
  connector.regionHost ?? api.regionHost;

export function subaccountListEntry(base: string, tenant: Tenant, connector: CloudConnector, api: Pick<SccApiState, 'regionHost'>) {
  const regionHost = regionHostOf(connector, api);
  const href = `${base}/api/v1/configuration/subaccounts/${regionHost}/${tenant.subaccountId}`;
  return { _links: subaccountLinks(href), regionHost, subaccount: tenant.subaccountId, locationID: connector.locationId };
}

/** What the tunnel shows: `Connected`, `Disconnected` (taken offline) or `ConnectFailure` (an offline fault, a switch). */
export type TunnelState = 'Connected' | 'Disconnected' | 'ConnectFailure';

/** A stable hex serial number from a text (the subaccount certificate is not a real certificate). */
function serialOf(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    h1 = Math.imul(h1 ^ text.charCodeAt(i), 16777619) >>> 0;
    h2 = Math.imul(h2 + text.charCodeAt(i), 2246822519) >>> 0;
  }
  return (h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')).match(/../g)!.join(':');
}

const yearMs = 365 * 24 * 3600 * 1000;

export function subaccountView(
  base: string,
  api: Pick<SccApiState, 'regionHost'>,
  tenant: Tenant,
  connector: CloudConnector,
  tunnel: { state: TunnelState; since: number; issuerDN: string },
) {
  const entry = subaccountListEntry(base, tenant, connector, api);
  const issued = connector.connectedSince ?? tunnel.since;
  return {
    description: connector.description ?? '',
    displayName: connector.displayName || tenant.subaccountId,
    autoCertRenewal: connector.autoCertRenewal ?? false,
    tunnel: {
      state: tunnel.state,
      connectedSinceTimeStamp: tunnel.state === 'Connected' ? tunnel.since : 0,
      connections: 0,
      applicationConnections: [],
      serviceChannels: [],
      subaccountCertificate: {
        notAfterTimeStamp: issued + yearMs,
        notBeforeTimeStamp: issued,
        subjectDN: `CN=${tenant.subaccountId},L=${entry.regionHost},OU=${tenant.subdomain},O=SAP Cloud Connector emulator`,
        issuer: tunnel.issuerDN,
        serialNumber: serialOf(`${tenant.zid}|${connector.locationId}|${issued}`),
      },
      user: connector.cloudUser ?? 'emulator',
    },
    isManaged: connector.isManaged ?? false,
    ...entry,
  };
}

/** The resources as the API sees them: omitted in the scenario means everything (`/` and its sub-paths). */
export const resourcesOf = (system: SystemMappingConfig): ResourceConfig[] =>
  system.resources ?? [{ path: '/', exactMatchOnly: false, enabled: true }];

export const authenticationModeOf = (system: SystemMappingConfig): string =>
  system.authenticationMode ?? (system.principalType === 'X509' ? 'X509_GENERAL' : 'NONE');

export function systemMappingView(subaccountHref: string, system: SystemMappingConfig) {
  const href = `${subaccountHref}/systemMappings/${system.virtualHost}:${system.virtualPort}`;
  const resources = resourcesOf(system);
  return {
    virtualHost: system.virtualHost,
    virtualPort: String(system.virtualPort),
    localHost: system.internalHost,
    localPort: String(system.internalPort),
    creationDate: String(system.creationDate ?? 0),
    protocol: system.protocol,
    backendType: system.backendType ?? 'nonSAPsys',
    hostInHeader: system.hostInHeader.toUpperCase(),
    ...(system.sid === undefined ? {} : { sid: system.sid }),
    totalResourcesCount: resources.length,
    enabledResourcesCount: resources.filter((r) => r.enabled).length,
    authenticationMode: authenticationModeOf(system),
    ...(system.description === undefined ? {} : { description: system.description }),
    allowedClients: [],
    blacklistedUsers: [],
    _links: { self: link(href), resources: link(`${href}/resources`) },
  };
}

export function resourceView(systemHref: string, resource: ResourceConfig, inList: boolean) {
  return {
    id: resource.path,
    enabled: resource.enabled,
    exactMatchOnly: resource.exactMatchOnly,
    websocketUpgradeAllowed: resource.websocketUpgradeAllowed ?? false,
    creationDate: String(resource.creationDate ?? 0),
    description: resource.description ?? '',
    _links: inList ? {} : { self: link(`${systemHref}/resources/${encodeResourceId(resource.path)}`) },
  };
}

export function domainMappingView(subaccountHref: string, mapping: DomainMappingConfig) {
  return { ...mapping, _links: { self: link(`${subaccountHref}/domainMappings/${encodeURIComponent(mapping.internalDomain)}`) } };
}

export function channelView(subaccountHref: string, channel: ServiceChannelConfig) {
  const href = `${subaccountHref}/channels/${channel.type}/${channel.id}`;
  const target =
    channel.type === 'K8S'
      ? { k8sCluster: channel.k8sCluster ?? '', k8sService: channel.k8sService ?? '' }
      : { abapCloudTenantHost: channel.abapCloudTenantHost ?? '', instanceNumber: channel.instanceNumber ?? 0 };
  return {
    ...target,
    id: channel.id,
    type: channel.type,
    port: channel.port,
    enabled: channel.enabled,
    connections: channel.connections,
    comment: channel.comment,
    _links: { self: link(href), state: link(`${href}/state`) },
  };
}

export function proxyView(instance: SccInstance) {
  const proxy = instance.proxy;
  if (!proxy) return { host: '', port: '', user: '', password: '' };
  return { host: proxy.host, port: String(proxy.port), user: proxy.user ?? '', password: proxy.password ? '***' : '' };
}
