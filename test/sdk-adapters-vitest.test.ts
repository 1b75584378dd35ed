/**
 * The vitest global setup of sdk-adapters, wired the way a user wires it: a separate vitest process with
 * `globalSetup: ['…/sdk-adapters/vitest-setup.ts']` runs a test file that uses the emulator; it must pass,
 * and it must fail when the setup is not wired (so the check file really depends on it).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const vitestCli = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const fixtureDir = fileURLToPath(new URL('./examples/vitest-setup/', import.meta.url));

function runVitest(args: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitestCli, 'run', ...args], { cwd: fixtureDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const cleanEnv = (): Record<string, string | undefined> => {
  const env: Record<string, string | undefined> = { ...process.env, BTP_EMULATOR_SCENARIO: join(fixtureDir, 'check.scenario.yaml') };
  for (const key of Object.keys(env))
    if (key.startsWith('VITEST') || key === 'VCAP_SERVICES' || key === 'BTP_EMULATOR_CONTROL_URL') delete env[key];
  return env;
};

describe('sdk-adapters/vitest-setup.ts in a real vitest run', () => {
  it('a user test file passes against the emulator the global setup started', async () => {
    const { code, output } = await runVitest(['--config', 'vitest.config.ts'], cleanEnv());
    expect(output).toContain('1 passed');
    expect(code).toBe(0);
  });

  it('the same file fails without the global setup', async () => {
    const { code, output } = await runVitest(['--config', 'no-setup.config.ts'], cleanEnv());
    expect(output).toContain('1 failed');
    expect(code).not.toBe(0);
  });
});
