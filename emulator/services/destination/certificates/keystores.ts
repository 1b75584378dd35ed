/**
 * The certificates part of the gateway: the keystores a destination names, from its own level, else the
 * subaccount level — the keystore and truststore a lookup answers with, the keystore its token service call
 * presents (`tokenService.KeyStoreLocation`, mTLS) and the keystore that signs its SAML assertions
 * (`KeyStoreLocation`, instead of the subaccount trust certificate). The files themselves are certificates.ts.
 */
import type { MtlsCapableFetch } from '../../../core/client-certificate.ts';
import { keystoreKeyPair, SamlAssertionError, type TrustKeyPair } from '../../saml/index.ts';
import type { CertificateProps, DestinationProps } from '../schema.ts';
import type { LevelStore, Stored } from '../state.ts';
import { clientCertificateOf } from './certificates.ts';

/** A certificate in a lookup's answer. */
export interface AnsweredCertificate {
  Name: string;
  Content: string;
  Type: string;
}

export class DestinationCertificates {
  private readonly fetch: MtlsCapableFetch;
  /** `fetch`: calls outside the emulator, able to present a client certificate. */
  constructor(fetch: MtlsCapableFetch) {
    this.fetch = fetch;
  }

  /** The keystore (and truststore) a destination names; with `skipTokenRetrieval` also its token service keystore. */
  of(cfg: DestinationProps, store: LevelStore, subaccount: LevelStore, skipTokenRetrieval: boolean): AnsweredCertificate[] {
    const names: string[] = [];
    if (cfg.Authentication === 'ClientCertificateAuthentication' || cfg.Authentication === 'OAuth2SAMLBearerAssertion') {
      if (cfg.KeyStoreLocation) names.push(cfg.KeyStoreLocation);
      if (cfg.TrustStoreLocation) names.push(cfg.TrustStoreLocation);
    }
    if (skipTokenRetrieval && cfg['tokenService.KeyStoreLocation']) names.push(cfg['tokenService.KeyStoreLocation']);
    return names
      .map((n) => store.certificates.get(n) ?? subaccount.certificates.get(n))
      .filter((c): c is Stored<CertificateProps> => Boolean(c))
      .map((c) => ({ Name: c.props.Name, Content: c.props.Content, Type: c.props.Type ?? 'CERTIFICATE' }));
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

  /** The keystore key pair for the destination's SAML assertions, or undefined when it names no `KeyStoreLocation`. */
  async samlSigningKeys(cfg: DestinationProps, store: LevelStore, subaccount: LevelStore): Promise<TrustKeyPair | undefined> {
    const location = cfg.KeyStoreLocation;
    if (!location) return undefined;
    const keystore = store.certificates.get(location) ?? subaccount.certificates.get(location);
    if (!keystore)
      throw new SamlAssertionError(
        `KeyStoreLocation "${location}" names no certificate on the destination's level or the subaccount level`,
      );
    try {
      return await keystoreKeyPair(await clientCertificateOf(keystore.props, cfg.KeyStorePassword), cfg.KeyStorePassword);
    } catch (err) {
      throw new SamlAssertionError(
        `the keystore "${location}" (KeyStoreLocation) cannot sign: ${(err as Error).message || 'wrong KeyStorePassword?'}`,
      );
    }
  }
}
