/**
 * The connectivity proxy has no routes on the services port: its faces are the HTTP proxy (20003) and SOCKS5
 * (20004) servers in emulator/server/proxies and the MSW approuter, each an adapter of gateway.ts.
 */
export {};
