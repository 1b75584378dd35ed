/**
 * `btp-emulator exec -- <command>` and `btp-emulator env --format …`, run as a user runs them (child processes):
 * exec starts the emulator, runs a small SAP Cloud SDK app with the app env (bindings, CA, control URL, user
 * token), stops the emulator and exits with the app's exit code; signals reach the command. env writes the
 * bindings as VCAP_SERVICES JSON, default-env.json, a Kubernetes binding directory or dotenv lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliFile = join(root, 'emulator', 'cli', 'main.ts');
const appFile = join(root, 'test', 'fixtures', 'exec-app.ts');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The CLI without the test runner's CA variable: exec must hand the command the CA itself. */
function cli(args: string[]): ChildProcess {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.VCAP_SERVICES;
  return spawn(process.execPath, [cliFile, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

const runCli = (args: string[]): Promise<Finished> => finished(cli(args));

const appLine = (stdout: string): Record<string, unknown> => JSON.parse(/^exec-app: (.*)$/m.exec(stdout)![1]) as Record<string, unknown>;

describe('btp-emulator exec', () => {
  it('runs an SDK app with the app env and passes exit code 0 through; the emulator is stopped afterwards', async () => {
    const result = await runCli(['exec', '--port', '0', '--user', 'alice', '--', process.execPath, appFile, '0']);
    expect(result.stderr).toContain('btp-emulator exec: emulator ready');
    expect(result.code).toBe(0);
    const app = appLine(result.stdout);
    expect(app).toMatchObject({ userTokenError: null, bearerUser: 'alice', health: 200 });
    expect(String(app.url)).toMatch(/^http:\/\/localhost:\d+$/);
    await expect(fetch(`${String(app.controlUrl)}/health`)).rejects.toThrow();
  });

  it('passes exit code 3 through', async () => {
    const result = await runCli(['exec', '--port', '0', '--', process.execPath, appFile, '3']);
    expect(result.code).toBe(3);
    expect(appLine(result.stdout)).toMatchObject({ health: 200, bearerUser: null });
  });

  it('runs a single command string through the shell, with the env set', async () => {
    const result = await runCli([
      'exec',
      '--port',
      '0',
      '--',
      'test -n "$VCAP_SERVICES" && test -f "$NODE_EXTRA_CA_CERTS" && echo "url=$BTP_EMULATOR_URL" && exit 4',
    ]);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/url=http:\/\/localhost:\d+\/_emulator/);
  });

  it('passes SIGTERM on to the command and exits with its code', async () => {
    const script =
      "process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(7); }); console.log('child ready'); setInterval(() => {}, 1000);";
    const child = cli(['exec', '--port', '0', '--', process.execPath, '-e', script]);
    const done = finished(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the command did not start')), 15_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('child ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    const result = await done;
    expect(result.stdout).toContain('child got SIGTERM');
    expect(result.code).toBe(7);
  });

  it('a command that does not exist exits 127', async () => {
    const result = await runCli(['exec', '--port', '0', '--', 'no-such-command-btp-emulator']);
    expect(result.code).toBe(127);
    expect(result.stderr).toMatch(/cannot run no-such-command-btp-emulator: command not found/);
  });

  it.each([
    [['exec', '--port', '0'], /exec needs a command after "--"/],
    [['exec', '--port', '0', '--tenant', 'provider', '--', 'true'], /--tenant selects the tenant of the --user token/],
    [
      ['exec', '--port', '0', '--user', 'alice', '--tenant', 'nowhere', '--', 'true'],
      /--tenant "nowhere" is not a tenant of the scenario \(provider, subscriber1\)/,
    ],
    [['exec', '--port', 'x', '--', 'true'], /--port must be a port number/],
  ])('usage errors exit 2: %j', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('btp-emulator env --format', () => {
  let emu: EmulatorHandle;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, scenario: 'default' });
    dir = mkdtempSync(join(tmpdir(), 'btp-env-format-'));
  });
  afterAll(() => emu?.stop());

  const env = (...args: string[]): Promise<Finished> => runCli(['env', '--url', emu.urls.services, ...args]);

  it('vcap: VCAP_SERVICES as JSON', async () => {
    const result = await env('--format', 'vcap');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(emu.env.VCAP_SERVICES));
  });

  it('dotenv: lines that Node reads back unchanged', async () => {
    const result = await env('--format', 'dotenv');
    expect(result.code).toBe(0);
    const parsed = parseEnv(result.stdout);
    expect(parsed.VCAP_SERVICES).toBe(emu.env.VCAP_SERVICES);
    expect(parsed.NODE_EXTRA_CA_CERTS).toBe(emu.caFile);
  });

  it('default-env: a default-env.json in the --out directory', async () => {
    const out = join(dir, 'app');
    const result = await env('--format', 'default-env', '--out', out);
    expect(result.code).toBe(0);
    const content = JSON.parse(readFileSync(join(out, 'default-env.json'), 'utf8')) as { VCAP_SERVICES: unknown };
    expect(content.VCAP_SERVICES).toEqual(JSON.parse(emu.env.VCAP_SERVICES));
  });

  it('k8s: a service-binding directory in both layouts', async () => {
    const out = join(dir, 'bindings');
    const result = await env('--format', 'k8s', '--out', out);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`SERVICE_BINDING_ROOT='${out}'`);
    const xsuaa = JSON.parse(emu.env.VCAP_SERVICES).xsuaa[0] as { name: string; credentials: { clientid: string } };
    expect(readFileSync(join(out, xsuaa.name, 'clientid'), 'utf8')).toBe(xsuaa.credentials.clientid);
    expect(existsSync(join(out, xsuaa.name, '.metadata'))).toBe(true);
    const legacy = join(dir, 'sap-k8s');
    expect((await env('--format', 'k8s', '--out', legacy, '--layout', 'sap-k8s')).code).toBe(0);
    expect(readFileSync(join(legacy, 'xsuaa', xsuaa.name, 'clientid'), 'utf8')).toBe(xsuaa.credentials.clientid);
  });

  it.each([
    [['--format', 'yaml'], /--format must be one of vcap, default-env, k8s, dotenv/],
    [['--format', 'k8s'], /--format k8s writes a binding directory: give it with --out DIR/],
    [['--format', 'vcap', '--layout', 'sap-k8s'], /--layout is only for --format k8s/],
    [['--format', 'k8s', '--out', '/tmp/x', '--layout', 'flat'], /--layout must be one of servicebinding.io, sap-k8s/],
  ])('usage errors exit 2: %j', async (args, message) => {
    const result = await env(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
