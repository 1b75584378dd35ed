/**
 * A user's vitest config, wired to the sdk-adapters global setup (run by test/sdk-adapters-vitest.test.ts as
 * its own vitest process; not part of the main run, whose include does not match `*.check.ts`).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.check.ts'],
    globalSetup: [fileURLToPath(new URL('../../../sdk-adapters/vitest-setup.ts', import.meta.url))],
    pool: 'forks',
  },
});
