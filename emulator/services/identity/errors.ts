/**
 * OAuth errors as the identity service (IAS) answers them: a status and `{error, error_description}` (RFC 6749
 * §5.2; RFC 8707's `invalid_target` for a `resource` it does not serve). A 401 names the scheme in `WWW-Authenticate`.
 */
import { HttpError, jsonResponse } from '../../core/http-error.ts';

export class IdentityOAuthError extends HttpError {
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
  toResponse(): Response {
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (this.status === 401) headers['www-authenticate'] = `Basic realm="IAS", error="${this.error}"`;
    return jsonResponse(this.toBody(), this.status, headers);
  }
}

export const invalidClient = (why: string): IdentityOAuthError =>
  new IdentityOAuthError(401, 'invalid_client', `Client authentication failed: ${why}`);
export const invalidRequest = (why: string): IdentityOAuthError => new IdentityOAuthError(400, 'invalid_request', why);
export const invalidGrant = (why: string): IdentityOAuthError => new IdentityOAuthError(400, 'invalid_grant', why);
export const invalidTarget = (why: string): IdentityOAuthError => new IdentityOAuthError(400, 'invalid_target', why);
export const unsupportedGrantType = (grant: string): IdentityOAuthError =>
  new IdentityOAuthError(
    400,
    'unsupported_grant_type',
    `Unsupported grant_type "${grant}"; this identity service serves client_credentials, password, authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:jwt-bearer and urn:ietf:params:oauth:grant-type:token-exchange`,
  );
