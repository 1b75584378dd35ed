/** Destination Service errors: a status and the `{"ErrorMessage": "..."}` body the real service sends. */
export class DestinationError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
  toBody(): { ErrorMessage: string } {
    return { ErrorMessage: this.message };
  }
}

/** The exact text the SAP Cloud SDK compares to tell "not found" from a failure. */
export const NOT_FOUND_MESSAGE = 'Configuration with the specified name was not found';
export const UNPARSABLE_JWT_MESSAGE = 'Unable to parse the JWT in Authorization Header.';

export const destinationNotFound = (): DestinationError => new DestinationError(404, NOT_FOUND_MESSAGE);
