/**
 * The emulator as Mock Service Worker handlers: every request for the emulator's hosts goes to the core's
 * `fetch` (the very implementation the Node servers serve), every request for the fake backend to its
 * stubs. Works with `setupServer` (msw/node) and `setupWorker` (msw/browser); no socket is opened.
 */
import { http, type HttpHandler } from 'msw';
import { EmulatorCore, type CoreOptions } from '../app/emulator-core.ts';
import { createSharedHandle, type SharedHandle } from '../app/handle.ts';
import { asNetworkError } from '../core/fault-middleware.ts';
import { answerFromBackend } from './backend-responder.ts';
import { backendPlaceholders, isBackendUrl, isEmulatorUrl, publicUrlsOf, resolveMockUrls, type MockUrls } from './mock-origins.ts';

export interface BtpHandlerOptions extends Omit<CoreOptions, 'scenario' | 'urls'> {
  /** Base URL the bindings advertise for XSUAA, the Destination Service and the control API. Default `http://btp-emulator:20000`. */
  servicesUrl?: string;
  /** Base URL of the fake backend (`{{backend}}`), answered by the backend stubs. Default `http://btp-backend:20010`. */
  backendUrl?: string;
}

/** The shared handle (emulator/app/handle.ts: env, tokens, scenario, journal, onPrem, addStub, clock, keys, faults, snapshot) and the handlers. */
export interface BtpHandlers extends SharedHandle {
  /** Spread into `setupServer(...)` or `setupWorker(...)`. */
  handlers: HttpHandler[];
  urls: MockUrls;
  /** `VCAP_SERVICES` for the app under test, pointing at {@link urls}. Always current. */
  readonly env: Record<string, string>;
}

/**
 * Build the handlers from a scenario object (validated like a scenario file) or from an existing core.
 * The handlers own the core's public URLs: they are set to `servicesUrl`, so the bindings point at MSW.
 */
export async function createBtpHandlers(coreOrScenario?: EmulatorCore | object, options: BtpHandlerOptions = {}): Promise<BtpHandlers> {
  // In a browser the requests come from the page itself, so its origin is the emulator's own (docs/security.md).
  const allowedOrigins = [...(options.allowedOrigins ?? []), ...pageOrigin()];
  const core =
    coreOrScenario instanceof EmulatorCore
      ? coreOrScenario
      : await EmulatorCore.create({ ...options, allowedOrigins, scenario: coreOrScenario });
  const urls = resolveMockUrls(options);
  core.setUrls(publicUrlsOf(urls));
  Object.assign(core.extraPlaceholders, backendPlaceholders(urls));

  const handlers = [
    http.all(
      ({ request }) => isBackendUrl(new URL(request.url), urls),
      ({ request }) => answerFromBackend(core, request),
    ),
    http.all(
      ({ request }) => isEmulatorUrl(new URL(request.url), urls),
      ({ request }) => core.fetch(request).then(asNetworkError),
    ),
  ];

  // Object.assign, not a spread: `env` stays the shared handle's getter, always current.
  return Object.assign(createSharedHandle(core), { handlers, urls });
}

/** The origin of the page the handlers run in (msw/browser), none in Node. */
function pageOrigin(): string[] {
  const origin = (globalThis as { location?: { origin?: unknown } }).location?.origin;
  return typeof origin === 'string' && /^https?:\/\//.test(origin) ? [origin] : [];
}
