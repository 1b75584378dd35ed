/**
 * The Transparent Proxy's per-CR ports (Node): a listener for each Service of a CR
 * (services/transparent-proxy/connections.ts says which and of what kind), following the CRs and their destinations as they
 * change (the core's change observers: control API, reset, a new scenario, a restored snapshot). The port is
 * the CR's `spec.service.port` when it is above 1024 and free, else a free one; with `port: 0` always a free one.
 *
 * - TCP: a client's connection is looked up and admitted (the connectivity proxy's pipeline, as a SOCKS5 tunnel),
 *   then relayed byte for byte to the internal host; a refusal closes the connection (the journal says why).
 * - SMTP: an SMTP endpoint (smtp-server) that takes the app's mail without credentials and sends each message to
 *   the destination's mail server (smtp-client.ts): AUTH PLAIN/LOGIN with `mail.user`/`mail.password` for Basic,
 *   AUTH XOAUTH2 with the lookup's token for OAuth types. A refusal is the reply to the app's DATA.
 * - HTTP (a dynamic CR, or one whose destination is of another type): the HTTP port's own server with `Host` set
 *   to the Service (transparent-proxy-server.ts), for clients that cannot set `Host` (`fetch`): the same gateway,
 *   so routing, errors, the journal and the refusal of absolute-form and CONNECT are those of the HTTP port.
 */
import type { Server as HttpServer } from 'node:http';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, rootCertificates } from 'node:tls';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import {
  crPortsOf,
  mailRefused,
  openCrConnection,
  recordPortChange,
  TransparentProxyError,
  type ConnectionTarget,
  type CrConnection,
  type CrPort,
  type CrPortProtocol,
} from '../../services/transparent-proxy/index.ts';
import { closeServer, listenOn } from '../backend/start-backend.ts';
import { defaultSmtpMaxMessageBytes } from '../backend/smtp-sink.ts';
import { sendOverSmtp, SmtpReplyError } from './smtp-client.ts';

export interface CrPortOptions {
  host: string;
  /** Free ports only (the emulator was started with `port: 0`, so parallel emulators never clash). */
  anyPort: boolean;
  /** The emulator CA, trusted for `smtps` mail servers on the Internet. */
  caPem: string;
  /** The HTTP port's server, for one Service (`Host` fixed to it): an HTTP CR's listener. */
  httpServer: (service: string) => HttpServer;
  /** Largest mail the SMTP endpoints accept (as the sink's). */
  smtpMaxMessageBytes?: number;
}

/** A TCP or mail CR's port: its connections are the proxy's (openCrConnection). */
type ConnectionPort = CrPort & { protocol: CrPortProtocol };

/** One open listener. */
interface Listener {
  port: CrPort;
  signature: string;
  localPort: number;
  close(): Promise<void>;
}

const signatureOf = (port: CrPort): string => `${port.protocol}|${port.cr}|${port.tenant ?? ''}|${port.servicePort}`;

/** Connect to the target (TLS when it says so) within its connect timeout. */
function connectTarget(target: ConnectionTarget, caPem: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const options = { host: target.host, port: target.port };
    const socket: Socket = target.tls
      ? tlsConnect({
          ...options,
          servername: target.host,
          ...(target.tls.verify ? { ca: [...rootCertificates, caPem] } : { rejectUnauthorized: false }),
        })
      : netConnect({ ...options, noDelay: true });
    const timer = setTimeout(
      () => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
      target.connectTimeoutMs,
    );
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** The SMTP reply for a refusal of the proxy: 451 for what may pass (the connectivity side), 554 for the configuration. */
function smtpRefusal(error: TransparentProxyError, reply?: { code: number }): Error & { responseCode: number } {
  const permanent = error.internalCode === 404 || (error.status >= 400 && error.status < 500);
  const code = reply && reply.code >= 400 && reply.code <= 599 ? reply.code : permanent ? 554 : 451;
  return Object.assign(new Error(`Transparent Proxy: ${error.message}`), { responseCode: code });
}

export class CrPortListeners {
  /** Live: `<service>.<namespace>` → the local port of each CR's Service. */
  readonly ports: Record<string, number> = {};
  private readonly core: EmulatorCore;
  private readonly options: CrPortOptions;
  private readonly listeners = new Map<string, Listener>();
  private queue: Promise<void> = Promise.resolve();
  /** The desired ports last scheduled, to skip reconciling when nothing changed. */
  private scheduled = '';
  private stopped = false;
  private unsubscribe?: () => void;

  constructor(core: EmulatorCore, options: CrPortOptions) {
    this.core = core;
    this.options = options;
  }

  /** Open the ports the CRs need now, and follow every change from here on. */
  start(): Promise<void> {
    this.unsubscribe = this.core.changes.observe(() => this.reconcile());
    return this.reconcile();
  }

  /** Bring the listeners in line with the state (one reconcile at a time); resolves once they are. */
  reconcile(): Promise<void> {
    if (this.stopped) return this.queue;
    const desired = crPortsOf(this.core.state);
    const key = desired.map((p) => `${p.service}=${signatureOf(p)}`).join(',');
    if (key === this.scheduled) return this.queue;
    this.scheduled = key;
    this.queue = this.queue.then(() => this.apply(desired)).catch(() => undefined);
    return this.queue;
  }

  /** Close every listener and every connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.queue;
    await Promise.all([...this.listeners.values()].map((l) => l.close()));
    this.listeners.clear();
    for (const service of Object.keys(this.ports)) delete this.ports[service];
  }

  private async apply(desired: CrPort[]): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map(desired.map((p) => [p.service, p]));
    for (const [service, listener] of this.listeners) {
      if (wanted.get(service) && signatureOf(wanted.get(service)!) === listener.signature) continue;
      this.listeners.delete(service);
      delete this.ports[service];
      await listener.close();
      recordPortChange(this.core, listener.port, 'CLOSE', listener.localPort);
    }
    for (const port of desired) {
      if (this.listeners.has(port.service) || this.stopped) continue;
      const listener = await this.open(port).catch(() => undefined);
      if (!listener) continue;
      this.listeners.set(port.service, listener);
      this.ports[port.service] = listener.localPort;
      recordPortChange(this.core, port, 'LISTEN', listener.localPort);
    }
  }

  /** The CR's port when it is above 1024 and free (not with `port: 0`), else a free one. */
  private async listen(server: Server, port: CrPort): Promise<number> {
    const { host, anyPort } = this.options;
    if (!anyPort && port.servicePort > 1024) {
      try {
        return await listenOn(server, port.servicePort, host, `spec.service.port of ${port.cr}`);
      } catch {
        // In use (or not ours to take): a free one, as for any other CR.
      }
    }
    return listenOn(server, 0, host, `a port for ${port.cr}`);
  }

  private open(port: CrPort): Promise<Listener> {
    if (port.protocol === 'HTTP') return this.openHttp(port);
    return port.protocol === 'TCP' ? this.openTcp({ ...port, protocol: 'TCP' }) : this.openSmtp({ ...port, protocol: 'SMTP' });
  }

  private async openHttp(port: CrPort): Promise<Listener> {
    const server = this.options.httpServer(port.service);
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('error', () => undefined);
    const localPort = await this.listen(server, port);
    return { port, signature: signatureOf(port), localPort, close: () => closeServer(server, sockets) };
  }

  private async openTcp(port: ConnectionPort): Promise<Listener> {
    const sockets = new Set<Socket>();
    let localPort = 0;
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      void this.tunnel(port, localPort, socket);
    });
    server.on('error', () => undefined);
    localPort = await this.listen(server, port);
    return { port, signature: signatureOf(port), localPort, close: () => closeServer(server, sockets) };
  }

  /** A TCP CR's connection: admitted, then relayed to the internal host; a refusal closes it (journaled). */
  private async tunnel(port: ConnectionPort, localPort: number, client: Socket): Promise<void> {
    const started = performance.now();
    let connection: CrConnection;
    try {
      connection = await openCrConnection(this.core, port, { localPort, started });
    } catch {
      return closeGently(client);
    }
    let upstream: Socket;
    try {
      upstream = await connectTarget(connection.target, this.options.caPem);
    } catch (err) {
      connection.unreachable(errorCode(err), errorCode(err) === 'ETIMEDOUT');
      return closeGently(client);
    }
    connection.connected();
    if (client.destroyed) return void upstream.destroy();
    const relayStarted = performance.now();
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      connection.closed({
        bytesToBackend: upstream.bytesWritten,
        bytesFromBackend: upstream.bytesRead,
        relayMs: Math.round(performance.now() - relayStarted),
      });
      client.end();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }

  private async openSmtp(port: ConnectionPort): Promise<Listener> {
    let localPort = 0;
    const smtp = new SMTPServer({
      name: `${port.service}.svc.cluster.local`,
      banner: 'btp-connectivity-emulator Transparent Proxy',
      logger: false,
      disabledCommands: ['STARTTLS'],
      // The app sends no credentials (the proxy has them); one that does is accepted as it is.
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: true,
      allowInsecureAuth: true,
      size: this.options.smtpMaxMessageBytes ?? defaultSmtpMaxMessageBytes,
      rejectOversized: true,
      socketTimeout: 60_000,
      closeTimeout: 200,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anonymous' }),
      onData: (stream, session, callback) => void this.relayMail(port, localPort, stream, session, callback),
    });
    smtp.on('error', () => undefined);
    const server = (smtp as unknown as { server: Server }).server;
    localPort = await this.listen(server, port);
    return {
      port,
      signature: signatureOf(port),
      localPort,
      close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
    };
  }

  /** One message of the app: looked up, admitted, sent to the destination's mail server with its credentials. */
  private async relayMail(
    port: ConnectionPort,
    localPort: number,
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): Promise<void> {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      if (stream.sizeExceeded) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    const ended = await new Promise<boolean>((resolve) => {
      stream.once('end', () => resolve(true));
      stream.once('error', () => resolve(false));
    });
    if (!ended) return callback(Object.assign(new Error('Error: the message could not be read'), { responseCode: 451 }));
    if (stream.sizeExceeded) {
      const max = this.options.smtpMaxMessageBytes ?? defaultSmtpMaxMessageBytes;
      return callback(Object.assign(new Error(`Error: message exceeds fixed maximum message size ${max}`), { responseCode: 552 }));
    }
    const message = {
      from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      to: session.envelope.rcptTo.map((r) => r.address),
      data: Buffer.concat(chunks, size),
    };
    let connection: CrConnection;
    try {
      connection = await openCrConnection(this.core, port, { localPort, started });
    } catch (err) {
      return callback(smtpRefusal(err as TransparentProxyError));
    }
    let socket: Socket;
    try {
      socket = await connectTarget(connection.target, this.options.caPem);
    } catch (err) {
      return callback(smtpRefusal(connection.unreachable(errorCode(err), errorCode(err) === 'ETIMEDOUT')));
    }
    connection.connected();
    const relayStarted = performance.now();
    socket.on('close', () =>
      connection.closed({
        bytesToBackend: socket.bytesWritten,
        bytesFromBackend: socket.bytesRead,
        relayMs: Math.round(performance.now() - relayStarted),
      }),
    );
    try {
      const reply = await sendOverSmtp(socket, message, {
        clientName: 'transparent-proxy.emulator',
        ...(connection.mailAuth ? { auth: connection.mailAuth } : {}),
        replyTimeoutMs: connection.target.readTimeoutMs,
      });
      connection.sent(message.to.length);
      callback(null, reply.text);
    } catch (err) {
      socket.destroy();
      const reply = err instanceof SmtpReplyError ? err.reply : undefined;
      callback(smtpRefusal(connection.fail(mailRefused(connection.targetName, (err as Error).message)), reply));
    }
  }
}

/** Close a connection we refuse: FIN first, so the client reads the end; destroyed a moment later. */
function closeGently(socket: Socket): void {
  socket.resume();
  socket.end();
  setTimeout(() => socket.destroy(), 1000).unref();
}
