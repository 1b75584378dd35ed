/**
 * The emulator's CA for `NODE_EXTRA_CA_CERTS`. Node reads that variable only when a process starts, so it must
 * be in the environment of the process that is launched (a child process, a vitest worker), not set later.
 */
import { resolveBindings, type BindingSource } from './binding-source.ts';

/** `{ NODE_EXTRA_CA_CERTS: <CA file> }` for the app's env; throws if the source carries no CA file. */
export function extraCaCertsEnv(from: BindingSource): { NODE_EXTRA_CA_CERTS: string } {
  const { caFile } = resolveBindings(from);
  if (!caFile) throw new Error('no CA file: pass an emulator handle or { vcapServices, caFile }');
  return { NODE_EXTRA_CA_CERTS: caFile };
}
