/**
 * The emulator core: state, clock, keys, journal and every service's behaviour behind one web-standard
 * `fetch(Request): Promise<Response>`. No sockets and no Node built-ins: the Node servers and the MSW
 * handlers are thin faces over this.
 */
import { type PublicUrls } from '../core/urls.ts';
import { decodeJwtPayload } from '../core/jwt.ts';
import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import type { JWK } from 'jose';
import { controlPaths, createControl, journaled, type Control } from './control/index.ts';
import type { DestinationGateway } from '../services/destination/gateway.ts';
import type { XsuaaGateway } from '../services/xsuaa/gateway.ts';
import type { TokenMinter } from '../services/xsuaa/tokens.ts';
import { destinationPlugin } from '../services/destination/index.ts';
import { xsuaaPlugin } from '../services/xsuaa/index.ts';
import { IdentityHosts, identityPlugin, type IdentityService } from '../services/identity/index.ts';
import type { ServiceContext, ServiceInstance, ServicePlugin } from '../core/plugin.ts';
import { ServiceTable } from '../core/service-table.ts';
import { HttpError } from '../core/http-error.ts';
import { plugins } from './plugins.ts';
import type { CertificateAuthority } from '../services/destination/certificates/certificates.ts';
import { importSigningKey, KeyRing, loadDefaultSigningKey } from '../core/signing-keys.ts';
import type { App, AppEnv } from '../core/app-env.ts';
import { buildVcapServices, type VcapServices } from './bindings.ts';
import type { ClientCertificateIssuer, MtlsCapableFetch } from '../core/client-certificate.ts';
import { correlationIdOf, lookupRefHeader, withoutInternalHeaders } from '../core/journal-chains.ts';
import { createClock, type Clock } from '../core/clock.ts';
import { failIfDropped, faultMiddleware } from '../core/fault-middleware.ts';
import { FaultList } from '../core/faults.ts';
import { entryTiming, Journal } from '../core/journal.ts';
import { parseScenarioText, scenarioFormatOf, validateScenario } from './scenario.ts';
import { SharedRouter } from '../core/shared-router.ts';
import { type Scenario } from './scenario-schema.ts';
import { buildState, type EmulatorState } from './state.ts';
import { redactQuery } from '../core/redact.ts';
import { bodyLimitMiddleware, defaultLimits, type InputLimits } from '../core/limits.ts';
import { captureRollback } from './snapshot.ts';
import { ChangeNotifier, type ChangeListener } from '../core/change-notifier.ts';
import { RequestGuard, StartOptionError, type BoundAddress, type RequestGuardOptions } from '../core/request-guard.ts';
import { parseWith, ValidationError } from '../core/validation.ts';
import { createCloudConnectorApi, type CertificatePems } from '../services/cloud-connector/index.ts';
import {
  connectivityProxySchema,
  effectiveProxyMode,
  type ConnectivityProxyInput,
  type ProxyMode,
} from '../services/connectivity-proxy/index.ts';

export interface CoreOptions extends RequestGuardOptions, InputLimits {
  /** A scenario object (validated here); default: one provider tenant and the standard bindings. */
  scenario?: unknown;
  clock?: Clock;
  /**
   * The XSUAA signing key: a private RSA JWK and its kid, or `'bundled'` (default here, in the core and the MSW face)
   * for the key that ships with the package — public, so anybody can sign tokens it accepts (docs/security.md).
   * `startEmulator()` defaults to the installation's own key instead.
   */
  signingKey?: { jwk: JWK; kid: string } | 'bundled';
  /** How the core calls servers outside itself (token services of destinations). Default: global fetch. */
  fetch?: MtlsCapableFetch;
  /** The CA that signs certificates the Destination Service generates; without it they are self-signed. */
  certificateAuthority?: CertificateAuthority;
  /** Issues the certificates of x509 bindings (`credentialType: x509`); without it such bindings keep their secret. */
  issueClientCertificate?: ClientCertificateIssuer;
  /**
   * The face verifies TLS client certificates against the emulator CA and passes the subject in
   * `CLIENT_CERT_SUBJECT_HEADER`, stripping it from outside input (the Node face does). Without it the header is ignored.
   */
  verifiesClientCertificates?: boolean;
  /** Where the emulator is reachable; servers set this once they listen. */
  urls?: PublicUrls;
  journalSize?: number;
  /** The journal's bound in bytes (entries as JSON); the oldest go first. Default 32 MiB. */
  journalMaxBytes?: number;
  /** When set, every control API route but /_emulator/health needs `Authorization: Bearer <controlToken>`. */
  controlToken?: string;
  /**
   * The connectivity proxy's operational mode, e.g. `{ mode: 'trusted' }` (the Kubernetes trusted mode); replaces
   * the scenario's `connectivityProxy` whole, also for scenarios loaded later. Flags: `--proxy-mode`, `--proxy-tenant-mode`.
   */
  connectivityProxy?: ConnectivityProxyInput;
  /** The certificates the Cloud Connector REST API shows (PEM): principal-propagation CA, system, UI. */
  cloudConnectorCertificates?: CertificatePems;
}

export const minimalScenario = { name: 'minimal', tenants: [{ subdomain: 'provider' }] };

export class EmulatorCore {
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly minter: TokenMinter;
  readonly journal: Journal;
  /** Injected faults (latency, error status, dropped connection, rate limit, short tokens, offline connector); see faults.ts. */
  readonly faults: FaultList;
  readonly xsuaa: XsuaaGateway;
  readonly destinations: DestinationGateway;
  /** The identity service (IAS): its gateway (applications, user tokens) and minter (its key ring, verify). */
  readonly identity: IdentityService;
  readonly app: App;
  scenario: Scenario;
  state: EmulatorState;
  urls: PublicUrls;
  /** Extra variables the faces add to {@link env} (e.g. NODE_EXTRA_CA_CERTS). */
  extraEnv: Record<string, string> = {};
  /** Every change of state (see change-notifier.ts); faces call `changes.notify()` after changes they make. */
  readonly changes = new ChangeNotifier();
  private readonly outbound: MtlsCapableFetch;
  private readonly issueClientCertificate?: ClientCertificateIssuer;
  /** The services (emulator/app/plugins.ts), created in their order, and the paths each serves. */
  private readonly instances = new Map<ServicePlugin<ServiceInstance, never>, ServiceInstance>();
  private readonly services = new ServiceTable();
  /** The control API (/_emulator), over this emulator. */
  private readonly control: Control;
  /** The input limits in force (core/limits.ts), defaults filled in. */
  readonly limits: Required<InputLimits>;
  /** See {@link CoreOptions.controlToken}. */
  readonly controlToken?: string;
  /** The `connectivityProxy` option, validated; it replaces the scenario's part (see {@link proxyMode}). */
  private readonly proxyModeOption?: z.output<typeof connectivityProxySchema>;
  /** The Host and Origin rules (request-guard.ts), from the options, {@link urls} and the bound address. */
  readonly guard: RequestGuard;
  private bound: BoundAddress = {};

  static async create(options: CoreOptions = {}): Promise<EmulatorCore> {
    const given = options.signingKey;
    const key = given && given !== 'bundled' ? await importSigningKey(given.jwk, given.kid) : await loadDefaultSigningKey();
    return new EmulatorCore(options, new KeyRing(key));
  }

  private constructor(options: CoreOptions, keys: KeyRing) {
    this.clock = options.clock ?? createClock();
    this.keys = keys;
    this.keys.useClock(() => this.clock.now());
    this.urls = options.urls ?? { uaaDomain: 'localhost:20000', serviceUrl: 'http://localhost:20000' };
    this.scenario = validateScenario(options.scenario ?? minimalScenario);
    this.state = buildState(this.scenario, this.clock.now());
    this.proxyModeOption = proxyModeOption(options.connectivityProxy, this.state);
    this.journal = new Journal(options.journalSize, options.journalMaxBytes);
    this.faults = new FaultList(this.clock);
    this.outbound = options.fetch ?? ((request: Request) => fetch(request));
    this.issueClientCertificate = options.issueClientCertificate;
    this.controlToken = options.controlToken;
    this.guard = new RequestGuard(
      options,
      () => this.urls,
      () => this.bound,
    );
    this.limits = {
      maxBodyBytes: options.maxBodyBytes ?? defaultLimits.maxBodyBytes,
      maxSnapshotBytes: options.maxSnapshotBytes ?? defaultLimits.maxSnapshotBytes,
      maxEntitiesPerLevel: options.maxEntitiesPerLevel ?? defaultLimits.maxEntitiesPerLevel,
    };
    this.createServices(options);
    const xsuaa = this.service(xsuaaPlugin);
    this.xsuaa = xsuaa.gateway;
    this.minter = xsuaa.minter;
    this.destinations = this.service(destinationPlugin).gateway;
    this.identity = this.service(identityPlugin);
    this.control = createControl(this);
    this.changes.useCheckpoints(() => captureRollback(this));
    this.app = this.buildApp();
    const certificates = options.cloudConnectorCertificates ?? { ppCa: options.certificateAuthority?.certPem };
    this.cloudConnectorApi = createCloudConnectorApi({
      state: () => this.state,
      clock: this.clock,
      faults: this.faults,
      journal: this.journal,
      changes: this.changes,
      guard: this.guard,
      limits: this.limits,
      certificates: () => certificates,
    });
  }

  private createServices(options: CoreOptions): void {
    const ctx: ServiceContext<EmulatorState> = {
      clock: this.clock,
      keys: this.keys,
      journal: this.journal,
      faults: this.faults,
      changes: this.changes,
      limits: this.limits,
      state: () => this.state,
      urls: () => this.urls,
      placeholders: () => this.placeholders(),
      fetchOutbound: (request, outboundOptions) => this.fetchOutbound(request, outboundOptions),
      options: options as Readonly<Record<string, unknown>>,
      use: (plugin) => this.service(plugin),
    };
    for (const plugin of plugins) {
      this.instances.set(plugin, plugin.create(ctx));
      if (plugin.paths) this.services.add(plugin.paths);
    }
    this.services.add(controlPaths);
  }

  /** The instance of a listed service (its gateway and what else it exposes). */
  service<I extends ServiceInstance>(plugin: ServicePlugin<I, never>): I {
    const instance = this.instances.get(plugin as ServicePlugin<ServiceInstance, never>);
    if (!instance) throw new Error(`service "${plugin.name}" is not created yet: list it earlier in emulator/app/plugins.ts`);
    return instance as I;
  }

  /**
   * The Cloud Connector's REST configuration API and admin console (services/cloud-connector/admin): the faces
   * serve it on a port of its own (8443); it reads and changes the same state as everything else.
   */
  readonly cloudConnectorApi: { fetch(request: Request): Promise<Response> };

  /** Serve one request: the whole HTTP surface of XSUAA, the Destination Service and the control API. */
  fetch = (request: Request): Promise<Response> => Promise.resolve(this.app.fetch(request));

  /** Back to the loaded scenario: state rebuilt, journal and faults cleared. */
  reset(): void {
    this.state = buildState(this.scenario, this.clock.now());
    this.journal.clear();
    this.faults.clear();
  }

  /** Replace the scenario; an invalid one throws a ValidationError and changes nothing. */
  loadScenario(value: unknown, source = 'scenario'): void {
    this.applyScenario(validateScenario(value, source));
  }

  /** Scenario text: JSON or YAML by the source's name, the content type or the text itself (see scenarioFormatOf). */
  loadScenarioText(text: string, source = 'scenario', contentType?: string): void {
    this.applyScenario(parseScenarioText(text, source, scenarioFormatOf(text, source, contentType)));
  }

  /** Call `listener` after every change of state; a promise it returns delays the response to the change. */
  onChange(listener: ChangeListener): () => void {
    return this.changes.on(listener);
  }

  /** Values for `{{name}}` placeholders in scenario destinations (`identity`: the IAS origin); faces add theirs (e.g. `backend`). */
  placeholders(): Record<string, string> {
    return {
      services: this.urls.serviceUrl,
      uaadomain: this.urls.uaaDomain,
      identity: new IdentityHosts(this.urls).origin,
      ...this.extraPlaceholders,
    };
  }

  extraPlaceholders: Record<string, string> = {};

  /** The connectivity proxy's operational mode now: the start option, else the loaded scenario's, else cloud-foundry. */
  proxyMode(): ProxyMode {
    return effectiveProxyMode(this.scenario.connectivityProxy, this.proxyModeOption);
  }

  setUrls(urls: PublicUrls): void {
    this.urls = urls;
  }

  /** Where a socket face listens: its port and interface are names of the emulator too (Host and Origin rules). */
  setBoundAddress(address: BoundAddress): void {
    this.bound = { ...this.bound, ...address };
  }

  vcapServices(): VcapServices {
    return buildVcapServices(this.state, this.urls, this.issueClientCertificate);
  }

  /** The environment an app under test needs. */
  env(): Record<string, string> {
    return { VCAP_SERVICES: JSON.stringify(this.vcapServices()), ...this.extraEnv };
  }

  private applyScenario(scenario: Scenario): void {
    const state = buildState(scenario, this.clock.now());
    this.scenario = scenario;
    this.state = state;
    this.journal.clear();
  }

  /**
   * Calls to the emulator's own hosts (including `<subdomain>.<host>`) stay in-process; the rest go out. A call
   * with a client certificate always goes out, so the TLS side really checks the certificate.
   */
  private fetchOutbound(request: Request, options?: Parameters<MtlsCapableFetch>[1]): Promise<Response> {
    const url = new URL(request.url);
    const own = [new URL(this.urls.serviceUrl).host, this.urls.uaaDomain, ...new IdentityHosts(this.urls).domains];
    const local = own.some((host) => url.host === host || url.host.endsWith(`.${host}`));
    if (options?.clientCertificate) return this.outbound(withoutInternalHeaders(request), options);
    return local ? this.fetch(request).then(failIfDropped) : this.outbound(withoutInternalHeaders(request));
  }

  private buildApp(): App {
    // The matcher is built once per process for these routes (core/shared-router.ts), not per instance.
    const app = new Hono<AppEnv>({ router: new SharedRouter() });
    app.use('*', async (c, next) => {
      const started = performance.now();
      // One id per request, echoed in the answer and kept in the journal: the caller's, or a new one.
      const correlationId = correlationIdOf((name) => c.req.header(name)) ?? crypto.randomUUID();
      await next();
      echoCorrelationId(c, correlationId);
      const url = new URL(c.req.url);
      if (!journaled(url.pathname)) return;
      const lookupRef = c.req.header(lookupRefHeader);
      this.journal.record({
        ...entryTiming(this.clock.now(), started),
        service: this.services.serviceOf(url.pathname),
        method: c.req.method,
        path: url.pathname + redactQuery(url.search),
        status: c.res.status,
        ...(c.get('tenant') ? { tenant: c.get('tenant') } : {}),
        ...(c.get('destination') ? { destination: c.get('destination') } : {}),
        ...(c.get('reason') ? { reason: c.get('reason') } : {}),
        correlationId,
        ...(lookupRef ? { lookupRef } : {}),
        ...c.get('journal'),
      });
    });
    app.use('*', this.guard.middleware());
    app.use('*', bodyLimitMiddleware(this.limits));
    app.use(
      '*',
      this.changes.middleware((method, path) => this.services.changesState(method, path)),
    );
    app.use(
      '*',
      faultMiddleware({
        faults: this.faults,
        keys: this.keys,
        services: this.services,
        tokenRequestTenant: (zid, host) => this.xsuaa.tenantOfRequest(zid, host),
      }),
    );
    for (const instance of this.instances.values()) instance.registerRoutes?.(app);
    this.control.registerRoutes(app);
    app.notFound((c) => c.json({ error: 'not_found', message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
    app.onError((err, c) => {
      c.set('reason', err instanceof HttpError ? (err.reason ?? err.message) : err.message);
      if (err instanceof HttpError) return err.toResponse();
      return c.json({ error: 'internal_error', message: err.message }, 500);
    });
    return app;
  }
}

export { decodeJwtPayload };

/** The `connectivityProxy` option validated like the scenario's part; a bad one is a StartOptionError naming the field. */
function proxyModeOption(value: unknown, state: EmulatorState): z.output<typeof connectivityProxySchema> | undefined {
  if (value === undefined) return undefined;
  let parsed: z.output<typeof connectivityProxySchema>;
  try {
    parsed = parseWith(connectivityProxySchema, value, 'connectivityProxy');
  } catch (err) {
    if (err instanceof ValidationError)
      throw new StartOptionError(err.issues.map((i) => `connectivityProxy${i.path ? `.${i.path}` : ''}: ${i.message}`).join('; '));
    throw err;
  }
  const served = parsed.subaccount;
  if (served !== undefined && !state.tenants.some((t) => t.subdomain === served || t.zid === served))
    throw new StartOptionError(`connectivityProxy.subaccount: "${served}" is not the subdomain or zid of a tenant of the scenario`);
  return parsed;
}

/** Sets `x-correlation-id` on the answer (a copy, when the answer's headers are immutable, as a fetched one's are). */
function echoCorrelationId(c: Context<AppEnv>, id: string): void {
  if (c.res.headers.has('x-correlation-id')) return;
  try {
    c.res.headers.set('x-correlation-id', id);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set('x-correlation-id', id);
  }
}
