/**
 * The Kyma Transparent Proxy: Destination custom resources, and one `fetch(Request) → Response` over the
 * Destination Service's lookup and the connectivity proxy's pipeline. It serves no route of the services port,
 * so it is not in the plugin list (emulator/app/plugins.ts); its face is a port of its own (emulator/server).
 */
export { TargetTimeoutError, TransparentProxyGateway } from './gateway.ts';
export type { OutboundRequest, PrincipalCertificates, RequestMeta, TransparentProxyFace } from './gateway.ts';
export { mailRefused, TransparentProxyError, type ErrorOrigin } from './errors.ts';
export {
  CrConnection,
  crPortsOf,
  openCrConnection,
  portProtocolOf,
  recordPortChange,
  type ConnectionTarget,
  type CrPort,
  type CrPortProtocol,
  type CrPortsView,
  type MailAuth,
} from './connections.ts';
export {
  checkCrReferences,
  crKey,
  crServices,
  crTenants,
  defaultServicePort,
  destinationCrApiVersion,
  destinationCrKind,
  destinationCrSchema,
  dynamicDestinationName,
  tenantSubdomainsAnnotation,
  transparentProxyConfigSchema,
  type CrService,
  type DestinationCrInput,
  type DestinationCustomResource,
  type TransparentProxyConfig,
} from './schema.ts';
export {
  buildTransparentProxyState,
  type TransparentProxyContext,
  type TransparentProxyState,
  type TransparentProxyView,
} from './state.ts';
export { crReferencesOf, listDestinationCrs, putDestinationCr, removeDestinationCr } from './resources.ts';
