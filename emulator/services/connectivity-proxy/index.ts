/** The connectivity proxy service: the transport-free pipeline its faces (HTTP proxy, SOCKS5, approuter) adapt. */
export { openProxyHop, passProxy, ProxyHop } from './gateway.ts';
export type { ProxyDecision, ProxyDrop, ProxyFaultResponse, ProxyGrant, ProxyOutcome } from './gateway.ts';
export type { ProxyDenial } from './errors.ts';
export type { ProxyCredential, ProxyHopStart, ProxyRequest, ProxyTarget, ProxyTransport } from './schema.ts';
export type { ProxyContext } from './state.ts';
export { hopByHopHeaders, isProxyOnlyHeader } from './headers.ts';
export { principalName, tokenFromProxyAuthorization } from './proxy-auth.ts';
export { recordRelay, type ProxyJournalEntry, type RelayCounts } from './proxy-journal.ts';
