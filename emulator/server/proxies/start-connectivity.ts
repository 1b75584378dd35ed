/**
 * Starts the on-premise half of the emulator next to the services port: the fake backend (HTTP, TCP echo,
 * SMTP, LDAP), then the HTTP and SOCKS5 proxies; tells the core where they are (binding ports, `{{backend}}`
 * placeholders for scenario destinations and Cloud Connector mappings).
 */
import { defaultPorts } from '../../core/ports.ts';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { startBackend } from '../backend/start-backend.ts';
import { defaultSocks5Timeouts } from './socks5-server.ts';
import { startProxies } from './start-proxies.ts';
import { resolveTimeouts, type ConnectionTimeouts } from '../timeouts.ts';

export { defaultPorts as defaultConnectivityPorts } from '../../core/ports.ts';

export interface ConnectivityOptions extends ConnectionTimeouts {
  /** HTTP proxy port (20003; 0 = any free port). */
  httpProxyPort?: number;
  /** SOCKS5 proxy port (20004). */
  socksProxyPort?: number;
  /** Fake backend HTTP port (20010). */
  backendHttpPort?: number;
  /** Fake backend TCP echo port (20011). */
  backendTcpPort?: number;
  /** Fake backend SMTP sink port (20025). */
  smtpPort?: number;
  /** Fake backend LDAP directory port (20389). */
  ldapPort?: number;
  /** How long the HTTP proxy waits for the backend's answer before 504. Default 60 s. */
  proxyBackendTimeoutMs?: number;
  /** How long a SOCKS5 client may take from connecting to the CONNECT request being answered; then the connection is closed. Default: headersTimeoutMs (60 s). */
  socksHandshakeTimeoutMs?: number;
  /** How long SOCKS5 waits for the internal host's connection (TCPS: its TLS handshake too) before reply 04. Default 10 s. */
  socksConnectTimeoutMs?: number;
  /** Largest mail the SMTP sink accepts, in bytes (advertised as SIZE; beyond it 552). Default 25 MiB. */
  smtpMaxMessageBytes?: number;
}

export interface ConnectivityPorts {
  httpProxy: number;
  socks5: number;
  backendHttp: number;
  backendTcp: number;
  smtp: number;
  ldap: number;
}

export interface RunningConnectivity {
  ports: ConnectivityPorts;
  stop(): Promise<void>;
}

/** With `anyPort` (the services port was 0), every port not given is 0 too, so parallel emulators never clash. */
export async function startConnectivity(
  core: EmulatorCore,
  options: ConnectivityOptions & { host: string; advertisedHost: string; caFile: string; anyPort: boolean },
): Promise<RunningConnectivity> {
  const pick = (given: number | undefined, fallback: number): number => given ?? (options.anyPort ? 0 : fallback);
  const d = defaultPorts;
  const timeouts = resolveTimeouts(options);
  const backend = await startBackend(
    core,
    {
      http: pick(options.backendHttpPort, d.backendHttp),
      tcpEcho: pick(options.backendTcpPort, d.backendTcp),
      smtp: pick(options.smtpPort, d.smtp),
      ldap: pick(options.ldapPort, d.ldap),
    },
    options.host,
    { timeouts, smtpMaxMessageBytes: options.smtpMaxMessageBytes },
  );
  let proxies;
  try {
    proxies = await startProxies(core, {
      httpPort: pick(options.httpProxyPort, d.httpProxy),
      socksPort: pick(options.socksProxyPort, d.socks5),
      host: options.host,
      caFile: options.caFile,
      backendTimeoutMs: options.proxyBackendTimeoutMs ?? 60_000,
      socks5: {
        handshakeTimeoutMs: options.socksHandshakeTimeoutMs ?? timeouts.headersTimeoutMs,
        connectTimeoutMs: options.socksConnectTimeoutMs ?? defaultSocks5Timeouts.connectTimeoutMs,
      },
      timeouts,
    });
  } catch (err) {
    await backend.stop();
    throw err;
  }
  const internalHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  core.setUrls({
    ...core.urls,
    proxyHost: options.advertisedHost,
    httpProxyPort: proxies.ports.httpProxy,
    socksProxyPort: proxies.ports.socks5,
  });
  Object.assign(core.extraPlaceholders, {
    backend: `http://${options.advertisedHost}:${backend.ports.http}`,
    backendHost: internalHost,
    backendHttpPort: String(backend.ports.http),
    backendTcpPort: String(backend.ports.tcpEcho),
    backendSmtpPort: String(backend.ports.smtp),
    backendLdapPort: String(backend.ports.ldap),
  });
  return {
    ports: {
      ...proxies.ports,
      backendHttp: backend.ports.http,
      backendTcp: backend.ports.tcpEcho,
      smtp: backend.ports.smtp,
      ldap: backend.ports.ldap,
    },
    stop: async () => {
      await proxies.stop();
      await backend.stop();
    },
  };
}
