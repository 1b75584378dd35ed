/**
 * The CRUD part of the gateway: one {@link ConfigurationCrud} per kind (destinations, fragments, certificates),
 * each with the emulator clock, the `{{placeholder}}` values a client sees expanded, the CA that signs generated
 * certificates and the entities a level holds.
 */
import type { CertificateAuthority } from '../certificates/certificates.ts';
import { expandPlaceholders, type DestinationProps } from '../schema.ts';
import { certificateKind, ConfigurationCrud, destinationKind, fragmentKind } from './crud.ts';

export interface CrudDeps {
  /** The emulator clock, in ms. */
  now: () => number;
  placeholders: () => Record<string, string>;
  /** The CA that signs certificates generated from `Attributes`; without it they are self-signed. */
  certificateAuthority?: CertificateAuthority;
  /** Entities of each kind per level (see core/limits.ts). */
  maxEntitiesPerLevel: number;
}

export class DestinationCrud {
  readonly destinations: ConfigurationCrud;
  readonly fragments: ConfigurationCrud;
  readonly certificates: ConfigurationCrud;

  constructor(deps: CrudDeps) {
    const options = {
      now: deps.now,
      view: (props: Record<string, string>): Record<string, string> =>
        expandPlaceholders({ ...props } as DestinationProps, deps.placeholders()),
      certificateAuthority: () => deps.certificateAuthority,
      maxPerLevel: () => deps.maxEntitiesPerLevel,
    };
    this.destinations = new ConfigurationCrud(destinationKind, options);
    this.fragments = new ConfigurationCrud(fragmentKind, options);
    this.certificates = new ConfigurationCrud(certificateKind, options);
  }
}
