/**
 * The Cloud Connector's admin port (8443 by default; TLS only, as a real Cloud Connector's): its REST
 * configuration API and admin console, served by the core (`core.cloudConnectorApi`, services/cloud-connector/admin).
 * The server certificate is the emulator's (signed by its CA: point SCC_CA_CERTIFICATE at the CA file).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { EmulatorCore } from '../app/emulator-core.ts';
import { httpTimeoutOptions, type ConnectionTimeouts } from './timeouts.ts';
import { listenAs } from './start-errors.ts';

export interface CloudConnectorApiServer {
  port: number;
  stop(): Promise<void>;
}

export async function startCloudConnectorApi(
  core: EmulatorCore,
  options: { port: number; host: string; key: string; cert: string; timeouts: Required<ConnectionTimeouts> },
): Promise<CloudConnectorApiServer> {
  const server: Server = createServer(
    { key: options.key, cert: options.cert, ...httpTimeoutOptions(options.timeouts) },
    getRequestListener(core.cloudConnectorApi.fetch),
  );
  server.on('clientError', (_err, socket) => socket.destroy());
  const port = await listenAs(
    'cloudConnectorApiPort (--cloud-connector-api-port)',
    options.port,
    options.host,
    () =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
  );
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
