/**
 * Registering a control route by its operation in `contract.ts`: method and path come from the contract, and
 * the handler reads its body and query through the operation's schemas, so what the OpenAPI document says is
 * what the route checks. A bad body or query is a 400 naming the field, before the handler changes anything.
 */
import { parseWith } from '../../core/validation.ts';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { App, AppEnv } from '../../core/app-env.ts';
import { operations, routePath, type OperationId } from './contract.ts';
import { readControlJson } from './json-body.ts';

type Handler = (c: Context<AppEnv>) => Response | Promise<Response>;

export function registerOperation(app: App, id: OperationId, handler: Handler): void {
  const operation = operations[id];
  app.on(operation.method.toUpperCase(), routePath(operation), handler);
}

type BodyOf<K extends OperationId> = (typeof operations)[K] extends { body: infer S extends z.ZodType } ? z.output<S> : never;
type QueryOf<K extends OperationId> = (typeof operations)[K] extends { query: infer S extends z.ZodType } ? z.output<S> : never;

/** The request body, parsed with the operation's schema (JSON; an empty body is `{}`). */
export async function bodyOf<K extends OperationId>(c: Context<AppEnv>, id: K): Promise<BodyOf<K>> {
  const schema = (operations[id] as { body?: z.ZodType }).body;
  if (!schema) throw new Error(`operation ${id} takes no body`);
  return parseWith(schema, await readControlJson(c), 'request body') as BodyOf<K>;
}

/** The query string, parsed with the operation's schema. */
export function queryOf<K extends OperationId>(c: Context<AppEnv>, id: K): QueryOf<K> {
  const schema = (operations[id] as { query?: z.ZodType }).query;
  if (!schema) throw new Error(`operation ${id} takes no query`);
  return parseWith(schema, c.req.query(), 'query') as QueryOf<K>;
}

/** A path parameter (`{id}` in the contract). */
export const paramOf = (c: Context<AppEnv>, name: string): string => c.req.param(name) ?? '';
