/**
 * The Destination Service's state: one store per level (subaccount `zid`, or instance `zid|instanceid`), each with
 * its destinations, fragments and certificates.
 */
import type { SubaccountState } from '../../core/subaccount.ts';
import type { CertificateProps, DestinationProps, FragmentProps } from './schema.ts';

export interface Stored<T> {
  props: T;
  modifiedAt: number;
  /** On the application's instance level: shared with the subscription levels (`$metadata.shared_with_subscriber`). */
  sharedWithSubscriber?: boolean;
}

export interface LevelStore {
  destinations: Map<string, Stored<DestinationProps>>;
  fragments: Map<string, Stored<FragmentProps>>;
  certificates: Map<string, Stored<CertificateProps>>;
  /** On a per-request view of a level (see destination-service/subscription-zones.ts): the stored level it shows. */
  raw?: LevelStore;
  /** Only on the provider's instance level: why `name` cannot be shared with subscribers, if it cannot. */
  shareConflict?: (entriesOf: (level: LevelStore) => Map<string, unknown>, name: string) => string | undefined;
}

export interface DestinationState {
  /** Destination Service stores, see {@link levelKey}. */
  levels: Map<string, LevelStore>;
}

/** Subaccount level: `zid`; instance (or subscription) level: `zid|instanceid`. */
export const levelKey = (zid: string, instanceid?: string | null): string => (instanceid ? `${zid}|${instanceid}` : zid);

export const emptyLevel = (): LevelStore => ({ destinations: new Map(), fragments: new Map(), certificates: new Map() });

export function fillLevel(
  store: LevelStore,
  content: { destinations: DestinationProps[]; fragments: FragmentProps[]; certificates: CertificateProps[] },
  now: number,
): void {
  for (const d of content.destinations) store.destinations.set(d.Name, { props: { ...d }, modifiedAt: now });
  for (const f of content.fragments) store.fragments.set(f.FragmentName, { props: { ...f }, modifiedAt: now });
  for (const c of content.certificates) store.certificates.set(c.Name, { props: { ...c }, modifiedAt: now });
}

export function levelStore(state: DestinationState, zid: string, instanceid?: string | null): LevelStore {
  const key = levelKey(zid, instanceid);
  let store = state.levels.get(key);
  if (!store) {
    store = emptyLevel();
    state.levels.set(key, store);
  }
  return store;
}

/** What the Destination Service reads: the subaccount and its own part. */
export type DestinationView = SubaccountState & DestinationState;
