/**
 * The emulator as Mock Service Worker handlers: every request for the emulator's hosts goes to the core's
 * `fetch` (the very implementation the Node servers serve), every request for the fake backend to its
 * stubs. Works with `setupServer` (msw/node) and `setupWorker` (msw/browser); no socket is opened.
 */
import { type StubInput } from '../services/backend/schema.ts';
import { type BackendStub } from '../services/backend/state.ts';
import { putStub } from '../services/backend/gateway.ts';
import { http, type HttpHandler } from 'msw';
import { EmulatorCore, type CoreOptions } from '../app/emulator-core.ts';
import { asNetworkError } from '../core/fault-middleware.ts';
import type { JournalEntry, JournalFilter } from '../core/journal.ts';
import { answerFromBackend } from './backend-responder.ts';
import { backendPlaceholders, isBackendUrl, isEmulatorUrl, publicUrlsOf, resolveMockUrls, type MockUrls } from './mock-origins.ts';

export interface BtpHandlerOptions extends Omit<CoreOptions, 'scenario' | 'urls'> {
  /** Base URL the bindings advertise for XSUAA, the Destination Service and the control API. Default `http://btp-emulator:20000`. */
  servicesUrl?: string;
  /** Base URL of the fake backend (`{{backend}}`), answered by the backend stubs. Default `http://btp-backend:20010`. */
  backendUrl?: string;
}

export interface BtpHandlers {
  /** Spread into `setupServer(...)` or `setupWorker(...)`. */
  handlers: HttpHandler[];
  /** The core behind the handlers (the same class the Node servers run). */
  core: EmulatorCore;
  urls: MockUrls;
  /** `VCAP_SERVICES` for the app under test, pointing at {@link urls}. Always current. */
  readonly env: Record<string, string>;
  /** A signed user token, as the control API's `POST /_emulator/users/token` issues it. */
  issueUserToken(opts: { user: string; tenant?: string; scopes?: string[] }): Promise<string>;
  /** Replace the scenario (validated; a bad one throws and changes nothing). */
  loadScenario(scenario: unknown): void;
  /** Back to the loaded scenario: state rebuilt, stubs added at run time gone, journal cleared. */
  reset(): void;
  journal(filter?: JournalFilter): JournalEntry[];
  /** Add a backend stub (or replace the one with the same id), as `POST /_emulator/.../backend/stubs` does. */
  addStub(stub: StubInput): BackendStub;
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

  return {
    handlers,
    core,
    urls,
    get env() {
      return core.env();
    },
    issueUserToken: async (opts) => (await core.xsuaa.issueUserToken(opts)).jwt,
    loadScenario: (scenario) => core.loadScenario(scenario),
    reset: () => core.reset(),
    journal: (filter) => core.journal.list(filter),
    addStub: (stub) => putStub(core.state, stub),
  };
}

/** The origin of the page the handlers run in (msw/browser), none in Node. */
function pageOrigin(): string[] {
  const origin = (globalThis as { location?: { origin?: unknown } }).location?.origin;
  return typeof origin === 'string' && /^https?:\/\//.test(origin) ? [origin] : [];
}
