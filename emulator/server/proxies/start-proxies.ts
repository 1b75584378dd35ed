/** Starts the connectivity proxy's HTTP (20003) and SOCKS5 (20004) ports over one emulator core. */
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { closeServer, listenOn } from '../backend/start-backend.ts';
import { HttpConnectivityProxy } from './http-proxy-server.ts';
import { PrincipalCertificateIssuer } from './principal-certificate.ts';
import { createSocks5Server, type Socks5Timeouts } from './socks5-server.ts';
import type { ConnectionTimeouts } from '../timeouts.ts';

export interface ProxyStartOptions {
  httpPort: number;
  socksPort: number;
  host: string;
  /** The emulator CA (its key lies next to it) that issues principal propagation certificates. */
  caFile: string;
  backendTimeoutMs: number;
  socks5: Socks5Timeouts;
  timeouts: Required<ConnectionTimeouts>;
}

export interface RunningProxies {
  ports: { httpProxy: number; socks5: number };
  stop(): Promise<void>;
}

export async function startProxies(core: EmulatorCore, options: ProxyStartOptions): Promise<RunningProxies> {
  const http = new HttpConnectivityProxy({
    core,
    certificates: new PrincipalCertificateIssuer(options.caFile),
    backendTimeoutMs: options.backendTimeoutMs,
    timeouts: options.timeouts,
  });
  const socks = createSocks5Server(core, options.socks5);
  const httpPort = await listenOn(http.server, options.httpPort, options.host, 'httpProxyPort');
  let socksPort: number;
  try {
    socksPort = await listenOn(socks.server, options.socksPort, options.host, 'socksProxyPort');
  } catch (err) {
    http.close();
    await closeServer(http.server);
    throw err;
  }
  return {
    ports: { httpProxy: httpPort, socks5: socksPort },
    stop: async () => {
      http.close();
      await Promise.all([closeServer(http.server), closeServer(socks.server, socks.sockets)]);
    },
  };
}
