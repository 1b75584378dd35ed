/**
 * The control API's errors. Bad input is the core's ValidationError (400, naming the field); what is asked for
 * and not there is a ControlNotFound (404 `{error: 'not_found', message}`).
 */
import { HttpError, jsonResponse } from '../../core/http-error.ts';

export class ControlNotFound extends HttpError {
  readonly status = 404;
  toResponse(): Response {
    return jsonResponse({ error: 'not_found', message: this.message }, 404);
  }
}

export const faultNotFound = (id: string): ControlNotFound =>
  new ControlNotFound(`no fault "${id}" (it may have expired: times used up, or durationMs/until passed)`);

export const stubNotFound = (id: string): ControlNotFound => new ControlNotFound(`no stub "${id}"`);

export const connectorNotFound = (locationId: string): ControlNotFound =>
  new ControlNotFound(`no Cloud Connector with location ID "${locationId}"`);

export const chainNotFound = (correlationId: string): ControlNotFound =>
  new ControlNotFound(`no journal entry carries correlation id "${correlationId}" (sent as x-correlation-id or x-vcap-request-id)`);

export const lastCallNotFound = (destination: string): ControlNotFound =>
  new ControlNotFound(
    `the journal has no lookup of destination "${destination}" (cleared by a reset, or the app found it in its own cache)`,
  );

export const destinationCrNotFound = (namespace: string, name: string): ControlNotFound =>
  new ControlNotFound(`no Destination CR "${name}" in namespace "${namespace}"`);
