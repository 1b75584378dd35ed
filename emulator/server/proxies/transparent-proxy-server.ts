/**
 * The Kyma Transparent Proxy's port (default 20005): plain HTTP, routed by `Host` to a Destination CR, as apps in
 * a cluster call `http://<cr>.<namespace>/path`. An adapter of emulator/services/transparent-proxy/gateway.ts:
 * the Node request becomes a web Request for the gateway, the gateway's target requests go out here with
 * `node:http`/`node:https` (timeouts, TLS as the destination says), principal propagation certificates come from
 * the emulator CA. Origin-form requests only: an absolute-form target (a client using the port as a forward
 * proxy) and CONNECT are refused with the proxy's error headers; the port reaches only destinations. Each CR's
 * Service also gets a port of its own (transparent-proxy-ports.ts) whose server is this one with `Host` fixed.
 */
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import {
  Agent as HttpAgent,
  createServer,
  request as httpRequest,
  type OutgoingHttpHeaders,
  type RequestListener,
  type Server,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { hopByHopHeaders } from '../../services/connectivity-proxy/index.ts';
import { TargetTimeoutError, TransparentProxyGateway, type OutboundRequest } from '../../services/transparent-proxy/index.ts';
import { closeServer, listenOn } from '../backend/start-backend.ts';
import { httpTimeoutOptions, type ConnectionTimeouts } from '../timeouts.ts';
import { principalCertificateHeader, PrincipalCertificateIssuer } from './principal-certificate.ts';
import { CrPortListeners } from './transparent-proxy-ports.ts';

export interface TransparentProxyStartOptions {
  port: number;
  host: string;
  /** The emulator CA (its key lies next to it): trusted for HTTPS targets, and it issues principal propagation certificates. */
  caFile: string;
  caPem: string;
  timeouts: Required<ConnectionTimeouts>;
  /** Per-CR ports are free ones, never the CR's `spec.service.port` (the emulator runs with `port: 0`). */
  anyPort?: boolean;
  /** Largest mail the mail CRs' SMTP endpoints accept. */
  smtpMaxMessageBytes?: number;
}

export interface RunningTransparentProxy {
  port: number;
  gateway: TransparentProxyGateway;
  /** The listeners of the CRs' Services (`ports`: `<service>.<namespace>` → local port, kept current). */
  crPorts: CrPortListeners;
  stop(): Promise<void>;
}

const nullBodyStatus = new Set([101, 204, 205, 304]);

/** Sends the gateway's target requests with Node's clients, keep-alive, within the destination's timeouts. */
class NodeSender {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: Infinity });
  private readonly verifying: HttpsAgent;
  private readonly trusting = new HttpsAgent({ keepAlive: true, maxSockets: Infinity, rejectUnauthorized: false });

  constructor(caPem: string) {
    this.verifying = new HttpsAgent({ keepAlive: true, maxSockets: Infinity, ca: [...rootCertificates, caPem] });
  }

  close(): void {
    this.http.destroy();
    this.verifying.destroy();
    this.trusting.destroy();
  }

  send = (out: OutboundRequest): Promise<Response> =>
    new Promise((resolve, reject) => {
      const https = out.url.protocol === 'https:';
      const headers: OutgoingHttpHeaders = {};
      out.headers.forEach((value, name) => (headers[name] = value));
      const req = (https ? httpsRequest : httpRequest)({
        host: out.url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(out.url.port || (https ? 443 : 80)),
        method: out.method,
        path: out.url.pathname + out.url.search,
        headers,
        agent: https ? (out.verifyTls ? this.verifying : this.trusting) : this.http,
      });
      const connectTimer = setTimeout(() => req.destroy(new TargetTimeoutError('connect')), out.connectTimeoutMs);
      req.once('socket', (socket) => {
        const connected = (): void => {
          clearTimeout(connectTimer);
          req.setTimeout(out.readTimeoutMs, () => req.destroy(new TargetTimeoutError('read')));
        };
        if ((socket as { connecting?: boolean }).connecting) socket.once('connect', connected);
        else connected();
      });
      req.once('response', (res) => {
        const answer = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) if (!hopByHopHeaders.has(raw[i].toLowerCase())) answer.append(raw[i], raw[i + 1]);
        const status = res.statusCode ?? 502;
        const empty = out.method === 'HEAD' || nullBodyStatus.has(status);
        if (empty) res.resume();
        resolve(
          new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage,
            headers: answer,
          }),
        );
      });
      req.once('error', (err) => {
        clearTimeout(connectTimer);
        reject(err);
      });
      if (out.body) Readable.fromWeb(out.body as import('node:stream/web').ReadableStream).pipe(req);
      else req.end();
    });
}

function refuseConnect(gateway: TransparentProxyGateway, target: string, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  const response = gateway.refuseTunnel(target);
  void response.text().then((body) => {
    const head = [`HTTP/1.1 ${response.status} Method Not Allowed`, 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`];
    response.headers.forEach((value, name) => head.push(`${name}: ${value}`));
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
}

/** An HTTP server for the gateway: serving every CR by `Host`, or (`service`) one CR's Service whatever `Host` says. */
export type TransparentProxyServerFactory = (service?: string) => Server;

export function createTransparentProxyServer(
  core: EmulatorCore,
  options: Pick<TransparentProxyStartOptions, 'caFile' | 'caPem' | 'timeouts'>,
): { server: Server; gateway: TransparentProxyGateway; serverFor: TransparentProxyServerFactory; close(): void } {
  const sender = new NodeSender(options.caPem);
  // Read the CA key only when the first certificate is issued (most runs never propagate a principal).
  let issuer: PrincipalCertificateIssuer | undefined;
  const gateway = new TransparentProxyGateway(core, {
    send: sender.send,
    principalCertificates: {
      header: principalCertificateHeader,
      issue: (subject, minutes, now) => (issuer ??= new PrincipalCertificateIssuer(options.caFile)).issue(subject, minutes, now),
    },
  });
  const listener = getRequestListener((request, env) =>
    gateway.fetch(request, { requestTarget: (env as HttpBindings).incoming.url ?? '/', started: performance.now() }),
  );
  const serverFor: TransparentProxyServerFactory = (service) => {
    // A CR's own port: the request is the gateway's as if it had come to the HTTP port with `Host: <service>`
    // (routing, errors, the journal: one implementation). An absolute-form target still wins, and is refused.
    const handler: RequestListener = service
      ? (req, res) => {
          req.headers.host = service;
          const raw = req.rawHeaders;
          for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'host') raw[i + 1] = service;
          return listener(req, res);
        }
      : listener;
    const server = createServer({ ...httpTimeoutOptions(options.timeouts), maxHeaderSize: 16_384 }, handler);
    server.on('connect', (req, socket: Duplex) => refuseConnect(gateway, req.url ?? '', socket));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    return server;
  };
  return { server: serverFor(), gateway, serverFor, close: () => sender.close() };
}

/**
 * Listen on the Transparent Proxy's port (0: a free one; a port in use is a PortInUseError naming
 * `transparentProxyPort`), and on a port per Service of each CR (transparent-proxy-ports.ts).
 */
export async function startTransparentProxy(core: EmulatorCore, options: TransparentProxyStartOptions): Promise<RunningTransparentProxy> {
  const { server, gateway, serverFor, close } = createTransparentProxyServer(core, options);
  let port: number;
  try {
    port = await listenOn(server, options.port, options.host, 'transparentProxyPort');
  } catch (err) {
    close();
    throw err;
  }
  const crPorts = new CrPortListeners(core, {
    host: options.host,
    anyPort: options.anyPort ?? false,
    caPem: options.caPem,
    httpServer: serverFor,
    ...(options.smtpMaxMessageBytes ? { smtpMaxMessageBytes: options.smtpMaxMessageBytes } : {}),
  });
  await crPorts.start();
  return {
    port,
    gateway,
    crPorts,
    stop: async () => {
      await crPorts.stop();
      close();
      await closeServer(server);
    },
  };
}
