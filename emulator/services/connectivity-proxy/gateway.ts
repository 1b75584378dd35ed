/**
 * The connectivity proxy's pipeline, without any transport: authenticate (by the operational mode: the
 * connectivity token on Cloud Foundry; the configured subaccount or the tenant token in the Kubernetes trusted
 * mode) → faults → Cloud Connector access, then the journal entry once the transport knows the outcome. The HTTP proxy, SOCKS5 and the MSW approuter
 * only adapt it (HTTP statuses or SOCKS5 reply codes, sockets or Responses); so will any further hop.
 *
 * A {@link ProxyHop} is one request (or SOCKS5 connection). One-shot transports call {@link ProxyHop.pass};
 * SOCKS5, which answers the authentication before the client names its target, calls the steps one by one.
 */
import type { JournalEntry } from '../../core/journal.ts';
import type { Tenant } from '../../core/subaccount.ts';
import { describeFault, meetProxyFaults, type ProxyFaults } from '../../core/faults.ts';
import { decideAccess, type AccessGranted } from '../cloud-connector/access.ts';
import { findTenant } from '../../core/subaccount.ts';
import { accessDenied, authDenied, serviceTokenDenied, unknownSubaccountDenied, userTwiceDenied, type ProxyDenial } from './errors.ts';
import { authenticateProxyToken, carriesUser, unverifiedClaims } from './proxy-auth.ts';
import { journalServiceOf, recordProxyEntry, type ProxyJournalEntry } from './proxy-journal.ts';
import type { ProxyCredential, ProxyHopStart, ProxyMode, ProxyRequest, ProxyTarget, ProxyTransport } from './schema.ts';
import type { ProxyContext } from './state.ts';

/** A fault closes the connection without an answer. */
export interface ProxyDrop {
  kind: 'drop';
  check: 'fault';
  reason: string;
}

/** A fault answers instead of the backend (an error status or a rate limit). */
export interface ProxyFaultResponse {
  kind: 'fault';
  check: 'fault';
  reason: string;
  response: { status: number; headers: Record<string, string>; body: string };
}

/** Through: where the request goes (the Cloud Connector's grant: internal host, port, protocol, checked path). */
export interface ProxyGrant {
  kind: 'granted';
  access: AccessGranted;
  tenant: Tenant;
}

export type ProxyDecision = ProxyDenial | ProxyDrop | ProxyFaultResponse | ProxyGrant;

/** What the transport saw in the end: its status (HTTP) or reply code (SOCKS5), and why, when it failed. */
export interface ProxyOutcome {
  status: number;
  check?: string;
  reason?: string;
}

type TokenCredential = Exclude<ProxyCredential, { binding: unknown }>;

const userTwice = (): ProxyDenial =>
  userTwiceDenied(
    'the user is in SAP-Connectivity-Authentication and in Proxy-Authorization (a user token there); send Proxy-Authorization with a technical (client credentials) token, or the user in one header only',
  );

export class ProxyHop {
  readonly transport: ProxyTransport;
  private readonly ctx: ProxyContext;
  private readonly entry: Omit<ProxyJournalEntry, 'status'>;
  private to?: ProxyTarget;
  private tenant?: Tenant;
  private clientId?: string;

  constructor(ctx: ProxyContext, start: ProxyHopStart) {
    this.ctx = ctx;
    this.transport = start.transport;
    this.entry = {
      service: start.socks5 ? 'socks5' : journalServiceOf(start.transport),
      method: start.method,
      path: start.target,
      started: start.started,
      via: start.transport === 'http-proxy' || start.transport === 'socks5' ? undefined : start.transport,
      correlationId: start.correlationId,
    };
  }

  /** The virtual host:port (and path) asked for; `journalPath` replaces the entry's path (SOCKS5 learns it here). */
  aim(to: ProxyTarget, journalPath?: string): void {
    this.to = to;
    this.entry.virtualTarget = `${to.virtualHost}:${to.virtualPort}`;
    if (journalPath !== undefined) this.entry.path = journalPath;
  }

  /** Who asks, through which connector ('' = the default one); a denial is the transport's to answer and finish. */
  async authenticate(credential: ProxyCredential, locationId: string): Promise<ProxyDenial | undefined> {
    this.entry.locationId = locationId;
    if ('binding' in credential) {
      this.tenant = credential.binding;
      this.clientId = this.connectivityClientId();
    } else {
      const mode = this.ctx.proxyMode();
      const denied = mode.mode === 'trusted' ? await this.trusted(mode, credential) : await this.cloudFoundry(credential);
      if (denied) return denied;
    }
    this.entry.tenant = this.tenant!.subdomain;
    return undefined;
  }

  /** Whether this hop needs a token before the target (SOCKS5 may skip method 0x80 only in trusted dedicated mode). */
  needsToken(): boolean {
    const mode = this.ctx.proxyMode();
    return mode.mode !== 'trusted' || mode.tenantMode === 'shared';
  }

  /** Cloud Foundry (and the Kubernetes non-trusted modes): the connectivity token is checked, its zone is the tenant. */
  private async cloudFoundry(credential: TokenCredential): Promise<ProxyDenial | undefined> {
    const auth = await authenticateProxyToken(this.ctx, credential.token);
    if (!auth.ok) return authDenied(auth.reason);
    this.tenant = auth.tenant;
    this.clientId = auth.clientId;
    this.entry.tokenJti = auth.claims.jti;
    return credential.userHeader && carriesUser(auth.claims) ? userTwice() : undefined;
  }

  /**
   * The Kubernetes trusted mode: proxy authorization is off, so `Proxy-Authorization` is not checked (only read,
   * for the user rule and the journal's link to its grant). Dedicated: the configured subaccount; shared: the
   * zone of the tenant token, which is checked like a connectivity token.
   */
  private async trusted(mode: Extract<ProxyMode, { mode: 'trusted' }>, credential: TokenCredential): Promise<ProxyDenial | undefined> {
    this.entry.proxyMode = 'trusted';
    this.entry.tenantMode = mode.tenantMode;
    const claims = unverifiedClaims(credential.token);
    if (typeof claims?.jti === 'string') this.entry.tokenJti = claims.jti;
    if (credential.userHeader && claims && carriesUser(claims)) return userTwice();
    if (mode.tenantMode === 'dedicated') {
      const name = mode.subaccount;
      const tenant = name ? findTenant(this.ctx.state, { name }) : this.ctx.state.tenants.find((t) => t.isProvider);
      if (!tenant) return unknownSubaccountDenied(name ?? 'provider', this.entry.locationId ?? '');
      this.tenant = tenant;
      this.clientId = this.connectivityClientId();
      return undefined;
    }
    if (!credential.serviceToken)
      return serviceTokenDenied(
        true,
        `trusted shared mode: send the tenant's connectivity token in SAP-CP-Connectivity-Service-Token (SOCKS5: as the 0x80 token); it names the subaccount`,
      );
    const auth = await authenticateProxyToken(this.ctx, credential.serviceToken);
    if (!auth.ok) return serviceTokenDenied(false, `trusted shared mode: SAP-CP-Connectivity-Service-Token: ${auth.reason}`);
    this.tenant = auth.tenant;
    this.clientId = auth.clientId;
    this.entry.tokenJti = auth.claims.jti;
    return undefined;
  }

  private connectivityClientId(): string | undefined {
    return this.ctx.state.bindings.find((b) => b.service === 'connectivity')?.clientid;
  }

  /** Faults (their latency waited), then the Cloud Connector's access decision; needs {@link aim} and {@link authenticate} first. */
  async admit(): Promise<ProxyDecision> {
    const to = this.to;
    const tenant = this.tenant;
    if (!to || !tenant) throw new Error('a proxy hop is admitted after aim() and a successful authenticate()');
    const faults: ProxyFaults = this.ctx.faults.empty
      ? {}
      : await meetProxyFaults(this.ctx.faults, {
          service: this.entry.service,
          method: this.entry.method,
          path: to.path ?? '',
          tenant,
          locationId: this.entry.locationId,
          clientId: this.clientId,
        });
    if (faults.journal) Object.assign(this.entry, faults.journal);
    const fault = faults.decision;
    if (fault?.kind === 'drop') return { kind: 'drop', check: 'fault', reason: describeFault(fault) };
    if (fault?.response) return { kind: 'fault', check: 'fault', reason: describeFault(fault), response: fault.response };
    const access = decideAccess(
      this.ctx.state,
      {
        zid: tenant.zid,
        locationId: this.entry.locationId,
        virtualHost: to.virtualHost,
        virtualPort: to.virtualPort,
        path: to.path,
        protocol: to.protocol,
        offline: faults.offline !== undefined,
        ...(faults.offline ? { offlineFaultSince: Date.parse(faults.offline.added) } : {}),
        now: this.ctx.clock.now(),
      },
      this.ctx.placeholders(),
    );
    if (!access.ok) return accessDenied(access);
    this.entry.internalTarget = `${access.internalHost}:${access.internalPort}`;
    this.entry.protocol = access.protocol;
    return { kind: 'granted', access, tenant };
  }

  /** The whole pipeline for a request that arrives complete: aim, authenticate, admit. */
  async pass(request: Pick<ProxyRequest, 'credential' | 'locationId' | 'to'>): Promise<ProxyDecision> {
    this.aim(request.to);
    return (await this.authenticate(request.credential, request.locationId)) ?? this.admit();
  }

  /** The user a certificate was issued for (principal propagation). */
  propagated(principal: string | undefined): void {
    this.entry.principal = principal;
  }

  /** The internal `host:port` once granted (for the transport's messages). */
  get internalTarget(): string | undefined {
    return this.entry.internalTarget;
  }

  /** Write the journal entry; returns it, so a tunnel can add its byte counts when it closes (recordRelay). */
  finish(outcome: ProxyOutcome): JournalEntry {
    return recordProxyEntry(this.ctx, { ...this.entry, status: outcome.status, check: outcome.check, reason: outcome.reason });
  }
}

/** A hop's first step: the journal entry in the making. */
export const openProxyHop = (ctx: ProxyContext, start: ProxyHopStart): ProxyHop => new ProxyHop(ctx, start);

/** The one-shot form: the decision, and how to finish the journal entry once the transport knows the outcome. */
export async function passProxy(
  ctx: ProxyContext,
  request: ProxyRequest,
): Promise<{ decision: ProxyDecision; finish: (outcome: ProxyOutcome) => JournalEntry }> {
  const hop = openProxyHop(ctx, request);
  const decision = await hop.pass(request);
  return { decision, finish: (outcome) => hop.finish(outcome) };
}
