/**
 * The fake on-prem LDAP server (ldapjs): simple bind against the scenario's bind users, search with ldapjs's
 * filters (equality, presence, substring, and/or/not, …) over the directory of services/backend/ldap-directory.ts.
 * The directory is read-only: add, modify, delete and modify DN are refused (insufficientAccessRights before a
 * bind, unwillingToPerform after one). A connection idle for longer than `socketTimeoutMs` is closed; a request
 * the parser cannot read gets protocolError and the connection is closed; nothing a client sends stops the server.
 */
import type { Server as NetServer, Socket } from 'node:net';
import ldap from 'ldapjs';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { ldapBind, ldapResult, ldapSearch, type LdapDirectory, type LdapScope } from '../../services/backend/ldap-directory.ts';

export interface LdapServerOptions {
  /** How long a connection may sit idle between requests before it is closed. Default 60 s. */
  socketTimeoutMs?: number;
}

export interface RunningLdapServer {
  server: ldap.Server;
  sockets: Set<Socket>;
}

/** An error ldapjs answers with: its `code` is the LDAP result code, its message the diagnostic message. */
function ldapError(code: number, message: string): Error & { code: number } {
  return Object.assign(new Error(message), { code });
}

/** What the handlers read of ldapjs 3's requests and responses (its bundled typings are of ldapjs 2). */
type Next = (err?: Error) => void;
interface LdapRequest {
  connection: object;
  dn: { toString(): string };
}
/** Simple binds only: ldapjs refuses a SASL bind before a handler sees it. */
interface BindRequest extends LdapRequest {
  credentials?: string;
}
interface SearchRequest extends LdapRequest {
  scopeName: string;
  sizeLimit: number;
  filter: { matches(obj: object, strictAttrCase?: boolean): boolean };
}
interface LdapResponse {
  end(): void;
  send(entry: { dn: string; attributes: Record<string, string[]> }): void;
}

/** ldapjs 3's scope names. */
const scopes: Record<string, LdapScope> = { base: 'base', single: 'one', subtree: 'sub' };

export function createLdapServer(core: EmulatorCore, options: LdapServerOptions = {}): RunningLdapServer {
  const server = ldap.createServer();
  const sockets = new Set<Socket>();
  /** Connections that bound as a bind user (an anonymous or failed bind takes a connection out). */
  const bound = new WeakSet<object>();
  const directory = (): LdapDirectory => core.state.onPrem.ldap;

  // A client's bad bytes and its connection's errors are the client's: the server goes on.
  server.on('error', () => undefined);
  server.on('clientError', () => undefined);
  const net = (server as unknown as { server: NetServer }).server;
  net.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.setTimeout(options.socketTimeoutMs ?? 60_000, () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
  });

  server.bind('', (req: BindRequest, res: LdapResponse, next: Next) => {
    const connection = req.connection;
    bound.delete(connection);
    const result = ldapBind(directory(), req.dn.toString(), String(req.credentials ?? ''));
    if (!result.ok) return next(ldapError(result.code, result.message));
    if (!result.anonymous) bound.add(connection);
    res.end();
    return next();
  });

  server.search('', (req: SearchRequest, res: LdapResponse, next: Next) => {
    const connection = req.connection;
    const scope = scopes[req.scopeName] ?? 'base';
    const filter = req.filter;
    const result = ldapSearch(directory(), {
      baseDn: req.dn.toString(),
      scope,
      sizeLimit: req.sizeLimit,
      bound: bound.has(connection),
      matches: (attributes) => filter.matches(attributes, false),
    });
    if (!result.ok) return next(ldapError(result.code, result.message));
    for (const entry of result.entries) res.send({ dn: entry.dn, attributes: entry.attributes });
    if (result.truncated) return next(ldapError(ldapResult.sizeLimitExceeded, `more than ${req.sizeLimit} entries match`));
    res.end();
    return next();
  });

  const readOnly = (req: LdapRequest, _res: unknown, next: Next): void =>
    next(
      bound.has(req.connection)
        ? ldapError(ldapResult.unwillingToPerform, "the emulator's directory is read-only: it is seeded from the scenario (backend.ldap)")
        : ldapError(ldapResult.insufficientAccessRights, 'writes need a bind, and the directory is read-only'),
    );
  server.add('', readOnly);
  server.modify('', readOnly);
  server.del('', readOnly);
  server.modifyDN('', readOnly);
  return { server, sockets };
}
