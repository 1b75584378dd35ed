/**
 * CAP (`@sap/cds`) settings for remote services that reach their target through a destination:
 * `cds.requires.<Service> = { kind, credentials: { destination, path } }`. CAP hands the destination name to the
 * SAP Cloud SDK, which looks it up in the Destination Service bound in VCAP_SERVICES — here, the emulator's.
 * Put the result into `package.json#cds`, `.cdsrc.json`, or the `CDS_CONFIG` environment variable.
 */

export type CapRemoteKind = 'odata' | 'odata-v2' | 'odata-v4' | 'rest';

export interface CapRemoteServiceOptions {
  /** The destination's name in the Destination Service. */
  destination: string;
  kind?: CapRemoteKind;
  /** Service path appended to the destination URL, e.g. `/sap/opu/odata/sap/API_SAMPLE_SRV`. */
  path?: string;
  /** Imported model (e.g. `srv/external/API_SAMPLE_SRV`), if the app has one. */
  model?: string;
  /** Milliseconds; CAP's default is 60 000. */
  requestTimeout?: number;
  /** Passed to the SDK's `getDestination` (e.g. `{ useCache: false }`). */
  destinationOptions?: Record<string, unknown>;
}

export interface CapRemoteServiceConfig {
  kind: CapRemoteKind;
  model?: string;
  credentials: { destination: string; path?: string; requestTimeout?: number };
  destinationOptions?: Record<string, unknown>;
}

/** One `cds.requires` entry. */
export function capRemoteService(options: CapRemoteServiceOptions): CapRemoteServiceConfig {
  if (!options.destination) throw new Error('capRemoteService: a destination name is required');
  if (options.path !== undefined && !options.path.startsWith('/'))
    throw new Error(`capRemoteService: path "${options.path}" must start with /`);
  return {
    kind: options.kind ?? 'odata',
    ...(options.model ? { model: options.model } : {}),
    credentials: {
      destination: options.destination,
      ...(options.path !== undefined ? { path: options.path } : {}),
      ...(options.requestTimeout !== undefined ? { requestTimeout: options.requestTimeout } : {}),
    },
    ...(options.destinationOptions ? { destinationOptions: options.destinationOptions } : {}),
  };
}

/** `{ requires: { <Service>: … } }`, the shape of `package.json#cds` and `.cdsrc.json`. */
export function capRequires(services: Record<string, CapRemoteServiceOptions>): { requires: Record<string, CapRemoteServiceConfig> } {
  return { requires: Object.fromEntries(Object.entries(services).map(([name, options]) => [name, capRemoteService(options)])) };
}

/** `{ CDS_CONFIG: <json> }`: the same settings for a CAP process's environment (CAP merges it over its files). */
export function capConfigEnv(services: Record<string, CapRemoteServiceOptions>): { CDS_CONFIG: string } {
  return { CDS_CONFIG: JSON.stringify(capRequires(services)) };
}
