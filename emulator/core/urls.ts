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
  /**
   * The identity service's (IAS) origin, e.g. `https://127.0.0.1:20006`: the identity binding's `url` and the
   * provider tenant's issuer. Default {@link defaultIdentityOrigin}.
   */
  identityOrigin?: string;
}

export const defaultIdentityOrigin = 'https://127.0.0.1:20006';

/** The port of the identity origin (its own port, TLS only). */
export function identityPort(urls: PublicUrls): string {
  const url = new URL(urls.identityOrigin ?? defaultIdentityOrigin);
  return url.port || '443';
}

/**
 * Whether a request is addressed to the identity service's port: there, paths both services have (OIDC
 * discovery) are the identity service's; everywhere else XSUAA's.
 */
export function isIdentityRequest(url: URL, urls: PublicUrls): boolean {
  return (url.port || (url.protocol === 'https:' ? '443' : '80')) === identityPort(urls);
}
