/**
 * Starts the fake on-prem system: HTTP (echo, stubs, OData sample), a TCP echo, the SMTP sink and the LDAP
 * directory. Only the
 * Cloud Connector mappings make them reachable for an app; tests may also call them directly as a baseline.
 */
import type { Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { createHttpBackend } from './http-backend.ts';
import { createLdapServer } from './ldap-server.ts';
import { createSmtpSink } from './smtp-sink.ts';
import { createTcpEcho } from './tcp-echo.ts';
import { listenAs } from '../start-errors.ts';
import { resolveTimeouts, type ConnectionTimeouts } from '../timeouts.ts';

export interface BackendPorts {
  http: number;
  tcpEcho: number;
  smtp: number;
  ldap: number;
}

export interface RunningBackend {
  ports: BackendPorts;
  stop(): Promise<void>;
}

/** Listen on `port` (0: a free one) and answer the bound port; a port in use is a PortInUseError naming `option`. */
export function listenOn(server: NetServer | Server, port: number, host: string, option: string): Promise<number> {
  return listenAs(
    option,
    port,
    host,
    () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as { port: number }).port);
        });
      }),
  );
}

export function closeServer(server: NetServer | Server, sockets: Iterable<Socket> = []): Promise<void> {
  for (const socket of sockets) socket.destroy();
  (server as Server).closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface BackendOptions {
  timeouts: Required<ConnectionTimeouts>;
  smtpMaxMessageBytes?: number;
}

export async function startBackend(
  core: EmulatorCore,
  ports: BackendPorts,
  host: string,
  options: BackendOptions = { timeouts: resolveTimeouts() },
): Promise<RunningBackend> {
  const http = createHttpBackend(core, options.timeouts);
  const tcp = createTcpEcho();
  const smtp = createSmtpSink(core, { maxMessageBytes: options.smtpMaxMessageBytes, socketTimeoutMs: options.timeouts.headersTimeoutMs });
  const ldap = createLdapServer(core, { socketTimeoutMs: options.timeouts.headersTimeoutMs });
  const ldapNet = (ldap.server as unknown as { server: NetServer }).server;
  const started: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((close) => close()));
  };
  try {
    const httpPort = await listenOn(http, ports.http, host, 'backendHttpPort');
    started.push(() => closeServer(http));
    const tcpPort = await listenOn(tcp.server, ports.tcpEcho, host, 'backendTcpPort');
    started.push(() => closeServer(tcp.server, tcp.sockets));
    const smtpPort = await listenOn(smtp.server, ports.smtp, host, 'smtpPort');
    started.push(() => new Promise((resolve) => smtp.close(() => resolve())));
    const ldapPort = await listenOn(ldapNet, ports.ldap, host, 'ldapPort');
    started.push(() => closeServer(ldapNet, ldap.sockets));
    return { ports: { http: httpPort, tcpEcho: tcpPort, smtp: smtpPort, ldap: ldapPort }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
