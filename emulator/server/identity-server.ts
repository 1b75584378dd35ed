/**
 * The identity service's (IAS) port: TLS only, as an IAS tenant is, served by the same core as the services port.
 * It asks for a client certificate (optional); one the emulator CA issued reaches the core as its subject and its
 * `x5t#S256` thumbprint (dual-protocol-server.ts strips both headers from every request first).
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import { withClientCertificate } from './dual-protocol-server.ts';
import { httpTimeoutOptions, type ConnectionTimeouts } from './timeouts.ts';
import { serverCertificateFor, type TlsMaterial } from './tls-material.ts';

/** Subscriber tenants' hosts (`<subdomain>.localhost`, `<subdomain>.<advertised host>`) that get a certificate of their own by SNI. */
const tenantHost = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?\.[a-z0-9.-]+$/i;

export interface TlsOnlyServer {
  https: HttpsServer;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * `tenantDomains`: the names whose one-label subdomains get a certificate of their own by SNI (`localhost` and the
 * advertised host); each is issued once, with the server key, and kept in memory.
 */
export function createTlsOnlyServer(
  listener: RequestListener,
  tls: Pick<TlsMaterial, 'caPem' | 'caKeyPem' | 'keyPem' | 'certPem'>,
  timeouts: Required<ConnectionTimeouts>,
  tenantDomains: string[] = ['localhost'],
): TlsOnlyServer {
  const contexts = new Map<string, SecureContext>();
  const maxContexts = 1000;
  const sniCallback = (servername: string, callback: (err: Error | null, ctx?: SecureContext) => void): void => {
    const name = servername.toLowerCase();
    const below = tenantDomains.some((d) => name.endsWith(`.${d}`) && !name.slice(0, -d.length - 1).includes('.'));
    if (!below || !tenantHost.test(name)) return callback(null, undefined);
    let ctx = contexts.get(name);
    if (!ctx) {
      ctx = createSecureContext({ key: tls.keyPem, cert: serverCertificateFor(tls, name), ca: [tls.caPem] });
      if (contexts.size < maxContexts) contexts.set(name, ctx);
    }
    callback(null, ctx);
  };
  const https = createHttpsServer(
    {
      key: tls.keyPem,
      cert: tls.certPem,
      ca: [tls.caPem],
      SNICallback: sniCallback,
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
