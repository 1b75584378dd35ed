/**
 * Which CR a request is for, by its `Host`: the names of the Services the real proxy creates for each CR
 * (schema.ts `crServices`), as a pod in the cluster writes them: `<service>.<namespace>`,
 * `<service>.<namespace>.svc[.cluster.local]`, or `<service>` alone (unique across namespaces here, since the
 * emulator does not know the caller's namespace); with or without a port. `<service>.<namespace>.localhost` also
 * works, for clients that resolve `*.localhost` to loopback (curl, browsers). Nothing else is routed: the proxy
 * reaches only the destinations of its CRs.
 */
import { crServices, type DestinationCustomResource } from './schema.ts';
import { ambiguousRoute, noRoute, type TransparentProxyError } from './errors.ts';
import type { TransparentProxyState } from './state.ts';

export interface Route {
  cr: DestinationCustomResource;
  /** `<namespace>/<name>`, for messages and the journal. */
  key: string;
  /** The tenant a per-tenant Service (`<cr>-<tenant>`) stands for. */
  tenant?: string;
}

const clusterSuffixes = ['.svc.cluster.local', '.svc', '.localhost'];

/** The host name of an authority, lower case, without port, trailing dot and cluster suffix. */
export function hostName(authority: string): string {
  let host = authority.trim().toLowerCase();
  if (!host.startsWith('[')) host = host.replace(/:\d*$/, '');
  host = host.replace(/\.$/, '');
  for (const suffix of clusterSuffixes) if (host.endsWith(suffix)) return host.slice(0, -suffix.length);
  return host;
}

export function routeOf(
  resources: TransparentProxyState['transparentProxy']['resources'],
  authority: string,
): Route | TransparentProxyError {
  const host = hostName(authority);
  const labels = host.split('.');
  const direct = labels.length === 2 ? resources.get(`${labels[1]}/${labels[0]}`) : undefined;
  if (direct) return { cr: direct, key: `${labels[1]}/${labels[0]}` };
  const hits: Route[] = [];
  if (labels.length <= 2) {
    const [service, namespace] = labels;
    for (const [key, cr] of resources) {
      if (namespace !== undefined && cr.metadata.namespace !== namespace) continue;
      const match = crServices(cr).find((s) => s.name === service);
      if (match) hits.push({ cr, key, ...(match.tenant ? { tenant: match.tenant } : {}) });
    }
  }
  if (hits.length === 1) return hits[0];
  const known = [...resources.values()].flatMap((cr) => crServices(cr).map((s) => `${s.name}.${s.namespace}`));
  if (hits.length > 1)
    return ambiguousRoute(
      host,
      hits.map((h) => `${labels[0]}.${h.cr.metadata.namespace}`),
    );
  return noRoute(authority, known.slice(0, 20));
}
