/** The backend refuses nothing of its own: a bad stub is a ValidationError (core/validation.ts); faults answer as injected. */
export {};
