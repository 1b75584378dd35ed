/**
 * A Hono router whose matcher is built once per process, not once per emulator (issue 19): every EmulatorCore
 * registers the same routes in the same order, and building Hono's matcher for them (a RegExpRouter attempt, then
 * the TrieRouter it falls back to) was most of what a fresh instance's first request cost. Each instance keeps its
 * own handlers; the shared matcher, built for the list of (method, path) pairs, answers with their positions, and
 * each instance maps the positions to its handlers. A different list (other routes, another order) gets a matcher
 * of its own, so sharing never routes a request to a handler that was not registered for that path.
 */
import type { ParamIndexMap, Params, Result, Router } from 'hono/router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';

/** Matchers by their route list (method and path per line); a few lists per process at most. */
const matchers = new Map<string, Router<number>>();
const maxMatchers = 16;

function matcherFor(routes: readonly (readonly [string, string])[]): Router<number> {
  const key = routes.map(([method, path]) => `${method} ${path}`).join('\n');
  let matcher = matchers.get(key);
  if (!matcher) {
    // Hono's default router, fed positions instead of handlers.
    matcher = new SmartRouter<number>({ routers: [new RegExpRouter<number>(), new TrieRouter<number>()] });
    routes.forEach(([method, path], i) => matcher!.add(method, path, i));
    if (matchers.size >= maxMatchers) matchers.clear();
    matchers.set(key, matcher);
  }
  return matcher;
}

export class SharedRouter<T> implements Router<T> {
  name = 'SharedRouter';
  readonly #routes: [string, string][] = [];
  readonly #handlers: T[] = [];
  #matcher: Router<number> | undefined;
  /** The mapped answer per answer of the matcher: RegExpRouter answers a path with the same array each time. */
  readonly #mapped = new WeakMap<object, [T, ParamIndexMap | Params][]>();

  add(method: string, path: string, handler: T): void {
    if (this.#matcher) throw new Error('Can not add a route since the matcher is already built.');
    this.#routes.push([method, path]);
    this.#handlers.push(handler);
  }

  match(method: string, path: string): Result<T> {
    this.#matcher ??= matcherFor(this.#routes);
    const result = this.#matcher.match(method, path);
    const found = result[0] as [number, ParamIndexMap | Params][];
    // The TrieRouter answers with new arrays each time: nothing to keep.
    let mapped = this.#cacheable ? this.#mapped.get(found) : undefined;
    if (!mapped) {
      mapped = found.map(([i, params]) => [this.#handlers[i], params]);
      this.#cacheable ??= this.#matcher.name.endsWith('RegExpRouter');
      if (this.#cacheable) this.#mapped.set(found, mapped);
    }
    return (result.length === 2 ? [mapped, result[1]] : [mapped]) as Result<T>;
  }

  #cacheable: boolean | undefined;
}
