/**
 * Labels of destinations, fragments and certificates on both levels: `GET|PUT|PATCH
 * /v1/{subaccount|instance}{Destinations|DestinationFragments|Certificates}/{name}/labels` — a list of
 * `{key, values}`; PUT replaces it, PATCH `{action: ADD|DELETE, labels}` merges or removes. At most 10 labels
 * per entity and 10 values per label. Kept per level store (so a reset clears them), by entity kind and name;
 * list filters (`Label['k'] HAS ('v')`) read them through {@link labelsOf}.
 */
import { type LevelStore } from '../state.ts';
import type { Context } from 'hono';
import type { App, AppEnv } from '../../../core/app-env.ts';
import { DestinationError } from '../errors.ts';
import type { DestinationGateway, Level } from '../gateway.ts';
import { readJsonBody } from './routes.ts';

export interface Label {
  key: string;
  values: string[];
}

const MAX_LABELS = 10;
const MAX_VALUES = 10;
/** Labels by the stored level (a per-request view of a level, with zones, points at it as `raw`). */
const byLevel = new WeakMap<LevelStore, Map<string, Label[]>>();
const stores = {
  get: (store: LevelStore) => byLevel.get(store.raw ?? store),
  set: (store: LevelStore, labels: Map<string, Label[]>) => byLevel.set(store.raw ?? store, labels),
  delete: (store: LevelStore) => byLevel.delete(store.raw ?? store),
};

const collections = [
  { suffix: 'Destinations', entity: 'destination', get: (s: LevelStore, n: string) => s.destinations.get(n) },
  { suffix: 'DestinationFragments', entity: 'fragment', get: (s: LevelStore, n: string) => s.fragments.get(n) },
  { suffix: 'Certificates', entity: 'certificate', get: (s: LevelStore, n: string) => s.certificates.get(n) },
] as const;

/** The labels of one entity (`destination`, `fragment` or `certificate`) of a level. */
export function labelsOf(store: LevelStore, entity: string, name: string): Label[] {
  return stores.get(store)?.get(`${entity}:${name}`) ?? [];
}

/** Every label of a level, by `<entity>:<name>` (what a snapshot keeps). */
export function levelLabels(store: LevelStore): Record<string, Label[]> {
  return Object.fromEntries(stores.get(store) ?? []);
}

/** Give a level the labels of {@link levelLabels} (a restored snapshot). */
export function restoreLevelLabels(store: LevelStore, labels: Record<string, Label[]>): void {
  const entries = Object.entries(labels);
  if (entries.length) stores.set(store, new Map(entries));
  else stores.delete(store);
}

/** Validates a list of labels from a request body; `field` names it in errors. */
export function parseLabels(value: unknown, field: string): Label[] {
  if (!Array.isArray(value)) throw new DestinationError(400, `${field} must be an array of {"key": "...", "values": ["..."]}`);
  const labels = value.map((item, i): Label => {
    const { key, values } = (item ?? {}) as { key?: unknown; values?: unknown };
    if (typeof key !== 'string' || !key.trim()) throw new DestinationError(400, `${field}[${i}].key must be a non-empty string`);
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))
      throw new DestinationError(400, `${field}[${i}].values must be an array of strings`);
    if (values.length > MAX_VALUES)
      throw new DestinationError(400, `${field}[${i}].values has ${values.length} values; at most ${MAX_VALUES} are allowed`);
    return { key, values: [...new Set(values as string[])] };
  });
  const keys = labels.map((l) => l.key);
  const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
  if (duplicate) throw new DestinationError(400, `${field} names the key "${duplicate}" twice`);
  return labels;
}

function checkLimits(labels: Label[]): Label[] {
  if (labels.length > MAX_LABELS)
    throw new DestinationError(400, `An entity may have at most ${MAX_LABELS} labels; this request would give it ${labels.length}`);
  const crowded = labels.find((l) => l.values.length > MAX_VALUES);
  if (crowded)
    throw new DestinationError(400, `Label "${crowded.key}" would have ${crowded.values.length} values; at most ${MAX_VALUES} are allowed`);
  return labels;
}

/** PATCH semantics: ADD unites values per key; DELETE removes the given values, or the whole key when none are given. */
export function patchLabels(current: Label[], action: string, changes: Label[]): Label[] {
  const result = current.map((l) => ({ key: l.key, values: [...l.values] }));
  for (const change of changes) {
    const existing = result.find((l) => l.key === change.key);
    if (action === 'ADD') {
      if (existing) existing.values = [...new Set([...existing.values, ...change.values])];
      else result.push({ key: change.key, values: [...change.values] });
    } else if (existing) {
      existing.values = change.values.length ? existing.values.filter((v) => !change.values.includes(v)) : [];
    }
  }
  return checkLimits(result.filter((l) => l.values.length || action === 'ADD'));
}

export function registerLabelRoutes(app: App, gateway: DestinationGateway, base: string): void {
  for (const level of ['subaccount', 'instance'] as Level[]) {
    for (const collection of collections) {
      const path = `${base}/v1/${level}${collection.suffix}/:name/labels`;
      const target = async (c: Context<AppEnv>): Promise<{ labels: Map<string, Label[]>; key: string }> => {
        const caller = await gateway.authenticate(c.req.header('authorization'));
        c.set('tenant', caller.tenant.subdomain);
        const store = gateway.level(caller, level);
        const name = c.req.param('name') ?? '';
        if (!collection.get(store, name))
          throw new DestinationError(404, `The ${collection.entity} "${name}" was not found on the ${level} level`);
        let labels = stores.get(store);
        if (!labels) stores.set(store, (labels = new Map()));
        return { labels, key: `${collection.entity}:${name}` };
      };
      app.get(path, async (c) => {
        const { labels, key } = await target(c);
        return c.json(labels.get(key) ?? []);
      });
      app.put(path, async (c) => {
        const { labels, key } = await target(c);
        const next = checkLimits(parseLabels(await readJsonBody(c), 'body'));
        labels.set(key, next);
        return c.json(next);
      });
      app.patch(path, async (c) => {
        const { labels, key } = await target(c);
        const body = (await readJsonBody(c)) as { action?: unknown; labels?: unknown };
        if (body.action !== 'ADD' && body.action !== 'DELETE') throw new DestinationError(400, 'action must be "ADD" or "DELETE"');
        const next = patchLabels(labels.get(key) ?? [], body.action, parseLabels(body.labels, 'labels'));
        labels.set(key, next);
        return c.json(next);
      });
    }
  }
}
