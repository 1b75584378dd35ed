/**
 * The connectivity proxy's SOCKS5 port (20004): RFC 1928 with SAP's authentication method 0x80 (the server
 * picks it whenever it is offered): `01 | u32be length | JWT | u8 length | base64(location ID)`, answered
 * `01 00` (or `01 05` and close). In the Kubernetes trusted dedicated mode the token is not checked (it may be
 * empty) and "no authentication" (0x00) is accepted too; in trusted shared mode the token names the tenant. Then CONNECT to a virtual host:port mapped as TCP; reply codes with SAP's
 * meanings (02 not mapped, 03 no/offline connector, 04 backend unreachable, 07 command, 08 address type).
 * Malformed input closes the connection; nothing a client sends can crash the process.
 */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AccessGranted } from '../../services/cloud-connector/access.ts';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { openProxyHop, recordRelay, type ProxyHop } from '../../services/connectivity-proxy/index.ts';

export const sapAuthMethod = 0x80;
/** RFC 1928 "no authentication required": accepted only in the trusted dedicated mode. */
const noAuthMethod = 0x00;
const maxTokenLength = 64 * 1024;

export interface Socks5Timeouts {
  /** From accepting the connection to the CONNECT reply; then the connection is closed (journal `check: handshake`). */
  handshakeTimeoutMs: number;
  /** For the connection to the internal host (for TCPS and LDAPS, its TLS handshake too); then reply 04. */
  connectTimeoutMs: number;
}

export const defaultSocks5Timeouts: Socks5Timeouts = { handshakeTimeoutMs: 60_000, connectTimeoutMs: 10_000 };

export const socksReply = {
  succeeded: 0,
  generalFailure: 1,
  notAllowed: 2,
  networkUnreachable: 3,
  hostUnreachable: 4,
  connectionRefused: 5,
  commandNotSupported: 7,
  addressTypeNotSupported: 8,
} as const;

type Stage = 'greeting' | 'auth' | 'waiting' | 'request' | 'relay' | 'closed';

/** `05 REP 00 01 0.0.0.0:0`: a complete reply, so clients that read the bound address are satisfied. */
const replyBytes = (rep: number): Buffer => Buffer.from([0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** Read buffers for the backend → client direction of plain TCP relays, reused instead of one Buffer per read. */
const relayBufferSize = 256 * 1024;
const relayBuffers: Buffer[] = [];
const takeRelayBuffer = (): Buffer => relayBuffers.pop() ?? Buffer.allocUnsafe(relayBufferSize);
const giveRelayBuffer = (buffer: Buffer): void => {
  if (relayBuffers.length < 16) relayBuffers.push(buffer);
};

class Socks5Session {
  private readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private stage: Stage = 'greeting';
  /** The pipeline (services/connectivity-proxy): authentication now, faults and access once the target is known. */
  private readonly hop: ProxyHop;
  private readonly timer: NodeJS.Timeout;
  private readonly timeouts: Socks5Timeouts;

  constructor(core: EmulatorCore, socket: Socket, timeouts: Socks5Timeouts) {
    this.hop = openProxyHop(core, { transport: 'socks5', method: 'CONNECT', target: '', started: performance.now() });
    this.socket = socket;
    this.timeouts = timeouts;
    this.timer = setTimeout(
      () => this.abort('handshake', `the SOCKS5 handshake did not complete within ${timeouts.handshakeTimeoutMs} ms`),
      timeouts.handshakeTimeoutMs,
    );
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private receive(chunk: Buffer): void {
    if (this.stage === 'relay' || this.stage === 'closed') return;
    this.buffer = Buffer.concat([this.buffer, chunk]);
    try {
      this.advance();
    } catch (err) {
      this.abort('handshake', `malformed SOCKS5 input: ${(err as Error).message}`);
    }
  }

  private advance(): void {
    for (;;) {
      const consumed =
        this.stage === 'greeting' ? this.greeting() : this.stage === 'auth' ? this.auth() : this.stage === 'request' ? this.request() : 0;
      if (consumed <= 0) return;
      this.buffer = this.buffer.subarray(consumed);
    }
  }

  /** `05 n methods…` → `05 80`, or `05 FF` and close when 0x80 is not offered. */
  private greeting(): number {
    const b = this.buffer;
    if (b.length < 2) return 0;
    if (b[0] !== 0x05) return this.abort('handshake', `not SOCKS5 (version byte ${b[0]})`);
    if (b.length < 2 + b[1]) return 0;
    const methods = [...b.subarray(2, 2 + b[1])];
    if (methods.includes(sapAuthMethod)) {
      this.socket.write(Buffer.from([0x05, sapAuthMethod]));
      this.stage = 'auth';
      return 2 + b[1];
    }
    // Trusted dedicated mode needs no token: "no authentication" (0x00) is accepted, for the default connector.
    if (methods.includes(noAuthMethod) && !this.hop.needsToken()) {
      this.socket.write(Buffer.from([0x05, noAuthMethod]));
      this.stage = 'waiting';
      void this.authenticateWithoutToken();
      return 2 + b[1];
    }
    this.socket.write(Buffer.from([0x05, 0xff]));
    const offered = methods.map((m) => `0x${m.toString(16)}`).join(', ') || 'none';
    return this.abort(
      'auth',
      this.hop.needsToken()
        ? `the client offered methods ${offered}, not SAP's 0x80`
        : `the client offered methods ${offered}, neither 0x80 nor 0x00`,
      socksReply.connectionRefused,
    );
  }

  /** Method 0x00 (trusted dedicated mode): the configured subaccount, the default connector. */
  private async authenticateWithoutToken(): Promise<void> {
    const denied = await this.hop.authenticate({ token: undefined }, '');
    if (this.stage === 'closed') return;
    if (denied) return void this.refuse(denied.socksReply, denied.check, denied.reason);
    this.stage = 'request';
    try {
      this.advance();
    } catch (err) {
      this.abort('handshake', `malformed SOCKS5 input: ${(err as Error).message}`);
    }
  }

  /** `01 | u32be len | jwt | u8 len | base64(location)`; verification is async, input waits meanwhile. */
  private auth(): number {
    const b = this.buffer;
    if (b.length < 5) return 0;
    if (b[0] !== 0x01) return this.abort('handshake', `authentication request version ${b[0]}, expected 1`);
    const length = b.readUInt32BE(1);
    // An empty token is refused unless the mode needs none (trusted dedicated: the 0x80 request then only carries a location).
    if ((length === 0 && this.hop.needsToken()) || length > maxTokenLength)
      return this.abort('handshake', `token length ${length} is out of range`);
    if (b.length < 5 + length + 1) return 0;
    const locationLength = b[5 + length];
    const end = 5 + length + 1 + locationLength;
    if (b.length < end) return 0;
    const jwt = b.subarray(5, 5 + length).toString('latin1');
    const encodedLocation = b.subarray(5 + length + 1, end).toString('latin1');
    this.stage = 'waiting';
    void this.authenticate(jwt, encodedLocation);
    return end;
  }

  private async authenticate(jwt: string, encodedLocation: string): Promise<void> {
    if (!base64Pattern.test(encodedLocation)) {
      this.socket.write(Buffer.from([0x01, socksReply.connectionRefused]));
      this.abort('auth', 'the location ID is not base64', socksReply.connectionRefused);
      return;
    }
    // The one token SOCKS5 carries: the connectivity token (cloud-foundry), or the tenant token (trusted shared mode).
    const token = jwt || undefined;
    const denied = await this.hop.authenticate({ token, serviceToken: token }, Buffer.from(encodedLocation, 'base64').toString('utf8'));
    if (this.stage === 'closed') return;
    if (denied) {
      this.socket.write(Buffer.from([0x01, socksReply.connectionRefused]));
      this.abort(denied.check, denied.reason, denied.socksReply);
      return;
    }
    this.socket.write(Buffer.from([0x01, 0x00]));
    this.stage = 'request';
    try {
      this.advance();
    } catch (err) {
      this.abort('handshake', `malformed SOCKS5 input: ${(err as Error).message}`);
    }
  }

  /** `05 CMD 00 ATYP addr port`: CONNECT to a domain or IPv4 virtual host. */
  private request(): number {
    const b = this.buffer;
    if (b.length < 5) return 0;
    if (b[0] !== 0x05) return this.abort('handshake', `request version ${b[0]}, expected 5`);
    const [, command, , addressType] = b;
    let host: string;
    let end: number;
    if (addressType === 0x01) {
      end = 4 + 4;
      if (b.length < end + 2) return 0;
      host = [...b.subarray(4, 8)].join('.');
    } else if (addressType === 0x03) {
      end = 5 + b[4];
      if (b.length < end + 2) return 0;
      host = b.subarray(5, end).toString('latin1');
    } else {
      return this.refuse(
        socksReply.addressTypeNotSupported,
        'address',
        `address type ${addressType} is not supported (only domain names and IPv4)`,
      );
    }
    const port = b.readUInt16BE(end);
    this.hop.aim({ virtualHost: host, virtualPort: port, protocol: 'TCP' }, `${host}:${port}`);
    if (command !== 0x01)
      return this.refuse(socksReply.commandNotSupported, 'command', `command ${command} is not supported (only CONNECT)`);
    this.stage = 'waiting';
    void this.admit();
    return end + 2;
  }

  /** Faults (wait, drop, an offline connector) and the Cloud Connector's decision, then the tunnel or a refusal. */
  private async admit(): Promise<void> {
    const decision = await this.hop.admit();
    if (this.stage === 'closed') return;
    if (decision.kind === 'granted') return this.open(decision.access);
    if (decision.kind === 'denied') return void this.refuse(decision.socksReply, decision.check, decision.reason);
    // A fault's drop (SOCKS5 has no answer a status or rate-limit fault could give: those never meet it).
    this.stage = 'closed';
    clearTimeout(this.timer);
    this.hop.finish({ status: socksReply.generalFailure, check: decision.check, reason: decision.reason });
    this.socket.destroy();
  }

  private open(decision: AccessGranted): void {
    const options = { host: decision.internalHost, port: decision.internalPort };
    // TCPS and LDAPS: the Cloud Connector speaks TLS to the internal host, the client's side of the tunnel is plain.
    const tls = decision.protocol === 'TCPS' || decision.protocol === 'LDAPS';
    // Plain TCP reads the backend's bytes into pooled buffers and writes them on (see relayFromBackend).
    const upstream: Socket = tls
      ? tlsConnect({ ...options, rejectUnauthorized: false })
      : netConnect({
          ...options,
          noDelay: true,
          onread: {
            buffer: takeRelayBuffer,
            callback: (n: number, buf: Uint8Array): boolean => this.relayFromBackend(upstream, n, buf as Buffer),
          },
        });
    const connectTimer = setTimeout(
      () => upstream.destroy(new Error(`no connection within ${this.timeouts.connectTimeoutMs} ms`)),
      this.timeouts.connectTimeoutMs,
    );
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (this.stage === 'relay') return this.socket.destroy();
      this.refuse(
        socksReply.hostUnreachable,
        'backend',
        `the backend ${this.hop.internalTarget} is not reachable: ${err.code ?? err.message}`,
      );
    });
    upstream.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      if (this.stage === 'closed') return upstream.destroy();
      clearTimeout(this.timer);
      this.stage = 'relay';
      this.socket.write(replyBytes(socksReply.succeeded));
      if (this.buffer.length) upstream.write(this.buffer);
      this.buffer = Buffer.alloc(0);
      this.socket.pipe(upstream);
      if (tls) upstream.pipe(this.socket);
      else upstream.once('end', () => this.socket.end());
      upstream.on('error', () => this.socket.destroy());
      const recorded = this.hop.finish({ status: socksReply.succeeded });
      const relayStarted = performance.now();
      upstream.on('close', () => {
        // Bytes the client sent to the backend and received from it, and how long the relay lasted.
        recordRelay(recorded, {
          bytesToBackend: upstream.bytesWritten,
          bytesFromBackend: upstream.bytesRead,
          relayMs: Math.round(performance.now() - relayStarted),
        });
        this.socket.end();
      });
      this.socket.on('close', () => upstream.destroy());
    });
  }

  /**
   * Backend → client without a Buffer per read: the bytes arrive in a pooled buffer that goes back to the pool
   * once the client socket has taken them; reading pauses while the client does not keep up.
   */
  private relayFromBackend(upstream: Socket, bytes: number, buffer: Buffer): boolean {
    if (this.stage !== 'relay' || this.socket.destroyed) {
      giveRelayBuffer(buffer);
      return true;
    }
    if (this.socket.write(buffer.subarray(0, bytes), () => giveRelayBuffer(buffer))) return true;
    this.socket.once('drain', () => upstream.resume());
    return false;
  }

  /** Reply with a non-zero REP and close. */
  private refuse(rep: number, check: string, reason: string): number {
    this.socket.write(replyBytes(rep));
    return this.abort(check, reason, rep);
  }

  /** Close cleanly and journal why; returns -1 so the parse loop stops. */
  private abort(check: string, reason: string, status: number = socksReply.generalFailure): number {
    if (this.stage === 'closed') return -1;
    this.stage = 'closed';
    clearTimeout(this.timer);
    this.buffer = Buffer.alloc(0);
    this.hop.finish({ status, check, reason });
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    return -1;
  }

  private close(): void {
    clearTimeout(this.timer);
    if (this.stage !== 'relay') this.stage = 'closed';
  }
}

export function createSocks5Server(
  core: EmulatorCore,
  timeouts: Socks5Timeouts = defaultSocks5Timeouts,
): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    new Socks5Session(core, socket, timeouts);
  });
  server.on('error', () => undefined);
  return { server, sockets };
}
