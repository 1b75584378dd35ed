/**
 * `btp-connectivity-emulator/msw`: the emulator as Mock Service Worker handlers, for unit tests without
 * sockets (`setupServer`) and for frontends in a real browser (`setupWorker`), plus an approuter-style face
 * that answers an app's relative calls through its `xs-app.json` routes. Browser-safe: no Node built-ins.
 */
export { createBtpHandlers, type BtpHandlerOptions, type BtpHandlers } from './create-btp-handlers.ts';
export { createApprouterHandlers, type ApprouterOptions } from './approuter.ts';
export { parseXsApp, type XsApp, type XsAppRoute } from './xs-app.ts';
export { defaultBackendUrl, defaultServicesUrl, type MockUrls } from './mock-origins.ts';
export type { OnPremHandle, SharedHandle } from '../app/handle.ts';
