/**
 * The SAP Cloud SDK keeps process-wide caches that outlive an emulator: its XSUAA client per client id (with the
 * token service URL it saw first), service tokens, destinations and HTTP agents. An emulator started again in the
 * same process on a new port then meets `ECONNREFUSED` at the old URL, and a cached destination still points at the
 * old emulator's backend. {@link clearSapCloudSdkCaches} empties them between emulators; `startEmulator({ port:
 * 'sticky' })` keeps the token service URL the same instead (docs/sdk-adapters.md).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** What of `@sap-cloud-sdk/connectivity/internal` is cleared; each is optional, so other SDK versions work too. */
export interface SapCloudSdkInternals {
  clearXsuaaServices?: () => void;
  [cache: string]: unknown;
}

/** The caches by their export name; each has `clear()`. */
const caches = [
  'destinationCache',
  'destinationServiceCache',
  'clientCredentialsTokenCache',
  'identityServicesCache',
  'verificationKeyCache',
  'agentCache',
] as const;

const internalModule = '@sap-cloud-sdk/connectivity/internal';

/** The SDK as the app under test resolves it (from the working directory), else as this package does. */
function loadSdkInternals(): SapCloudSdkInternals {
  for (const base of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      return createRequire(base)(internalModule) as SapCloudSdkInternals;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  throw new Error(
    `clearSapCloudSdkCaches: ${internalModule} cannot be resolved from ${process.cwd()}; install @sap-cloud-sdk/connectivity, or pass the module: clearSapCloudSdkCaches(await import('${internalModule}'))`,
  );
}

/**
 * Empty the SAP Cloud SDK's caches of XSUAA clients, tokens, destinations and agents, e.g. after each `stop()` of
 * an emulator started per test. `sdk`: the SDK's `@sap-cloud-sdk/connectivity/internal` module when the app's copy
 * is not the one found from the working directory. Returns the names of what was cleared.
 */
export function clearSapCloudSdkCaches(sdk: SapCloudSdkInternals = loadSdkInternals()): string[] {
  const cleared: string[] = [];
  if (typeof sdk.clearXsuaaServices === 'function') {
    sdk.clearXsuaaServices();
    cleared.push('clearXsuaaServices');
  }
  for (const name of caches) {
    const cache = sdk[name] as { clear?: () => void } | undefined;
    if (typeof cache?.clear === 'function') {
      cache.clear();
      cleared.push(name);
    }
  }
  if (!cleared.includes('clearXsuaaServices'))
    throw new Error(
      'clearSapCloudSdkCaches: this SAP Cloud SDK has no clearXsuaaServices(); start the emulators with port: "sticky" instead',
    );
  return cleared;
}
