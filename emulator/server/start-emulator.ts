/**
 * `startEmulator()`: the core behind real sockets. The services port serves XSUAA, the Destination Service
 * and the control API over plain HTTP and TLS alike; the handle gives the env an app under test needs.
 */
import { defaultPorts } from '../core/ports.ts';
import { type PublicUrls } from '../core/urls.ts';
import { statSync } from 'node:fs';
import { defaultLimits } from '../core/limits.ts';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { EmulatorCore, type CoreOptions } from '../app/emulator-core.ts';
import { StartOptionError } from '../core/request-guard.ts';
import { readScenarioText, type ParsedScenario } from '../app/scenario.ts';
import { createSharedHandle, type SharedHandle } from '../app/handle.ts';
import { ControlClient } from '../client/control-client.ts';
import { createDualProtocolServer } from './dual-protocol-server.ts';
import { createTlsOnlyServer } from './identity-server.ts';
import { resolveTimeouts } from './timeouts.ts';
import { withDroppedConnections } from './fault-drop.ts';
import { ensureTlsMaterial } from './tls-material.ts';
import { createMtlsFetch, issueClientCertificate } from './client-certificates.ts';
import { startConnectivity, type ConnectivityOptions, type ConnectivityPorts } from './proxies/start-connectivity.ts';
import { startTransparentProxy } from './proxies/transparent-proxy-server.ts';
import { startCloudConnectorApi } from './cloud-connector-api-server.ts';
import { minimalScenario } from '../app/emulator-core.ts';
import { readDestinationCrFiles, withDestinationCrs } from './destination-crs.ts';
import { openStateDir } from '../persistence/state-dir.ts';
import { listenAs, readScenarioFile } from './start-errors.ts';

export { defaultPorts } from '../core/ports.ts';

/** The bundled scenario: fixtures/ of the repository, and of dist/ in the package (the build copies it there). */
export const defaultScenarioFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'default.scenario.yaml');

/** Proxy and backend ports: defaults 20003, 20004, 20010, 20011, 20025, 20389; all 0 when `port` is 0. */
export interface StartOptions extends Omit<CoreOptions, 'scenario' | 'urls'>, ConnectivityOptions {
  /** A scenario file (JSON or YAML), a scenario object, or `'default'` for the bundled one. Default: a minimal scenario. */
  scenario?: string | object;
  /**
   * Services port (XSUAA + Destination Service + control API). 0 picks a free port. Default 20000.
   * `'sticky'`: a free port the first time in this process, and the same one again for every later start with
   * `'sticky'` once the emulator that held it has stopped (two running at once get two ports). The token service
   * URL in the bindings then stays the same across emulators, which clients that cache it per client id (the SAP
   * Cloud SDK's XSUAA client) need; the other ports are picked free as with 0. See docs/sdk-adapters.md.
   */
  port?: number | 'sticky';
  /** Interface to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Host name written into the bindings and URLs. Default `localhost`. */
  advertisedHost?: string;
  /** Port written into the bindings, if it differs from the bound one (mapped container ports). */
  advertisedPort?: number;
  /**
   * Where the CA, the server certificate and the installation's signing key are kept (default: a folder under the
   * temp dir). Created with mode 0700; an existing one must belong to this user and be writable by nobody else.
   */
  tlsDir?: string;
  /**
   * Listen on a non-loopback `host` although the signing key is the bundled, public one (`signingKey: 'bundled'`):
   * anybody who can reach the emulator could then sign tokens it accepts. Refused without this.
   */
  allowBundledKeyOnNetwork?: boolean;
  /** Ports written into the bindings, URLs and `{{backend}}` if they differ from the bound ones (mapped container ports). */
  advertisedHttpProxyPort?: number;
  advertisedSocksProxyPort?: number;
  advertisedBackendPort?: number;
  /**
   * Keep the state in this directory (`state.json`): restored on start if present (then it wins over `scenario`),
   * written atomically after every change. See docs/persistence.md.
   */
  stateDir?: string;
  /** The Kyma Transparent Proxy's port (default 20005; 0 = a free one). */
  transparentProxyPort?: number;
  /** The identity service's (IAS) port, TLS only (default 20006; 0 = a free one). */
  identityPort?: number;
  /** The identity port written into the identity binding (`url`, `domains`) and tokens, if it differs from the bound one. */
  advertisedIdentityPort?: number;
  /** The Cloud Connector REST configuration API and admin console, TLS (default 8443; 0 = a free one). */
  cloudConnectorApiPort?: number;
  /**
   * Destination CR files (YAML, several documents each; or JSON) or directories of them, added to the scenario's
   * `destinationCustomResources`. Documents of other kinds (Deployments, Services, …) are skipped.
   */
  destinationCrs?: string[];
}

export interface EmulatorUrls {
  /** Plain-HTTP base of the services port. */
  services: string;
  /** `https://…` base of the same port. */
  servicesTls: string;
  /** The `uaadomain` value (`host:port`). */
  uaaDomain: string;
  /** The control API base. */
  control: string;
  /** The connectivity proxy (HTTP, 20003) and SOCKS5 (20004) as `http://host:port` / `socks5://host:port`. */
  httpProxy: string;
  socks5: string;
  /** The fake on-prem backend's HTTP base (direct, not through the proxy). */
  backend: string;
  /** The Kyma Transparent Proxy: send requests here with `Host: <cr>.<namespace>`. */
  transparentProxy: string;
  /** The identity service (IAS), TLS only: the identity binding's `url` (`https://127.0.0.1:20006` by default). */
  identity: string;
  /** The Cloud Connector's REST API and admin console (`instance_url` of SAP's Terraform provider): `https://host:8443`. */
  cloudConnectorApi: string;
}

/** The shared handle (emulator/app/handle.ts: env, tokens, scenario, journal, onPrem, clock, keys, faults, snapshot) and the sockets. */
export interface EmulatorHandle extends SharedHandle {
  urls: EmulatorUrls;
  ports: {
    services: number;
    transparentProxy: number;
    /** The identity service's (IAS) TLS port. */
    identity: number;
    cloudConnectorApi: number;
    /**
     * The ports of the TCP and mail CRs, by Service (`<cr>.<namespace>`, `<cr>-<tenant>.<namespace>`); kept current
     * as CRs come and go. The CR's `spec.service.port` when it is above 1024 and free, else a free port.
     */
    transparentProxyCrs: Record<string, number>;
  } & ConnectivityPorts;
  /** {@link EmulatorHandle.ports}`.transparentProxyCrs` once the listeners follow every change made so far. */
  transparentProxyCrPorts(): Promise<Record<string, number>>;
  /** The CA certificate file for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** The typed control API client, over HTTP to this emulator (with its control token, if any). */
  control: ControlClient;
  /** The environment for the app under test: VCAP_SERVICES, NODE_EXTRA_CA_CERTS. Always current. */
  readonly env: Record<string, string>;
  /** Replace the scenario: an object, a scenario file (JSON or YAML) or `'default'`; a bad one throws and changes nothing. */
  loadScenario(scenario: string | object): void;
  /** Stop the servers; with a `stateDir`, after writing the state one last time. */
  stop(): Promise<void>;
}

/**
 * A scenario file's path (or `'default'`) read and parsed, not yet validated: the core validates it once and names
 * the file when it refuses it. Anything else as given (the core validates it).
 */
function resolveScenario(scenario: unknown, maxBytes?: number): unknown {
  if (typeof scenario !== 'string') return scenario;
  const file = resolve(scenario === 'default' ? defaultScenarioFile : scenario);
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return readScenarioText(readScenarioFile(file, maxBytes), file); // names the file and why it cannot be read
  }
  const known = parsedFiles.get(file);
  const fits = stats.size <= (maxBytes ?? defaultLimits.maxSnapshotBytes);
  if (fits && known && known.mtimeMs === stats.mtimeMs && known.size === stats.size) return known.parsed;
  const parsed = readScenarioText(readScenarioFile(file, maxBytes), file);
  if (stats.size <= 1024 * 1024) parsedFiles.set(file, { mtimeMs: stats.mtimeMs, size: stats.size, parsed });
  return parsed;
}

/**
 * Scenario files of up to 1 MiB, parsed (and, by the core, validated) once per process while their size and
 * modification time stay the same: an emulator per test with the same file neither parses its YAML nor runs the
 * schema again. A larger file is read every time, so a process does not keep it.
 */
const parsedFiles = new Map<string, { mtimeMs: number; size: number; parsed: ParsedScenario }>();

export { StartOptionError };

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || /^::ffff:127(\.\d{1,3}){3}$/.test(bare);
}

/** Refuses the bundled key on a network interface (unless allowed) and warns about a control API without a token there. */
function checkExposure(options: StartOptions, host: string): void {
  if (isLoopbackHost(host)) return;
  if (options.signingKey === 'bundled' && !options.allowBundledKeyOnNetwork) {
    throw new StartOptionError(
      `listening on ${host} (not loopback) with the bundled signing key is refused: that key is public, so anybody who reaches the emulator could sign tokens it accepts. ` +
        "Leave signingKey (--signing-key) unset to use this installation's own key, or allow it with allowBundledKeyOnNetwork (--allow-bundled-key-on-network)",
    );
  }
  if (!options.controlToken) {
    console.warn(
      `btp-emulator: warning: listening on ${host} (not loopback) without a control token: anybody who reaches the services port can steer the emulator and read its secrets (/_emulator/env, /_emulator/snapshot). ` +
        'Set one with --control-token or BTP_EMULATOR_CONTROL_TOKEN (controlToken); see docs/security.md',
    );
  }
}

/** Numeric start options: ports (0 picks a free one), and limits and timeouts, whole numbers of 1 or more as the CLI's flags. */
const portOptions = [
  'port',
  'advertisedPort',
  'httpProxyPort',
  'socksProxyPort',
  'backendHttpPort',
  'backendTcpPort',
  'smtpPort',
  'ldapPort',
  'transparentProxyPort',
  'identityPort',
  'advertisedIdentityPort',
  'cloudConnectorApiPort',
  'advertisedHttpProxyPort',
  'advertisedSocksProxyPort',
  'advertisedBackendPort',
] as const;
const countOptions = [
  'journalSize',
  'journalMaxBytes',
  'maxBodyBytes',
  'maxSnapshotBytes',
  'maxEntitiesPerLevel',
  'smtpMaxMessageBytes',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'idleTimeoutMs',
  'proxyBackendTimeoutMs',
  'socksHandshakeTimeoutMs',
  'socksConnectTimeoutMs',
] as const;

/** A StartOptionError naming the first numeric option that is out of range, before anything is opened. */
function checkNumericOptions(options: StartOptions & { port?: number }): void {
  for (const name of portOptions) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= 65535))
      throw new StartOptionError(`${name} must be a port number from 0 to 65535 (0 picks a free port), got ${JSON.stringify(value)}`);
  }
  for (const name of countOptions) {
    const value = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1))
      throw new StartOptionError(`${name} must be a whole number of 1 or more, got ${JSON.stringify(value)}`);
  }
}

/** The services ports `port: 'sticky'` gave out in this process that no running emulator holds now. */
const stickyKey = Symbol.for('btp-connectivity-emulator.sticky-ports');
const stickySlot = globalThis as { [stickyKey]?: number[] };
const freeStickyPorts = (stickySlot[stickyKey] ??= []);

/**
 * Listen on a sticky port: one this process had before, else a random one below Linux's ephemeral range (32768–60999),
 * so that no outgoing connection of this machine takes it between two emulators.
 */
async function listenSticky(host: string, listen: (port: number) => Promise<number>): Promise<number> {
  const known = freeStickyPorts.shift();
  if (known !== undefined) return listenAs('port', known, host, () => listen(known));
  for (let attempt = 0; ; attempt++) {
    const candidate = 21000 + Math.floor(Math.random() * 11000);
    try {
      return await listen(candidate);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
    }
  }
}

export async function startEmulator(given: StartOptions = {}): Promise<EmulatorHandle> {
  const sticky = given.port === 'sticky';
  // With a sticky services port every other port is picked free, as with port 0.
  const options: StartOptions & { port?: number } = sticky ? { ...given, port: 0 } : (given as StartOptions & { port?: number });
  const advertisedHost = options.advertisedHost ?? 'localhost';
  const host = options.host ?? '127.0.0.1';
  checkNumericOptions(options);
  checkExposure(options, host);
  const tls = ensureTlsMaterial(options.tlsDir, advertisedHost === 'localhost' ? [] : [advertisedHost]);
  const ca = { certPem: tls.caPem, keyPem: tls.caKeyPem };
  const core = await EmulatorCore.create({
    ...options,
    // This installation's own key unless told otherwise: the bundled one is public (docs/security.md).
    signingKey: options.signingKey ?? tls.signingKey,
    scenario: withDestinationCrs(
      resolveScenario(options.scenario, options.maxSnapshotBytes) ?? minimalScenario,
      readDestinationCrFiles(options.destinationCrs ?? [], options.maxSnapshotBytes),
    ),
    fetch: createMtlsFetch(tls.caPem, options.fetch),
    certificateAuthority: ca,
    issueClientCertificate: (subject) => issueClientCertificate(ca, subject),
    verifiesClientCertificates: true,
    cloudConnectorCertificates: { ppCa: tls.caPem, system: tls.certPem, ui: tls.certPem },
  });
  const stateDir = options.stateDir === undefined ? undefined : await openStateDir(options.stateDir, core);
  const server = createDualProtocolServer(
    getRequestListener(withDroppedConnections(core.fetch)),
    { key: tls.keyPem, cert: tls.certPem, ca: tls.caPem },
    resolveTimeouts(options),
  );
  const wantedPort = options.port ?? defaultPorts.services;
  const port = sticky
    ? await listenSticky(host, (candidate) => server.listen(candidate, host))
    : await listenAs('port', wantedPort, host, () => server.listen(wantedPort, host));
  /** A sticky port is free for the next sticky start once its server is closed. */
  const releaseSticky = (): void => {
    if (sticky && !freeStickyPorts.includes(port)) freeStickyPorts.push(port);
  };
  core.setBoundAddress({ host, port });
  const publicPort = options.advertisedPort ?? port;

  const serviceUrls = {
    services: `http://${advertisedHost}:${publicPort}`,
    servicesTls: `https://${advertisedHost}:${publicPort}`,
    uaaDomain: `${advertisedHost}:${publicPort}`,
    control: `http://${advertisedHost}:${publicPort}/_emulator`,
  };
  const identityServer = createTlsOnlyServer(getRequestListener(withDroppedConnections(core.fetch)), tls, resolveTimeouts(options), [
    ...new Set(['localhost', advertisedHost.toLowerCase()]),
  ]);
  const wantedIdentityPort = options.identityPort ?? (options.port === 0 ? 0 : defaultPorts.identity);
  const identityPort = await listenAs('identityPort', wantedIdentityPort, host, () =>
    identityServer.listen(wantedIdentityPort, host),
  ).catch(async (err: unknown) => {
    await server.close();
    throw err;
  });
  // 127.0.0.1 rather than localhost: the SAP Cloud SDK needs a dot in the host, and the provider's IAS needs no DNS then.
  const identityOrigin = `https://${advertisedHost === 'localhost' ? '127.0.0.1' : advertisedHost}:${options.advertisedIdentityPort ?? identityPort}`;
  const publicUrls: PublicUrls = { uaaDomain: serviceUrls.uaaDomain, serviceUrl: serviceUrls.services, identityOrigin };
  core.setUrls(publicUrls);
  const closeServers = async (): Promise<void> => {
    await identityServer.close();
    await server.close();
    releaseSticky();
  };
  core.extraEnv = { NODE_EXTRA_CA_CERTS: tls.caFile };
  const connectivity = await startConnectivity(core, {
    ...options,
    host,
    advertisedHost,
    caFile: tls.caFile,
    anyPort: options.port === 0,
  }).catch(async (err: unknown) => {
    await closeServers();
    throw err;
  });
  const transparentProxy = await startTransparentProxy(core, {
    port: options.transparentProxyPort ?? (options.port === 0 ? 0 : defaultPorts.transparentProxy),
    host,
    caFile: tls.caFile,
    caPem: tls.caPem,
    timeouts: resolveTimeouts(options),
    anyPort: options.port === 0,
    ...(options.smtpMaxMessageBytes ? { smtpMaxMessageBytes: options.smtpMaxMessageBytes } : {}),
  }).catch(async (err: unknown) => {
    await connectivity.stop();
    await closeServers();
    throw err;
  });
  const sccApi = await startCloudConnectorApi(core, {
    port: options.cloudConnectorApiPort ?? (options.port === 0 ? 0 : defaultPorts.cloudConnectorApi),
    host,
    key: tls.keyPem,
    cert: tls.certPem,
    timeouts: resolveTimeouts(options),
  }).catch(async (err: unknown) => {
    await transparentProxy.stop();
    await connectivity.stop();
    await closeServers();
    throw err;
  });
  core.setBoundAddress({ otherPorts: [sccApi.port] });
  const publicProxyPorts = {
    httpProxy: options.advertisedHttpProxyPort ?? connectivity.ports.httpProxy,
    socks5: options.advertisedSocksProxyPort ?? connectivity.ports.socks5,
    backendHttp: options.advertisedBackendPort ?? connectivity.ports.backendHttp,
  };
  // Behind mapped ports (a container) the bindings and `{{backend}}` carry the ports the app sees.
  core.setUrls({ ...core.urls, httpProxyPort: publicProxyPorts.httpProxy, socksProxyPort: publicProxyPorts.socks5 });
  core.extraPlaceholders.backend = `http://${advertisedHost}:${publicProxyPorts.backendHttp}`;
  const urls: EmulatorUrls = {
    ...serviceUrls,
    httpProxy: `http://${advertisedHost}:${publicProxyPorts.httpProxy}`,
    socks5: `socks5://${advertisedHost}:${publicProxyPorts.socks5}`,
    backend: `http://${advertisedHost}:${publicProxyPorts.backendHttp}`,
    transparentProxy: `http://${advertisedHost}:${transparentProxy.port}`,
    identity: identityOrigin,
    cloudConnectorApi: `https://${advertisedHost}:${sccApi.port}`,
  };

  // Object.assign, not a spread: `env` stays the shared handle's getter, always current.
  return Object.assign(createSharedHandle(core, { resolveScenario: (scenario) => resolveScenario(scenario, options.maxSnapshotBytes) }), {
    urls,
    ports: {
      services: port,
      ...connectivity.ports,
      transparentProxy: transparentProxy.port,
      identity: identityPort,
      cloudConnectorApi: sccApi.port,
      transparentProxyCrs: transparentProxy.crPorts.ports,
    },
    transparentProxyCrPorts: async () => {
      await transparentProxy.crPorts.reconcile();
      return { ...transparentProxy.crPorts.ports };
    },
    caFile: tls.caFile,
    control: new ControlClient(urls.control, { token: options.controlToken }),
    stop: async () => {
      await sccApi.stop();
      await transparentProxy.stop();
      await connectivity.stop();
      await closeServers();
      await stateDir?.close();
    },
  });
}
