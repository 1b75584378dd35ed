/** OAuth errors as XSUAA (a UAA derivative) answers them: a status and `{error, error_description}`. */
import { HttpError, jsonResponse } from '../../core/http-error.ts';

export class OAuthError extends HttpError {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, description: string) {
    super(description);
    this.status = status;
    this.error = error;
  }
  toBody(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
  /** A 401 also says why in `WWW-Authenticate`, as UAA does. */
  toResponse(): Response {
    const headers: Record<string, string> =
      this.status === 401
        ? { 'www-authenticate': `Basic realm="UAA/client", error="${this.error}", error_description="${headerSafe(this.message)}"` }
        : {};
    return jsonResponse(this.toBody(), this.status, headers);
  }
}

/** A message as a quoted-string header parameter: printable ASCII only, since a header cannot carry the rest. */
function headerSafe(message: string): string {
  return message.replace(/"/g, "'").replace(/[^\x20-\x7e]/g, '?');
}

export const badClientCredentials = (why: string): OAuthError => new OAuthError(401, 'invalid_client', `Bad credentials: ${why}`);
export const invalidRequest = (why: string): OAuthError => new OAuthError(400, 'invalid_request', why);
export const invalidGrant = (why: string): OAuthError => new OAuthError(400, 'invalid_grant', why);
