/**
 * Destination Service behaviour without HTTP, a thin facade over its parts, each in its sub-folder: lookup/ (the
 * find and consume APIs, destination chains, subscription zones, who calls), crud/ (destinations, fragments,
 * certificates and their labels on each level), certificates/ (the keystores a destination names), auth-tokens/
 * (the authTokens of a lookup) and saml-metadata/ (the subaccount's SAML metadata and trust certificate). The
 * plugin (index.ts) builds it with everything it depends on.
 */
import type { MtlsCapableFetch } from '../../core/client-certificate.ts';
import type { ServiceResult } from '../../core/service-result.ts';
import type { TokenMinter } from '../xsuaa/tokens.ts';
import { DestinationAuthTokens } from './auth-tokens/auth-tokens.ts';
import type { CertificateAuthority } from './certificates/certificates.ts';
import { DestinationCertificates } from './certificates/keystores.ts';
import { DestinationCrud } from './crud/configurations.ts';
import { authenticateCaller, type Caller } from './lookup/caller.ts';
import type { CallerTls, IasTrust } from './lookup/ias-caller.ts';
import { conditional, type FindOptions } from './lookup/common.ts';
import type { ConsumeOptions } from './lookup/consume.ts';
import { DestinationLookup } from './lookup/lookup.ts';
import { SubaccountTrust } from './saml-metadata/metadata.ts';
import type { DestinationView, Level, LevelStore } from './state.ts';

/** What the Destination Service depends on; the plugin takes each from the ServiceContext. */
export interface DestinationDeps {
  /** The current state (rebuilt on reset and scenario load: always read through this). */
  state: () => DestinationView;
  /** XSUAA's tokens: the caller's bearer token and user tokens are verified by it. */
  minter: TokenMinter;
  /** The identity service (IAS): IAS tokens of applications that consume a destination instance, and IAS user tokens. */
  ias?: IasTrust;
  /** True when the face verifies TLS client certificates (only then an IAS token is accepted: mTLS). */
  verifiesClientCertificates?: boolean;
  /** Calls outside the emulator (token services), able to present a client certificate. */
  fetch: MtlsCapableFetch;
  /** The emulator clock, in ms. */
  now: () => number;
  /** Values of `{{name}}` placeholders in property values (the emulator's URLs, known only after listen). */
  placeholders: () => Record<string, string>;
  /** The CA that signs certificates generated from `Attributes`; without it they are self-signed. */
  certificateAuthority?: CertificateAuthority;
  /** Entities of each kind per level (see core/limits.ts). */
  maxEntitiesPerLevel: number;
}

export class DestinationGateway {
  readonly lookup: DestinationLookup;
  readonly crud: DestinationCrud;
  readonly certificates: DestinationCertificates;
  readonly authTokens: DestinationAuthTokens;
  readonly trust: SubaccountTrust;
  private readonly deps: DestinationDeps;

  constructor(deps: DestinationDeps) {
    this.deps = deps;
    const { state, minter, now, placeholders } = deps;
    this.certificates = new DestinationCertificates(deps.fetch);
    this.authTokens = new DestinationAuthTokens({ state, minter, ias: deps.ias, now, placeholders, certificates: this.certificates });
    this.lookup = new DestinationLookup({ state, placeholders, certificates: this.certificates, authTokens: this.authTokens });
    this.crud = new DestinationCrud(deps);
    this.trust = new SubaccountTrust({ state, now, placeholders });
  }

  /**
   * Who calls: the bearer token's zone and client (a 400/401/403 when it does not name a destination service
   * instance). An IAS token needs the request's TLS side (`tls.headers`): see lookup/ias-caller.ts.
   */
  authenticate(authorization: string | null | undefined, tls: CallerTls = {}): Promise<Caller> {
    const { headers, ...rest } = tls;
    const verified = this.deps.verifiesClientCertificates && headers ? { headers, ...rest } : rest;
    return authenticateCaller(authorization, this.deps.state(), this.deps.minter, this.deps.ias, verified);
  }

  /** The store a caller addresses: its tenant's subaccount level, or its instance in its tenant (subscription level for subscribers). */
  level(caller: Caller, level: Level): LevelStore {
    return this.lookup.level(caller, level);
  }

  /** The v1 find API. */
  find(caller: Caller, name: string, options: FindOptions): Promise<ServiceResult> {
    return this.lookup.find(caller, name, options);
  }

  /** The v2 consume API. */
  consume(caller: Caller, reference: string, options: ConsumeOptions): Promise<ServiceResult> {
    return this.lookup.consume(caller, reference, options);
  }

  /** `If-None-Match` → 304, `If-Match` mismatch → 412. */
  conditional(headers: Headers, etag: string): ServiceResult | undefined {
    return conditional(headers, etag);
  }
}
