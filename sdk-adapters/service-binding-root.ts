/**
 * A Kubernetes (Kyma) service-binding directory for `SERVICE_BINDING_ROOT`, as the SAP BTP service operator
 * mounts secrets. Two layouts, both read by `@sap/xsenv` and hence by the SAP Cloud SDK:
 *
 * - `servicebinding.io` (default): `<root>/<binding name>/<file>`, one file per credential plus `type`, `label`,
 *   `plan`, `tags`, `instance_name`, `instance_guid`, and a `.metadata` file declaring which files are metadata
 *   and which are credentials (and which hold JSON). Without a `label` declared there, `filterServices({label})`
 *   — and so the SDK — would not find the binding.
 * - `sap-k8s`: `<root>/<label>/<instance name>/<file>` (the older SAP secrets layout; label from the directory).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBindings, type BindingSource } from './binding-source.ts';
import type { ServiceBinding } from '../emulator/app/bindings.ts';

export type BindingLayout = 'servicebinding.io' | 'sap-k8s';

export interface ServiceBindingRootOptions {
  /** The root directory; created if missing. */
  dir: string;
  layout?: BindingLayout;
}

interface MetadataProperty {
  name: string;
  format: 'text' | 'json';
}

/** A file name must not escape its directory or hide behind a dot (`.metadata` is the only dotfile). */
function fileName(key: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(key)) throw new Error(`credential "${key}" cannot be written as a file name`);
  return key;
}

function writeProperty(dir: string, name: string, value: unknown): MetadataProperty {
  const text = typeof value === 'string';
  writeFileSync(join(dir, fileName(name)), text ? value : JSON.stringify(value));
  return { name, format: text ? 'text' : 'json' };
}

function metadataOf(binding: ServiceBinding): Record<string, unknown> {
  return {
    type: binding.label,
    label: binding.label,
    plan: binding.plan,
    tags: binding.tags,
    instance_name: binding.instance_name,
    instance_guid: binding.instance_guid,
  };
}

function writeServiceBindingIo(root: string, binding: ServiceBinding): void {
  const dir = join(root, fileName(binding.name));
  mkdirSync(dir, { recursive: true });
  const metaDataProperties = Object.entries(metadataOf(binding))
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => writeProperty(dir, name, value));
  const credentialProperties = Object.entries(binding.credentials).map(([name, value]) => writeProperty(dir, name, value));
  writeFileSync(join(dir, '.metadata'), JSON.stringify({ metaDataProperties, credentialProperties }, null, 2));
}

function writeSapK8s(root: string, binding: ServiceBinding): void {
  const dir = join(root, fileName(binding.label), fileName(binding.name));
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries({ ...binding.credentials, ...metadataOf(binding) })) {
    if (name !== 'type' && value !== undefined) writeProperty(dir, name, value);
  }
}

/** Writes one directory per binding and returns `{ SERVICE_BINDING_ROOT: dir }` for the app's env. */
export function writeServiceBindingRoot(from: BindingSource, options: ServiceBindingRootOptions): { SERVICE_BINDING_ROOT: string } {
  const { vcapServices } = resolveBindings(from);
  mkdirSync(options.dir, { recursive: true });
  const write = (options.layout ?? 'servicebinding.io') === 'sap-k8s' ? writeSapK8s : writeServiceBindingIo;
  for (const binding of Object.values(vcapServices).flat()) write(options.dir, binding);
  return { SERVICE_BINDING_ROOT: options.dir };
}
