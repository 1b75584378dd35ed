/**
 * The Cloud Connector: each subaccount's connectors (location IDs, virtual→internal mappings, resources,
 * online/offline) and the access decision every proxy hop asks (access.ts), high availability (ha.ts), and the
 * REST configuration API with its admin console (admin/), which the core serves on a port of its own. It serves no
 * route of the services port, so it is not in the plugin list; the proxies and the control API use it.
 */
export {
  decideAccess,
  describeResources,
  findConnector,
  type AccessDecision,
  type AccessDenied,
  type AccessGranted,
  type AccessRequest,
} from './access.ts';
export { createCloudConnectorApi, type CloudConnectorApiContext } from './admin/api.ts';
export type { CertificatePems } from './admin/certificates.ts';
export { listConnectors, putConnector, removeConnector, resolveTenant, setConnectorOnline } from './gateway.ts';
export { cloudConnectorSchema, cloudConnectorsSchema, type CloudConnectorConfig } from './schema.ts';
export { buildCloudConnectorState, type CloudConnector, type CloudConnectorState, type OnPremView } from './state.ts';
