/**
 * `authTokens` of the find response: for each authentication type, what the Destination Service prepares
 * for the caller. OAuth flows really call the destination's token service; failures (including a missing
 * mandatory header) become an element with `error` while the HTTP status stays 200, as the real service
 * reports them. Forbidden header combinations are a 400. The OAuth family is in oauth.ts, the SAML family in
 * saml.ts, what they share in common.ts. {@link DestinationAuthTokens} is the auth tokens part of the gateway:
 * it gives one lookup its context (the user, the clock, outbound calls, SAML signing, other destinations).
 */
import { expandPlaceholders, type DestinationProps } from '../schema.ts';
import { base64Encode } from '../../../core/ids.ts';
import { withCorrelation } from '../../../core/journal-chains.ts';
import { entityIdOf, trustOf } from '../../saml/index.ts';
import type { TokenMinter } from '../../xsuaa/tokens.ts';
import type { DestinationCertificates } from '../certificates/keystores.ts';
import { callerLevel, type Caller } from '../lookup/caller.ts';
import { isIasToken } from '../../../core/jwt.ts';
import type { IasTrust } from '../lookup/ias-caller.ts';
import type { DestinationView, LevelStore } from '../state.ts';
import { failedToken, type AuthToken, type TokenContext } from './common.ts';
import { retrieveOAuthTokens } from './oauth.ts';
import { retrieveSamlTokens } from './saml.ts';

export type { AuthToken } from './common.ts';

export interface AuthTokenDeps {
  state: () => DestinationView;
  /** Verifies user tokens the way the emulator's XSUAA does. */
  minter: TokenMinter;
  /** Verifies IAS user tokens (`X-user-token` of an IAS app). */
  ias?: IasTrust;
  /** The emulator clock, in ms. */
  now: () => number;
  placeholders: () => Record<string, string>;
  certificates: DestinationCertificates;
}

const nonEmpty = (value: string | null): string | undefined => (value && value.trim() ? value.trim() : undefined);

export class DestinationAuthTokens {
  private readonly deps: AuthTokenDeps;
  constructor(deps: AuthTokenDeps) {
    this.deps = deps;
  }

  /** The authTokens of one lookup of `cfg` (found on `store`; `subaccount` is the caller's subaccount level). */
  retrieve(
    caller: Caller,
    headers: Headers,
    cfg: DestinationProps,
    store: LevelStore,
    subaccount: LevelStore,
  ): Promise<AuthToken[] | undefined> {
    return retrieveAuthTokens(cfg, this.context(caller, headers, cfg, store, subaccount));
  }

  /** What the authTokens of one lookup need: headers, the user, outbound calls, SAML signing, other destinations. */
  context(caller: Caller, headers: Headers, cfg: DestinationProps, store: LevelStore, subaccount: LevelStore): TokenContext {
    const { state, minter, ias, placeholders, certificates } = this.deps;
    const instance = callerLevel(state(), caller, 'instance');
    return {
      caller,
      headers,
      xUserToken: nonEmpty(headers.get('x-user-token')),
      xTenant: nonEmpty(headers.get('x-tenant')),
      fetch: withCorrelation(certificates.tokenServiceFetch(cfg, store, subaccount), headers),
      now: this.deps.now,
      verifyUserToken: async (jwt) => {
        if (!isIasToken(jwt)) return minter.verify(jwt);
        if (!ias) return { ok: false, reason: 'the user token is not an XSUAA token, and this emulator has no identity service' };
        const verified = await ias.verify(jwt);
        return verified.ok ? verified : { ok: false, reason: `IAS user token: ${verified.reason}` };
      },
      samlSigning: async () => ({
        keys: (await certificates.samlSigningKeys(cfg, store, subaccount)) ?? (await trustOf(state(), caller.tenant)).active,
        issuer: entityIdOf(caller.tenant, placeholders().uaadomain ?? 'localhost'),
      }),
      lookupDestination: (name) => {
        const hit = instance.destinations.get(name) ?? subaccount.destinations.get(name);
        return hit ? expandPlaceholders({ ...hit.props }, placeholders()) : undefined;
      },
    };
  }
}

/** Returns the authTokens array, or undefined when the type has none. Throws only for request errors (400). */
export async function retrieveAuthTokens(cfg: DestinationProps, ctx: TokenContext): Promise<AuthToken[] | undefined> {
  const type = cfg.Authentication ?? 'NoAuthentication';
  switch (type) {
    case 'NoAuthentication':
    case 'PrincipalPropagation':
    case 'ClientCertificateAuthentication':
      return undefined;

    case 'BasicAuthentication': {
      if (cfg.User === undefined || cfg.Password === undefined)
        return [failedToken('BasicAuthentication needs the properties User and Password')];
      const value = base64Encode(`${cfg.User}:${cfg.Password}`);
      return [{ type: 'Basic', value, http_header: { key: 'Authorization', value: `Basic ${value}` } }];
    }

    case 'SAMLAssertion':
    case 'OAuth2SAMLBearerAssertion':
      return retrieveSamlTokens(type, cfg, ctx);

    default:
      return retrieveOAuthTokens(type, cfg, ctx);
  }
}
