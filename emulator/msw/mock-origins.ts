import { type PublicUrls } from '../core/urls.ts';
/**
 * Where the MSW face pretends the emulator lives. There is no socket: the bindings point at made-up hosts
 * and the handlers answer every request for them. The default host has no dot, like the socket face's
 * `localhost`: XSUAA reads a tenant from the first label of a dotted host, so a dotted base host would make
 * the faces differ. An unresolvable name also means a request that slips past MSW fails instead of reaching
 * an emulator that happens to listen on localhost:20000.
 */

export const defaultServicesUrl = 'http://btp-emulator:20000';
export const defaultBackendUrl = 'http://btp-backend:20010';

export interface MockUrls {
  /** Base URL of XSUAA, the Destination Service and the control API, as the bindings advertise it. */
  services: string;
  /** `host:port` written into `uaadomain`; XSUAA answers `https://<uaaDomain>` and `https://<subdomain>.<uaaDomain>`. */
  uaaDomain: string;
  /** Base URL of the fake backend: `{{backend}}` in scenario destinations; the backend stubs answer here. */
  backend: string;
}

export function resolveMockUrls(options: { servicesUrl?: string; backendUrl?: string }): MockUrls {
  const services = new URL(options.servicesUrl ?? defaultServicesUrl);
  const backend = new URL(options.backendUrl ?? defaultBackendUrl);
  return { services: services.origin, uaaDomain: services.host, backend: backend.origin };
}

export function publicUrlsOf(urls: MockUrls): PublicUrls {
  return { uaaDomain: urls.uaaDomain, serviceUrl: urls.services };
}

/** The backend's placeholders, as the socket face sets them once its backend listens. */
export function backendPlaceholders(urls: MockUrls): Record<string, string> {
  const backend = new URL(urls.backend);
  const port = backend.port || (backend.protocol === 'https:' ? '443' : '80');
  return { backend: urls.backend, backendHost: backend.hostname, backendHttpPort: port };
}

/** The emulator's own hosts: the services host (http or https) and `<subdomain>.<uaaDomain>` tenant hosts. */
export function isEmulatorUrl(url: URL, urls: MockUrls): boolean {
  return url.host === urls.uaaDomain || url.host.endsWith(`.${urls.uaaDomain}`);
}

export function isBackendUrl(url: URL, urls: MockUrls): boolean {
  return url.origin === urls.backend;
}
