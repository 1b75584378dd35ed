/**
 * The one error base of every service: an HTTP status and the body the real service sends. The composition
 * root's error handler asks any HttpError for its response, so it knows no service's error class.
 */
export abstract class HttpError extends Error {
  abstract readonly status: number;
  /** Why, for the journal and the `X-Emulator-Reason` header, when the body must stay as BTP sends it. */
  readonly reason?: string;
  constructor(message: string, reason?: string) {
    super(message);
    if (reason) this.reason = reason;
  }
  /** The answer, exactly as the real service gives it. */
  abstract toResponse(): Response;
}

/** A JSON answer with a status and extra headers. */
export function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}
