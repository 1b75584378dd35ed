/**
 * The fake on-prem LDAP server (ldapjs): simple bind against the scenario's bind users, search with ldapjs's
 * filters (equality, presence, substring, and/or/not, …) over the directory of services/backend/ldap-directory.ts.
 * The directory is read-only: add, modify, delete and modify DN are refused (insufficientAccessRights before a
 * bind, unwillingToPerform after one). A connection idle for longer than `socketTimeoutMs` is closed, and so is
 * one that announces a message over 1 MiB or sends bytes the parser cannot read; nothing a client sends stops the
 * server.
 */
import type { Server as NetServer, Socket } from 'node:net';
import ldap from 'ldapjs';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { ldapBind, ldapResult, ldapSearch, type LdapDirectory, type LdapScope } from '../../services/backend/ldap-directory.ts';

export interface LdapServerOptions {
  /** How long a connection may sit idle between requests before it is closed. Default 60 s. */
  socketTimeoutMs?: number;
}

/** The largest LDAP message a client may send (a request of this directory is a few hundred bytes). */
const maxMessageBytes = 1024 * 1024;

/**
 * Follows the BER framing of the LDAP messages a client sends (tag, length, body) and says no to one whose declared
 * length is over `max` or whose length cannot be read, before ldapjs's parser would buffer it whole.
 */
class BerFrameGuard {
  private header: number[] = [];
  private pending = 0;
  private readonly max: number;
  constructor(max = maxMessageBytes) {
    this.max = max;
  }

  /** False once the client declared a message over the limit (or an unreadable length): close the connection. */
  accept(chunk: Uint8Array): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.pending > 0) {
        const take = Math.min(this.pending, chunk.length - i);
        this.pending -= take;
        i += take;
        continue;
      }
      const h = this.header;
      h.push(chunk[i++]);
      if (h.length < 2) continue;
      let length = h[1];
      if (length >= 0x80) {
        const octets = length & 0x7f;
        if (octets === 0 || octets > 4) return false;
        if (h.length < 2 + octets) continue;
        length = h.slice(2).reduce((n, b) => n * 256 + b, 0);
      }
      if (length > this.max) return false;
      this.pending = length;
      this.header = [];
    }
    return true;
  }
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
    const guard = new BerFrameGuard();
    socket.prependListener('data', (chunk: Buffer) => {
      if (!guard.accept(chunk)) socket.destroy();
    });
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
