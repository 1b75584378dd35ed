/**
 * The Destination Service's state: one store per level (subaccount `zid`, or instance `zid|instanceid`), each with
 * its destinations, fragments and certificates and their labels. Built from the scenario by
 * {@link buildDestinationState}; reset, scenario load and a restored snapshot build it anew.
 */
import type { Binding, SubaccountState } from '../../core/subaccount.ts';
import type { SamlState } from '../saml/index.ts';
import type { CertificateProps, DestinationProps, FragmentProps } from './schema.ts';

export interface Stored<T> {
  props: T;
  modifiedAt: number;
  /** On the application's instance level: shared with the subscription levels (`$metadata.shared_with_subscriber`). */
  sharedWithSubscriber?: boolean;
}

/** A label of an entity (`GET|PUT|PATCH …/{name}/labels`, crud/labels.ts). */
export interface Label {
  key: string;
  values: string[];
}

export interface LevelStore {
  destinations: Map<string, Stored<DestinationProps>>;
  fragments: Map<string, Stored<FragmentProps>>;
  certificates: Map<string, Stored<CertificateProps>>;
  /** Labels by `<destination|fragment|certificate>:<name>` (what a snapshot keeps per level). */
  labels: Map<string, Label[]>;
  /** Only on the provider's instance level: why `name` cannot be shared with subscribers, if it cannot. */
  shareConflict?: (entriesOf: (level: LevelStore) => Map<string, unknown>, name: string) => string | undefined;
}

/** The two levels a caller addresses: its tenant's subaccount level, or its instance in its tenant. */
export type Level = 'subaccount' | 'instance';

export interface DestinationState {
  /** Destination Service stores, see {@link levelKey}. */
  levels: Map<string, LevelStore>;
}

/** Subaccount level: `zid`; instance (or subscription) level: `zid|instanceid`. */
export const levelKey = (zid: string, instanceid?: string | null): string => (instanceid ? `${zid}|${instanceid}` : zid);

export const emptyLevel = (): LevelStore => ({ destinations: new Map(), fragments: new Map(), certificates: new Map(), labels: new Map() });

export interface LevelContent {
  destinations: DestinationProps[];
  fragments: FragmentProps[];
  certificates: CertificateProps[];
}

export function fillLevel(store: LevelStore, content: LevelContent, now: number): void {
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

/** Every label of a level, by `<entity>:<name>` (what a snapshot keeps). */
export function levelLabels(store: LevelStore): Record<string, Label[]> {
  return Object.fromEntries(store.labels);
}

/** Give a level the labels of {@link levelLabels} (a restored snapshot). */
export function restoreLevelLabels(store: LevelStore, labels: Record<string, Label[]>): void {
  store.labels = new Map(Object.entries(labels));
}

/** A tenant of the scenario as the Destination Service sees it: its zid, its subaccount level and its instance levels by binding name. */
export interface TenantLevels extends LevelContent {
  zid: string;
  instances: Record<string, LevelContent & { sharedWithSubscriber: string[] }>;
}

/** The levels of the scenario's tenants (in scenario order); an instance level names a destination binding. */
export function buildDestinationState(tenants: readonly TenantLevels[], bindings: readonly Binding[], now: number): DestinationState {
  const levels = new Map<string, LevelStore>();
  tenants.forEach((t, i) => {
    const subaccount = emptyLevel();
    fillLevel(subaccount, t, now);
    levels.set(levelKey(t.zid), subaccount);
    for (const [bindingName, content] of Object.entries(t.instances)) {
      const binding = bindings.find((b) => b.name === bindingName && b.service === 'destination');
      if (!binding) throw new Error(`tenants[${i}].instances.${bindingName}: no destination binding named "${bindingName}"`);
      const level = emptyLevel();
      fillLevel(level, content, now);
      for (const name of content.sharedWithSubscriber) {
        for (const entries of [level.destinations, level.fragments, level.certificates] as Map<string, Stored<unknown>>[]) {
          const entry = entries.get(name);
          if (entry) entry.sharedWithSubscriber = true;
        }
      }
      levels.set(levelKey(t.zid, binding.instanceid), level);
    }
  });
  return { levels };
}

/** What the Destination Service reads: the subaccount, its own part and the SAML trust (it signs assertions and serves the metadata). */
export type DestinationView = SubaccountState & DestinationState & SamlState;
