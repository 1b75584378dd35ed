/**
 * What every adapter reads from: the emulator's service bindings (VCAP_SERVICES) and its CA file. Accepts a
 * running emulator's handle, or the plain values for an emulator in another process (`btp-emulator env --json`).
 */
import type { VcapServices } from '../emulator/app/bindings.ts';

/** The plain values an adapter needs: the bindings (object or JSON string) and, optionally, the CA file. */
export interface BindingValues {
  vcapServices: VcapServices | string;
  caFile?: string;
}

/** An emulator handle (`startEmulator()`), or anything with the same `env` and `caFile`. */
export interface EmulatorLike {
  readonly env: Record<string, string>;
  caFile: string;
}

export type BindingSource = EmulatorLike | BindingValues;

export interface ResolvedBindings {
  vcapServices: VcapServices;
  caFile?: string;
}

export function resolveBindings(from: BindingSource): ResolvedBindings {
  if ('env' in from) {
    const text = from.env.VCAP_SERVICES;
    if (!text) throw new Error('the emulator handle has no VCAP_SERVICES in its env');
    return { vcapServices: JSON.parse(text) as VcapServices, caFile: from.caFile };
  }
  const vcapServices = typeof from.vcapServices === 'string' ? (JSON.parse(from.vcapServices) as VcapServices) : from.vcapServices;
  return { vcapServices, caFile: from.caFile };
}

/**
 * Only the bindings with these labels (e.g. `['xsuaa', 'destination']`), as an app that is bound to fewer
 * services sees them. The approuter, for one, fetches a connectivity token per request when it is bound to
 * connectivity, by subdomain (`https://<subdomain>.<uaadomain>`).
 */
export function selectBindings(from: BindingSource, labels: string[]): BindingValues {
  const { vcapServices, caFile } = resolveBindings(from);
  const unknown = labels.filter(
    (label) =>
      !Object.values(vcapServices)
        .flat()
        .some((b) => b.label === label),
  );
  if (unknown.length) throw new Error(`no binding with label ${unknown.join(', ')}`);
  const selected = Object.fromEntries(
    Object.entries(vcapServices)
      .map(([key, bindings]) => [key, bindings.filter((b) => labels.includes(b.label))] as const)
      .filter(([, bindings]) => bindings.length > 0),
  );
  return { vcapServices: selected, ...(caFile ? { caFile } : {}) };
}
