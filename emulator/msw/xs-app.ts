/**
 * The part of the approuter's `xs-app.json` the approuter face understands: routes with a `source` regex on
 * the path, a `target` rewrite (`$1` groups), a `destination` and an `authenticationType`. The first matching
 * route wins; `target` replaces the matched part of the path. Other properties are accepted and ignored.
 */
import { formatPath, parseWith, ValidationError } from '../core/validation.ts';
import { z } from 'zod';

const authenticationTypes = ['none', 'xsuaa'] as const;

const routeSchema = z.looseObject({
  source: z.union([z.string().min(1), z.object({ path: z.string().min(1), matchCase: z.boolean().default(true) })], {
    error: 'source is required: a regular expression on the path, e.g. "^/api/(.*)$"',
  }),
  target: z.string().optional(),
  destination: z.string().min(1).optional(),
  authenticationType: z
    .enum(authenticationTypes, {
      error: `authenticationType must be one of ${authenticationTypes.join(', ')} (the approuter face emulates no other)`,
    })
    .optional(),
  csrfProtection: z.boolean().optional(),
});

const xsAppSchema = z.looseObject({
  /** `none` turns authentication off for every route, as in the approuter. */
  authenticationMethod: z.enum(['route', 'none']).default('route'),
  routes: z.array(routeSchema).default([]),
});

export type XsAppRoute = z.output<typeof routeSchema>;

export interface CompiledRoute {
  index: number;
  regex: RegExp;
  target?: string;
  destination?: string;
  authenticationType: (typeof authenticationTypes)[number];
}

export interface XsApp {
  routes: CompiledRoute[];
}

/** Validate an `xs-app.json` object and compile its route regexes; errors name the route and field. */
export function parseXsApp(value: unknown): XsApp {
  const parsed = parseWith(xsAppSchema, value, 'xs-app.json');
  const routes = parsed.routes.map((route, index): CompiledRoute => {
    const source = typeof route.source === 'string' ? { path: route.source, matchCase: true } : route.source;
    let regex: RegExp;
    try {
      regex = new RegExp(source.path, source.matchCase ? '' : 'i');
    } catch (err) {
      throw new ValidationError('xs-app.json', [
        { path: formatPath(['routes', index, 'source']), message: `not a regular expression: ${(err as Error).message}` },
      ]);
    }
    const authenticationType = parsed.authenticationMethod === 'none' ? 'none' : (route.authenticationType ?? 'xsuaa');
    return { index, regex, target: route.target, destination: route.destination, authenticationType };
  });
  return { routes };
}

/** The first route whose source matches the path, and the path rewritten by its target. */
export function matchRoute(app: XsApp, path: string): { route: CompiledRoute; path: string } | undefined {
  const route = app.routes.find((r) => r.regex.test(path));
  if (!route) return undefined;
  return { route, path: route.target === undefined ? path : path.replace(route.regex, route.target) };
}
