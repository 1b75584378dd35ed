/**
 * `default-env.json`: the local stand-in for a Cloud Foundry environment. `@sap/xsenv.loadEnv()` copies its
 * top-level keys into `process.env` (objects as JSON strings, existing variables win); the approuter loads it
 * from its working directory at start, and CAP's `cds.env` from the project root.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBindings, type BindingSource } from './binding-source.ts';
import type { ApprouterDestination } from './approuter-destinations.ts';

export interface DefaultEnvOptions {
  /** Write `<dir>/default-env.json` (the approuter and CAP look in their working directory / project root). */
  dir?: string;
  /** Or exactly this file. */
  file?: string;
  /** The approuter / SAP Cloud SDK `destinations` variable, written as a JSON array. */
  destinations?: ApprouterDestination[];
  /** Further variables (strings, or objects written as JSON), e.g. `{ PORT: '5000' }`. */
  extra?: Record<string, unknown>;
}

/** The object written to `default-env.json`. */
export function defaultEnvContent(
  from: BindingSource,
  options: Pick<DefaultEnvOptions, 'destinations' | 'extra'> = {},
): Record<string, unknown> {
  return {
    VCAP_SERVICES: resolveBindings(from).vcapServices,
    ...(options.destinations ? { destinations: options.destinations } : {}),
    ...options.extra,
  };
}

/** Writes the file and returns its path. */
export function writeDefaultEnvFile(from: BindingSource, options: DefaultEnvOptions): string {
  const file = options.file ?? (options.dir ? join(options.dir, 'default-env.json') : undefined);
  if (!file) throw new Error('writeDefaultEnvFile: give `dir` or `file`');
  writeFileSync(file, `${JSON.stringify(defaultEnvContent(from, options), null, 2)}\n`);
  return file;
}
