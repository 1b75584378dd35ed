/**
 * "State changed": listeners (the state directory's writer) hear about every change. A request changes state
 * when it writes (not GET/HEAD/OPTIONS) to the Destination Service or the control API and succeeds (2xx); the
 * programmatic handle reports its own changes with {@link ChangeNotifier.notify}. A listener may return a
 * promise: the response to the request waits for it, so a 2xx is sent only once the change is saved. If the
 * listener fails, the client gets a 500 that says so instead of its 2xx.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';

export type ChangeListener = () => void | Promise<void>;

/** Control routes that write nothing that a snapshot keeps (issuing a token, clearing the journal). */
const stateless = ['/_emulator/users/token', '/_emulator/journal'];

export function changesState(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  if (path.startsWith('/destination-configuration')) return true;
  return path.startsWith('/_emulator') && !stateless.includes(path);
}

export class ChangeNotifier {
  private readonly listeners = new Set<ChangeListener>();

  /** Call `listener` after every change; returns the function that unsubscribes it. */
  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Tell every listener; resolves once the promises they return have (e.g. the change is on disk). */
  async notify(): Promise<void> {
    if (!this.listeners.size) return;
    await Promise.all([...this.listeners].map((listener) => listener()));
  }

  /**
   * For changes made without a request (the programmatic handle, which answers synchronously): notify without
   * waiting. A failed save is not lost: the state directory reports it when it is closed.
   */
  notifyInBackground(): void {
    void this.notify().catch(() => undefined);
  }

  /** After a successful request that changes state: notify, and hold the response until the listeners are done. */
  middleware(): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      await next();
      if (c.res.status < 200 || c.res.status > 299 || !this.listeners.size || !changesState(c.req.method, new URL(c.req.url).pathname)) return;
      try {
        await this.notify();
      } catch (err) {
        c.set('reason', `the change was made but not saved: ${(err as Error).message}`);
        c.res = undefined;
        c.res = Response.json({ error: 'state_not_saved', message: `The change was made in memory but could not be saved: ${(err as Error).message}` }, { status: 500 });
      }
    };
  }
}
