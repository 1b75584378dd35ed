import { HttpError, jsonResponse } from '../../core/http-error.ts';

/** A refused REST API call, answered as the real service does: `{error, error_description}`, with `WWW-Authenticate` on 401. */
export class ConnectivityError extends HttpError {
  readonly status: 401 | 403;
  readonly error: string;
  constructor(status: 401 | 403, error: string, description: string) {
    super(description);
    this.status = status;
    this.error = error;
  }
  toResponse(): Response {
    const headers: Record<string, string> = this.status === 401 ? { 'www-authenticate': `Bearer error="${this.error}"` } : {};
    return jsonResponse({ error: this.error, error_description: this.message }, this.status, headers);
  }
}
