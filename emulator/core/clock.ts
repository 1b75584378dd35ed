/** The emulator's one notion of "now". Every expiry (token iat/exp, checks) reads it, so tests can move time. */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Stop time at its current value (or at `at`). */
  freeze(at?: number): void;
  /** Move time forward by `ms` (frozen or not). */
  advance(ms: number): void;
  /** Back to real time, keeping no offset. */
  useRealTime(): void;
  /** True while time stands still (optional: clocks passed in from outside may not tell). */
  isFrozen?(): boolean;
}

export function createClock(): Clock {
  let offset = 0;
  let frozenAt: number | undefined;
  return {
    now: () => (frozenAt ?? Date.now()) + offset,
    freeze(at) {
      frozenAt = at ?? (frozenAt ?? Date.now()) + offset;
      offset = 0;
    },
    advance(ms) {
      offset += ms;
    },
    useRealTime() {
      frozenAt = undefined;
      offset = 0;
    },
    isFrozen: () => frozenAt !== undefined,
  };
}

export const nowSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
