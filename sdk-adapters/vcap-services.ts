/**
 * VCAP_SERVICES as Cloud Foundry sets it: one JSON string, read by `@sap/xsenv` (hence the SAP Cloud SDK,
 * `@sap/xssec`, the approuter and CAP). Also as a file for `VCAP_SERVICES_FILE_PATH`, which xsenv prefers.
 */
import { writeFileSync } from 'node:fs';
import { resolveBindings, type BindingSource } from './binding-source.ts';

/** The `VCAP_SERVICES` value: a JSON string. */
export function vcapServicesJson(from: BindingSource): string {
  return JSON.stringify(resolveBindings(from).vcapServices);
}

/** Writes the bindings to `file` and returns `{ VCAP_SERVICES_FILE_PATH: file }` for the app's env. */
export function writeVcapServicesFile(from: BindingSource, file: string): { VCAP_SERVICES_FILE_PATH: string } {
  writeFileSync(file, JSON.stringify(resolveBindings(from).vcapServices, null, 2));
  return { VCAP_SERVICES_FILE_PATH: file };
}
