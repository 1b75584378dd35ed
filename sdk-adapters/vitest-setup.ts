/**
 * Vitest global setup: one emulator for the run. In your own setup file:
 *
 *   // test/emulator.setup.ts
 *   import { emulatorGlobalSetup } from 'btp-connectivity-emulator/sdk-adapters';
 *   export default emulatorGlobalSetup({ scenario: 'test/my.scenario.yaml' });
 *
 * and in vitest.config.ts `test: { globalSetup: ['test/emulator.setup.ts'], pool: 'forks' }`. Workers then
 * start with VCAP_SERVICES and NODE_EXTRA_CA_CERTS set; `inject('btpEmulator')` gives the URLs, and
 * `userToken(testRunEmulator(), 'alice')` a user token.
 */
import type { EmulatorUrls, StartOptions } from '../emulator/server/start-emulator.ts';
import { startTestRunEmulator, stopTestRunEmulator } from './test-run-emulator.ts';

/** What the setup provides under the key `btpEmulator`. */
export interface ProvidedEmulator {
  env: Record<string, string>;
  urls: EmulatorUrls;
}

/** The part of vitest's `TestProject` the setup uses. */
export interface ProvidingProject {
  provide(key: 'btpEmulator', value: ProvidedEmulator): void;
}

/** A vitest `globalSetup` function: starts the emulator, provides its env and URLs, returns the teardown. */
export function emulatorGlobalSetup(options: StartOptions = {}): (project?: ProvidingProject) => Promise<() => Promise<void>> {
  return async (project) => {
    const handle = await startTestRunEmulator(options);
    project?.provide('btpEmulator', { env: handle.env, urls: handle.urls });
    return stopTestRunEmulator;
  };
}

/**
 * Usable directly as `globalSetup: ['<path>/sdk-adapters/vitest-setup.ts']`: the scenario comes from
 * `BTP_EMULATOR_SCENARIO` (a file, or `default`), else the minimal one.
 */
export default emulatorGlobalSetup(process.env.BTP_EMULATOR_SCENARIO ? { scenario: process.env.BTP_EMULATOR_SCENARIO } : {});
