/**
 * Validation for every input (scenario, CRUD bodies, control API bodies, snapshots): parse with a zod schema and
 * throw a ValidationError whose message names each offending field and, for an unknown key, the key meant.
 */
import type { z } from 'zod';
import { HttpError, jsonResponse } from './http-error.ts';
import { tooDeepAt, tooDeepMessage } from './json-depth.ts';
import { didYouMean } from './name-hints.ts';

/** A validation failure whose message names every offending field, e.g. `tenants[0].destinations[1].Type: …`. */
export class ValidationError extends HttpError {
  readonly status = 400;
  readonly issues: { path: string; message: string }[];
  constructor(what: string, issues: { path: string; message: string }[]) {
    super(`${what} is invalid: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'ValidationError';
    this.issues = issues;
  }
  toResponse(): Response {
    return jsonResponse({ error: 'invalid_request', message: this.message, issues: this.issues }, 400);
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** The keys a strict object schema knows (its shape), for the did-you-mean of an unknown key. */
function shapeKeys(schema: unknown): string[] {
  const shape = (schema as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

/** `unknown key; did you mean \`tenants\`?`, or the keys there are when none is near. */
function unknownKeyMessage(key: string, keys: string[]): string {
  const hint = didYouMean(key, keys);
  return `unknown key; ${hint || `the keys here are ${keys.join(', ')}`}`;
}

/**
 * Parse with a schema, throwing a ValidationError that names the fields. An unknown key of a strict object
 * is reported at its own path (`tenants[0].destinatons`) with the key it probably meant. A value nested too
 * deep (json-depth.ts) is refused first.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const deep = tooDeepAt(value);
  if (deep) throw new ValidationError(what, [{ path: formatPath(deep), message: tooDeepMessage }]);
  const keysAt = new Map<string, string[]>();
  const result = schema.safeParse(value, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') keysAt.set(formatPath(issue.path ?? []), shapeKeys(issue.inst));
      return undefined;
    },
  });
  if (result.success) return result.data;
  throw new ValidationError(
    what,
    result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({
            path: formatPath([...issue.path, key]),
            message: unknownKeyMessage(key, keysAt.get(formatPath(issue.path)) ?? []),
          }))
        : [{ path: formatPath(issue.path), message: issue.message }],
    ),
  );
}
