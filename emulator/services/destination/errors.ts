/** Destination Service errors: a status and the `{"ErrorMessage": "..."}` body the real service sends. */
export class DestinationError extends Error {
  readonly status: number;
  /** An explanation for the journal and the `X-Emulator-Reason` header when the body must stay as BTP sends it. */
  readonly reason?: string;
  constructor(status: number, message: string, reason?: string) {
    super(message);
    this.status = status;
    if (reason) this.reason = reason;
  }
  toBody(): { ErrorMessage: string } {
    return { ErrorMessage: this.message };
  }
}

/** The exact text the SAP Cloud SDK compares to tell "not found" from a failure. */
export const NOT_FOUND_MESSAGE = 'Configuration with the specified name was not found';
export const UNPARSABLE_JWT_MESSAGE = 'Unable to parse the JWT in Authorization Header.';

export const destinationNotFound = (reason?: string): DestinationError => new DestinationError(404, NOT_FOUND_MESSAGE, reason);
