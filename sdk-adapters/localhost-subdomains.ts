/**
 * Opt-in: make `<name>.localhost` resolve to 127.0.0.1 in this Node process. The identity service's subscriber
 * tenants live one label below `localhost:<identity port>` (`https://<subdomain>.localhost:20006`, as @sap/xssec's
 * issuer check wants), and glibc's resolver does not answer `*.localhost` (Node's `dns.lookup` says ENOTFOUND),
 * so an app that validates a subscriber's IAS token with `IdentityService` (its JWKS is fetched from the token's
 * issuer), or fetches a subscriber's token, needs this. It wraps `dns.lookup`, which `node:http(s)`, `net`, `tls`
 * and `fetch` use; every other name is looked up as before. See docs/ias.md.
 */
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

const loopback = '127.0.0.1';
let original: typeof dns.lookup | undefined;

/** Whether a host name is `localhost` or a name below it (RFC 6761: both always mean this machine). */
function isLocalhostName(host: string): boolean {
  return /^([a-z0-9-]+\.)*localhost\.?$/i.test(host) && host.toLowerCase().replace(/\.$/, '') !== 'localhost';
}

/**
 * Resolve `*.localhost` to 127.0.0.1 from now on (`localhost` itself is left to the system). Returns a function that
 * puts `dns.lookup` back; calling this twice is harmless.
 */
export function resolveLocalhostSubdomains(): () => void {
  if (!original) {
    const system = dns.lookup;
    original = system;
    const wrapped = function lookup(hostname: string, options: unknown, callback?: unknown): void {
      const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
      const opts = (typeof options === 'object' && options !== null ? options : {}) as dns.LookupOptions;
      if (typeof hostname === 'string' && isLocalhostName(hostname) && opts.family !== 6) {
        process.nextTick(() => (opts.all ? cb(null, [{ address: loopback, family: 4 }]) : cb(null, loopback, 4)));
        return;
      }
      (system as (...args: unknown[]) => void).call(dns, hostname, options, callback);
    };
    dns.lookup = wrapped as typeof dns.lookup;
    syncBuiltinESMExports(); // `import { lookup } from 'node:dns'` sees it too
  }
  return () => {
    if (original) dns.lookup = original;
    original = undefined;
    syncBuiltinESMExports();
  };
}
