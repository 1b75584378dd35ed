/**
 * A Kubernetes (Kyma) service-binding directory for `SERVICE_BINDING_ROOT`, as the SAP BTP service operator
 * mounts secrets. Two layouts, both read by `@sap/xsenv` and hence by the SAP Cloud SDK:
 *
 * - `servicebinding.io` (default): `<root>/<binding name>/<file>`, one file per credential plus `type`, `label`,
 *   `plan`, `tags`, `instance_name`, `instance_guid`, and a `.metadata` file declaring which files are metadata
 *   and which are credentials (and which hold JSON). Without a `label` declared there, `filterServices({label})`
 *   — and so the SDK — would not find the binding.
 * - `sap-k8s`: `<root>/<label>/<instance name>/<file>` (the older SAP secrets layout; label from the directory).
 *
 * {@link serviceBindingFiles} says which files each binding's directory holds (no file system: `btp-emulator k8s`
 * turns each directory into a Secret); {@link writeServiceBindingRoot} writes them.
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

/** One binding's directory below `SERVICE_BINDING_ROOT`: its path segments and its files (name → content). */
export interface BindingDirectory {
  binding: ServiceBinding;
  /** Below the root: `[name]` (servicebinding.io) or `[label, name]` (sap-k8s). */
  path: string[];
  files: Record<string, string>;
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

/** Adds one property as a file: strings as they are, anything else as JSON. */
function addProperty(files: Record<string, string>, name: string, value: unknown): MetadataProperty {
  const text = typeof value === 'string';
  files[fileName(name)] = text ? value : JSON.stringify(value);
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

function serviceBindingIo(binding: ServiceBinding): BindingDirectory {
  const files: Record<string, string> = {};
  const metaDataProperties = Object.entries(metadataOf(binding))
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => addProperty(files, name, value));
  const credentialProperties = Object.entries(binding.credentials).map(([name, value]) => addProperty(files, name, value));
  files['.metadata'] = JSON.stringify({ metaDataProperties, credentialProperties }, null, 2);
  return { binding, path: [fileName(binding.name)], files };
}

function sapK8s(binding: ServiceBinding): BindingDirectory {
  const files: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...binding.credentials, ...metadataOf(binding) })) {
    if (name !== 'type' && value !== undefined) addProperty(files, name, value);
  }
  return { binding, path: [fileName(binding.label), fileName(binding.name)], files };
}

/** The directory of each binding, in the order of VCAP_SERVICES. */
export function serviceBindingFiles(from: BindingSource, layout: BindingLayout = 'servicebinding.io'): BindingDirectory[] {
  const { vcapServices } = resolveBindings(from);
  return Object.values(vcapServices)
    .flat()
    .map(layout === 'sap-k8s' ? sapK8s : serviceBindingIo);
}

/** Writes one directory per binding and returns `{ SERVICE_BINDING_ROOT: dir }` for the app's env. */
export function writeServiceBindingRoot(from: BindingSource, options: ServiceBindingRootOptions): { SERVICE_BINDING_ROOT: string } {
  mkdirSync(options.dir, { recursive: true });
  for (const { path, files } of serviceBindingFiles(from, options.layout)) {
    const dir = join(options.dir, ...path);
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  }
  return { SERVICE_BINDING_ROOT: options.dir };
}
