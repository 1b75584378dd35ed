/**
 * The Transparent Proxy has no routes on the services port: its face is a port of its own
 * (emulator/server/proxies/transparent-proxy-server.ts), an adapter of gateway.ts. Its CRs are managed through the
 * control API (`/_emulator/transparent-proxy/destination-crs`).
 */
export {};
