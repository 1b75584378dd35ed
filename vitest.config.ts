import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { tsconfigPaths: true }, // examples/ import the package by name: its sources here (tsconfig.json#paths)
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/docker/**', '**/node_modules/**'], // the Docker suite: npm run test:docker (vitest.docker.config.ts)
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Files and the tests in each file run in a random order on every run, locally and in CI, so that a test
    // that needs another to run first fails. Vitest prints the seed ("Running tests with seed …"); replay an
    // order with `npx vitest run --sequence.seed=<seed>` (add the file paths to narrow it down).
    sequence: { shuffle: { files: true, tests: true } },
  },
});
