/** The REST configuration API's errors: `{ type, message }` with the status a Cloud Connector 2.19 answers with. */
import { HttpError, jsonResponse } from '../../../core/http-error.ts';

export type SccErrorType =
  'INVALID_REQUEST' | 'ILLEGAL_STATE' | 'NOT_FOUND' | 'INVALID_CONFIGURATION' | 'RUNTIME_FAILURE' | 'SHADOW_UPDATE' | 'FORBIDDEN_REQUEST';

export class SccApiError extends HttpError {
  readonly status: number;
  readonly type: SccErrorType;
  private readonly headers: Record<string, string>;
  constructor(status: number, type: SccErrorType, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.headers = headers;
  }
  toResponse(): Response {
    return jsonResponse({ type: this.type, message: this.message }, this.status, this.headers);
  }
}

export const invalid = (message: string): SccApiError => new SccApiError(400, 'INVALID_REQUEST', message);
export const notFound = (message: string): SccApiError => new SccApiError(404, 'NOT_FOUND', message);
export const conflict = (message: string): SccApiError => new SccApiError(409, 'ILLEGAL_STATE', message);
export const forbidden = (message: string): SccApiError => new SccApiError(403, 'FORBIDDEN_REQUEST', message);
