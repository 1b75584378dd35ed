/**
 * The two zones of a subscription level (SAP: "Subscription Level Zones"). The SaaS application manages
 * configurations with its instance credentials; what it writes on the instance level with
 * `$metadata.shared_with_subscriber: true` is shared: instance paths called with a subscriber token (the
 * subscription level) see it next to the subscriber's own entries, may read, overwrite and delete it. Entries
 * without the flag stay private to the application. One name lives in one zone only: a subscription level cannot
 * create a name that is shared with it, and the application cannot share a name a subscription level holds.
 */
import { type Tenant } from '../../../core/subaccount.ts';
import { levelKey, type DestinationView, type LevelStore, type Stored } from '../state.ts';

type Entries<T> = Map<string, Stored<T>>;

/** A subscription level's entries: its own, plus the shared ones of the application's instance level. */
class ZonedEntries<T> extends Map<string, Stored<T>> {
  private readonly own: Entries<T>;
  private readonly application: Entries<T>;
  constructor(own: Entries<T>, application: Entries<T>) {
    super();
    this.own = own;
    this.application = application;
  }
  private shared(name: string): Stored<T> | undefined {
    const entry = this.application.get(name);
    return entry?.sharedWithSubscriber ? entry : undefined;
  }
  override get(name: string): Stored<T> | undefined {
    return this.own.get(name) ?? this.shared(name);
  }
  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  /** Writes to a shared entry stay shared (the subscriber modifies the application's shared entry). */
  override set(name: string, value: Stored<T>): this {
    if (!this.own.has(name) && this.shared(name)) this.application.set(name, { ...value, sharedWithSubscriber: true });
    else this.own.set(name, value);
    return this;
  }
  override delete(name: string): boolean {
    if (this.own.delete(name)) return true;
    return this.shared(name) ? this.application.delete(name) : false;
  }
  override get size(): number {
    return [...this.keys()].length;
  }
  override *entries(): MapIterator<[string, Stored<T>]> {
    yield* this.own.entries();
    for (const [name, entry] of this.application) if (entry.sharedWithSubscriber && !this.own.has(name)) yield [name, entry];
  }
  override *keys(): MapIterator<string> {
    for (const [name] of this.entries()) yield name;
  }
  override *values(): MapIterator<Stored<T>> {
    for (const [, entry] of this.entries()) yield entry;
  }
  override [Symbol.iterator](): MapIterator<[string, Stored<T>]> {
    return this.entries();
  }
  override forEach(callback: (value: Stored<T>, key: string, map: Map<string, Stored<T>>) => void): void {
    for (const [name, entry] of this.entries()) callback(entry, name, this);
  }
}

/**
 * The instance-level store a caller addresses, with zones: for a subscriber, its subscription level joined with
 * the application's shared entries; for the provider, its instance level, which knows which names it may share.
 * Labels stay the level's own (a subscriber's labels of a shared entry are the subscription level's).
 */
export function withSubscriptionZones(state: DestinationView, tenant: Tenant, instanceid: string, store: LevelStore): LevelStore {
  const application = state.levels.get(levelKey(state.provider.zid, instanceid));
  if (!tenant.isProvider) {
    if (!application) return store;
    return {
      destinations: new ZonedEntries(store.destinations, application.destinations),
      fragments: new ZonedEntries(store.fragments, application.fragments),
      certificates: new ZonedEntries(store.certificates, application.certificates),
      labels: store.labels,
    } as LevelStore;
  }
  return {
    ...store,
    shareConflict: (entriesOf, name) => {
      for (const other of state.tenants) {
        if (other.isProvider) continue;
        const level = state.levels.get(levelKey(other.zid, instanceid));
        if (level && (entriesOf(level) as Map<string, unknown>).has(name)) {
          return `"${name}" cannot be shared with subscribers: the subscription level of subaccount ${other.subdomain} (${other.subaccountId}) already has a configuration with this name`;
        }
      }
      return undefined;
    },
  };
}
