/**
 * The package as users get it (issue 13): `npm pack` (its prepare script builds dist/) and the tarball installed
 * into a new project with the SAP clients the checks need, from npm and nothing from this repository. From that
 * project every export imports, `npx btp-emulator start` gets ready and stops, the README's worked example and MSW
 * `setupServer` run, a consumer's .ts type-checks against the shipped .d.ts, and an old Node gets one line naming
 * the version it needs. publint and attw check the tarball, whose file list holds only dist/, package.json,
 * README and LICENSE. Packing and installing happen once (beforeAll); npm's cache keeps the install offline when
 * it can.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  name: string;
  engines: { node: string };
  exports: Record<string, unknown>;
};
const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
const bin = (name: string): string => join(repo, 'node_modules', '.bin', name);

/** What the checks install next to the tarball, at the versions this repository's lockfile pins (cache hits). */
const consumerPackages = [
  '@sap-cloud-sdk/connectivity',
  '@sap-cloud-sdk/http-client',
  'msw',
  'testcontainers',
  'typescript',
  '@types/node',
];
const pinned = (name: string): string => `${name}@${lock.packages[`node_modules/${name}`].version}`;

/**
 * The environment of a user's shell: none of npm's run-script variables, no test-runner state, no bindings, and the
 * machine's own NODE_EXTRA_CA_CERTS (test/global-setup.ts points it at the emulator's CA for the tests; npm reaching
 * the registry through a TLS-inspecting proxy needs the machine's).
 */
const machineCa = process.env.BTP_EMULATOR_TEST_MACHINE_CA_CERTS;
const userEnv: Record<string, string | undefined> = Object.fromEntries(
  Object.entries({
    ...process.env,
    NODE_EXTRA_CA_CERTS: machineCa === undefined ? process.env.NODE_EXTRA_CA_CERTS : machineCa || undefined,
  }).filter(
    ([key, value]) =>
      value !== undefined && !/^(npm_(?!config_(cache|registry)$)|VITEST|VCAP_SERVICES$|NODE_OPTIONS$|BTP_EMULATOR_TEST_)/i.test(key),
  ),
);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? userEnv, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

async function ok(
  file: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

let work: string;
let tarball: string;
let project: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'btp-emulator-package-'));
  await ok('npm', ['pack', '--silent', '--pack-destination', work], { cwd: repo });
  tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  );
  project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await ok(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      tarball,
      ...consumerPackages.map(pinned),
    ],
    { cwd: project, timeoutMs: 600_000 },
  );
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds dist/ (compiled JS, .d.ts, the bundled scenario), package.json, README and LICENSE, nothing else', async () => {
    const files = (await ok('tar', ['-tzf', tarball], { cwd: work }))
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    expect(files.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/emulator/cli/bin.js',
        'dist/emulator/index.js',
        'dist/emulator/index.d.ts',
        'dist/fixtures/default.scenario.yaml',
      ]),
    );
    expect(files.filter((f) => /(^|\/)(test|bench|\.ci|docs|examples|node_modules|\.btp-env|\.emulator-state)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('passes publint (strict) and attw (ESM-only profile)', async () => {
    expect(await ok(bin('publint'), ['--strict', tarball], { cwd: work })).toMatch(/All good/);
    // ESM only: the node10 resolver (no `exports`) and require() from CommonJS are out of scope (--profile esm-only);
    // every other rule applies, for every subpath but the `./sdk-adapters/*` wildcard, which attw does not expand.
    await ok(bin('attw'), ['--profile', 'esm-only', '--no-emoji', '--no-color', tarball], { cwd: work });
  }, 120_000);
});

describe('installed in a new project', () => {
  it('imports every export from node_modules, as JavaScript', async () => {
    const subpaths = Object.keys(manifest.exports)
      .filter((s) => s !== './package.json')
      .map((s) => s.replace('*', 'user-token'));
    const script = `
      const result = {};
      for (const subpath of ${JSON.stringify(subpaths)}) {
        const specifier = ${JSON.stringify(manifest.name)} + subpath.slice(1);
        result[subpath] = { url: import.meta.resolve(specifier), exports: Object.keys(await import(specifier)) };
      }
      console.log(JSON.stringify(result));`;
    const result = JSON.parse(await ok(process.execPath, ['--input-type=module', '-e', script], { cwd: project })) as Record<
      string,
      { url: string; exports: string[] }
    >;
    for (const [subpath, { url }] of Object.entries(result))
      expect(url, subpath).toMatch(new RegExp(`/project/node_modules/${manifest.name}/dist/.+\\.js$`));
    expect(result['.'].exports).toEqual(expect.arrayContaining(['startEmulator', 'defaultScenarioFile', 'ValidationError']));
    expect(result['./core'].exports).toContain('EmulatorCore');
    expect(result['./client'].exports).toContain('ControlClient');
    expect(result['./sdk-adapters'].exports).toEqual(expect.arrayContaining(['userToken', 'emulatorGlobalSetup']));
    expect(result['./sdk-adapters/user-token'].exports).toEqual(['userToken']);
    expect(result['./msw'].exports).toContain('createBtpHandlers');
    expect(result['./testcontainers'].exports).toContain('BtpEmulatorContainer');
  }, 120_000);

  it('`npx btp-emulator start --port 0` prints the ready line with the bundled scenario, and stops on SIGTERM', async () => {
    // Its own process group: SIGTERM reaches npx and the emulator under it, as Ctrl-C in a terminal does.
    const child = spawn('npx', ['btp-emulator', 'start', '--port', '0'], {
      cwd: project,
      env: userEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const line = /^btp-emulator ready .*$/m.exec(output);
          if (line) resolve(line[0]);
        });
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        void exited.then(() => reject(new Error(`exited before the ready line:\n${output}`)));
      });
      expect(ready).toMatch(/^btp-emulator ready \(scenario "default"\): services http:\/\/localhost:\d+ /);
      const services = /services (http:\/\/\S+)/.exec(ready)![1];
      expect(await (await fetch(`${services}/_emulator/health`)).json()).toMatchObject({ status: 'ok', scenario: 'default' });
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
      await expect(fetch(`${services}/_emulator/health`)).rejects.toThrow();
      expect(output).not.toMatch(/Error|at .*\.js:\d+/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 120_000);

  it('runs the README worked example (examples/sdk-quickstart) against the installed package', async () => {
    cpSync(join(repo, 'examples', 'sdk-quickstart', 'sdk-quickstart.ts'), join(project, 'sdk-quickstart.ts'));
    const stdout = await ok(process.execPath, ['sdk-quickstart.ts'], { cwd: project });
    expect(stdout).toMatch(/GET \/orders -> 200/);
    expect(stdout).toMatch(/GET \/orders\/mine -> 200, target saw .*"user":"alice"/);
    expect(stdout).toMatch(/example: ok/);
  }, 120_000);

  it('answers the SAP Cloud SDK through MSW setupServer with the emulator handlers, no socket', async () => {
    writeFileSync(
      join(project, 'msw-check.ts'),
      `import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
       import { setupServer } from 'msw/node';
       import { createBtpHandlers } from 'btp-connectivity-emulator/msw';
       const btp = await createBtpHandlers({
         tenants: [{ subdomain: 'provider', destinations: [{ Name: 'ORDERS', Type: 'HTTP', URL: '{{backend}}/sap/orders', Authentication: 'NoAuthentication', ProxyType: 'Internet' }] }],
         backend: { stubs: [{ method: 'GET', path: '/sap/orders/*', body: { orders: ['o1'] } }] },
       });
       const server = setupServer(...btp.handlers);
       server.listen({ onUnhandledFrame: 'error' });
       process.env.VCAP_SERVICES = btp.env.VCAP_SERVICES;
       const health = await (await fetch(btp.urls.services + '/_emulator/health')).json();
       const response = await executeHttpRequest({ destinationName: 'ORDERS' }, { method: 'get', url: '/open' });
       server.close();
       console.log(JSON.stringify({ health, data: response.data, journal: btp.journal({ service: 'destination' }).length }));`,
    );
    const result = JSON.parse((await ok(process.execPath, ['msw-check.ts'], { cwd: project })).trim().split('\n').at(-1)!) as {
      health: { status: string };
      data: unknown;
      journal: number;
    };
    expect(result.health.status).toBe('ok');
    expect(result.data).toEqual({ orders: ['o1'] });
    expect(result.journal).toBeGreaterThan(0);
  }, 120_000);

  it('type-checks a consumer .ts file against the shipped .d.ts (and refuses a wrong option type)', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2024',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { startEmulator, defaultScenarioFile, type EmulatorHandle, type Scenario } from 'btp-connectivity-emulator';
       import { EmulatorCore, type JournalEntry } from 'btp-connectivity-emulator/core';
       import { ControlClient } from 'btp-connectivity-emulator/client';
       import { userToken, vcapServicesJson } from 'btp-connectivity-emulator/sdk-adapters';
       import { extraCaCertsEnv } from 'btp-connectivity-emulator/sdk-adapters/ca-certificate';
       import { createBtpHandlers, type BtpHandlers } from 'btp-connectivity-emulator/msw';
       import { BtpEmulatorContainer } from 'btp-connectivity-emulator/testcontainers';

       export async function consumer(): Promise<string[]> {
         const emu: EmulatorHandle = await startEmulator({ port: 0, scenario: defaultScenarioFile });
         const jwt: string = await userToken(emu, 'alice');
         const vcap: string = vcapServicesJson(emu);
         const ca: string = extraCaCertsEnv(emu).NODE_EXTRA_CA_CERTS;
         const entries: JournalEntry[] = emu.journal({ service: 'xsuaa' });
         const scenario: Scenario = emu.core.scenario;
         const core: EmulatorCore = emu.core;
         const health = await new ControlClient(emu.urls.control.replace(/\\/_emulator$/, '')).health();
         const btp: BtpHandlers = await createBtpHandlers();
         const container = new BtpEmulatorContainer().withScenario(defaultScenarioFile);
         // @ts-expect-error port is a number: the shipped types are real, not any
         await startEmulator({ port: '20000' });
         await emu.stop();
         return [jwt, vcap, ca, String(entries.length), scenario.name, String(core), String(health), String(btp.handlers.length), String(container)];
       }`,
    );
    const result = await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: project });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  }, 180_000);

  it('refuses an old Node with one line naming the version, from the executable and from an import', async () => {
    const required = manifest.engines.node.replace(/^>=/, '');
    const oldNode = [
      '--import',
      'data:text/javascript,Object.defineProperty(process, "versions", { value: { ...process.versions, node: "20.19.0" } })',
    ];
    const cli = await run(process.execPath, [...oldNode, join(project, 'node_modules', '.bin', 'btp-emulator'), '--help'], {
      cwd: project,
    });
    expect(cli.code).toBe(1);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toBe(`btp-emulator needs Node.js ${required} or newer; this is Node.js 20.19.0.\n`);
    const imported = await run(
      process.execPath,
      [
        ...oldNode,
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(manifest.name)}).catch((err) => { console.error(err.message); process.exit(3); })`,
      ],
      { cwd: project },
    );
    expect(imported.code).toBe(3);
    expect(imported.stderr).toBe(`btp-connectivity-emulator needs Node.js ${required} or newer; this is Node.js 20.19.0.\n`);
  }, 120_000);
});
