/** Keeps the README's worked example true: `node examples/sdk-quickstart.ts` runs its checks and exits 0. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the worked example of the README runs and passes its own checks', () => {
  const script = fileURLToPath(new URL('../../examples/sdk-quickstart.ts', import.meta.url));
  const env = { ...process.env };
  delete env.VCAP_SERVICES;
  const run = spawnSync(process.execPath, [script], { env, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  expect(run.stdout).toMatch(/GET \/orders -> 200/);
  expect(run.stdout).toMatch(/GET \/orders\/mine -> 200/);
});
