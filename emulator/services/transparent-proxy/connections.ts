/**
 * The Transparent Proxy's per-CR ports, transport-free. A CR whose destination is `Type: TCP` gets a raw TCP
 * tunnel, one whose destination is `Type: MAIL` (SMTP) an SMTP endpoint; each on a port of its own, as the real
 * proxy gives each of them a Service. An HTTP CR (dynamic, or its destination of any other type) is served on the
 * HTTP port, told apart by `Host`, and also on a port of its own that serves only it (for clients that cannot set
 * `Host`: the face hands its requests to the same gateway, with the Service's name as `Host`).
 *
 * - {@link crPortsOf}: which ports there should be, from the CRs and the Type of the destination each names (read
 *   from the Destination Service's state, as the real proxy's controller looks it up when it reconciles the CR).
 *   A per-tenant Service of the tenant-subdomains annotation (`<cr>-<tenant>`) is a port of its own: that is
 *   SAP's multitenancy for non-HTTP destinations, which cannot carry `X-Tenant-*`.
 * - {@link openCrConnection}: one connection to such a port: the lookup (the same one HTTP requests make), the
 *   destination's type, then OnPremise one hop of the connectivity proxy's pipeline as a SOCKS5 tunnel (the real
 *   proxy does SAP's 0x80 handshake on the connectivity proxy's SOCKS5 port: the location ID only from the
 *   destination), or Internet the destination's own address. The face (Node sockets) connects where it says and
 *   relays, or speaks SMTP, and reports back how it went; the journal gets the proxy's entry and the hop's.
 */
import { findTenant, type Binding, type Tenant } from '../../core/subaccount.ts';
import type { JournalEntry } from '../../core/journal.ts';
import type { DestinationProps } from '../destination/schema.ts';
import { levelKey, type DestinationState } from '../destination/state.ts';
import { openProxyHop, type ProxyHop, type RelayCounts } from '../connectivity-proxy/index.ts';
import {
  authTokenFailed,
  crRemoved,
  noAddress,
  noInstance,
  onPremiseNotConfigured,
  proxyDenied,
  proxyUnreachable,
  targetTimeout,
  targetUnreachable,
  TransparentProxyError,
  unknownTenant,
  wrongPortType,
} from './errors.ts';
import { crBinding, recordTpEntry, type TpEntry } from './gateway.ts';
import { lookUp, type FoundDestination } from './lookup.ts';
import { crServices, dynamicDestinationName, type DestinationCustomResource, type DestinationLevel } from './schema.ts';
import type { TransparentProxyContext, TransparentProxyView } from './state.ts';

/** The protocols of a connection to a per-CR port (an HTTP CR's port goes to the gateway, not here). */
export type CrPortProtocol = 'TCP' | 'SMTP';

/** A port the proxy opens for a Service of a CR: TCP, mail, or HTTP (the gateway's requests for that CR alone). */
export interface CrPort {
  /** `<service>.<namespace>`: the Service the real proxy creates (`<cr>`, or `<cr>-<tenant>`). */
  service: string;
  /** `<namespace>/<name>` of the CR. */
  cr: string;
  /** The tenant of a per-tenant Service; else the provider. */
  tenant?: string;
  protocol: CrPortProtocol | 'HTTP';
  /** The CR's `spec.service.port`: the Service's port in a cluster, the local port when it is free and above 1024. */
  servicePort: number;
}

/** What choosing the ports reads: the CRs, the tenants and bindings, and the Destination Service's stores. */
export type CrPortsView = TransparentProxyView & Pick<DestinationState, 'levels'>;

/** The destination a CR names, as stored (the find API's order: instance level, then subaccount level). */
function storedDestination(
  state: CrPortsView,
  tenant: Tenant,
  binding: Binding,
  name: string,
  level: DestinationLevel | undefined,
): DestinationProps | undefined {
  const at = (zid: string, instanceid?: string): Map<string, { props: DestinationProps; sharedWithSubscriber?: boolean }> | undefined =>
    state.levels.get(levelKey(zid, instanceid))?.destinations;
  const provider = state.provider;
  const instance = (): DestinationProps | undefined => {
    const own = at(tenant.zid, binding.instanceid)?.get(name)?.props;
    if (own || tenant.isProvider) return own;
    const shared = at(provider.zid, binding.instanceid)?.get(name);
    return shared?.sharedWithSubscriber ? shared.props : undefined;
  };
  switch (level) {
    case 'instance':
      return instance();
    case 'subaccount':
      return at(tenant.zid)?.get(name)?.props;
    case 'provider_instance':
      return at(provider.zid, binding.instanceid)?.get(name)?.props;
    case 'provider_subaccount':
      return at(provider.zid)?.get(name)?.props;
    default:
      return instance() ?? at(tenant.zid)?.get(name)?.props;
  }
}

/** The port protocol a destination's type needs: TCP, SMTP for a mail destination of SMTP, else none (the HTTP port). */
export function portProtocolOf(props: Pick<DestinationProps, 'Type'> & Record<string, unknown>): CrPortProtocol | undefined {
  if (props.Type === 'TCP') return 'TCP';
  if (props.Type !== 'MAIL') return undefined;
  const protocol = String(props['mail.transport.protocol'] ?? 'smtp').toLowerCase();
  return protocol === 'smtp' || protocol === 'smtps' ? 'SMTP' : undefined;
}

/**
 * The ports there should be now: one per Service of each CR with a binding and a known tenant: TCP or SMTP for a
 * destination of that type, HTTP for a dynamic CR or an HTTP destination, none for other types. A CR whose destination is not
 * stored (yet) gets none: its type decides which port it gets once it is.
 */
export function crPortsOf(state: CrPortsView): CrPort[] {
  const ports: CrPort[] = [];
  for (const [key, cr] of state.transparentProxy.resources) {
    const { name, level } = cr.spec.destinationRef;
    const binding = crBinding(state, cr);
    if (!binding) continue;
    for (const service of crServices(cr)) {
      const tenant = service.tenant ? findTenant(state, { subdomain: service.tenant }) : state.provider;
      if (!tenant) continue;
      const props = name === dynamicDestinationName ? undefined : storedDestination(state, tenant, binding, name, level);
      if (name !== dynamicDestinationName && !props) continue;
      // A dynamic CR or an HTTP destination gets an HTTP port; LDAP, RFC and POP3/IMAP mail (not built) get none.
      const protocol = props ? (portProtocolOf(props) ?? (props.Type === 'HTTP' ? 'HTTP' : undefined)) : 'HTTP';
      if (!protocol) continue;
      ports.push({
        service: `${service.name}.${service.namespace}`,
        cr: key,
        ...(service.tenant ? { tenant: service.tenant } : {}),
        protocol,
        servicePort: service.port,
      });
    }
  }
  return ports;
}

/** How the face reaches the target: the internal host a Cloud Connector grants, or an Internet destination's address. */
export interface ConnectionTarget {
  host: string;
  port: number;
  /** TLS to the target: a TCPS or LDAPS mapping (not verified, as the Cloud Connector's own), or `smtps` on the Internet (verified unless TrustAll). */
  tls?: { verify: boolean };
  connectTimeoutMs: number;
  /** The SMTP exchange (mail): how long to wait for each reply of the mail server. */
  readTimeoutMs: number;
}

/** How the proxy authenticates to the mail server: Basic as PLAIN (or LOGIN), OAuth types as XOAUTH2. */
export type MailAuth = { method: 'PLAIN'; user: string; password: string } | { method: 'XOAUTH2'; user: string; token: string };

interface ConnectionEntry extends TpEntry {
  protocol: CrPortProtocol;
  /** The local port the app connected to. */
  port: number;
  /** Mail: how the proxy authenticated to the mail server, and to how many recipients it sent. */
  mailAuth?: MailAuth['method'] | 'none';
  recipients?: number;
}

/** One connection to a per-CR port, looked up and admitted; the face reports how it went. */
export class CrConnection {
  readonly target: ConnectionTarget;
  /** Mail: the upstream authentication (none for NoAuthentication or `mail.smtp.auth: false`). */
  readonly mailAuth?: MailAuth;
  private readonly ctx: TransparentProxyContext;
  private readonly entry: ConnectionEntry;
  private readonly hop?: ProxyHop;
  private recorded: JournalEntry[] = [];

  constructor(ctx: TransparentProxyContext, entry: ConnectionEntry, target: ConnectionTarget, hop?: ProxyHop, mailAuth?: MailAuth) {
    this.ctx = ctx;
    this.entry = entry;
    this.target = target;
    this.hop = hop;
    if (mailAuth) this.mailAuth = mailAuth;
    entry.mailAuth = entry.protocol === 'SMTP' ? (mailAuth?.method ?? 'none') : undefined;
  }

  /** `host:port` the face connects to. */
  get targetName(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  /** The correlation id of the connection's entries (the lookup's and the hop's). */
  get correlationId(): string {
    return this.entry.correlationId;
  }

  /** The face is connected: the hop's entry (SOCKS5 reply 0); a TCP tunnel's own entry too (200). */
  connected(): void {
    if (this.hop) this.recorded.push(this.hop.finish({ status: 0 }));
    if (this.entry.protocol === 'TCP') this.recorded.push(recordTpEntry(this.ctx, this.entry, 200));
  }

  /** The face could not connect (or gave up waiting): the hop's reply 4, and the proxy's 502 or 504. */
  unreachable(why: string, timedOut = false): TransparentProxyError {
    const error = timedOut
      ? targetTimeout(this.targetName, this.target.connectTimeoutMs / 1000, 'connect')
      : targetUnreachable(this.targetName, why);
    this.hop?.finish({
      status: 4,
      check: timedOut ? 'timeout' : 'backend',
      reason: `the backend ${this.targetName} is not reachable: ${why}`,
    });
    return this.fail(error);
  }

  /** A TCP tunnel closed: what it carried, on its entries. */
  closed(counts: RelayCounts): void {
    for (const entry of this.recorded) Object.assign(entry, counts);
  }

  /** Mail: the message went out (the mail server's final reply), or was refused. */
  sent(recipients: number): void {
    this.entry.recipients = recipients;
    this.recorded.push(recordTpEntry(this.ctx, this.entry, 200));
  }

  /** Record a refusal on the proxy's entry (a mail the mail server refused); returns it. */
  fail(error: TransparentProxyError): TransparentProxyError {
    return refuse(this.ctx, this.entry, error);
  }
}

/** Record a refusal on the proxy's entry of a connection; returns the error, with the entry's request id. */
function refuse(
  ctx: Pick<TransparentProxyContext, 'clock' | 'journal'>,
  entry: ConnectionEntry,
  error: TransparentProxyError,
): TransparentProxyError {
  Object.assign(entry, {
    check: error.check,
    origin: error.origin,
    internalCode: error.internalCode,
    reason: error.reason ?? error.message,
  });
  error.requestId = entry.requestId;
  recordTpEntry(ctx, entry, error.status);
  return error;
}

/** `tcp://host:port` (a TCP destination's `Address`). */
function tcpAddress(name: string, cfg: Record<string, string>): { host: string; port: number } {
  const address = cfg.Address;
  if (!address) throw noAddress(name, 'a TCP destination needs Address: tcp://<host>:<port>');
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/i.exec(address.trim());
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw noAddress(name, `Address "${address}" is not tcp://<host>:<port>`);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** A mail destination's SMTP server: `mail.smtp.host` and `mail.smtp.port` (default 25, 465 for smtps). */
function smtpAddress(name: string, cfg: Record<string, string>): { host: string; port: number; smtps: boolean } {
  const smtps = (cfg['mail.transport.protocol'] ?? 'smtp').toLowerCase() === 'smtps' || cfg['mail.smtp.ssl.enable'] === 'true';
  const host = cfg[smtps ? 'mail.smtps.host' : 'mail.smtp.host'] ?? cfg['mail.smtp.host'];
  if (!host) throw noAddress(name, 'a mail destination needs mail.smtp.host');
  const portText = cfg[smtps ? 'mail.smtps.port' : 'mail.smtp.port'] ?? cfg['mail.smtp.port'] ?? (smtps ? '465' : '25');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw noAddress(name, `mail.smtp.port "${portText}" is not a port`);
  return { host, port, smtps };
}

/** Basic → PLAIN with `mail.user`/`mail.password`; a token of the lookup → XOAUTH2 for `mail.user`; else none. */
function mailAuthOf(name: string, cfg: Record<string, string>, found: FoundDestination): MailAuth | undefined {
  if (cfg['mail.smtp.auth'] === 'false' || cfg.Authentication === 'NoAuthentication') return undefined;
  const user = cfg['mail.user'] ?? cfg.User ?? '';
  if (cfg.Authentication === 'BasicAuthentication') {
    // The mail properties, not the HTTP ones the Destination Service's Basic token is made of.
    const password = cfg['mail.password'] ?? cfg.Password;
    if (!user || password === undefined) throw noAddress(name, 'BasicAuthentication needs mail.user and mail.password');
    return { method: 'PLAIN', user, password };
  }
  const token = found.authTokens?.[0];
  if (token?.error) throw authTokenFailed(name, token.error);
  if (token && token.type.toLowerCase() === 'bearer') return { method: 'XOAUTH2', user, token: token.value };
  return undefined;
}

/**
 * A connection to a per-CR port: the CR as it is now, its tenant and binding, the lookup, the destination's type
 * and address, and for OnPremise the hop (a SOCKS5 tunnel in the journal). A refusal throws a
 * TransparentProxyError, journaled (the face closes the connection, or answers the SMTP command with it).
 */
export async function openCrConnection(
  ctx: TransparentProxyContext & { readonly state: CrPortsView },
  port: CrPort & { protocol: CrPortProtocol },
  meta: { localPort: number; started?: number },
): Promise<CrConnection> {
  const requestId = crypto.randomUUID();
  const entry: ConnectionEntry = {
    service: 'transparent-proxy',
    method: port.protocol,
    path: port.service,
    started: meta.started ?? performance.now(),
    host: port.service,
    requestId,
    correlationId: requestId,
    cr: port.cr,
    protocol: port.protocol,
    port: meta.localPort,
  };
  try {
    const state = ctx.state;
    const cr: DestinationCustomResource | undefined = state.transparentProxy.resources.get(port.cr);
    if (!cr) throw crRemoved(port.cr);
    const name = cr.spec.destinationRef.name;
    entry.destination = name;
    const tenant = port.tenant ? findTenant(state, { subdomain: port.tenant }) : state.provider;
    if (!tenant)
      throw unknownTenant(
        'the Service name',
        port.tenant ?? '',
        state.tenants.map((t) => t.subdomain),
      );
    entry.tenant = tenant.subdomain;
    const binding = crBinding(state, cr);
    if (!binding) throw noInstance(port.cr, cr.spec.destinationServiceInstanceName);
    const found = await lookUp(ctx, {
      tenant,
      binding,
      name,
      ...(cr.spec.destinationRef.level ? { level: cr.spec.destinationRef.level } : {}),
      ...(cr.spec.fragmentRef ? { fragment: cr.spec.fragmentRef } : {}),
      headers: new Headers(),
      correlationId: entry.correlationId,
      cr: port.cr,
    });
    const cfg = found.destinationConfiguration;
    const type = cfg.Type ?? 'HTTP';
    if (portProtocolOf({ ...cfg, Type: type as DestinationProps['Type'] }) !== port.protocol)
      throw wrongPortType(name, type, port.cr, port.protocol === 'TCP' ? 'TCP' : 'MAIL (SMTP)');
    const onPremise = cfg.ProxyType === 'OnPremise';
    entry.proxyType = onPremise ? 'OnPremise' : (cfg.ProxyType ?? 'Internet');
    const address = port.protocol === 'TCP' ? { ...tcpAddress(name, cfg), smtps: false } : smtpAddress(name, cfg);
    entry.target = `${address.host}:${address.port}`;
    const mailAuth = port.protocol === 'SMTP' ? mailAuthOf(name, cfg, found) : undefined;
    const timeouts = state.transparentProxy.config.timeouts;
    const base = { connectTimeoutMs: timeouts.connectSeconds * 1000, readTimeoutMs: timeouts.readSeconds * 1000 };
    if (!onPremise) {
      const tls = address.smtps ? { verify: cfg.TrustAll?.toLowerCase() !== 'true' } : undefined;
      return new CrConnection(
        ctx,
        entry,
        { host: address.host, port: address.port, ...(tls ? { tls } : {}), ...base },
        undefined,
        mailAuth,
      );
    }
    if (!state.transparentProxy.config.connectivityProxy) throw onPremiseNotConfigured(name);
    const hop = openProxyHop(ctx, {
      transport: 'transparent-proxy',
      socks5: true,
      method: 'CONNECT',
      target: entry.target,
      started: performance.now(),
      correlationId: entry.correlationId,
    });
    const decision = await hop.pass({
      credential: { binding: tenant },
      locationId: cfg.CloudConnectorLocationId ?? '',
      to: { virtualHost: address.host, virtualPort: address.port, protocol: 'TCP' },
    });
    if (decision.kind === 'denied') {
      hop.finish({ status: decision.socksReply, check: decision.check, reason: decision.reason });
      throw proxyDenied(decision);
    }
    if (decision.kind !== 'granted') {
      // SOCKS5 has no answer a status or rate-limit fault could give: any fault closes the tunnel.
      hop.finish({ status: 1, check: decision.check, reason: decision.reason });
      throw proxyUnreachable(decision.reason);
    }
    const grant = decision.access;
    const target: ConnectionTarget = {
      host: grant.internalHost,
      port: grant.internalPort,
      ...(grant.protocol === 'TCPS' || grant.protocol === 'LDAPS' ? { tls: { verify: false } } : {}),
      ...base,
    };
    return new CrConnection(ctx, entry, target, hop, mailAuth);
  } catch (err) {
    throw refuse(
      ctx,
      entry,
      err instanceof TransparentProxyError ? err : targetUnreachable(entry.target ?? port.service, (err as Error).message),
    );
  }
}

/** A per-CR port opened (`LISTEN`) or closed (`CLOSE`): one journal entry, so the journal says where each CR is served. */
export function recordPortChange(
  ctx: Pick<TransparentProxyContext, 'clock' | 'journal'>,
  port: CrPort,
  change: 'LISTEN' | 'CLOSE',
  localPort: number,
): void {
  ctx.journal.record({
    service: 'transparent-proxy',
    method: change,
    path: port.service,
    status: 200,
    time: new Date(ctx.clock.now()).toISOString(),
    durationMs: 0,
    cr: port.cr,
    ...(port.tenant ? { tenant: port.tenant } : {}),
    protocol: port.protocol,
    port: localPort,
    servicePort: port.servicePort,
  });
}
