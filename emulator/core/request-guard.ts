/**
 * Who may talk to the services port (docs/security.md):
 * - the Host rule (against DNS rebinding): every route but `/_emulator/health` needs a `Host` that names this
 *   emulator — its advertised host, loopback (`localhost`, `127.0.0.1`, `[::1]`), `<subdomain>.` either of them (the
 *   tenant hosts XSUAA answers), the interface it is bound to (on any port), or an `allowedHosts` entry;
 * - the Origin rule (against cross-site requests from web pages): a `/_emulator` route (but health) refuses an
 *   `Origin` that is not the emulator's own (`http(s)://` + a host the Host rule accepts) or an `allowedOrigins` entry,
 *   and a browser request marked `Sec-Fetch-Site: cross-site`. Even a "simple" `text/plain` POST, which needs no preflight.
 * A refusal is a 403 with a JSON error naming the rule and the option that allows it, and changes nothing.
 */
import { type PublicUrls } from './urls.ts';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';

/** A start option the emulator refuses (a malformed allow-list entry, the bundled key on a network interface, …); the message says the fix. */
export class StartOptionError extends Error {
  override name = 'StartOptionError';
}

export interface RequestGuardOptions {
  /**
   * Web origins the control API accepts besides its own, e.g. `http://localhost:5173` (a dev server's page that
   * calls `/_emulator`); `'*'` accepts every origin. Flag: `--allowed-origin`.
   */
  allowedOrigins?: string[];
  /**
   * Host names the services port answers besides its own: `name` (any port), `name:port`, `.example.com` (that
   * domain and its subdomains), or `'*'` (every Host: the DNS-rebinding check is off). Flag: `--allowed-host`.
   */
  allowedHosts?: string[];
}

/** Where the face listens: its port (and interface) is also a name of the emulator. */
export interface BoundAddress {
  host?: string;
  port?: number;
  /** Further ports of this emulator whose pages are its own origins (the Cloud Connector admin port). */
  otherPorts?: number[];
}

const loopbackNames = ['localhost', '127.0.0.1', '[::1]'];
const wildcardInterfaces = new Set(['0.0.0.0', '::', '[::]', '']);
const controlBase = '/_emulator';
const healthPath = `${controlBase}/health`;

/** `host[:port]` split, lower case; IPv6 stays bracketed. undefined when it is not an authority. */
function splitAuthority(authority: string): { name: string; port?: number } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(authority.trim());
  if (!match) return undefined;
  return { name: match[1].toLowerCase(), ...(match[2] === undefined ? {} : { port: Number(match[2]) }) };
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class RequestGuard {
  private readonly allowedOrigins: Set<string>;
  private readonly anyOrigin: boolean;
  private readonly allowedHosts: { name: string; port?: number; suffix: boolean }[];
  private readonly anyHost: boolean;
  private readonly urls: () => PublicUrls;
  private readonly bound: () => BoundAddress;

  constructor(options: RequestGuardOptions, urls: () => PublicUrls, bound: () => BoundAddress) {
    this.urls = urls;
    this.bound = bound;
    const origins = options.allowedOrigins ?? [];
    this.anyOrigin = origins.includes('*');
    this.allowedOrigins = new Set(origins.filter((o) => o !== '*').map((o) => normaliseOrigin(o, 'allowedOrigins (--allowed-origin)')));
    const hosts = options.allowedHosts ?? [];
    this.anyHost = hosts.includes('*');
    this.allowedHosts = hosts
      .filter((h) => h !== '*')
      .map((entry) => {
        const suffix = entry.startsWith('.');
        const parsed = splitAuthority(suffix ? entry.slice(1) : entry);
        if (!parsed || !parsed.name)
          throw new StartOptionError(`allowedHosts (--allowed-host): "${entry}" is not a host name, host:port, .domain or *`);
        return { ...parsed, suffix };
      });
  }

  /** The ports this emulator is reached on: the advertised one and the bound one. */
  private ownPorts(): Set<number> {
    const advertised = new URL(this.urls().serviceUrl);
    const ports = new Set([Number(advertised.port || 80)]);
    const uaaPort = splitAuthority(this.urls().uaaDomain)?.port;
    if (uaaPort !== undefined) ports.add(uaaPort);
    const bound = this.bound().port;
    if (bound) ports.add(bound);
    for (const other of this.bound().otherPorts ?? []) ports.add(other);
    return ports;
  }

  /** Names that are this emulator, each also with any `<subdomain>.` in front. */
  private ownNames(): string[] {
    const names = new Set([
      new URL(this.urls().serviceUrl).hostname.toLowerCase(),
      splitAuthority(this.urls().uaaDomain)?.name ?? '',
      ...loopbackNames,
    ]);
    const boundHost = this.bound().host;
    if (boundHost !== undefined && !wildcardInterfaces.has(boundHost)) names.add(bracketed(boundHost.toLowerCase()));
    names.delete('');
    return [...names];
  }

  /**
   * Whether `authority` (a Host header or an origin's host) names this emulator or an allowed host. `anyOwnPort`:
   * the emulator's own names count on every port (the Host rule: DNS rebinding changes the name, never the port,
   * and `Host: localhost` without a port is what in-process callers of `core.fetch` send); an origin must also be
   * on one of the emulator's ports, since another port on the same host is another site.
   */
  private isOwnAuthority(authority: string, defaultPort: number, anyOwnPort = false): boolean {
    const parsed = splitAuthority(authority);
    if (!parsed) return false;
    const port = parsed.port ?? defaultPort;
    const name = parsed.name;
    if (name.endsWith('.')) return false;
    if ((anyOwnPort || this.ownPorts().has(port)) && this.ownNames().some((own) => name === own || name.endsWith(`.${own}`))) return true;
    return this.allowedHosts.some(
      (h) => (h.port === undefined || h.port === port) && (name === h.name || (h.suffix && name.endsWith(`.${h.name}`))),
    );
  }

  hostAllowed(authority: string, defaultPort: number): boolean {
    return this.anyHost || this.isOwnAuthority(authority, defaultPort, true);
  }

  originAllowed(origin: string): boolean {
    if (this.anyOrigin) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // `null` (sandboxed frames, file: pages) and anything else that is not an origin
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (this.allowedOrigins.has(url.origin)) return true;
    return this.isOwnAuthority(url.host, url.protocol === 'https:' ? 443 : 80);
  }

  /** What the messages list as this emulator's names. */
  describeOwn(): string {
    const ports = [...this.ownPorts()].join(' or ');
    return `${this.ownNames().join(', ')} (and <subdomain>. of each) on port ${ports}`;
  }

  middleware(): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      const url = new URL(c.req.url);
      if (url.pathname === healthPath) return next();
      if (!this.hostAllowed(url.host, url.protocol === 'https:' ? 443 : 80)) {
        const name = splitAuthority(url.host)?.name ?? url.host;
        const message =
          `Host ${url.host} is not a name of this emulator (${this.describeOwn()}): requests for other names are refused against DNS rebinding. ` +
          `If the emulator is reached by that name, allow it with --allowed-host ${name} (allowedHosts)`;
        c.set('reason', message);
        return c.json({ error: 'forbidden_host', rule: 'host', message }, 403);
      }
      if (!url.pathname.startsWith(`${controlBase}/`) && url.pathname !== controlBase) return next();
      const origin = c.req.header('origin');
      if (origin !== undefined ? !this.originAllowed(origin) : c.req.header('sec-fetch-site') === 'cross-site') {
        const shown = origin ?? 'of a cross-site request (Sec-Fetch-Site: cross-site)';
        const message =
          `the control API refuses requests from the web origin ${shown}: only the emulator's own origins (http(s):// ${this.describeOwn()}) may use it, so that a web page cannot steer it. ` +
          `To let a page of that origin call it, start with --allowed-origin ${origin ?? '<origin>'} (allowedOrigins)`;
        c.set('reason', message);
        return c.json({ error: 'forbidden_origin', rule: 'origin', message }, 403);
      }
      return next();
    };
  }
}

function normaliseOrigin(value: string, option: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  } catch {
    // falls through to the error
  }
  throw new StartOptionError(`${option}: "${value}" is not an origin like http://localhost:5173 (or * for any)`);
}
