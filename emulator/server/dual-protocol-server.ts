/**
 * One port, two protocols: the first byte of a connection tells a TLS handshake (0x16) from plain HTTP, and
 * the socket goes to an https or an http server. xssec insists on https for uaadomain while the SDK is
 * happy with http for url/uri, so both can share the services port.
 */
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

export interface DualProtocolServer {
  net: NetServer;
  http: HttpServer;
  https: HttpsServer;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export function createDualProtocolServer(listener: RequestListener, tls: { key: string; cert: string }): DualProtocolServer {
  const http = createHttpServer({ keepAliveTimeout: 5_000 }, listener);
  const https = createHttpsServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 5_000 }, listener);
  const sockets = new Set<Socket>();
  const net = createNetServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      if (!first) {
        socket.destroy();
        return;
      }
      socket.unshift(first);
      (first[0] === 0x16 ? https : http).emit('connection', socket);
      socket.resume();
    });
  });
  return {
    net,
    http,
    https,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        net.once('error', reject);
        net.listen(port, host, () => {
          net.off('error', reject);
          resolve((net.address() as { port: number }).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        http.closeAllConnections();
        https.closeAllConnections?.();
        net.close(() => resolve());
      }),
  };
}
