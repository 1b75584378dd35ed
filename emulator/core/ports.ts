/** The emulator's default ports, in one table: every face, the bindings and the container image use these. */
export const defaultPorts = {
  /** XSUAA, the Destination Service, the Connectivity Service and the control API; HTTP and TLS on one port. */
  services: 20000,
  /** The connectivity proxy, HTTP (`onpremise_proxy_http_port`). */
  httpProxy: 20003,
  /** The connectivity proxy, SOCKS5 (`onpremise_socks5_proxy_port`). */
  socks5: 20004,
  /**
   * The Kyma Transparent Proxy (HTTP, routed by Host to a Destination CR). In a cluster every CR is a Service of
   * its own on port 80; locally one port serves them all: the first free one after the connectivity proxy's.
   */
  transparentProxy: 20005,
  /** SAP Cloud Identity Services (IAS): its token service, JWKS and discovery; TLS only (the identity binding's `url`). */
  identity: 20006,
  /** The Cloud Connector's REST configuration API and admin console (TLS), as on a real Cloud Connector. */
  cloudConnectorApi: 8443,
  /** The fake on-prem backend: HTTP, TCP echo, SMTP sink, LDAP directory. */
  backendHttp: 20010,
  backendTcp: 20011,
  smtp: 20025,
  ldap: 20389,
} as const;
