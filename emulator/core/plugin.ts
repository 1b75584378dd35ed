/**
 * A service is a plugin: a descriptor the composition root (emulator/app/plugins.ts) lists, the way Miniflare
 * lists its plugins. The core knows this shape and nothing of any service. Adding a service means adding a folder
 * under emulator/services and one entry in the list.
 *
 * Every service folder has the same files:
 *   index.ts    the plugin (this descriptor) and what other folders may use
 *   schema.ts   its part of the scenario and its request bodies (zod)
 *   state.ts    its part of the state, and the view of the state it reads
 *   gateway.ts  its behaviour, transport-free (no Hono, no sockets)
 *   routes.ts   its HTTP routes (Hono), calling the gateway
 *   errors.ts   its errors (HttpError subclasses: each knows its response)
 * A large service keeps the parts of its gateway in sub-folders (the Destination Service's lookup/, crud/, ...).
 */
import type { App } from './app-env.ts';
import type { ChangeNotifier } from './change-notifier.ts';
import type { MtlsCapableFetch } from './client-certificate.ts';
import type { Clock } from './clock.ts';
import type { FaultList } from './faults.ts';
import type { Journal } from './journal.ts';
import type { InputLimits } from './limits.ts';
import type { ServicePaths } from './service-table.ts';
import type { KeyRing } from './signing-keys.ts';
import type { PublicUrls } from './urls.ts';

/** What the core gives every service. `V` is the view of the state the service reads (its state.ts says which). */
export interface ServiceContext<V = unknown> {
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly journal: Journal;
  readonly faults: FaultList;
  readonly changes: ChangeNotifier;
  readonly limits: Required<InputLimits>;
  /** The current state (rebuilt on reset and scenario load: always read it through this). */
  state(): V;
  urls(): PublicUrls;
  /** Values of `{{name}}` placeholders in destinations (`services`, `uaadomain`, and the faces' own, e.g. `backend`). */
  placeholders(): Record<string, string>;
  /** Calls outside the emulator (a destination's token service); calls to the emulator's own hosts stay in-process. */
  fetchOutbound: MtlsCapableFetch;
  /** The options the emulator was created with (each service reads its own). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The instance of a service listed before this one (a service may use another's gateway). */
  use<I extends ServiceInstance>(plugin: ServicePlugin<I, never>): I;
}

/** What a plugin's `create` returns: its gateway (and whatever else it exposes) and its routes. */
export interface ServiceInstance {
  /** Registers the service's HTTP routes; every service's routes.ts has this one signature. */
  registerRoutes?(app: App): void;
}

export interface ServicePlugin<I extends ServiceInstance = ServiceInstance, V = unknown> {
  /** The service's name (unique in the plugin list). */
  readonly name: string;
  /** The URL paths its routes serve, for the journal, faults and change notification. */
  readonly paths?: ServicePaths;
  create(ctx: ServiceContext<V>): I;
}

/** Types a plugin descriptor (and checks it against the interface) without widening its instance type. */
export const definePlugin = <I extends ServiceInstance, V>(plugin: ServicePlugin<I, V>): ServicePlugin<I, V> => plugin;
