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
  },
});
