/**
 * Labels of destinations, fragments and certificates on both levels (`GET|PUT|PATCH
 * /v1/{subaccount|instance}{Destinations|DestinationFragments|Certificates}/{name}/labels`): a list of
 * `{key, values}`; PUT replaces it, PATCH `{action: ADD|DELETE, labels}` merges or removes. At most 10 labels
 * per entity and 10 values per label. Kept in each level store (state.ts, so a reset clears them and a snapshot
 * keeps them), by entity kind and name; list filters (`Label['k'] HAS ('v')`) read them through {@link labelsOf}.
 */
import { DestinationError } from '../errors.ts';
import type { Label, LevelStore } from '../state.ts';

const MAX_LABELS = 10;
const MAX_VALUES = 10;

/** Where a level keeps the labels of one entity (`destination`, `fragment` or `certificate`). */
export const labelKey = (entity: string, name: string): string => `${entity}:${name}`;

/** The labels of one entity of a level. */
export function labelsOf(store: LevelStore, entity: string, name: string): Label[] {
  return store.labels.get(labelKey(entity, name)) ?? [];
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

/** The labels of one existing entity: read, replace (PUT body) or change (PATCH body). */
export class EntityLabels {
  private readonly store: LevelStore;
  private readonly key: string;
  constructor(store: LevelStore, entity: string, name: string) {
    this.store = store;
    this.key = labelKey(entity, name);
  }

  get(): Label[] {
    return this.store.labels.get(this.key) ?? [];
  }

  /** PUT: the body is the new list. */
  replace(body: unknown): Label[] {
    const next = checkLimits(parseLabels(body, 'body'));
    this.store.labels.set(this.key, next);
    return next;
  }

  /** PATCH: `{action: ADD|DELETE, labels}`. */
  patch(body: unknown): Label[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new DestinationError(400, 'the body must be an object {"action": "ADD" | "DELETE", "labels": [...]}');
    const change = body as { action?: unknown; labels?: unknown };
    if (change.action !== 'ADD' && change.action !== 'DELETE') throw new DestinationError(400, 'action must be "ADD" or "DELETE"');
    const next = patchLabels(this.get(), change.action, parseLabels(change.labels, 'labels'));
    this.store.labels.set(this.key, next);
    return next;
  }
}
