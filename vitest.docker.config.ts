// The Docker suite (`npm run test:docker`, run by .ci/docker.sh): the image through the Testcontainers module and
// docker-compose.yml against a real Docker engine. Host networking throughout (an engine without a bridge network),
// Ryuk off. test/docker/global-setup.ts fails the run with a clear message when no engine answers or the image is missing.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts'],
    globalSetup: ['test/docker/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: {
      TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? 'true',
      TESTCONTAINERS_HOST_OVERRIDE: process.env.TESTCONTAINERS_HOST_OVERRIDE ?? '127.0.0.1',
    },
  },
});
