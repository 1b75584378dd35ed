/**
 * One emulator for a whole test run: started in the test runner's global setup, its env put into `process.env`
 * so the workers the runner starts afterwards inherit VCAP_SERVICES, NODE_EXTRA_CA_CERTS and the control URL,
 * stopped (and the env restored) in teardown. Test files reach it with {@link testRunEmulator}.
 * Runner-neutral: `vitest-setup.ts` wraps it for vitest; for jest see docs/sdk-adapters.md.
 */
import { startEmulator, type EmulatorHandle, type StartOptions } from '../emulator/server/start-emulator.ts';

/** The variable that carries the control API URL to the workers. */
export const controlUrlVariable = 'BTP_EMULATOR_CONTROL_URL';

const handleKey = Symbol.for('btp-connectivity-emulator.test-run');
type Slot = { handle: EmulatorHandle; savedEnv: Record<string, string | undefined> };
const slot = globalThis as { [handleKey]?: Slot };

/** Starts the emulator (default: any free ports) and exports its env into `process.env`. */
export async function startTestRunEmulator(options: StartOptions = {}): Promise<EmulatorHandle> {
  if (slot[handleKey]) throw new Error('a test-run emulator is already running');
  const handle = await startEmulator({ port: 0, ...options });
  const env = { ...handle.env, [controlUrlVariable]: handle.urls.control };
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  slot[handleKey] = { handle, savedEnv };
  return handle;
}

/** Stops it and puts `process.env` back as it was. Safe to call when none is running. */
export async function stopTestRunEmulator(): Promise<void> {
  const current = slot[handleKey];
  if (!current) return;
  delete slot[handleKey];
  for (const [key, value] of Object.entries(current.savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await current.handle.stop();
}

/** In a test file (any worker): the run's emulator as a binding source and token issuer for the adapters. */
export function testRunEmulator(env: NodeJS.ProcessEnv = process.env): { controlUrl: string; vcapServices: string; caFile?: string } {
  const controlUrl = env[controlUrlVariable];
  const vcapServices = env.VCAP_SERVICES;
  if (!controlUrl || !vcapServices)
    throw new Error(`no test-run emulator: ${controlUrlVariable} or VCAP_SERVICES is not set (is the global setup wired?)`);
  return { controlUrl, vcapServices, caFile: env.NODE_EXTRA_CA_CERTS };
}
