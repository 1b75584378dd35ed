/**
 * One port, two protocols: the first byte of a connection tells a TLS handshake (0x16) from plain HTTP, and
 * the socket goes to an https or an http server. xssec insists on https for uaadomain while the SDK is
 * happy with http for url/uri, so both can share the services port. The TLS side asks for a client
 * certificate (optional): one the emulator CA issued reaches the core as its subject in one header, which
 * is stripped from every request first, so nobody outside can forge it. The http and https servers never
 * listen themselves, so their header, request and keep-alive timeouts are started here (server/timeouts.ts); a
 * connection that sends no first byte or does not finish its TLS handshake within the header timeout is closed.
 */
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createHash } from 'node:crypto';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CLIENT_CERT_SUBJECT_HEADER, CLIENT_CERT_X5T_HEADER } from '../core/client-certificate.ts';
import { httpTimeoutOptions, resolveTimeouts, startTimeoutChecks, stopTimeoutChecks, type ConnectionTimeouts } from './timeouts.ts';

export interface DualProtocolServer {
  net: NetServer;
  http: HttpServer;
  https: HttpsServer;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/** `CN=…,OU=…,O=…` of a peer certificate's subject, most specific part first. */
function subjectDn(subject: Record<string, string | string[]>): string {
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C'];
  const keys = [...order.filter((k) => k in subject), ...Object.keys(subject).filter((k) => !order.includes(k))];
  return keys.flatMap((k) => [subject[k]].flat().map((v) => `${k}=${v}`)).join(',');
}

const certificateHeaders = new Set([CLIENT_CERT_SUBJECT_HEADER, CLIENT_CERT_X5T_HEADER]);

/**
 * Drop the client-certificate headers from outside input; set them (subject, and the `x5t#S256` thumbprint of the
 * DER) when the TLS peer presented a CA-issued certificate.
 */
export function withClientCertificate(listener: RequestListener): RequestListener {
  return (req, res) => {
    passClientCertificate(req);
    listener(req, res);
  };
}

function passClientCertificate(req: IncomingMessage): void {
  const raw = req.rawHeaders;
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!certificateHeaders.has(raw[i].toLowerCase())) kept.push(raw[i], raw[i + 1]);
  for (const name of certificateHeaders) delete req.headers[name];
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.encrypted && socket.authorized && socket.getPeerCertificate) {
    const peer = socket.getPeerCertificate();
    if (peer && peer.subject) {
      const value = encodeURIComponent(subjectDn(peer.subject as unknown as Record<string, string | string[]>));
      kept.push(CLIENT_CERT_SUBJECT_HEADER, value);
      req.headers[CLIENT_CERT_SUBJECT_HEADER] = value;
      if (peer.raw) {
        const x5t = createHash('sha256').update(peer.raw).digest('base64url');
        kept.push(CLIENT_CERT_X5T_HEADER, x5t);
        req.headers[CLIENT_CERT_X5T_HEADER] = x5t;
      }
    }
  }
  req.rawHeaders.splice(0, req.rawHeaders.length, ...kept);
}

/** `tls.ca`: the CA whose client certificates are passed on; without it no client certificate is asked for. */
export function createDualProtocolServer(
  listener: RequestListener,
  tls: { key: string; cert: string; ca?: string },
  timeouts: Required<ConnectionTimeouts> = resolveTimeouts(),
): DualProtocolServer {
  const checked = withClientCertificate(listener);
  const httpOptions = httpTimeoutOptions(timeouts);
  const http = createHttpServer(httpOptions, checked);
  const clientCertificates = tls.ca ? { ca: [tls.ca], requestCert: true, rejectUnauthorized: false } : {};
  const https = createHttpsServer(
    { key: tls.key, cert: tls.cert, ...httpOptions, handshakeTimeout: timeouts.headersTimeoutMs, ...clientCertificates },
    checked,
  );
  startTimeoutChecks(http);
  startTimeoutChecks(https);
  const sockets = new Set<Socket>();
  const net = createNetServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // Until the first byte tells the protocol, no server's timeouts apply: close a silent connection here.
    const silent = setTimeout(() => socket.destroy(), timeouts.headersTimeoutMs);
    socket.once('close', () => clearTimeout(silent));
    socket.once('readable', () => {
      clearTimeout(silent);
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
        void Promise.all([stopTimeoutChecks(http), stopTimeoutChecks(https)]).then(() => net.close(() => resolve()));
      }),
  };
}
