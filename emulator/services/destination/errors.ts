/** Destination Service errors: a status and the `{"ErrorMessage": "..."}` body the real service sends. */
import { HttpError, jsonResponse } from '../../core/http-error.ts';
import { encodeReason, reasonHeader } from '../../core/reason-header.ts';

export class DestinationError extends HttpError {
  readonly status: number;
  constructor(status: number, message: string, reason?: string) {
    super(message, reason);
    this.status = status;
  }
  toBody(): { ErrorMessage: string } {
    return { ErrorMessage: this.message };
  }
  toResponse(): Response {
    return jsonResponse(this.toBody(), this.status, this.reason ? { [reasonHeader]: encodeReason(this.reason) } : {});
  }
}

/** The exact text the SAP Cloud SDK compares to tell "not found" from a failure. */
export const NOT_FOUND_MESSAGE = 'Configuration with the specified name was not found';
export const UNPARSABLE_JWT_MESSAGE = 'Unable to parse the JWT in Authorization Header.';

export const destinationNotFound = (reason?: string): DestinationError => new DestinationError(404, NOT_FOUND_MESSAGE, reason);
