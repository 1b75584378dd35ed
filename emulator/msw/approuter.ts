/**
 * An approuter-style face: given an app's `xs-app.json`, MSW handlers answer the app's relative calls the way
 * the SAP approuter would — first matching route → destination (found through the core's Destination Service
 * with the destination binding's token) → request forwarded to the destination URL with its `authTokens`
 * header. URLs of the fake backend are answered by its stubs; OnPremise destinations go through the
 * scenario's Cloud Connector mappings. Routes with `authenticationType: xsuaa` run as a configured user.
 */
import { findTenant } from '../core/subaccount.ts';
import { type Tenant } from '../core/subaccount.ts';
import { http, type HttpHandler } from 'msw';
import type { EmulatorCore } from '../app/emulator-core.ts';
import { correlationIdOf } from '../core/journal-chains.ts';
import { isProxyOnlyHeader, passProxy } from '../services/connectivity-proxy/index.ts';
import { answerFromBackend } from './backend-responder.ts';
import type { BtpHandlers } from './create-btp-handlers.ts';
import { lookUpDestination, type FoundDestination } from './destination-lookup.ts';
import { isBackendUrl, isEmulatorUrl, type MockUrls } from './mock-origins.ts';
import { matchRoute, parseXsApp, type CompiledRoute } from './xs-app.ts';

export interface ApprouterOptions {
  /** The app's `xs-app.json` (the parsed object). */
  xsApp: unknown;
  /** Who is signed in for `authenticationType: xsuaa` routes. Default: the scenario's `defaultUser`, else its first user. */
  user?: string;
  /** Subdomain of the tenant the app is opened through. Default: the provider. */
  tenant?: string;
  /** Origin of the app's pages; only its requests are routed. Default: `location.origin` in a browser, else `http://app.localhost`. */
  appUrl?: string;
}

/** Request headers the approuter does not pass on to a destination. */
const droppedHeaders = ['host', 'cookie', 'authorization', 'connection', 'content-length', 'x-csrf-token', 'accept-encoding'];

const failure = (status: number, message: string): Response =>
  new Response(`approuter: ${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

function appOrigin(appUrl?: string): string {
  const location = (globalThis as { location?: { origin?: string } }).location;
  return new URL(appUrl ?? (location?.origin && location.origin !== 'null' ? location.origin : 'http://app.localhost')).origin;
}

function tenantNamed(core: EmulatorCore, subdomain?: string): Tenant | undefined {
  return subdomain ? findTenant(core.state, { subdomain }) : core.state.provider;
}

function forwardedHeaders(request: Request, found: FoundDestination, route: CompiledRoute, userJwt?: string): Headers | string {
  const headers = new Headers(request.headers);
  for (const name of droppedHeaders) headers.delete(name);
  for (const token of found.authTokens ?? []) {
    if (token.error) return `the destination's token could not be retrieved: ${token.error}`;
    if (token.http_header?.key) headers.set(token.http_header.key, token.http_header.value);
  }
  if (
    !found.authTokens?.length &&
    userJwt &&
    route.authenticationType === 'xsuaa' &&
    found.destinationConfiguration.forwardAuthToken === 'true'
  ) {
    headers.set('authorization', `Bearer ${userJwt}`);
  }
  return headers;
}

const plainText = { 'content-type': 'text/plain; charset=utf-8' };

/**
 * An OnPremise destination: the hop through the connectivity proxy, as the HTTP proxy makes it (the pipeline of
 * services/connectivity-proxy: faults, the Cloud Connector's decision, one journal entry), with the tenant the
 * app runs in standing for the connectivity binding. `send` gets the request for the internal host.
 */
async function throughProxy(
  core: EmulatorCore,
  tenant: Tenant,
  config: Record<string, string>,
  outgoing: { url: URL; method: string; headers: Headers; body?: ArrayBuffer },
  send: (internal: Request) => Promise<Response>,
): Promise<Response> {
  const { url, method } = outgoing;
  const { decision, finish } = await passProxy(core, {
    transport: 'approuter',
    method,
    target: url.href,
    started: performance.now(),
    correlationId: correlationIdOf((name) => outgoing.headers.get(name)),
    credential: { binding: tenant },
    locationId: config.CloudConnectorLocationId ?? '',
    to: {
      virtualHost: url.hostname,
      virtualPort: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      path: url.pathname,
      protocol: 'HTTP',
    },
  });
  if (decision.kind === 'drop') {
    finish({ status: 0, check: decision.check, reason: decision.reason });
    return Response.error();
  }
  if (decision.kind === 'fault') {
    finish({ status: decision.response.status, check: decision.check, reason: decision.reason });
    return new Response(decision.response.body, { status: decision.response.status, headers: decision.response.headers });
  }
  if (decision.kind === 'denied') {
    finish({ status: decision.status, check: decision.check, reason: decision.reason });
    return new Response(decision.body, { status: decision.status, headers: plainText });
  }
  const internal = new URL(url);
  internal.protocol = decision.access.protocol === 'HTTPS' ? 'https:' : 'http:';
  internal.hostname = decision.access.internalHost;
  internal.port = String(decision.access.internalPort);
  const headers = new Headers();
  outgoing.headers.forEach((value, name) => {
    if (!isProxyOnlyHeader(name)) headers.append(name, value);
  });
  try {
    const response = await send(new Request(internal, { method, headers, body: outgoing.body }));
    finish({ status: response.status });
    return response;
  } catch (err) {
    const reason = `the backend ${internal.host} is not reachable: ${(err as Error).message}`;
    finish({ status: 502, check: 'backend', reason });
    throw err;
  }
}

function joinUrl(base: string, path: string, search: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
  url.search = search;
  return url;
}

function send(core: EmulatorCore, urls: MockUrls, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (isBackendUrl(url, urls)) return answerFromBackend(core, request);
  if (isEmulatorUrl(url, urls)) return core.fetch(request);
  return fetch(request);
}

/** MSW handlers answering the app's requests that an `xs-app.json` route sends to a destination. */
export function createApprouterHandlers(btp: BtpHandlers, options: ApprouterOptions): HttpHandler[] {
  const { core, urls } = btp;
  const xsApp = parseXsApp(options.xsApp);
  const origin = appOrigin(options.appUrl);
  const routeFor = (request: Request): ReturnType<typeof matchRoute> => {
    const url = new URL(request.url);
    return url.origin === origin ? matchRoute(xsApp, url.pathname) : undefined;
  };

  const answer = async (request: Request): Promise<Response> => {
    const { route, path } = routeFor(request)!;
    const tenant = tenantNamed(core, options.tenant);
    if (!tenant)
      return failure(
        500,
        `tenant "${options.tenant}" is not a subdomain of the scenario; pass one of ${core.state.tenants.map((t) => t.subdomain).join(', ')}`,
      );
    let userJwt: string | undefined;
    if (route.authenticationType === 'xsuaa') {
      const user = options.user ?? core.state.defaultUser ?? core.state.users.keys().next().value;
      if (!user)
        return failure(
          401,
          `route ${route.index} needs a signed-in user (authenticationType xsuaa): pass \`user\` to createApprouterHandlers or add users to the scenario`,
        );
      userJwt = (await core.xsuaa.issueUserToken({ user, tenant: tenant.subdomain })).jwt;
    }
    const lookup = await lookUpDestination(core, urls, tenant, route.destination!, userJwt);
    if (!lookup.ok) return failure(lookup.status, lookup.message);
    const headers = forwardedHeaders(request, lookup.found, route, userJwt);
    if (typeof headers === 'string') return failure(502, headers);
    const config = lookup.found.destinationConfiguration;
    if (!config.URL) return failure(500, `destination "${route.destination}" has no URL`);
    const target = joinUrl(config.URL, path, new URL(request.url).search);
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    if (config.ProxyType === 'OnPremise')
      return throughProxy(core, tenant, config, { url: target, method: request.method, headers, body }, (internal) =>
        send(core, urls, internal),
      );
    return send(core, urls, new Request(target, { method: request.method, headers, body }));
  };

  return [
    http.all(
      ({ request }) => Boolean(routeFor(request)?.route.destination),
      ({ request }) => answer(request),
    ),
  ];
}
