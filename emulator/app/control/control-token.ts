/**
 * The control API's optional guard: with a control token set, every /_emulator route but `health` needs
 * `Authorization: Bearer <token>`; anything else is a 401 that says what is missing, and changes nothing.
 */
import { bearerToken } from '../../core/auth-header.ts';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../core/app-env.ts';
import { controlBase } from './contract.ts';

/** Compares in time independent of where the strings differ. */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

export function controlTokenGuard(token: () => string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = token();
    if (!expected || new URL(c.req.url).pathname === `${controlBase}/health`) return next();
    const sent = bearerToken(c.req.header('authorization'));
    if (sent !== undefined && sameText(sent, expected)) return next();
    const message =
      sent === undefined
        ? 'the control API needs the control token: send "Authorization: Bearer <token>"'
        : 'the control token sent in the Authorization header is wrong';
    c.set('reason', message);
    return c.json({ error: 'unauthorized', message }, 401, { 'www-authenticate': 'Bearer realm="btp-emulator control API"' });
  };
}
