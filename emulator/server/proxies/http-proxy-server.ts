/**
 * The connectivity proxy's HTTP port (20003): absolute-form `http://<virtual host>:<port>/…` requests only.
 * Check order: `CONNECT` / `https://` → 405 (before auth), origin-form → 400, `Proxy-Authorization` → 407 (in
 * the Kubernetes trusted mode instead: the configured subaccount, or `SAP-CP-Connectivity-Service-Token` → 400 /
 * 401), a user in two headers → 400, connector for tenant + location → 503, system mapping and resource → 403, principal → 401; then the request
 * goes to the internal host with `Proxy-*` and `SAP-Connectivity-*` removed; unreachable → 502, no answer in
 * time → 504. Every request lands in the journal. Never an open proxy: only mapped virtual hosts are reachable.
 */
import { bearerToken } from '../../core/auth-header.ts';
import {
  Agent as HttpAgent,
  createServer,
  type ClientRequestArgs,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { randomUUID } from 'node:crypto';
import { connect as netConnect, type NetConnectOpts, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AccessGranted } from '../../services/cloud-connector/access.ts';
import { correlationIdOf } from '../../core/journal-chains.ts';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { principalCertificateHeader, type PrincipalCertificateIssuer } from './principal-certificate.ts';
import {
  hopByHopHeaders,
  isProxyOnlyHeader,
  openProxyHop,
  principalName,
  verifyPrincipalToken,
  tokenFromProxyAuthorization,
  type ProxyHop,
  type ProxyOutcome,
} from '../../services/connectivity-proxy/index.ts';
import { encodeReason, reasonHeader } from '../../core/reason-header.ts';
import { httpTimeoutOptions, type ConnectionTimeouts } from '../timeouts.ts';

export const locationHeader = 'sap-connectivity-scc-location_id';
const userHeader = 'sap-connectivity-authentication';
const technicalUserHeader = 'sap-connectivity-technical-authentication';
/** Trusted shared mode (Kubernetes): the tenant's connectivity token, a bare JWT (`Bearer ` in front is accepted too). */
const serviceTokenHeader = 'sap-cp-connectivity-service-token';

function serviceTokenOf(header: string | string[] | undefined): string | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value ? (bearerToken(value) ?? value) : undefined;
}

export interface HttpProxyOptions {
  core: EmulatorCore;
  certificates: PrincipalCertificateIssuer;
  /** How long the proxy waits for the backend's response headers before answering 504. */
  backendTimeoutMs: number;
  /** Header, request and keep-alive timeouts (server/timeouts.ts). */
  timeouts: Required<ConnectionTimeouts>;
}

/** Headers the backend receives: no proxy, connectivity or hop-by-hop headers; Host as the mapping says. */
export function backendRequestHeaders(raw: string[], grant: AccessGranted, clientHost: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (isProxyOnlyHeader(name.toLowerCase())) continue;
    const existing = headers[name];
    headers[name] = existing === undefined ? raw[i + 1] : [...(Array.isArray(existing) ? existing : [String(existing)]), raw[i + 1]];
  }
  if (grant.system.hostInHeader === 'internal') {
    headers.Host = `${grant.internalHost}:${grant.internalPort}`;
    headers['X-Forwarded-Host'] = clientHost;
  } else {
    headers.Host = clientHost;
  }
  return headers;
}

function sendError(res: ServerResponse, status: number, body: string, reason: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    [reasonHeader]: encodeReason(reason),
    ...extra,
  });
  res.end(body);
}

/** Bytes per read on a backend connection (what libuv would allocate afresh for every read). */
const backendReadSize = 64 * 1024;

/**
 * The keep-alive agent of the plain-HTTP backend leg, with one read buffer per connection that every read
 * reuses. Node's socket would otherwise allocate a fresh 64 KiB Buffer per read; that memory lives outside the
 * JS heap, and each ~32 MB of it makes V8 run a full mark-compact over the emulator's whole heap (the "GC tax" of
 * a bulk download through 20003). Node's HTTP client parser copies whatever it keeps (header strings, body
 * chunks) before it returns, so the buffer is free again as soon as the parser has seen it.
 */
class ReusedReadBufferAgent extends HttpAgent {
  override createConnection(options: ClientRequestArgs): Duplex {
    const buffer = Buffer.allocUnsafe(backendReadSize);
    const socket: Socket = netConnect({
      ...(options as NetConnectOpts),
      onread: {
        buffer,
        callback: (bytes: number): boolean => {
          socket.emit('data', buffer.subarray(0, bytes));
          return true;
        },
      },
    });
    return socket;
  }
}

export class HttpConnectivityProxy {
  readonly server: Server;
  private readonly options: HttpProxyOptions;
  private readonly httpAgent = new ReusedReadBufferAgent({ keepAlive: true, maxSockets: Infinity });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: Infinity, rejectUnauthorized: false });

  constructor(options: HttpProxyOptions) {
    this.options = options;
    this.server = createServer({ ...httpTimeoutOptions(options.timeouts), maxHeaderSize: 16_384 }, (req, res) => {
      this.handle(req, res).catch((err: Error) => sendError(res, 502, 'Bad Gateway', `proxy failure: ${err.message}`));
    });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex) => this.refuseConnect(req, socket));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return socket.destroy();
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  close(): void {
    this.server.closeAllConnections();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** HTTPS through the proxy (a CONNECT tunnel) is not offered: 405, before any authentication. */
  private refuseConnect(req: IncomingMessage, socket: Duplex): void {
    const started = performance.now();
    socket.on('error', () => socket.destroy());
    const reason = `CONNECT ${req.url ?? ''}: call the virtual host with http://, the Cloud Connector mapping decides about HTTPS to the backend`;
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 18\r\nConnection: close\r\nX-Emulator-Reason: ${encodeReason(reason)}\r\n\r\nMethod Not Allowed`,
    );
    const hop = openProxyHop(this.options.core, { transport: 'http-proxy', method: 'CONNECT', target: req.url ?? '', started });
    hop.finish({ status: 405, check: 'method', reason });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const target = req.url ?? '';
    // One id per call for the backend's logs, the journal and the client's answer: the client's, or a new one.
    const sentCorrelationId = correlationIdOf((name) => req.headers[name]);
    const correlationId = sentCorrelationId ?? randomUUID();
    const core = this.options.core;
    const hop = openProxyHop(core, { transport: 'http-proxy', method: req.method ?? 'GET', target, started, correlationId });
    const fail = (status: number, body: string, check: string, reason: string, extra?: Record<string, string>): void => {
      req.resume();
      sendError(res, status, body, reason, { 'x-correlation-id': correlationId, ...extra });
      hop.finish({ status, check, reason });
    };

    if (/^https:\/\//i.test(target))
      return fail(
        405,
        'Method Not Allowed',
        'method',
        `${target}: call the virtual host with http://, the Cloud Connector mapping decides about HTTPS to the backend`,
      );
    const absolute = /^http:\/\/([^/?#]+)([^#]*)/i.exec(target);
    let url: URL | undefined;
    try {
      url = absolute ? new URL(`http://${absolute[1]}/`) : undefined;
    } catch {
      url = undefined;
    }
    if (!absolute || !url)
      return fail(
        400,
        'Bad Request',
        'target',
        `request target \`${target}\` is not an absolute http:// URL (use the proxy as an HTTP proxy)`,
      );
    const pathAndQuery = absolute[2].startsWith('/') ? absolute[2] : `/${absolute[2]}`;
    const path = pathAndQuery.split('?')[0] || '/';

    const decision = await hop.pass({
      credential: {
        token: tokenFromProxyAuthorization(req.headers['proxy-authorization']),
        serviceToken: serviceTokenOf(req.headers[serviceTokenHeader]),
        userHeader: req.headers[userHeader] !== undefined,
      },
      locationId: String(req.headers[locationHeader] ?? '').trim(),
      to: { virtualHost: url.hostname, virtualPort: Number(url.port || 80), path, protocol: 'HTTP' },
    });
    if (decision.kind === 'drop') {
      req.socket.destroy();
      return void hop.finish({ status: 0, check: decision.check, reason: decision.reason });
    }
    if (decision.kind === 'fault')
      return fail(decision.response.status, decision.response.body, decision.check, decision.reason, decision.response.headers);
    if (decision.kind === 'denied')
      return fail(
        decision.status,
        decision.body,
        decision.check,
        decision.reason,
        decision.check === 'auth' ? { 'proxy-authenticate': 'Bearer' } : undefined,
      );
    const grant = decision.access;

    // The absolute-form target's authority wins over a Host header (RFC 9112 §3.2.2).
    const headers = backendRequestHeaders(req.rawHeaders, grant, absolute[1]);
    if (!sentCorrelationId) headers['x-correlation-id'] = correlationId;
    if (grant.system.principalType === 'X509') {
      const principal = await this.principalCertificate(req, decision.tenant.subdomain, grant);
      if (!principal.ok) return fail(401, 'Unauthorized', 'principal', principal.reason);
      headers[principalCertificateHeader] = principal.certificate;
      hop.propagated(principal.name);
    }
    // The backend gets the path the resources were checked against (dot segments removed), never the raw one.
    const query = pathAndQuery.slice(path.length);
    this.forward(req, res, grant, `${grant.path ?? path}${query}`, headers, hop, correlationId);
  }

  /** The user (or technical user) to propagate, as a client certificate; none sent = an empty header. */
  private async principalCertificate(
    req: IncomingMessage,
    tenant: string,
    grant: AccessGranted,
  ): Promise<{ ok: true; certificate: string; name?: string } | { ok: false; reason: string }> {
    const header = req.headers[userHeader] ?? req.headers[technicalUserHeader];
    const raw = Array.isArray(header) ? header[0] : header;
    if (!raw) return { ok: true, certificate: '' };
    const jwt = bearerToken(raw);
    if (!jwt) return { ok: false, reason: 'principal propagation: the SAP-Connectivity-Authentication header is not `Bearer <token>`' };
    const verified = await verifyPrincipalToken(this.options.core, jwt);
    if (!verified.ok) return { ok: false, reason: `principal propagation: ${verified.reason}` };
    const name = principalName(verified.claims);
    const email = typeof verified.claims.email === 'string' ? verified.claims.email : undefined;
    const certificate = this.options.certificates.issue(
      { name, email, tenant },
      grant.connector.certificateValidityMinutes,
      this.options.core.clock.now(),
    );
    return { ok: true, certificate, name };
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    grant: AccessGranted,
    path: string,
    headers: OutgoingHttpHeaders,
    hop: ProxyHop,
    correlationId: string,
  ): void {
    const https = grant.protocol === 'HTTPS';
    const send = https ? httpsRequest : httpRequest;
    const upstream = send({
      host: grant.internalHost,
      port: grant.internalPort,
      method: req.method,
      path,
      headers,
      agent: https ? this.httpsAgent : this.httpAgent,
    });
    const fail = (status: number, body: string, outcome: Required<ProxyOutcome>): void => {
      sendError(res, status, body, outcome.reason, { 'x-correlation-id': correlationId });
      hop.finish(outcome);
    };
    let answered = false;
    const timer = setTimeout(() => {
      if (answered) return;
      answered = true;
      upstream.destroy();
      const reason = `the backend ${hop.internalTarget} did not answer within ${this.options.backendTimeoutMs} ms`;
      fail(504, 'Gateway Timeout', { status: 504, check: 'timeout', reason });
    }, this.options.backendTimeoutMs);
    upstream.on('response', (backendRes) => {
      clearTimeout(timer);
      if (answered) return backendRes.resume();
      answered = true;
      const answerHeaders = this.responseHeaders(backendRes.rawHeaders, grant);
      if (backendRes.headers['x-correlation-id'] === undefined) answerHeaders.push('x-correlation-id', correlationId);
      res.writeHead(backendRes.statusCode ?? 502, backendRes.statusMessage, answerHeaders);
      backendRes.pipe(res);
      backendRes.on('error', () => res.destroy());
      res.on('close', () => {
        if (!backendRes.complete) backendRes.destroy();
      });
      hop.finish({ status: backendRes.statusCode ?? 502 });
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (answered) return res.destroy();
      answered = true;
      req.resume();
      const reason = `the backend ${hop.internalTarget} is not reachable: ${err.code ?? err.message}`;
      fail(502, 'Bad Gateway', { status: 502, check: 'backend', reason });
    });
    // A request without a body (most GETs) needs no pipe: end the backend request at once.
    if (
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
    )
      req.pipe(upstream);
    else {
      upstream.end();
      req.resume();
    }
    req.on('error', () => upstream.destroy());
    res.on('close', () => {
      if (!answered) {
        answered = true;
        clearTimeout(timer);
        upstream.destroy();
      }
    });
  }

  /** Hop-by-hop headers dropped; a redirect to the internal host is rewritten back to the virtual host. */
  private responseHeaders(raw: string[], grant: AccessGranted): string[] {
    const out: string[] = [];
    const internal = `${grant.internalHost}:${grant.internalPort}`.toLowerCase();
    for (let i = 0; i < raw.length; i += 2) {
      const lower = raw[i].toLowerCase();
      if (hopByHopHeaders.has(lower)) continue;
      let value = raw[i + 1];
      if (lower === 'location') {
        const match = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(value);
        if (match && match[2].toLowerCase() === internal)
          value = `http://${grant.system.virtualHost}:${grant.system.virtualPort}${match[3]}`;
      }
      out.push(raw[i], value);
    }
    return out;
  }
}
