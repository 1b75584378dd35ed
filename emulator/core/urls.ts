/** Where the emulator is reachable: every service writes these into tokens, bindings and answers. */
export interface PublicUrls {
  /** `host:port` of the TLS-capable XSUAA port, as written into `uaadomain`. */
  uaaDomain: string;
  /** Plain-HTTP base URL of the services port, e.g. `http://localhost:20000`. */
  serviceUrl: string;
  /** Where the connectivity proxy listens, as the connectivity binding advertises it. */
  proxyHost?: string;
  httpProxyPort?: number;
  socksProxyPort?: number;
}
