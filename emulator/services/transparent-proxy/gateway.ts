/**
 * The Transparent Proxy, transport-free: one `fetch(Request) → Response` that does what SAP's proxy does for a
 * plain HTTP request of a Kyma app to `http://<cr>.<namespace>/path`:
 *
 *   route by Host to a Destination CR (routing.ts) → the tenant (dedicated: the provider; shared: X-Tenant-*) →
 *   the destination (the CR's, or a dynamic CR's headers) → the lookup with the instance's token through the
 *   services port (lookup.ts: the Destination Service's own find, with the user token and flow headers of
 *   request-headers.ts) → the target request: path and query appended to the destination's URL, `URL.headers.*`
 *   and `URL.queries.*` added, the auth tokens injected → Internet: sent as is; OnPremise: through the
 *   connectivity proxy's pipeline (services/connectivity-proxy: faults, the Cloud Connector's decision, its
 *   journal entry), with principal propagation → one journal entry of its own, linked to the others by the
 *   correlation id.
 *
 * The face sends the target request (`TransparentProxyFace.send`: sockets in Node) and issues principal
 * propagation certificates; refusals are TransparentProxyErrors with SAP's error headers (errors.ts).
 */
import { correlationIdOf } from '../../core/journal-chains.ts';
import { entryTiming, type JournalEntry } from '../../core/journal.ts';
import { redactTarget } from '../../core/redact.ts';
import { findTenant, type Binding, type Tenant } from '../../core/subaccount.ts';
import { isProxyOnlyHeader, openProxyHop, principalName, verifyPrincipalToken, type ProxyHop } from '../connectivity-proxy/index.ts';
import {
  authTokenFailed,
  noInstance,
  notAForwardProxy,
  notHttp,
  noUrl,
  onPremiseNotConfigured,
  principalRefused,
  proxyDenied,
  proxyFault,
  proxyUnreachable,
  targetTimeout,
  targetUnreachable,
  tenantHeaders,
  TransparentProxyError,
  tunnelRefused,
  unknownTenant,
  type ErrorOrigin,
} from './errors.ts';
import { lookUp, type FoundDestination } from './lookup.ts';
import { appBearer, destinationRefOf, lookupHeaders, targetHeaders, type DestinationRef } from './request-headers.ts';
import { routeOf, type Route } from './routing.ts';
import { dynamicDestinationName, tpHeaders } from './schema.ts';
import type { TransparentProxyContext } from './state.ts';

/** The request to the target, for the face to send. */
export interface OutboundRequest {
  url: URL;
  method: string;
  /** Exactly what goes on the wire (OnPremise: with the Host the Cloud Connector mapping says). */
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** Check the target's TLS certificate (Internet destinations without `TrustAll`). */
  verifyTls: boolean;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

/** A face's send gave up waiting: for the connection, or for the answer. */
export class TargetTimeoutError extends Error {
  readonly phase: 'connect' | 'read';
  constructor(phase: 'connect' | 'read') {
    super(`${phase} timeout`);
    this.name = 'TargetTimeoutError';
    this.phase = phase;
  }
}

/** Principal propagation's client certificates (a Cloud Connector mapping with principal type X509). */
export interface PrincipalCertificates {
  /** The header the backend gets the certificate in. */
  header: string;
  issue(subject: { name: string; email?: string; tenant: string }, validityMinutes: number, now: number): string;
}

/** What the face brings: sending the target request, and (Node) issuing principal propagation certificates. */
export interface TransparentProxyFace {
  send(request: OutboundRequest): Promise<Response>;
  principalCertificates?: PrincipalCertificates;
}

export interface RequestMeta {
  /** The request target as it arrived (`/path?q`, or an absolute URL a client sent as to a forward proxy). */
  requestTarget?: string;
  /** `performance.now()` when it arrived. */
  started?: number;
}

/** The journal entry of one request (or per-CR port connection) through the proxy. */
export interface TpEntry {
  service: 'transparent-proxy';
  method: string;
  path: string;
  started: number;
  host: string;
  requestId: string;
  correlationId: string;
  cr?: string;
  tenant?: string;
  destination?: string;
  proxyType?: string;
  /** `host:port` of the destination's URL. */
  target?: string;
  check?: string;
  origin?: ErrorOrigin;
  internalCode?: number;
  reason?: string;
}

const connectivityUserHeaders = ['sap-connectivity-authentication', 'sap-connectivity-technical-authentication'];
const noBody = new Set(['GET', 'HEAD']);

export class TransparentProxyGateway {
  private readonly ctx: TransparentProxyContext;
  private readonly face: TransparentProxyFace;

  constructor(ctx: TransparentProxyContext, face: TransparentProxyFace) {
    this.ctx = ctx;
    this.face = face;
  }

  /** One request of an app; every outcome is a Response (a refusal carries SAP's error headers) and one journal entry. */
  async fetch(request: Request, meta: RequestMeta = {}): Promise<Response> {
    const url = new URL(request.url);
    const requestId = request.headers.get(tpHeaders.requestId)?.trim() || crypto.randomUUID();
    const entry: TpEntry = {
      service: 'transparent-proxy',
      method: request.method,
      path: url.pathname + url.search,
      started: meta.started ?? performance.now(),
      host: url.host,
      requestId,
      correlationId: correlationIdOf((name) => request.headers.get(name)) ?? requestId,
    };
    try {
      if (meta.requestTarget !== undefined && !meta.requestTarget.startsWith('/')) throw notAForwardProxy(meta.requestTarget);
      const response = await this.serve(request, url, entry);
      this.record(entry, response.status);
      return response;
    } catch (err) {
      const error =
        err instanceof TransparentProxyError
          ? err
          : targetUnreachable(entry.target ?? url.host, `proxy failure: ${(err as Error).message}`);
      error.requestId = requestId;
      Object.assign(entry, {
        check: error.check,
        origin: error.origin,
        internalCode: error.internalCode,
        reason: error.reason ?? error.message,
      });
      this.record(entry, error.status);
      return error.toResponse();
    }
  }

  /** A CONNECT request (the face answers it on the raw socket): refused and journaled. */
  refuseTunnel(target: string): Response {
    const error = tunnelRefused(target);
    error.requestId = crypto.randomUUID();
    this.record(
      {
        service: 'transparent-proxy',
        method: 'CONNECT',
        path: target,
        started: performance.now(),
        host: target,
        requestId: error.requestId,
        correlationId: error.requestId,
        check: error.check,
        origin: error.origin,
        internalCode: error.internalCode,
        reason: error.reason,
      },
      error.status,
    );
    return error.toResponse();
  }

  private async serve(request: Request, url: URL, entry: TpEntry): Promise<Response> {
    const { ctx } = this;
    const route = routeOf(ctx.state.transparentProxy.resources, url.host);
    if (route instanceof TransparentProxyError) throw route;
    entry.cr = route.key;
    // A concrete CR names its destination before anything can fail: "the last call to X" finds early refusals too.
    if (route.cr.spec.destinationRef.name !== dynamicDestinationName) entry.destination = route.cr.spec.destinationRef.name;
    const tenant = this.tenantOf(route, request.headers);
    entry.tenant = tenant.subdomain;
    const ref = destinationRefOf(route.cr, request.headers);
    if (ref instanceof TransparentProxyError) throw ref;
    entry.destination = ref.name;
    const headersForLookup = lookupHeaders(request.headers, ref);
    if (headersForLookup instanceof TransparentProxyError) throw headersForLookup;

    const found = await lookUp(ctx, {
      tenant,
      binding: this.bindingOf(route),
      name: ref.name,
      ...(ref.level ? { level: ref.level } : {}),
      ...(ref.fragment ? { fragment: ref.fragment } : {}),
      ...(ref.chain ? { chain: ref.chain } : {}),
      headers: headersForLookup,
      correlationId: entry.correlationId,
      cr: route.key,
    });
    const cfg = found.destinationConfiguration;
    const type = cfg.Type ?? 'HTTP';
    if (type !== 'HTTP') throw notHttp(ref.name, type);
    const onPremise = cfg.ProxyType === 'OnPremise';
    entry.proxyType = onPremise ? 'OnPremise' : (cfg.ProxyType ?? 'Internet');

    const target = targetUrl(ref, cfg, url);
    entry.target = `${target.hostname}:${target.port || (target.protocol === 'https:' ? 443 : 80)}`;
    const headers = targetHeaders(request.headers);
    // The user the Cloud Connector gets (OnPremise): a token's propagation header, or the app's own user token.
    let principal = injectAuthTokens(found, ref, headers, onPremise);
    if (principal === undefined && onPremise && cfg.Authentication === 'PrincipalPropagation') {
      const bearer = appBearer(request.headers);
      if (bearer) principal = `Bearer ${bearer}`;
    }
    for (const [key, value] of Object.entries(cfg)) if (key.startsWith('URL.headers.')) headers.append(key.slice(12), value);
    const outbound: OutboundRequest = {
      url: target,
      method: request.method,
      headers,
      body: noBody.has(request.method) ? null : request.body,
      verifyTls: cfg.TrustAll?.toLowerCase() !== 'true',
      connectTimeoutMs: ctx.state.transparentProxy.config.timeouts.connectSeconds * 1000,
      readTimeoutMs: ctx.state.transparentProxy.config.timeouts.readSeconds * 1000,
    };
    if (!onPremise) return this.send(outbound, entry.target);
    if (!ctx.state.transparentProxy.config.connectivityProxy) throw onPremiseNotConfigured(ref.name);
    const locationId = request.headers.get(tpHeaders.locationId)?.trim() ?? cfg.CloudConnectorLocationId ?? '';
    return this.throughProxy(outbound, tenant, locationId, principal, entry);
  }

  /** The request's tenant: a per-tenant Service's, else the provider (dedicated), else the one the headers name (shared). */
  private tenantOf(route: Route, headers: Headers): Tenant {
    const state = this.ctx.state;
    const subdomains = state.tenants.map((t) => t.subdomain);
    if (route.tenant) {
      const tenant = findTenant(state, { subdomain: route.tenant });
      if (!tenant) throw unknownTenant('the Service name', route.tenant, subdomains);
      return tenant;
    }
    // Dedicated: every request is the provider's. (The Java SDK always sends X-Tenant-Id; it is not a mistake here.)
    if (state.transparentProxy.config.tenantMode === 'dedicated') return state.provider;
    const subdomain = headers.get(tpHeaders.tenantSubdomain)?.trim();
    const id = headers.get(tpHeaders.tenantId)?.trim();
    if (subdomain && id) throw tenantHeaders(true);
    if (!subdomain && !id) throw tenantHeaders(false);
    const tenant = subdomain
      ? findTenant(state, { subdomain })
      : (findTenant(state, { zid: id }) ?? state.tenants.find((t) => t.subaccountId === id));
    if (!tenant) throw unknownTenant(subdomain ? 'X-Tenant-Subdomain' : 'X-Tenant-Id', (subdomain ?? id)!, subdomains);
    return tenant;
  }

  /** The destination binding the CR's lookups use: its own, the proxy's default, else the first one. */
  private bindingOf(route: Route): Binding {
    const binding = crBinding(this.ctx.state, route.cr);
    if (!binding)
      throw noInstance(
        route.key,
        route.cr.spec.destinationServiceInstanceName ?? this.ctx.state.transparentProxy.config.destinationServiceInstanceName,
      );
    return binding;
  }

  /** Send to the target; a failure to connect or to answer in time is the proxy's 502 or 504. */
  private async send(outbound: OutboundRequest, target: string): Promise<Response> {
    try {
      return await this.face.send(outbound);
    } catch (err) {
      if (err instanceof TargetTimeoutError)
        throw targetTimeout(target, (err.phase === 'connect' ? outbound.connectTimeoutMs : outbound.readTimeoutMs) / 1000, err.phase);
      throw targetUnreachable(target, errorText(err));
    }
  }

  /**
   * An OnPremise destination: one hop of the connectivity proxy's pipeline (faults, the Cloud Connector's
   * decision, the proxy's own journal entry), standing for the tenant's connectivity binding (the proxy trusts
   * the Transparent Proxy, as on Kyma); then the internal host the mapping grants, with the principal's certificate.
   */
  private async throughProxy(
    outbound: OutboundRequest,
    tenant: Tenant,
    locationId: string,
    principal: string | undefined,
    entry: TpEntry,
  ): Promise<Response> {
    const virtual = outbound.url;
    const hop = openProxyHop(this.ctx, {
      transport: 'transparent-proxy',
      method: outbound.method,
      target: virtual.href,
      started: performance.now(),
      correlationId: entry.correlationId,
    });
    const decision = await hop.pass({
      credential: { binding: tenant },
      locationId,
      to: {
        virtualHost: virtual.hostname,
        virtualPort: Number(virtual.port || (virtual.protocol === 'https:' ? 443 : 80)),
        path: virtual.pathname,
        protocol: 'HTTP',
      },
    });
    if (decision.kind === 'drop') {
      hop.finish({ status: 0, check: decision.check, reason: decision.reason });
      throw proxyUnreachable(decision.reason);
    }
    if (decision.kind === 'fault') {
      hop.finish({ status: decision.response.status, check: decision.check, reason: decision.reason });
      throw proxyFault(decision.response.status, decision.response.body, decision.response.headers, decision.reason);
    }
    if (decision.kind === 'denied') {
      hop.finish({ status: decision.status, check: decision.check, reason: decision.reason });
      throw proxyDenied(decision);
    }
    const grant = decision.access;
    const headers = new Headers();
    outbound.headers.forEach((value, name) => {
      if (!isProxyOnlyHeader(name)) headers.append(name, value);
    });
    if (grant.system.hostInHeader === 'internal') {
      headers.set('host', `${grant.internalHost}:${grant.internalPort}`);
      headers.set('x-forwarded-host', virtual.host);
    } else {
      headers.set('host', virtual.host);
    }
    if (!headers.has('x-correlation-id')) headers.set('x-correlation-id', entry.correlationId);
    if (grant.system.principalType === 'X509') {
      const certificate = await this.principalCertificate(principal, tenant, grant.connector.certificateValidityMinutes, hop);
      if (typeof certificate !== 'string') {
        hop.finish({ status: 401, check: 'principal', reason: certificate.reason });
        throw principalRefused(certificate.reason);
      }
      if (this.face.principalCertificates) headers.set(this.face.principalCertificates.header, certificate);
    }
    const internal = new URL(virtual);
    internal.protocol = grant.protocol === 'HTTPS' ? 'https:' : 'http:';
    internal.hostname = grant.internalHost;
    internal.port = String(grant.internalPort);
    internal.pathname = grant.path ?? virtual.pathname;
    try {
      const response = await this.send(
        { ...outbound, url: internal, headers, verifyTls: false },
        `${grant.internalHost}:${grant.internalPort}`,
      );
      hop.finish({ status: response.status });
      return response;
    } catch (err) {
      const error = err as TransparentProxyError;
      hop.finish({ status: error.status, check: error.check === 'timeout' ? 'timeout' : 'backend', reason: error.reason ?? error.message });
      throw err;
    }
  }

  /** The principal's certificate ('' when no user is propagated, as the proxy sends it), or why the user token is refused. */
  private async principalCertificate(
    principal: string | undefined,
    tenant: Tenant,
    validityMinutes: number,
    hop: ProxyHop,
  ): Promise<string | { reason: string }> {
    if (!principal) return '';
    const jwt = /^bearer\s+(.+)$/i.exec(principal.trim())?.[1];
    if (!jwt) return { reason: 'principal propagation: the user is not sent as `Bearer <token>`' };
    const verified = await verifyPrincipalToken(this.ctx, jwt);
    if (!verified.ok) return { reason: `principal propagation: ${verified.reason}` };
    const name = principalName(verified.claims);
    hop.propagated(name);
    const email = typeof verified.claims.email === 'string' ? verified.claims.email : undefined;
    return this.face.principalCertificates?.issue({ name, email, tenant: tenant.subdomain }, validityMinutes, this.ctx.clock.now()) ?? '';
  }

  private record(entry: TpEntry, status: number): JournalEntry {
    return recordTpEntry(this.ctx, entry, status);
  }
}

/** The destination binding a CR's lookups use: its own, the proxy's default, else the first one. */
export function crBinding(state: TransparentProxyContext['state'], cr: Route['cr']): Binding | undefined {
  const name = cr.spec.destinationServiceInstanceName ?? state.transparentProxy.config.destinationServiceInstanceName;
  return state.bindings.find((b) => b.service === 'destination' && (name === undefined || b.name === name));
}

/** One journal entry of the proxy (`started` becomes its timing; the path is redacted). */
export function recordTpEntry<E extends TpEntry>(
  ctx: Pick<TransparentProxyContext, 'clock' | 'journal'>,
  entry: E,
  status: number,
): JournalEntry {
  const clean: Record<string, unknown> = {};
  for (const key in entry) {
    const value = entry[key];
    if (value !== undefined && key !== 'started') clean[key] = value;
  }
  clean.path = redactTarget(entry.path);
  clean.status = status;
  Object.assign(clean, entryTiming(ctx.clock.now(), entry.started));
  return ctx.journal.record(clean as Omit<JournalEntry, 'id'>);
}

/** The destination's URL with the request's path and query appended, and `URL.queries.*` added. */
function targetUrl(ref: DestinationRef, cfg: Record<string, string>, request: URL): URL {
  if (!cfg.URL) throw noUrl(ref.name, 'it has no URL property');
  let url: URL;
  try {
    url = new URL(cfg.URL);
  } catch {
    throw noUrl(ref.name, `URL "${cfg.URL}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw noUrl(ref.name, `URL "${cfg.URL}" is not http(s)`);
  // `/` alone keeps the destination's path as it is; any other path is appended to it.
  if (request.pathname !== '/') url.pathname = `${url.pathname.replace(/\/$/, '')}${request.pathname}`;
  const query = new URLSearchParams(url.search);
  new URLSearchParams(request.search).forEach((value, key) => query.append(key, value));
  for (const [key, value] of Object.entries(cfg)) if (key.startsWith('URL.queries.')) query.append(key.slice(12), value);
  const search = query.toString();
  url.search = search ? `?${search}` : '';
  return url;
}

/**
 * The lookup's auth tokens onto the target request; a token that failed is the proxy's 502. Returns the user
 * a token propagates to the Cloud Connector (`SAP-Connectivity-Authentication` / `-Technical-Authentication`),
 * which is the proxy hop's, never the backend's.
 */
function injectAuthTokens(found: FoundDestination, ref: DestinationRef, headers: Headers, onPremise: boolean): string | undefined {
  let user: string | undefined;
  for (const token of found.authTokens ?? []) {
    if (token.error) throw authTokenFailed(ref.name, token.error);
    const key = token.http_header?.key;
    if (!key) continue;
    if (connectivityUserHeaders.includes(key.toLowerCase())) {
      if (onPremise) user = token.http_header!.value;
      continue;
    }
    headers.set(key, token.http_header!.value);
  }
  return user;
}

function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
