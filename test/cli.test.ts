/**
 * The `btp-emulator` CLI as a user runs it: a child process on a free port, its ready line, the control API
 * and `btp-emulator env` against it, clear exit-2 errors for bad flags and scenarios, and a clean SIGTERM stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portInUseFromMessage } from '../emulator/server/start-errors.ts';

const cliFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'emulator', 'cli', 'main.ts');

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Wait for a child to end and collect everything it printed. */
function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return finished(spawn(process.execPath, [cliFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
}

/** Resolve with the first stdout line that matches, or reject if the process ends or takes too long first. */
function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout: ${buffered} stderr: ${stderr}`)),
      timeoutMs,
    );
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => pattern.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the CLI exited (${code}) before printing a line matching ${pattern}; stderr: ${stderr}`));
    });
  });
}

interface RunningCli {
  child: ChildProcess;
  exited: Promise<Finished>;
  readyLine: string;
  services: string;
}

const running: ChildProcess[] = [];
afterAll(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** `btp-emulator start --port 0` in a child process; resolves once it printed its ready line. */
async function startCli(): Promise<RunningCli> {
  const child = spawn(process.execPath, [cliFile, 'start', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const ready = waitForLine(child, /ready/);
  const exited = finished(child);
  const readyLine = await ready;
  return { child, exited, readyLine, services: /services (http:\/\/\S+)/.exec(readyLine)![1] };
}

describe('btp-emulator start', () => {
  // One CLI for the tests that only read from it; the SIGTERM test stops a CLI of its own.
  let readyLine: string;
  let services: string;

  beforeAll(async () => {
    ({ readyLine, services } = await startCli());
  });

  it('prints one ready line with the services, TLS and control URLs and the CA file', () => {
    expect(readyLine).toMatch(/services http:\/\/localhost:\d+ /);
    const port = new URL(services).port;
    expect(port).not.toBe('0');
    expect(readyLine).toContain(`https://localhost:${port}`);
    expect(readyLine).toContain(`http://localhost:${port}/_emulator`);
    // The connectivity part listens on free ports too when --port is 0.
    for (const name of ['HTTP proxy http', 'SOCKS5 socks5', 'backend http']) {
      const [match, portText] = new RegExp(`${name}://localhost:(\\d+)`).exec(readyLine) ?? [];
      expect(match, `${name} in ${readyLine}`).toBeDefined();
      expect(['0', '20003', '20004', '20010']).not.toContain(portText);
    }
    const caFile = /CA (\S+)/.exec(readyLine)![1];
    expect(readFileSync(caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('serves the control API with the bundled default scenario', async () => {
    const res = await fetch(`${services}/_emulator/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', scenario: 'default', tenants: 2 });
  });

  it('btp-emulator env prints shell-safe KEY=value lines a shell reads back', async () => {
    const result = await runCli(['env', '--url', services]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(['VCAP_SERVICES', 'NODE_EXTRA_CA_CERTS']);
    for (const line of lines) expect(line).toMatch(/^[A-Z_]+='.*'$/s);

    // A real shell evaluates the lines back into the exact values.
    const shell = spawn('sh', ['-c', `${result.stdout}\nprintf '%s' "$VCAP_SERVICES"`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const evaluated = await finished(shell);
    const vcap = JSON.parse(evaluated.stdout) as Record<string, { credentials: { url: string; uaadomain: string } }[]>;
    expect(vcap.xsuaa[0].credentials.url).toBe(services);
    expect(vcap.xsuaa[0].credentials.uaadomain).toBe(new URL(services).host);
  });

  it('btp-emulator env --json prints the same env as JSON', async () => {
    const result = await runCli(['env', '--url', `${services}/`, '--json']);
    expect(result.code).toBe(0);
    const env = JSON.parse(result.stdout) as Record<string, string>;
    const direct = (await (await fetch(`${services}/_emulator/env`)).json()) as Record<string, string>;
    expect(env).toEqual(direct);
    expect(Object.keys(env)).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('stops cleanly with exit code 0 on SIGTERM and frees its port', async () => {
    const own = await startCli();
    expect((await fetch(`${own.services}/_emulator/health`)).status).toBe(200);
    own.child.kill('SIGTERM');
    const result = await own.exited;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('stopped');
    // the port is free: nothing accepts a connection there any more
    await expect(fetch(`${own.services}/_emulator/health`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});

describe('btp-emulator errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'btp-emulator-cli-'));

  it('refuses an invalid scenario with exit code 2, naming the file and the field, without a stack trace', async () => {
    const file = join(dir, 'bad.scenario.yaml');
    writeFileSync(file, 'name: bad\ntenants:\n  - subdomain: provider\n    destinations:\n      - Name: X\n        Type: SMTP\n');
    const result = await runCli(['start', '--port', '0', '--scenario', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain('tenants[0].destinations[0].Type');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a scenario that is not YAML or JSON with exit code 2', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "tenants": [ ');
    const result = await runCli(['start', '--port', '0', '--scenario', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not valid JSON');
  });

  it('refuses an unreadable scenario file with exit code 2, naming the file', async () => {
    const missing = join(dir, 'missing.yaml');
    const result = await runCli(['start', '--port', '0', '--scenario', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--scenario ${missing}`);
    expect(result.stderr).toContain('no such file');
  });

  it('refuses a scenario that is a directory (a bind mount of a missing host file) naming the host path when known', async () => {
    const mountPoint = mkdtempSync(join(dir, 'scenario.yaml-'));
    const plain = await runCli(['start', '--port', '0', '--scenario', mountPoint]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(`--scenario ${mountPoint} is a directory, not a file`);
    expect(plain.stderr).toContain('check the host path');
    const fromCompose = await runCli(['start', '--port', '0', '--scenario', mountPoint], {
      BTP_EMULATOR_SCENARIO_HOST_PATH: './my.scenario.yaml',
    });
    expect(fromCompose.code).toBe(2);
    expect(fromCompose.stderr).toContain('bind-mounted from ./my.scenario.yaml on the Docker host, which does not exist there');
    expect(fromCompose.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses --write-env-host-dir without --write-env with exit code 2', async () => {
    const result = await runCli(['start', '--port', '0', '--write-env-host-dir', '.btp-env']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--write-env-host-dir needs --write-env DIR');
  });

  it('refuses an unknown flag and a bad port with exit code 2, naming them', async () => {
    const unknown = await runCli(['start', '--prot', '0']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--prot');
    const badPort = await runCli(['start', '--port', '70000']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port');
    expect(badPort.stderr).toContain('70000');
  });

  it('refuses an unknown command with exit code 2', async () => {
    const result = await runCli(['stat']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "stat"');
  });

  it('reports a port in use with exit code 1, naming the port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(['start', '--port', String(port)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `port ${port} (--port) is already in use on 127.0.0.1; stop the other process, or pass --port 0 for free ports`,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
      // The Testcontainers module reads the port back from the container's logs to try a start again.
      expect(portInUseFromMessage(result.stderr)).toBe(port);
      expect(portInUseFromMessage('port 1 is busy')).toBeUndefined();
    } finally {
      blocker.close();
    }
  });

  it('env reports an emulator that is not running with exit code 1', async () => {
    const result = await runCli(['env', '--url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('http://127.0.0.1:9/_emulator/env');
  });

  it('is an executable with a node shebang that prints its help', async () => {
    const binFile = join(dirname(cliFile), 'bin.js'); // package.json#bin (compiled to dist/ in the package)
    expect(readFileSync(binFile, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(binFile).mode & 0o111).not.toBe(0);
    const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
    const result = await finished(spawn(binFile, ['--help'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: path } }));
    expect(result.code).toBe(0);
    for (const word of ['start', 'env', '--scenario', '--port', '--host', '--advertised-host', '--url', '--json'])
      expect(result.stdout).toContain(word);
  });
});
