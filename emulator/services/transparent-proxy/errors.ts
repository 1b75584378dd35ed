/**
 * The errors the Transparent Proxy answers itself, with the headers SAP documents for them: `x-error-message`,
 * `x-error-origin` (which component failed), the internal error code under both names in use
 * (`x-internal-error-code` in SAP's documentation, `x-error-internal-code` as the Java SDK reads it), `x-request-id`
 * and `x-proxy-server: Transparent Proxy`. The body is the message as plain text. Statuses and messages follow
 * docs/transparent-proxy.md (the reference's where it gives one, the emulator's decision where it does not).
 */
import { HttpError } from '../../core/http-error.ts';
import { encodeReason, reasonHeader } from '../../core/reason-header.ts';
import type { ProxyDenial } from '../connectivity-proxy/index.ts';

export type ErrorOrigin = 'Transparent Proxy' | 'XSUAA' | 'Destination Service' | 'Connectivity Proxy';

export const proxyServerName = 'Transparent Proxy';

/** The journal's name for the step that refused a request. */
export type TpCheck =
  | 'target'
  | 'route'
  | 'tenant'
  | 'headers'
  | 'service-token'
  | 'lookup'
  | 'token'
  | 'destination'
  | 'proxy'
  | 'principal'
  | 'backend'
  | 'timeout';

interface ErrorDetails {
  origin: ErrorOrigin;
  internalCode: number;
  check: TpCheck;
  /** Why, in more words than the wire message (the journal, `X-Emulator-Reason`). */
  reason?: string;
  /** Headers the component that failed sent along (a fault's Retry-After). */
  headers?: Record<string, string>;
}

/** Header values are visible ASCII: anything else is percent-encoded. */
const headerText = (text: string): string => text.replace(/[^\x20-\x7e]+/g, (s) => encodeURIComponent(s));

export class TransparentProxyError extends HttpError {
  readonly status: number;
  readonly origin: ErrorOrigin;
  readonly internalCode: number;
  readonly check: TpCheck;
  readonly extraHeaders: Record<string, string>;
  /** The request's id, set by the gateway before it answers. */
  requestId = '';

  constructor(status: number, message: string, details: ErrorDetails) {
    super(message, details.reason);
    this.name = 'TransparentProxyError';
    this.status = status;
    this.origin = details.origin;
    this.internalCode = details.internalCode;
    this.check = details.check;
    this.extraHeaders = details.headers ?? {};
  }

  toResponse(): Response {
    const code = String(this.internalCode);
    return new Response(`${this.message}\n`, {
      status: this.status,
      headers: {
        ...this.extraHeaders,
        'content-type': 'text/plain; charset=utf-8',
        'x-error-message': headerText(this.message),
        'x-error-origin': this.origin,
        'x-internal-error-code': code,
        'x-error-internal-code': code,
        'x-request-id': this.requestId,
        'x-proxy-server': proxyServerName,
        ...(this.reason ? { [reasonHeader]: encodeReason(this.reason) } : {}),
      },
    });
  }
}

const tp = (status: number, message: string, check: TpCheck, reason?: string): TransparentProxyError =>
  new TransparentProxyError(status, message, { origin: 'Transparent Proxy', internalCode: status, check, reason });

// ── the request itself ───────────────────────────────────────────────────────────────────────────────────

export const notAForwardProxy = (target: string): TransparentProxyError =>
  tp(
    400,
    'The Transparent Proxy is not a forward proxy: send origin-form requests (GET /path) to the Service of a Destination CR',
    'target',
    `request target \`${target}\` is in absolute form; the Transparent Proxy reaches only destinations of its CRs`,
  );

export const tunnelRefused = (target: string): TransparentProxyError =>
  tp(405, 'CONNECT is not supported by the Transparent Proxy', 'target', `CONNECT ${target}: the Transparent Proxy is not a forward proxy`);

export const noRoute = (host: string, known: string[]): TransparentProxyError =>
  tp(
    404,
    `No Destination CR serves the host '${host}'`,
    'route',
    known.length
      ? `send Host: <cr>.<namespace> (or <cr>.<namespace>.svc.cluster.local); the CRs serve ${known.join(', ')}`
      : 'the emulator has no Destination CR: add one to the scenario (destinationCustomResources), with --destination-crs or PUT /_emulator/transparent-proxy/destination-crs',
  );

export const ambiguousRoute = (host: string, candidates: string[]): TransparentProxyError =>
  tp(404, `The host '${host}' names Destination CRs in several namespaces`, 'route', `use one of ${candidates.join(', ')}`);

// ── tenants ──────────────────────────────────────────────────────────────────────────────────────────────

export const tenantHeaders = (both: boolean): TransparentProxyError =>
  tp(
    400,
    both
      ? 'Only one of the headers X-Tenant-Subdomain and X-Tenant-Id may be sent'
      : 'The Transparent Proxy runs in shared tenant mode: send the header X-Tenant-Subdomain or X-Tenant-Id',
    'tenant',
  );

export const unknownTenant = (header: string, value: string, known: string[]): TransparentProxyError =>
  new TransparentProxyError(500, `Tenant '${value}' (${header}) is not known`, {
    origin: 'XSUAA',
    internalCode: 404,
    check: 'tenant',
    reason: `${header} \`${value}\` is neither a subdomain nor a zid of the scenario's tenants (${known.join(', ')})`,
  });

// ── the lookup headers ───────────────────────────────────────────────────────────────────────────────────

export const boundToConcrete = (cr: string, destination: string, sent: string[]): TransparentProxyError =>
  tp(
    400,
    `The header(s) ${sent.join(', ')} cannot be used: this endpoint is bound to a concrete destination ('${destination}' of Destination CR '${cr}')`,
    'headers',
  );

export const badHeader = (message: string): TransparentProxyError => tp(400, message, 'headers');

// ── the Destination Service and XSUAA ────────────────────────────────────────────────────────────────────

export const noInstance = (cr: string, instance: string | undefined): TransparentProxyError =>
  tp(500, `Destination CR '${cr}': no destination service instance${instance ? ` named '${instance}'` : ''} is bound`, 'service-token');

export const serviceTokenRefused = (status: number, body: string): TransparentProxyError =>
  new TransparentProxyError(500, 'Failed to get a token for the destination service instance', {
    origin: 'XSUAA',
    internalCode: status,
    check: 'service-token',
    reason: `XSUAA answered ${status}: ${body.slice(0, 300)}`,
  });

export const destinationNotFound = (name: string, cr: string, subdomain: string, reason?: string): TransparentProxyError =>
  new TransparentProxyError(502, `Destination '${name}' referred in Destination CR '${cr}' is not found in tenant '${subdomain}'`, {
    origin: 'Destination Service',
    internalCode: 404,
    check: 'lookup',
    reason,
  });

/** Any other refusal of the lookup: the caller's mistake stays a 400, the rest is the gateway's 502. */
export const lookupRefused = (status: number, message: string, headers?: Record<string, string>): TransparentProxyError =>
  new TransparentProxyError(status === 400 ? 400 : 502, `The Destination Service refused the lookup: ${message}`, {
    origin: 'Destination Service',
    internalCode: status,
    check: 'lookup',
    headers,
  });

export const authTokenFailed = (name: string, error: string): TransparentProxyError =>
  new TransparentProxyError(502, `The auth token of destination '${name}' could not be retrieved: ${error}`, {
    origin: 'Destination Service',
    internalCode: 500,
    check: 'token',
  });

export const notHttp = (name: string, type: string): TransparentProxyError =>
  tp(400, `Destination '${name}' is of type ${type}; the Transparent Proxy's HTTP endpoint serves HTTP destinations only`, 'destination');

export const noUrl = (name: string, why: string): TransparentProxyError =>
  tp(502, `Destination '${name}' has no usable URL: ${why}`, 'destination');

// ── on the way to the target ─────────────────────────────────────────────────────────────────────────────

export const onPremiseNotConfigured = (name: string): TransparentProxyError =>
  tp(
    502,
    `On-Premise technical connectivity is not configured: destination '${name}' is OnPremise and the Transparent Proxy has no connectivity proxy`,
    'proxy',
    'the scenario sets transparentProxy.connectivityProxy: false',
  );

export const proxyUnreachable = (reason: string): TransparentProxyError =>
  new TransparentProxyError(502, 'Failed to establish connection to the Connectivity Proxy', {
    origin: 'Connectivity Proxy',
    internalCode: 502,
    check: 'proxy',
    reason,
  });

export const proxyDenied = (denial: ProxyDenial): TransparentProxyError =>
  new TransparentProxyError(denial.status, `The Connectivity Proxy refused the request: ${denial.body}`, {
    origin: 'Connectivity Proxy',
    internalCode: denial.status,
    check: 'proxy',
    reason: denial.reason,
  });

export const proxyFault = (status: number, body: string, headers: Record<string, string>, reason: string): TransparentProxyError =>
  new TransparentProxyError(status, `The Connectivity Proxy answered ${status}: ${body}`, {
    origin: 'Connectivity Proxy',
    internalCode: status,
    check: 'proxy',
    reason,
    headers,
  });

export const principalRefused = (reason: string): TransparentProxyError =>
  new TransparentProxyError(401, 'Principal propagation failed: the user token is not valid', {
    origin: 'Connectivity Proxy',
    internalCode: 401,
    check: 'principal',
    reason,
  });

export const targetUnreachable = (target: string, why: string): TransparentProxyError =>
  tp(502, `Failed to reach the target of the destination (${target})`, 'backend', `${target}: ${why}`);

export const targetTimeout = (target: string, seconds: number, phase: 'connect' | 'read'): TransparentProxyError =>
  tp(
    504,
    `The target of the destination (${target}) did not ${phase === 'connect' ? 'accept the connection' : 'answer'} within ${seconds} s`,
    'timeout',
  );

// ── the per-CR ports (TCP and mail CRs) ──────────────────────────────────────────────────────────────────

/** A connection arrived on a CR's port after the CR was removed (its listener is closing). */
export const crRemoved = (cr: string): TransparentProxyError =>
  tp(404, `Destination CR '${cr}' does not exist any more`, 'route', 'the CR was removed or replaced; its port closes');

/** A TCP or mail destination without a usable address (`Address: tcp://host:port`, `mail.smtp.host`/`port`). */
export const noAddress = (name: string, why: string): TransparentProxyError =>
  tp(502, `Destination '${name}' has no usable address: ${why}`, 'destination');

/** A CR's port serves one kind of destination (its listener follows the type; this connection came first). */
export const wrongPortType = (name: string, type: string, cr: string, serves: string): TransparentProxyError =>
  tp(400, `Destination '${name}' is of type ${type}; this port of Destination CR '${cr}' serves ${serves} destinations`, 'destination');

/** The destination's mail server refused (its reply), or the SMTP exchange with it broke off. */
export const mailRefused = (target: string, reply: string): TransparentProxyError =>
  tp(502, `The mail server of the destination (${target}) refused the mail: ${reply}`, 'backend');
