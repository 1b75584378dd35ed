/**
 * "State changed": listeners (the state directory's writer) hear about every change. A request changes state
 * when it writes state a snapshot keeps (each service says which of its requests do: core/service-table.ts) and succeeds (2xx); the
 * programmatic handle reports its own changes with {@link ChangeNotifier.notify}. A listener may return a
 * promise: the response to the request waits for it, so a 2xx is sent only once the change is saved. If the
 * listener fails, the client gets a 500 that says so instead of its 2xx, and the change is rolled back: with a
 * checkpoint function ({@link ChangeNotifier.useCheckpoints}), requests that change state run one at a time
 * while anyone listens, each from a checkpoint it returns to when its change could not be saved. So a change
 * answered 500 is gone from memory too, and no later write can make it durable.
 *
 * Observers ({@link ChangeNotifier.observe}) are lighter: they hear about the same changes (after the listeners,
 * and after a rollback too), but take no checkpoint and never fail a request. Faces that follow the state (the
 * Transparent Proxy's per-CR ports) use them; the response waits for the promise an observer returns.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';

export type ChangeListener = () => void | Promise<void>;

/** Takes a checkpoint of the state; calling what it returns goes back to it. */
export type Checkpoint = () => () => void;

export class ChangeNotifier {
  private readonly listeners = new Set<ChangeListener>();
  private readonly observers = new Set<ChangeListener>();
  private checkpoint?: Checkpoint;
  /** The request that changes state and is running now (one at a time while anyone listens). */
  private running: Promise<void> = Promise.resolve();

  /** How to take a checkpoint of the state (the core's snapshot); without it a failed save cannot be rolled back. */
  useCheckpoints(checkpoint: Checkpoint): void {
    this.checkpoint = checkpoint;
  }

  /** Call `listener` after every change; returns the function that unsubscribes it. */
  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Call `observer` after every change (no checkpoint, its failures ignored); returns the function that unsubscribes it. */
  observe(observer: ChangeListener): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }

  /** Tell every listener, then every observer; resolves once the promises they return have (e.g. the change is on disk). */
  async notify(): Promise<void> {
    try {
      if (this.listeners.size) await Promise.all([...this.listeners].map((listener) => listener()));
    } finally {
      await this.tellObservers();
    }
  }

  private async tellObservers(): Promise<void> {
    if (!this.observers.size) return;
    await Promise.all(
      [...this.observers].map((observer) =>
        Promise.resolve()
          .then(observer)
          .catch(() => undefined),
      ),
    );
  }

  /**
   * For changes made without a request (the programmatic handle, which answers synchronously): notify without
   * waiting. A failed save is not lost: the state directory reports it when it is closed.
   */
  notifyInBackground(): void {
    void this.notify().catch(() => undefined);
  }

  /** After a successful request that changes state: notify, and hold the response until the listeners are done. */
  middleware(changesState: (method: string, path: string) => boolean): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      if (!this.listeners.size && !this.observers.size) return next();
      if (!changesState(c.req.method, new URL(c.req.url).pathname)) return next();
      if (!this.listeners.size) {
        await next();
        if (c.res.status >= 200 && c.res.status <= 299) await this.tellObservers();
        return;
      }
      const turn = this.running.then(async () => {
        const rollback = this.checkpoint?.();
        await next();
        if (c.res.status < 200 || c.res.status > 299) return;
        try {
          await this.notify();
        } catch (err) {
          rollback?.();
          await this.tellObservers();
          const message = `The change could not be saved, so it was not made: ${(err as Error).message}`;
          c.set('reason', message);
          c.res = undefined;
          c.res = Response.json({ error: 'state_not_saved', message }, { status: 500 });
        }
      });
      this.running = turn.catch(() => undefined);
      return turn;
    };
  }
}
