/**
 * High availability (docs/cloud-connector.md): a location's installation may have a shadow. The proxies ask
 * {@link haGate} before the mapping check: during a switch (`ha/master/state` SWITCH) every call fails with 503 for
 * `switchSeconds`; when the master goes offline (the control API, the console or an `offline` fault) a connected
 * shadow serves the tunnel once `takeoverDelaySeconds` have passed. All times are the emulator clock's.
 */
import type { SccInstance } from './schema.ts';

export type HaGate =
  /** The master serves, or nothing about HA applies. */
  | { kind: 'master' }
  /** The master is offline and the shadow serves. */
  | { kind: 'shadow' }
  /** A switch or a takeover is under way until `until` (ms). */
  | { kind: 'switching'; until: number; why: 'switch' | 'takeover' }
  /** Offline, and no shadow takes over. */
  | { kind: 'offline' };

/** Whether the shadow can take over: installed, connected, and HA enabled on the master. */
export const shadowReady = (instance: SccInstance | undefined): boolean => instance?.ha.shadow?.connected === true && instance.ha.haEnabled;

/** When a switch started at `switchedAt` ends (ms); undefined when none is running at `now`. */
export function switchingUntil(instance: SccInstance | undefined, now: number): number | undefined {
  const ha = instance?.ha;
  if (ha?.switchedAt === undefined) return undefined;
  const until = ha.switchedAt + ha.switchSeconds * 1000;
  return now < until ? until : undefined;
}

/**
 * `down`: the connector is offline (online false) or an offline fault covers it. `offlineSince`: since when, if
 * known (the control API's toggle records it; a fault's time added); an administrator's disconnect (REST `state`)
 * records none, so no shadow takes over then.
 */
export function haGate(
  instance: SccInstance | undefined,
  connector: { down: boolean; offlineSince?: number },
  now: number | undefined,
): HaGate {
  if (now === undefined) return connector.down ? { kind: 'offline' } : { kind: 'master' };
  const switching = switchingUntil(instance, now);
  if (switching !== undefined) return { kind: 'switching', until: switching, why: 'switch' };
  if (!connector.down) return { kind: 'master' };
  if (!shadowReady(instance) || connector.offlineSince === undefined) return { kind: 'offline' };
  const takeover = connector.offlineSince + instance!.ha.takeoverDelaySeconds * 1000;
  return now < takeover ? { kind: 'switching', until: takeover, why: 'takeover' } : { kind: 'shadow' };
}

/** The latest known moment the connector went down: the recorded offline time, an offline fault's. */
export function offlineSinceOf(recorded: number | undefined, online: boolean, faultSince: number | undefined): number | undefined {
  const times = [online ? undefined : recorded, faultSince].filter((t): t is number => t !== undefined);
  if (!online && recorded === undefined) return undefined;
  return times.length ? Math.max(...times) : undefined;
}
