#!/usr/bin/env node
/**
 * The `btp-emulator` command line: `start` runs the emulator until SIGINT/SIGTERM, `env` prints the env of a
 * running one. A thin face over `startEmulator()`; a bad flag or scenario exits with code 2 and a message
 * that names it, never a stack trace.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util';
import type { StartOptions } from '../index.ts';
import { writeEnvFiles } from '../server/write-env.ts';

// Node's on-disk compile cache (the same one `NODE_COMPILE_CACHE` turns on) roughly halves the time from
// `npm start` to ready after the first run: most of a cold start is loading and compiling modules
// (docs/performance.md). It has to be on before the emulator's modules load, hence the dynamic import.
enableCompileCache?.();
const { defaultPorts, startEmulator, ValidationError } = await import('../index.ts');

/** Exit codes: 0 done, 1 a runtime failure (port in use, emulator unreachable), 2 a usage or scenario error. */
const exitUsage = 2;
const exitFailure = 1;

/** A mistake in what the user typed or pointed at: the message is printed as is and the process exits 2. */
class UsageError extends Error {}

/** One `start` flag: its value placeholder for the help, what it does, and how it sets a StartOptions field. */
interface StartFlag {
  value: string;
  describe: string;
  apply(options: StartOptions, value: string, flag: string): void;
}

function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--${flag} must be a port number from 0 to 65535 (0 picks a free port), got "${value}"`);
  return port;
}

/** The absolute path of a file this process can read, or a UsageError that says what is wrong with it. */
function readableFile(value: string, flag: string): string {
  const file = resolve(value);
  try {
    if (!statSync(file).isFile()) throw new UsageError(`--${flag} ${file} is not a file`);
    accessSync(file, constants.R_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--${flag} ${file} cannot be read: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  return file;
}

function nonEmpty(value: string, flag: string): string {
  if (!value.trim()) throw new UsageError(`--${flag} must not be empty`);
  return value;
}

/**
 * Every `start` flag and the StartOptions field it sets. A new flag (e.g. a proxy port) is one more entry here:
 * parsing and `--help` follow from this table.
 */
const startFlags: Record<string, StartFlag> = {
  scenario: {
    value: 'FILE',
    describe: 'scenario file (JSON or YAML); default: the bundled fixtures/default.scenario.yaml',
    apply: (options, value, flag) => {
      options.scenario = readableFile(nonEmpty(value, flag), flag);
    },
  },
  port: {
    value: 'N',
    describe: `services port: XSUAA, Destination Service, control API; HTTP and TLS (default ${defaultPorts.services}; 0 = any free port)`,
    apply: (options, value, flag) => {
      options.port = parsePort(value, flag);
    },
  },
  host: {
    value: 'H',
    describe: 'interface to listen on (default 127.0.0.1; 0.0.0.0 in a container)',
    apply: (options, value, flag) => {
      options.host = nonEmpty(value, flag);
    },
  },
  'advertised-host': {
    value: 'H',
    describe: 'host name written into the bindings, URLs and the TLS certificate (default localhost)',
    apply: (options, value, flag) => {
      options.advertisedHost = nonEmpty(value, flag);
    },
  },
  ...portFlags({
    'http-proxy-port': ['connectivity proxy, HTTP (default 20003)', (o, p) => (o.httpProxyPort = p)],
    'socks-proxy-port': ['connectivity proxy, SOCKS5 (default 20004)', (o, p) => (o.socksProxyPort = p)],
    'backend-http-port': ['fake on-prem backend, HTTP (default 20010)', (o, p) => (o.backendHttpPort = p)],
    'backend-tcp-port': ['fake on-prem backend, TCP echo (default 20011)', (o, p) => (o.backendTcpPort = p)],
    'smtp-port': ['fake on-prem backend, SMTP sink (default 20025)', (o, p) => (o.smtpPort = p)],
    'advertised-port': ['services port written into the bindings and URLs (a mapped container port)', (o, p) => (o.advertisedPort = p)],
    'advertised-http-proxy-port': ['HTTP proxy port written into the connectivity binding', (o, p) => (o.advertisedHttpProxyPort = p)],
    'advertised-socks-proxy-port': ['SOCKS5 proxy port written into the connectivity binding', (o, p) => (o.advertisedSocksProxyPort = p)],
    'advertised-backend-port': ['backend HTTP port in {{backend}} and the ready line', (o, p) => (o.advertisedBackendPort = p)],
  }),
  'tls-dir': {
    value: 'DIR',
    describe: 'where the CA and the server certificate are kept (default: a folder under the temp dir)',
    apply: (options, value, flag) => {
      options.tlsDir = resolve(nonEmpty(value, flag));
    },
  },
  'write-env': {
    value: 'DIR',
    describe: 'after start, write ca.pem, vcap-services.json, default-env.json and .env into DIR',
    apply: (_options, value, flag) => {
      writeEnvDir = resolve(nonEmpty(value, flag));
    },
  },
};

/** `--write-env DIR`: not a StartOptions field, the CLI writes the files once the emulator is up. */
let writeEnvDir: string | undefined;

/** Port flags: each sets one numeric StartOptions field. */
function portFlags(flags: Record<string, [string, (options: StartOptions, port: number) => void]>): Record<string, StartFlag> {
  return Object.fromEntries(
    Object.entries(flags).map(([name, [describe, set]]) => [name, { value: 'N', describe, apply: (options: StartOptions, value: string, flag: string) => void set(options, parsePort(value, flag)) }]),
  );
}

const defaultEnvUrl = `http://localhost:${defaultPorts.services}`;

function usage(): string {
  const line = (left: string, describe: string): string => `  ${left.padEnd(34)}${describe}`;
  const flagLines = Object.entries(startFlags).map(([name, flag]) => line(`--${name} ${flag.value}`, flag.describe));
  return [
    'Usage: btp-emulator <command> [options]',
    '',
    'Offline local test double for SAP BTP connectivity (XSUAA, Destination Service, connectivity proxy).',
    '',
    'Commands:',
    line('start', 'start the emulator; it runs until Ctrl-C (SIGINT) or SIGTERM'),
    line('env', 'print the env (VCAP_SERVICES, NODE_EXTRA_CA_CERTS) of a running emulator'),
    '',
    'Options of start:',
    ...flagLines,
    '',
    'Options of env:',
    line('--url URL', `the running emulator (default ${defaultEnvUrl})`),
    line('--json', "print a JSON object instead of KEY='value' lines"),
    '',
    line('-h, --help', 'show this help'),
    '',
    'Examples:',
    '  btp-emulator start --port 0',
    '  set -a; eval "$(btp-emulator env)"; set +a',
  ].join('\n');
}

/** parseArgs with this command's flags; its errors (unknown flag, missing value) become UsageErrors. */
function parseFlags(args: string[], options: Record<string, ParseArgsOptionDescriptor>): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun "btp-emulator --help" for the options.`);
  }
}

function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

async function runStart(args: string[]): Promise<void> {
  const flagOptions = Object.fromEntries(Object.keys(startFlags).map((name) => [name, { type: 'string' } as const]));
  const values = parseFlags(args, flagOptions);
  if (values.help) {
    console.log(usage());
    return;
  }
  const options: StartOptions = { scenario: 'default' };
  for (const [name, flag] of Object.entries(startFlags)) {
    const value = values[name];
    if (typeof value === 'string') flag.apply(options, value, name);
  }

  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emulator = await startEmulator(options);
  } catch (err) {
    const scenarioFile = typeof options.scenario === 'string' && options.scenario !== 'default' ? options.scenario : undefined;
    if (err instanceof ValidationError) throw new UsageError(`the scenario is refused: ${err.message}`);
    if (isNodeError(err) && scenarioFile && err.path === scenarioFile) {
      throw new UsageError(`cannot read the scenario file ${scenarioFile}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    }
    if (isNodeError(err) && err.code === 'EADDRINUSE') {
      const { port, address } = err as NodeJS.ErrnoException & { port?: number; address?: string };
      console.error(`btp-emulator: port ${port ?? options.port ?? defaultPorts.services} is already in use on ${address ?? options.host ?? '127.0.0.1'}; stop the other process, or pick other ports (--port 0 picks free ones)`);
      process.exitCode = exitFailure;
      return;
    }
    throw err;
  }


  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    emulator
      .stop()
      .then(() => {
        console.log(`btp-emulator stopped (${signal})`);
        process.exit(0);
      })
      .catch((err: unknown) => {
        console.error(`btp-emulator: stopping failed: ${(err as Error).message}`);
        process.exit(exitFailure);
      });
  };
  // Listen for the signals before announcing readiness: whoever waits for the line may signal at once.
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (writeEnvDir) {
    try {
      writeEnvFiles(emulator, writeEnvDir);
    } catch (err) {
      await emulator.stop();
      throw new Error(`cannot write the env files into ${writeEnvDir} (--write-env): ${(err as Error).message}`, { cause: err });
    }
  }
  const { urls } = emulator;
  console.log(
    `btp-emulator ready (scenario "${emulator.core.scenario.name}"): services ${urls.services} (TLS ${urls.servicesTls}), control ${urls.control}, ` +
      `HTTP proxy ${urls.httpProxy}, SOCKS5 ${urls.socks5}, backend ${urls.backend}, CA ${emulator.caFile}${writeEnvDir ? `, env ${writeEnvDir}` : ''}`,
  );
}

/** A value a POSIX shell reads back literally: single-quoted, with each `'` written as `'\''`. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function runEnv(args: string[]): Promise<void> {
  const values = parseFlags(args, { url: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    console.log(usage());
    return;
  }
  const base = String(values.url ?? defaultEnvUrl).replace(/\/+$/, '').replace(/\/_emulator$/, '');
  let envUrl: URL;
  try {
    envUrl = new URL(`${base}/_emulator/env`);
  } catch {
    throw new UsageError(`--url must be the emulator's base URL like ${defaultEnvUrl}, got "${String(values.url)}"`);
  }
  let env: Record<string, string>;
  try {
    const res = await fetch(envUrl);
    if (!res.ok) throw new Error(`${envUrl} answered ${res.status} ${await res.text()}`);
    env = (await res.json()) as Record<string, string>;
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message;
    console.error(`btp-emulator: cannot read the env from ${envUrl}: ${cause ?? (err as Error).message}. Is the emulator running (btp-emulator start)?`);
    process.exitCode = exitFailure;
    return;
  }
  if (values.json) console.log(JSON.stringify(env, null, 2));
  else for (const [key, value] of Object.entries(env)) console.log(`${key}=${shellQuote(String(value))}`);
}

const commands: Record<string, (args: string[]) => Promise<void>> = { start: runStart, env: runEnv };

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    if (command === undefined) {
      console.error(usage());
      process.exitCode = exitUsage;
    } else console.log(usage());
    return;
  }
  const run = commands[command];
  if (!run) throw new UsageError(`unknown command "${command}"; the commands are ${Object.keys(commands).join(', ')}. Run "btp-emulator --help".`);
  await run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`btp-emulator: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof UsageError ? exitUsage : exitFailure;
});
