/** OAuth errors as XSUAA (a UAA derivative) answers them: a status and `{error, error_description}`. */
export class OAuthError extends Error {
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
}

export const badClientCredentials = (why: string): OAuthError => new OAuthError(401, 'invalid_client', `Bad credentials: ${why}`);
export const invalidRequest = (why: string): OAuthError => new OAuthError(400, 'invalid_request', why);
export const invalidGrant = (why: string): OAuthError => new OAuthError(400, 'invalid_grant', why);
