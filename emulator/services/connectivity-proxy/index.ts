/**
 * The connectivity proxy: the transport-free pipeline its faces (HTTP proxy, SOCKS5, the MSW approuter) adapt.
 * It serves no route of the services port, so it is not in the plugin list (emulator/app/plugins.ts).
 */
export { openProxyHop, passProxy, ProxyHop } from './gateway.ts';
export type { ProxyDecision, ProxyDrop, ProxyFaultResponse, ProxyGrant, ProxyOutcome } from './gateway.ts';
export type { ProxyDenial } from './errors.ts';
export type {
  ConnectivityProxyInput,
  ProxyCredential,
  ProxyHopStart,
  ProxyMode,
  ProxyRequest,
  ProxyTarget,
  ProxyTransport,
} from './schema.ts';
export { connectivityProxySchema, effectiveProxyMode, proxyModes, proxyTenantModes } from './schema.ts';
export type { ProxyContext } from './state.ts';
export { hopByHopHeaders, isProxyOnlyHeader } from './headers.ts';
export { principalName, tokenFromProxyAuthorization, verifyPrincipalToken } from './proxy-auth.ts';
export { recordRelay, type ProxyJournalEntry, type RelayCounts } from './proxy-journal.ts';
