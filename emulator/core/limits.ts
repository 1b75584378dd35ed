/**
 * Input limits of the core: how large a request body may be (per endpoint), how deep a JSON value may nest,
 * how many entities a Destination Service level holds. Every refusal names the limit and the option that
 * raises it (docs/security.md, "Limits and timeouts"). Bodies are read over web streams with Hono's bounded
 * reader, which honours Content-Length before reading and stops at the limit without buffering past it, so
 * this works in every face (Node servers, MSW).
 */
import { formatPath, ValidationError } from './validation.ts';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './app-env.ts';
import { tooDeepAt, tooDeepMessage } from './json-depth.ts';

export { maxJsonDepth } from './json-depth.ts';

export interface InputLimits {
  /** Largest request body of any endpoint but `PUT /_emulator/snapshot`, in bytes. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Largest body of `PUT /_emulator/snapshot` (and `state.json` of a state directory), in bytes. Default 100 MiB. */
  maxSnapshotBytes?: number;
  /** Destinations, fragments and certificates per Destination Service level, each. Default 1,000 (as on BTP). */
  maxEntitiesPerLevel?: number;
}

export const defaultLimits = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxSnapshotBytes: 100 * 1024 * 1024,
  maxEntitiesPerLevel: 1000,
} as const satisfies Required<InputLimits>;

/** The option and CLI flag behind each size limit, for messages. */
const optionOf = { maxBodyBytes: '--max-body-bytes', maxSnapshotBytes: '--max-snapshot-bytes' } as const;

export const formatBytes = (bytes: number): string =>
  bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;

/** The body limit that applies to a request: the snapshot import has its own. */
export function bodyLimitOf(method: string, path: string, limits: Required<InputLimits>): { bytes: number; option: keyof typeof optionOf } {
  return method === 'PUT' && path === '/_emulator/snapshot'
    ? { bytes: limits.maxSnapshotBytes, option: 'maxSnapshotBytes' }
    : { bytes: limits.maxBodyBytes, option: 'maxBodyBytes' };
}

/** 413 for a body beyond its endpoint's limit (by Content-Length before reading, or while reading). */
export function bodyLimitMiddleware(limits: Required<InputLimits>): MiddlewareHandler<AppEnv> {
  return (c, next) => {
    const path = new URL(c.req.url).pathname;
    const limit = bodyLimitOf(c.req.method, path, limits);
    return bodyLimit({
      maxSize: limit.bytes,
      onError: (ctx) => {
        const message = `The request body is larger than ${formatBytes(limit.bytes)}, the limit for ${c.req.method} ${path}; start the emulator with ${limit.option} (${optionOf[limit.option]}) to raise it`;
        ctx.set('reason', message);
        // The rest of the body is not read, so the connection cannot carry another request: say so.
        return ctx.json({ error: 'payload_too_large', message, limit: limit.bytes, option: limit.option }, 413, { connection: 'close' });
      },
    })(c, next);
  };
}

/** A ValidationError when `value` nests too deep, naming where. */
export function checkDepth(value: unknown, what: string): void {
  const at = tooDeepAt(value);
  if (at !== undefined) throw new ValidationError(what, [{ path: formatPath(at), message: tooDeepMessage }]);
}

/** JSON text to a value: a syntax error or too deep a nesting is a ValidationError of `what`. */
export function parseJsonText(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(what, [{ path: '', message: `not JSON: ${(err as Error).message}` }]);
  }
  checkDepth(value, what);
  return value;
}
