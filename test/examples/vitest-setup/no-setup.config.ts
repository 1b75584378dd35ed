/** The same run without the global setup, to show the check file depends on it. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { root: fileURLToPath(new URL('.', import.meta.url)), include: ['*.check.ts'], pool: 'forks' },
});
