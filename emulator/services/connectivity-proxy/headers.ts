/** Which headers a proxy hop does not pass on, for every HTTP transport (the HTTP proxy, the approuter's hop). */

/** Hop-by-hop headers (RFC 9110 §7.6.1 and the usual extras): never forwarded, in either direction. */
export const hopByHopHeaders = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding']);

/** A request header (lower case) the backend never sees: Host (the mapping decides it), hop-by-hop, `Proxy-*`, `SAP-Connectivity-*`. */
export function isProxyOnlyHeader(lower: string): boolean {
  return (
    lower === 'host' ||
    hopByHopHeaders.has(lower) ||
    lower.startsWith('proxy-') ||
    lower.startsWith('sap-connectivity-') ||
    lower.startsWith('sap-cp-connectivity-')
  );
}
