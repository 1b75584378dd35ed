/**
 * The connectivity proxy has no state of its own. Each hop reads the emulator's (tenants, bindings, Cloud
 * Connectors), its operational mode, fault list, clock and journal through {@link ProxyContext}, which the app's EmulatorCore
 * satisfies as it is: the faces pass the core, the service never imports the app layer.
 */
import type { Clock } from '../../core/clock.ts';
import type { FaultList } from '../../core/faults.ts';
import type { Journal } from '../../core/journal.ts';
import type { KeyRing } from '../../core/signing-keys.ts';
import type { OnPremView } from '../cloud-connector/state.ts';
import type { TokenMinter } from '../xsuaa/tokens.ts';
import type { IdentityTokenMinter } from '../identity/index.ts';
import type { ProxyMode } from './schema.ts';

/** What a proxy hop needs of the emulator. */
export interface ProxyContext {
  /** The state now (a reset or a new scenario replaces the object: read it per hop). */
  readonly state: OnPremView;
  readonly clock: Pick<Clock, 'now'>;
  /** Token verification: the signing keys (is a cached token's key still there?) and the verifier. */
  readonly keys: Pick<KeyRing, 'byKid'>;
  readonly minter: Pick<TokenMinter, 'verify'>;
  /** The identity service (IAS): user tokens it issued are accepted for principal propagation. */
  readonly identity?: { readonly minter: Pick<IdentityTokenMinter, 'verify'> };
  readonly faults: FaultList;
  readonly journal: Pick<Journal, 'record'>;
  /** Values for `{{name}}` in the mappings' internal hosts and ports. */
  placeholders(): Record<string, string>;
  /** The operational mode now (cloud-foundry or trusted; the scenario's `connectivityProxy`, or the start option). */
  proxyMode(): ProxyMode;
}
