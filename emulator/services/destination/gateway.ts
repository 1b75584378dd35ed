/**
 * Destination Service behaviour without HTTP: the find API (instance level first, then subaccount level,
 * fragments, certificates, ETags, authTokens) and access to the per-level stores the CRUD API works on.
 */
import type { DestinationView } from './state.ts';
import { levelStore, type LevelStore } from './state.ts';
import { type CertificateProps, type DestinationProps } from './schema.ts';
import { sha256Hex, stableJson } from '../../core/ids.ts';
import type { TokenMinter } from '../xsuaa/tokens.ts';
import { retrieveAuthTokens, type AuthToken, type TokenContext } from './auth-tokens/auth-tokens.ts';
import { runChain } from './lookup/destination-chains.ts';
import { keystoreSigningKeys } from '../saml/keystore.ts';
import { entityIdOf, trustOf } from '../saml/trust.ts';
import { authenticateCaller, type Caller } from './lookup/caller.ts';
import { DestinationError, destinationNotFound } from './errors.ts';
import { didYouMean } from '../../core/name-hints.ts';
import { withCorrelation } from '../../core/journal-chains.ts';
import type { MtlsCapableFetch } from '../../core/client-certificate.ts';
import { clientCertificateOf } from './certificates/certificates.ts';
import { withSubscriptionZones } from './lookup/subscription-zones.ts';

export type Level = 'subaccount' | 'instance';

export interface ServiceResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FindOptions {
  skipTokenRetrieval?: boolean;
  skipCredentials?: boolean;
  headers: Headers;
}

export interface FindResponseBody {
  owner: { SubaccountId: string; InstanceId: string | null };
  destinationConfiguration: DestinationProps;
  authTokens?: AuthToken[];
  certificates?: { Name: string; Content: string; Type: string }[];
}

/** Properties `$skipCredentials=true` removes. */
export const credentialProperties = [
  'Password',
  'clientSecret',
  'tokenServicePassword',
  'KeyStorePassword',
  'TrustStorePassword',
  'tokenService.KeyStorePassword',
];

export const etagOf = (value: unknown): Promise<string> => sha256Hex(stableJson(value));

const truthy = (value: string | null | undefined): boolean => value?.toLowerCase() === 'true';
const nonEmpty = (value: string | null): string | undefined => (value && value.trim() ? value.trim() : undefined);

export class DestinationGateway {
  private readonly state: () => DestinationView;
  private readonly minter: TokenMinter;
  private readonly fetch: MtlsCapableFetch;
  private readonly placeholders: () => Record<string, string>;
  /** `placeholders` maps `{{name}}` in property values to the emulator's actual URLs (known only after listen). */
  constructor(
    state: () => DestinationView,
    minter: TokenMinter,
    fetchFn: MtlsCapableFetch,
    placeholders: () => Record<string, string> = () => ({}),
  ) {
    this.state = state;
    this.minter = minter;
    this.fetch = fetchFn;
    this.placeholders = placeholders;
  }

  authenticate(authorization: string | null | undefined): Promise<Caller> {
    return authenticateCaller(authorization, this.state(), this.minter);
  }

  /** The store a caller addresses: its tenant's subaccount level, or its instance in its tenant (subscription level for subscribers). */
  level(caller: Caller, level: Level): LevelStore {
    const state = this.state();
    if (level === 'subaccount') return levelStore(state, caller.tenant.zid, null);
    return withSubscriptionZones(state, caller.tenant, caller.instanceid, levelStore(state, caller.tenant.zid, caller.instanceid));
  }

  async find(caller: Caller, name: string, options: FindOptions): Promise<ServiceResult> {
    const headers = options.headers;
    if (headers.get('x-chain-name')?.trim()) return runChain(this, caller, name, options);
    const xUserToken = nonEmpty(headers.get('x-user-token'));
    const xTenant = nonEmpty(headers.get('x-tenant'));
    if (xUserToken && xTenant) throw new DestinationError(400, 'The headers X-user-token and X-tenant must not be sent together');

    const instanceLevel = this.level(caller, 'instance');
    const subaccountLevel = this.level(caller, 'subaccount');
    const onInstance = instanceLevel.destinations.get(name);
    const hit = onInstance ?? subaccountLevel.destinations.get(name);
    if (!hit) throw destinationNotFound(notFoundReason(name, caller, instanceLevel, subaccountLevel));
    const store = onInstance ? instanceLevel : subaccountLevel;

    const cfg = expandPlaceholders(this.applyFragments({ ...hit.props }, store, headers), this.placeholders());
    const etag = await etagOf(cfg);
    const conditional = this.conditional(headers, etag);
    if (conditional) return conditional;

    const body: FindResponseBody = {
      owner: { SubaccountId: caller.tenant.subaccountId, InstanceId: onInstance ? caller.instanceid : null },
      destinationConfiguration: options.skipCredentials ? withoutCredentials(cfg) : cfg,
    };
    const certificates = this.certificatesFor(cfg, store, subaccountLevel, options.skipTokenRetrieval === true);
    if (certificates.length) body.certificates = certificates;
    if (!options.skipTokenRetrieval) {
      const authTokens = await retrieveAuthTokens(cfg, this.tokenContext(caller, headers, cfg, store, subaccountLevel));
      if (authTokens) body.authTokens = authTokens;
    }
    return { status: 200, body, headers: { ETag: etag } };
  }

  /** `If-None-Match` → 304, `If-Match` mismatch → 412 (both carry the ETag). */
  conditional(headers: Headers, etag: string): ServiceResult | undefined {
    const unquote = (v: string): string => v.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    const noneMatch = headers.get('if-none-match');
    if (noneMatch && noneMatch.split(',').some((v) => unquote(v) === etag || v.trim() === '*'))
      return { status: 304, headers: { ETag: etag } };
    const match = headers.get('if-match');
    if (match && !match.split(',').some((v) => unquote(v) === etag || v.trim() === '*')) {
      return { status: 412, body: { ErrorMessage: 'The ETag in If-Match does not match the current version' }, headers: { ETag: etag } };
    }
    return undefined;
  }

  private applyFragments(cfg: DestinationProps, store: LevelStore, headers: Headers): DestinationProps {
    const names = (headers.get('x-fragment-name') ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    if (!names.length) return cfg;
    const optional = names.length === 1 && truthy(headers.get('x-fragment-optional'));
    const applied: string[] = [];
    for (const fragmentName of names) {
      const fragment = store.fragments.get(fragmentName);
      if (!fragment) {
        if (optional) continue;
        throw new DestinationError(404, `Fragment "${fragmentName}" was not found on the level of destination "${cfg.Name}"`);
      }
      const { FragmentName: _ignored, ...props } = fragment.props;
      Object.assign(cfg, props);
      applied.push(fragmentName);
    }
    if (applied.length) cfg.FragmentName = applied.join(',');
    return cfg;
  }

  /** What the authTokens of one lookup need: headers, the user, outbound calls, SAML signing, other destinations. */
  tokenContext(caller: Caller, headers: Headers, cfg: DestinationProps, store: LevelStore, subaccount: LevelStore): TokenContext {
    const instance = this.level(caller, 'instance');
    return {
      caller,
      headers,
      xUserToken: nonEmpty(headers.get('x-user-token')),
      xTenant: nonEmpty(headers.get('x-tenant')),
      fetch: withCorrelation(this.tokenServiceFetch(cfg, store, subaccount), headers),
      now: () => this.minter.now(),
      verifyUserToken: (jwt) => this.minter.verify(jwt),
      samlSigning: async () => ({
        keys: (await keystoreSigningKeys(cfg, store, subaccount)) ?? (await trustOf(this.state(), caller.tenant)).active,
        issuer: entityIdOf(caller.tenant, this.placeholders().uaadomain ?? 'localhost'),
      }),
      lookupDestination: (name) => {
        const hit = instance.destinations.get(name) ?? subaccount.destinations.get(name);
        return hit ? expandPlaceholders({ ...hit.props }, this.placeholders()) : undefined;
      },
    };
  }

  /** The current state, the emulator clock and the issuer domain (for the trust certificate routes and the v2 levels). */
  runtime(): { state: DestinationView; now: number; uaaDomain: string } {
    return { state: this.state(), now: this.minter.now(), uaaDomain: this.placeholders().uaadomain ?? 'localhost' };
  }

  /** Values of `{{name}}` placeholders (the emulator's URLs). */
  placeholderValues(): Record<string, string> {
    return this.placeholders();
  }

  /** The outbound fetch for a destination's token service: with `tokenService.KeyStoreLocation`, it presents that keystore (mTLS). */
  tokenServiceFetch(cfg: DestinationProps, store: LevelStore, subaccount: LevelStore): (request: Request) => Promise<Response> {
    const location = cfg['tokenService.KeyStoreLocation'];
    if (!location) return (request) => this.fetch(request);
    return async (request) => {
      const keystore = store.certificates.get(location) ?? subaccount.certificates.get(location);
      if (!keystore)
        throw new Error(
          `tokenService.KeyStoreLocation "${location}" names no certificate on the destination's level or the subaccount level`,
        );
      const clientCertificate = await clientCertificateOf(keystore.props, cfg['tokenService.KeyStorePassword']);
      return this.fetch(request, { clientCertificate });
    };
  }

  /** The keystore (and truststore) a destination names, from its own level, else the subaccount level. */
  certificatesFor(
    cfg: DestinationProps,
    store: LevelStore,
    subaccount: LevelStore,
    skipTokenRetrieval: boolean,
  ): { Name: string; Content: string; Type: string }[] {
    const names: string[] = [];
    if (cfg.Authentication === 'ClientCertificateAuthentication' || cfg.Authentication === 'OAuth2SAMLBearerAssertion') {
      if (cfg.KeyStoreLocation) names.push(cfg.KeyStoreLocation);
      if (cfg.TrustStoreLocation) names.push(cfg.TrustStoreLocation);
    }
    if (skipTokenRetrieval && cfg['tokenService.KeyStoreLocation']) names.push(cfg['tokenService.KeyStoreLocation']);
    return names
      .map((n) => store.certificates.get(n) ?? subaccount.certificates.get(n))
      .filter((c): c is { props: CertificateProps; modifiedAt: number } => Boolean(c))
      .map((c) => ({ Name: c.props.Name, Content: c.props.Content, Type: c.props.Type ?? 'CERTIFICATE' }));
  }
}

/** Why a lookup found nothing, with the nearest existing names of both levels (journal and X-Emulator-Reason). */
function notFoundReason(name: string, caller: Caller, instance: LevelStore, subaccount: LevelStore): string {
  const hint = didYouMean(name, [...instance.destinations.keys(), ...subaccount.destinations.keys()]);
  return `destination \`${name}\` exists neither on the instance level nor on the subaccount level of \`${caller.tenant.subdomain}\`${hint ? `; ${hint}` : ' (names are case-sensitive)'}`;
}

export function withoutCredentials(cfg: DestinationProps): DestinationProps {
  const copy = { ...cfg };
  for (const key of credentialProperties) delete copy[key];
  return copy;
}

/** Replace `{{services}}`-style placeholders in every property value. Unknown names stay as they are. */
export function expandPlaceholders(cfg: DestinationProps, values: Record<string, string>): DestinationProps {
  for (const [key, value] of Object.entries(cfg)) {
    if (value.includes('{{')) cfg[key] = value.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
  }
  return cfg;
}
