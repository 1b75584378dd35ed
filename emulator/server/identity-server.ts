/**
 * The identity service's (IAS) port: TLS only, as an IAS tenant is, served by the same core as the services port.
 * It asks for a client certificate (optional); one the emulator CA issued reaches the core as its subject and its
 * `x5t#S256` thumbprint (dual-protocol-server.ts strips both headers from every request first).
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import { withClientCertificate } from './dual-protocol-server.ts';
import { httpTimeoutOptions, type ConnectionTimeouts } from './timeouts.ts';

export interface TlsOnlyServer {
  https: HttpsServer;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export function createTlsOnlyServer(
  listener: RequestListener,
  tls: { key: string; cert: string; ca: string },
  timeouts: Required<ConnectionTimeouts>,
): TlsOnlyServer {
  const https = createHttpsServer(
    {
      key: tls.key,
      cert: tls.cert,
      ca: [tls.ca],
      requestCert: true,
      rejectUnauthorized: false,
      ...httpTimeoutOptions(timeouts),
      handshakeTimeout: timeouts.headersTimeoutMs,
    },
    withClientCertificate(listener),
  );
  const sockets = new Set<Socket>();
  https.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  https.on('tlsClientError', (_err, socket) => socket.destroy());
  return {
    https,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        https.once('error', reject);
        https.listen(port, host, () => {
          https.off('error', reject);
          resolve((https.address() as { port: number }).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        https.closeAllConnections();
        https.close(() => resolve());
      }),
  };
}
