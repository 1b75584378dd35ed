/**
 * The backend has no route on the services port: it answers on its own ports (emulator/server/backend) or through
 * MSW (emulator/msw/backend-responder.ts), both calling gateway.ts. Its control routes are the control API's.
 */
export {};
