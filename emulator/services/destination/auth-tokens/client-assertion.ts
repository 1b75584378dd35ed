/**
 * Client assertions for OAuth destinations (reference §4.2 last row): the caller passes one in
 * `X-client-assertion` + `X-client-assertion-type`, or names a provider destination in
 * `X-client-assertion-destination-name` (or the property `clientAssertion.destinationName`); that destination
 * must be `OAuth2ClientCredentials` with `clientAssertion.type`, and its access token becomes the assertion.
 */
import { type DestinationProps } from '../schema.ts';
import type { TokenContext } from './common.ts';
import { DestinationError } from '../errors.ts';
import { requestToken, TokenRetrievalError, type ClientAssertion } from './token-service-client.ts';

const nonEmpty = (value: string | null): string | undefined => (value && value.trim() ? value.trim() : undefined);

/** The assertion to authenticate the client with, or undefined for the usual client id and secret. */
export async function clientAssertionFor(cfg: DestinationProps, ctx: TokenContext): Promise<ClientAssertion | undefined> {
  const assertion = nonEmpty(ctx.headers.get('x-client-assertion'));
  const assertionType = nonEmpty(ctx.headers.get('x-client-assertion-type'));
  const headerDestination = nonEmpty(ctx.headers.get('x-client-assertion-destination-name'));
  if ((assertion || assertionType) && headerDestination) {
    throw new DestinationError(
      400,
      'The headers X-client-assertion/X-client-assertion-type and X-client-assertion-destination-name must not be sent together',
    );
  }
  if (assertion || assertionType) {
    if (!assertion) throw new DestinationError(400, 'X-client-assertion-type was sent without X-client-assertion');
    if (!assertionType) throw new DestinationError(400, 'X-client-assertion was sent without X-client-assertion-type');
    return { assertion, type: assertionType };
  }
  const providerName = headerDestination ?? cfg['clientAssertion.destinationName'];
  if (!providerName) return undefined;
  const source = headerDestination ? 'X-client-assertion-destination-name' : 'clientAssertion.destinationName';
  const provider = ctx.lookupDestination?.(providerName);
  if (!provider) throw new TokenRetrievalError(`the client assertion destination "${providerName}" (${source}) was not found`);
  if (provider.Authentication !== 'OAuth2ClientCredentials') {
    throw new TokenRetrievalError(
      `the client assertion destination "${providerName}" must use OAuth2ClientCredentials, not ${provider.Authentication ?? 'NoAuthentication'}`,
    );
  }
  const type = provider['clientAssertion.type'];
  if (!type) throw new TokenRetrievalError(`the client assertion destination "${providerName}" has no property clientAssertion.type`);
  const token = await requestToken(provider, { grant_type: 'client_credentials' }, undefined, ctx.fetch);
  return { assertion: token.access_token, type };
}
