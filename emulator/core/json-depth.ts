/**
 * How deep a JSON value may nest (objects and arrays), checked without recursion. Every value a schema reads
 * (parseWith) and every JSON body is checked, so recursive code later (cloning, serialising) never meets a
 * value deep enough to exhaust the stack.
 */

/**
 * Fixed, not an option: nothing the emulator takes nests past about ten levels (a snapshot is the deepest).
 * Documented in docs/security.md.
 */
export const maxJsonDepth = 64;

export const tooDeepMessage = `nests deeper than ${maxJsonDepth} levels of objects and arrays (the emulator's fixed limit for JSON values)`;

interface Frame {
  value: object;
  depth: number;
  parent?: Frame;
  key?: string | number;
}

/** The first keys (at most four, enough to name the field) leading to a value nested deeper than `maxDepth`, or undefined. */
export function tooDeepAt(value: unknown, maxDepth = maxJsonDepth): (string | number)[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  // A walk that allocates nothing per value (a large scenario has millions); only a value found too deep is walked
  // again, keeping the path.
  const values: object[] = [value];
  const depths: number[] = [1];
  while (values.length) {
    const current = values.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return pathTooDeep(value as object, maxDepth);
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        const child: unknown = current[i];
        if (child !== null && typeof child === 'object') {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in current) {
        if (!Object.hasOwn(current, key)) continue;
        const child: unknown = (current as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object') {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return undefined;
}

function pathTooDeep(value: object, maxDepth: number): (string | number)[] | undefined {
  const stack: Frame[] = [{ value, depth: 1 }];
  while (stack.length) {
    const frame = stack.pop()!;
    if (frame.depth > maxDepth) return keysOf(frame);
    const children: [string | number, unknown][] = Array.isArray(frame.value)
      ? frame.value.map((v: unknown, i) => [i, v])
      : Object.entries(frame.value);
    for (const [key, child] of children)
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: frame.depth + 1, parent: frame, key });
  }
  return undefined;
}

function keysOf(frame: Frame): (string | number)[] {
  const keys: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) keys.unshift(f.key);
  return keys.slice(0, 4);
}

/** JSON text parsed and depth-checked, or why not: JSON.parse's message, or where it nests too deep. */
export type CheckedJson = { ok: true; value: unknown } | { ok: false; syntaxError: string } | { ok: false; tooDeepAt: (string | number)[] };

/**
 * Parse JSON text and check its nesting ({@link maxJsonDepth}); each caller turns a failure into its own error
 * (the Destination Service's `{"ErrorMessage"}` 400, a ValidationError, ...). The body's size is bounded before
 * (limits.ts).
 */
export function parseCheckedJson(text: string): CheckedJson {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    return { ok: false, syntaxError: (error as Error).message };
  }
  const deep = tooDeepAt(value);
  return deep ? { ok: false, tooDeepAt: deep } : { ok: true, value };
}
