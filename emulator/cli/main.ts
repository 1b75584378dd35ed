/**
 * The `btp-emulator` command line: `start` runs the emulator until SIGINT/SIGTERM, `env` prints the env of a
 * running one, `exec` runs a command against a fresh one, `k8s` writes the manifests of one in a cluster. A thin
 * face over `startEmulator()`; a bad flag or scenario exits with code 2 and a message that names it, never a stack
 * trace. The executable is `bin.js`: it checks the Node version and turns the compile cache on, then imports this
 * module.
 */
import { ValidationError } from '../core/validation.ts';
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util';
import type { EnvFormat } from './exec-env.ts';
import type { BindingLayout } from '../../sdk-adapters/service-binding-root.ts';
import { writeEnvFiles } from '../server/write-env.ts';
import { defaultPorts, defaultScenarioFile, PortInUseError, ScenarioFileError, startEmulator, type StartOptions } from '../index.ts';
import { proxyModes, proxyTenantModes, type ProxyMode } from '../services/connectivity-proxy/index.ts';
import { portInUseMessage, readScenarioFile } from '../server/start-errors.ts';
import { defaultImage as defaultK8sImage } from '../kubernetes/objects.ts';

/** Exit codes: 0 done, 1 a runtime failure (port in use, emulator unreachable), 2 a usage or scenario error. */
const exitUsage = 2;
const exitFailure = 1;

/** A mistake in what the user typed or pointed at: the message is printed as is and the process exits 2. */
class UsageError extends Error {}

/**
 * One `start` flag: its value placeholder for the help, what it does, and how it sets a StartOptions field.
 * `multiple`: the flag may be repeated (each value applied in turn); `boolean`: the flag takes no value.
 */
interface StartFlag {
  value: string;
  describe: string;
  multiple?: boolean;
  boolean?: boolean;
  apply(options: StartOptions, value: string, flag: string): void;
}

function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`--${flag} must be a port number from 0 to 65535 (0 picks a free port), got "${value}"`);
  return port;
}

/** The absolute path of a file this process can read, or a UsageError that says what is wrong with it. */
/**
 * A file flag that names a directory. In a container that is most often a bind mount whose host file is missing:
 * Docker then mounts an empty directory it created on the host. docker-compose.yml passes the host path of the
 * scenario as BTP_EMULATOR_SCENARIO_HOST_PATH, so the message can name the file to check.
 */
function directoryInsteadOfFile(file: string, flag: string): UsageError {
  const hostPath = flag === 'scenario' ? process.env.BTP_EMULATOR_SCENARIO_HOST_PATH : undefined;
  const hint = hostPath
    ? `: it is bind-mounted from ${hostPath} on the Docker host, which does not exist there (Docker then mounts an empty directory it creates); check that path, e.g. BTP_EMULATOR_SCENARIO in docker-compose`
    : ' (in a container: Docker mounts an empty directory when the host file of a bind mount does not exist; check the host path)';
  return new UsageError(`--${flag} ${file} is a directory, not a file${hint}`);
}

function readableFile(value: string, flag: string): string {
  const file = resolve(value);
  try {
    const stats = statSync(file);
    if (stats.isDirectory()) throw directoryInsteadOfFile(file, flag);
    if (!stats.isFile()) throw new UsageError(`--${flag} ${file} is not a file`);
    accessSync(file, constants.R_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--${flag} ${file} cannot be read: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
    );
  }
  return file;
}

function oneOf<T extends string>(value: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
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
    'http-proxy-port': [`connectivity proxy, HTTP (default ${defaultPorts.httpProxy})`, (o, p) => (o.httpProxyPort = p)],
    'socks-proxy-port': [`connectivity proxy, SOCKS5 (default ${defaultPorts.socks5})`, (o, p) => (o.socksProxyPort = p)],
    'backend-http-port': [`fake on-prem backend, HTTP (default ${defaultPorts.backendHttp})`, (o, p) => (o.backendHttpPort = p)],
    'backend-tcp-port': [`fake on-prem backend, TCP echo (default ${defaultPorts.backendTcp})`, (o, p) => (o.backendTcpPort = p)],
    'smtp-port': [`fake on-prem backend, SMTP sink (default ${defaultPorts.smtp})`, (o, p) => (o.smtpPort = p)],
    'ldap-port': [`fake on-prem backend, LDAP directory (default ${defaultPorts.ldap})`, (o, p) => (o.ldapPort = p)],
    'transparent-proxy-port': [
      `Kyma Transparent Proxy, HTTP routed by Host to a Destination CR (default ${defaultPorts.transparentProxy})`,
      (o, p) => (o.transparentProxyPort = p),
    ],
    'identity-port': [
      `identity service (IAS), TLS only: the identity binding's url (default ${defaultPorts.identity})`,
      (o, p) => (o.identityPort = p),
    ],
    'advertised-identity-port': [
      'identity port written into the identity binding and its tokens',
      (o, p) => (o.advertisedIdentityPort = p),
    ],
    'cloud-connector-api-port': [
      `Cloud Connector REST configuration API and admin console, TLS (default ${defaultPorts.cloudConnectorApi})`,
      (o, p) => (o.cloudConnectorApiPort = p),
    ],
    'advertised-port': ['services port written into the bindings and URLs (a mapped container port)', (o, p) => (o.advertisedPort = p)],
    'advertised-http-proxy-port': ['HTTP proxy port written into the connectivity binding', (o, p) => (o.advertisedHttpProxyPort = p)],
    'advertised-socks-proxy-port': ['SOCKS5 proxy port written into the connectivity binding', (o, p) => (o.advertisedSocksProxyPort = p)],
    'advertised-backend-port': ['backend HTTP port in {{backend}} and the ready line', (o, p) => (o.advertisedBackendPort = p)],
  }),
  ...numberFlags({
    'max-body-bytes': [
      'largest request body of any endpoint but PUT /_emulator/snapshot, in bytes (default 10485760 = 10 MiB)',
      (o, n) => (o.maxBodyBytes = n),
    ],
    'max-snapshot-bytes': [
      'largest PUT /_emulator/snapshot body, in bytes (default 104857600 = 100 MiB)',
      (o, n) => (o.maxSnapshotBytes = n),
    ],
    'max-entities-per-level': [
      'destinations, fragments, certificates per Destination Service level, each (default 1000, as on BTP)',
      (o, n) => (o.maxEntitiesPerLevel = n),
    ],
    'journal-max-bytes': ['bound of the request journal in bytes (default 33554432 = 32 MiB)', (o, n) => (o.journalMaxBytes = n)],
    'smtp-max-message-bytes': [
      'largest mail the SMTP sink accepts (its SIZE; default 26214400 = 25 MiB)',
      (o, n) => (o.smtpMaxMessageBytes = n),
    ],
    'headers-timeout-ms': [
      'time to a complete request head, TLS or SOCKS5 handshake on every listener (default 60000)',
      (o, n) => (o.headersTimeoutMs = n),
    ],
    'request-timeout-ms': ['time for a whole HTTP request (default 300000)', (o, n) => (o.requestTimeoutMs = n)],
    'idle-timeout-ms': ['idle keep-alive HTTP connection (default 5000)', (o, n) => (o.idleTimeoutMs = n)],
  }),
  'proxy-mode': {
    value: 'MODE',
    describe: `connectivity proxy mode: ${proxyModes.join(' (default) or ')} (Kubernetes: no Proxy-Authorization); wins over the scenario's connectivityProxy`,
    apply: (options, value, flag) => {
      options.connectivityProxy = { ...options.connectivityProxy, mode: oneOf(value, flag, proxyModes) };
    },
  },
  'proxy-tenant-mode': {
    value: 'T',
    describe: `with --proxy-mode trusted: ${proxyTenantModes.join(' (default: the provider) or ')} (the tenant from SAP-CP-Connectivity-Service-Token)`,
    apply: (options, value, flag) => {
      options.connectivityProxy = { ...options.connectivityProxy, tenantMode: oneOf(value, flag, proxyTenantModes) };
    },
  },
  'destination-crs': {
    value: 'PATH',
    multiple: true,
    describe:
      'Destination CRs for the Transparent Proxy: a YAML file (several documents), a .json file, or a directory of them; repeatable',
    apply: (options, value, flag) => {
      options.destinationCrs = [...(options.destinationCrs ?? []), resolve(nonEmpty(value, flag))];
    },
  },
  'tls-dir': {
    value: 'DIR',
    describe: 'where the CA and the server certificate are kept (default: a folder under the temp dir)',
    apply: (options, value, flag) => {
      options.tlsDir = resolve(nonEmpty(value, flag));
    },
  },
  'control-token': {
    value: 'TOKEN',
    describe: 'require `Authorization: Bearer TOKEN` on the control API (or set BTP_EMULATOR_CONTROL_TOKEN)',
    apply: (options, value, flag) => {
      options.controlToken = nonEmpty(value, flag);
    },
  },
  'allowed-origin': {
    value: 'ORIGIN',
    multiple: true,
    describe: 'a web origin (e.g. http://localhost:5173) whose pages may call the control API; repeatable, * = any',
    apply: (options, value, flag) => {
      options.allowedOrigins = [...(options.allowedOrigins ?? []), nonEmpty(value, flag)];
    },
  },
  'allowed-host': {
    value: 'H',
    multiple: true,
    describe: 'a Host name (H, H:PORT or .domain) the services port answers besides its own; repeatable, * = any',
    apply: (options, value, flag) => {
      options.allowedHosts = [...(options.allowedHosts ?? []), nonEmpty(value, flag)];
    },
  },
  'signing-key': {
    value: 'bundled',
    describe: "sign tokens with the package's bundled, public key instead of this installation's own (docs/security.md)",
    apply: (options, value, flag) => {
      if (value !== 'bundled')
        throw new UsageError(
          `--${flag} takes only "bundled" (without the flag the emulator signs with this installation's own key), got "${value}"`,
        );
      options.signingKey = 'bundled';
    },
  },
  'allow-bundled-key-on-network': {
    value: '',
    boolean: true,
    describe: 'allow --signing-key bundled with a non-loopback --host (anybody who reaches it could sign tokens)',
    apply: (options) => {
      options.allowBundledKeyOnNetwork = true;
    },
  },
  'state-dir': {
    value: 'DIR',
    describe:
      'keep the state in DIR/state.json: restored on start (wins over --scenario), saved on every change (or BTP_EMULATOR_STATE_DIR)',
    apply: (options, value, flag) => {
      options.stateDir = resolve(nonEmpty(value, flag));
    },
  },
  'write-env': {
    value: 'DIR',
    describe: 'after start, write ca.pem, vcap-services.json, default-env.json and .env into DIR',
    apply: (_options, value, flag) => {
      writeEnvDir = resolve(nonEmpty(value, flag));
    },
  },
  'write-env-host-dir': {
    value: 'DIR',
    describe:
      'with --write-env in a container: the folder the files are copied to on the host, relative to where the app runs (e.g. .btp-env); also writes host.env, whose NODE_EXTRA_CA_CERTS is DIR/ca.pem',
    apply: (_options, value, flag) => {
      writeEnvHostDir = nonEmpty(value, flag);
    },
  },
};

/** The parseArgs descriptors of the start flags. */
function startFlagOptions(): Record<string, ParseArgsOptionDescriptor> {
  return Object.fromEntries(
    Object.entries(startFlags).map(([name, flag]) => [
      name,
      flag.boolean ? { type: 'boolean' } : { type: 'string', multiple: flag.multiple === true },
    ]),
  );
}

/** `--write-env DIR` (and `--write-env-host-dir`): not StartOptions fields, the CLI writes the files once the emulator is up. */
let writeEnvDir: string | undefined;
let writeEnvHostDir: string | undefined;

function writeEnvIfAsked(emulator: Parameters<typeof writeEnvFiles>[0]): void {
  if (writeEnvHostDir && !writeEnvDir)
    throw new UsageError('--write-env-host-dir needs --write-env DIR (the folder the files are written to)');
  if (writeEnvDir) writeEnvFiles(emulator, writeEnvDir, { hostDir: writeEnvHostDir });
}

/** Limit and timeout flags: each sets one positive whole-number StartOptions field. */
function numberFlags(flags: Record<string, [string, (options: StartOptions, value: number) => void]>): Record<string, StartFlag> {
  const parse = (value: string, flag: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
      throw new UsageError(`--${flag} must be a whole number of 1 or more, got "${value}"`);
    return Number(value);
  };
  return Object.fromEntries(
    Object.entries(flags).map(([name, [describe, set]]) => [
      name,
      { value: 'N', describe, apply: (options: StartOptions, value: string, flag: string) => void set(options, parse(value, flag)) },
    ]),
  );
}

/** Port flags: each sets one numeric StartOptions field. */
function portFlags(flags: Record<string, [string, (options: StartOptions, port: number) => void]>): Record<string, StartFlag> {
  return Object.fromEntries(
    Object.entries(flags).map(([name, [describe, set]]) => [
      name,
      { value: 'N', describe, apply: (options: StartOptions, value: string, flag: string) => void set(options, parsePort(value, flag)) },
    ]),
  );
}

const defaultEnvUrl = `http://localhost:${defaultPorts.services}`;

function usage(): string {
  const line = (left: string, describe: string): string => `  ${left.padEnd(34)}${describe}`;
  const flagLines = Object.entries(startFlags).map(([name, flag]) => line(`--${name}${flag.value ? ` ${flag.value}` : ''}`, flag.describe));
  return [
    'Usage: btp-emulator <command> [options]',
    '',
    'Offline local test double for SAP BTP connectivity (XSUAA, Destination Service, connectivity proxy).',
    '',
    'Commands:',
    line('start', 'start the emulator; it runs until Ctrl-C (SIGINT) or SIGTERM'),
    line('env', 'print the env (VCAP_SERVICES, NODE_EXTRA_CA_CERTS) of a running emulator'),
    line('exec [options] -- CMD [ARGS]', "start the emulator, run CMD with the app's env, stop, exit with CMD's code"),
    line('k8s --namespace NS [options]', 'write Kubernetes manifests of a shared emulator (docs/kubernetes.md)'),
    '',
    'Options of start:',
    ...flagLines,
    '',
    'Options of env:',
    line('--url URL', `the running emulator (default ${defaultEnvUrl})`),
    line('--json', "print a JSON object instead of KEY='value' lines"),
    line('--format F', 'vcap (VCAP_SERVICES JSON), default-env (default-env.json), k8s (binding directory), dotenv'),
    line('--out PATH', 'write to PATH instead of stdout (k8s: the SERVICE_BINDING_ROOT directory, required)'),
    line('--layout L', 'k8s layout: servicebinding.io (default) or sap-k8s'),
    '  With BTP_EMULATOR_CONTROL_TOKEN set, env sends it as the control token.',
    '',
    'Options of exec: the options of start, and',
    line('--user NAME', 'a user token for NAME in BTP_EMULATOR_USER_TOKEN'),
    line('--tenant T', 'the tenant (subdomain or zid) of that token (default: the provider)'),
    '  The command gets VCAP_SERVICES, NODE_EXTRA_CA_CERTS and the control URL in BTP_EMULATOR_URL.',
    '',
    'Options of k8s:',
    line('--namespace NS', "the emulator's namespace (required)"),
    line('--scenario FILE', 'scenario file, put into a ConfigMap (default: the bundled one)'),
    line('--image IMAGE', `the emulator's image (default ${defaultK8sImage}, built from docker/Dockerfile)`),
    line('--name NAME', 'the Service and the prefix of every other name (default btp-emulator)'),
    line('--control-token TOKEN', 'the control token put into the Secret (default: a new random one each run)'),
    line('--binding-namespace NS', "the binding Secrets' namespace, the app's (default: the emulator's)"),
    line('--layout L', 'the binding Secrets: servicebinding.io (default) or sap-k8s'),
    line('--out PATH', 'a .yaml file (all in one), or a directory (one file per resource); default stdout'),
    '',
    line('-h, --help', 'show this help'),
    '',
    'Examples:',
    '  btp-emulator start --port 0',
    '  btp-emulator exec --port 0 --user alice -- npm test',
    '  btp-emulator env --format k8s --out ./bindings',
    '  btp-emulator k8s --namespace team --scenario team.scenario.yaml | kubectl apply -f -',
    '  set -a; eval "$(btp-emulator env)"; set +a',
  ].join('\n');
}

/** parseArgs with this command's flags; its errors (unknown flag, missing value) become UsageErrors. */
function parseFlags(
  args: string[],
  options: Record<string, ParseArgsOptionDescriptor>,
): Record<string, string | boolean | string[] | undefined> {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | string[] | undefined>;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun "btp-emulator --help" for the options.`);
  }
}

/**
 * `startEmulator()` with the CLI's explanations: a refused or unreadable scenario is a UsageError (exit 2), a
 * port in use is reported and gives undefined (exit 1).
 */
async function startOrExplain(options: StartOptions): Promise<Awaited<ReturnType<typeof startEmulator>> | undefined> {
  try {
    return await startEmulator(options);
  } catch (err) {
    if (err instanceof Error && ['StateFileError', 'StartOptionError', 'TlsDirError'].includes(err.name)) throw new UsageError(err.message);
    if (err instanceof ValidationError)
      throw new UsageError(err.name === 'DestinationCrFileError' ? err.message : `the scenario is refused: ${err.message}`);
    if (err instanceof ScenarioFileError) throw new UsageError(err.message);
    if (err instanceof PortInUseError) {
      // The in-process wording, with the flag instead of the StartOptions field (httpProxyPort → --http-proxy-port).
      const flag = `--${err.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      const fix =
        flag === '--port' ? 'pass --port 0 for free ports' : `pass ${flag} 0 for a free one (--port 0 picks free ones for every port)`;
      console.error(`btp-emulator: ${portInUseMessage(err.port, err.host, flag, fix)}`);
      process.exitCode = exitFailure;
      return undefined;
    }
    throw err;
  }
}

/** The StartOptions the start flags in `values` describe (default scenario: the bundled one). */
function startOptionsFrom(values: Record<string, string | boolean | string[] | undefined>): StartOptions {
  const options: StartOptions = { scenario: 'default' };
  for (const [name, flag] of Object.entries(startFlags)) {
    const value = values[name] as string | boolean | string[] | undefined;
    if (value === true) flag.apply(options, '', name);
    for (const one of Array.isArray(value) ? value : typeof value === 'string' ? [value] : []) flag.apply(options, one, name);
  }
  if (options.connectivityProxy?.tenantMode && options.connectivityProxy.mode !== 'trusted')
    throw new UsageError('--proxy-tenant-mode is only for the trusted mode: give --proxy-mode trusted too');
  // From the environment, so the token stays out of `ps` output.
  if (options.controlToken === undefined && process.env.BTP_EMULATOR_CONTROL_TOKEN)
    options.controlToken = process.env.BTP_EMULATOR_CONTROL_TOKEN;
  const stateDir = process.env.BTP_EMULATOR_STATE_DIR;
  if (options.stateDir === undefined && stateDir) startFlags['state-dir'].apply(options, stateDir, 'state-dir');
  return options;
}

async function runStart(args: string[]): Promise<void> {
  const values = parseFlags(args, startFlagOptions());
  if (values.help) {
    console.log(usage());
    return;
  }
  const options = startOptionsFrom(values);
  const emulator = await startOrExplain(options);
  if (!emulator) return;

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
  if (writeEnvDir || writeEnvHostDir) {
    try {
      writeEnvIfAsked(emulator);
    } catch (err) {
      await emulator.stop();
      if (err instanceof UsageError) throw err;
      throw new Error(`cannot write the env files into ${writeEnvDir} (--write-env): ${(err as Error).message}`, { cause: err });
    }
  }
  const { urls } = emulator;
  console.log(
    `btp-emulator ready (scenario "${emulator.core.scenario.name}"): services ${urls.services} (TLS ${urls.servicesTls}), control ${urls.control}${options.controlToken ? ' (control token required)' : ''}, ` +
      `HTTP proxy ${urls.httpProxy}, SOCKS5 ${urls.socks5}, backend ${urls.backend}, Transparent Proxy ${urls.transparentProxy}${crPortsNote(emulator.ports.transparentProxyCrs)}, identity (IAS) ${urls.identity}, Cloud Connector ${urls.cloudConnectorApi}, CA ${emulator.caFile}${writeEnvDir ? `, env ${writeEnvDir}` : ''}${options.stateDir ? `, state ${options.stateDir}` : ''}${trustedNote(emulator.core.proxyMode())}`,
  );
}

/** The ready line's list of the CRs' own ports (nothing when there are none). */
function crPortsNote(ports: Record<string, number>): string {
  const entries = Object.entries(ports);
  return entries.length ? ` (CR ports: ${entries.map(([service, port]) => `${service} ${port}`).join(', ')})` : '';
}

/** The ready line's note on the Kubernetes trusted mode (nothing for the default cloud-foundry mode). */
function trustedNote(mode: ProxyMode): string {
  return mode.mode === 'trusted' ? `, connectivity proxy in trusted mode (${mode.tenantMode})` : '';
}

/** A value a POSIX shell reads back literally: single-quoted, with each `'` written as `'\''`. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function runEnv(args: string[]): Promise<void> {
  const values = parseFlags(args, {
    url: { type: 'string' },
    json: { type: 'boolean' },
    format: { type: 'string' },
    out: { type: 'string' },
    layout: { type: 'string' },
  });
  if (values.help) {
    console.log(usage());
    return;
  }
  const { bindingLayouts, envFormats, renderEnv } = await import('./exec-env.ts');
  const format = values.json ? 'json' : String(values.format ?? 'shell');
  if (!(envFormats as readonly string[]).includes(format))
    throw new UsageError(`--format must be one of vcap, default-env, k8s, dotenv (or shell, json), got "${format}"`);
  if (format === 'k8s' && !values.out) throw new UsageError('--format k8s writes a binding directory: give it with --out DIR');
  const layout = values.layout === undefined ? undefined : String(values.layout);
  if (layout !== undefined && !(bindingLayouts as string[]).includes(layout))
    throw new UsageError(`--layout must be one of ${bindingLayouts.join(', ')}, got "${layout}"`);
  if (layout !== undefined && format !== 'k8s') throw new UsageError('--layout is only for --format k8s');
  const out = values.out === undefined ? undefined : resolve(nonEmpty(String(values.out), 'out'));
  const base = String(values.url ?? defaultEnvUrl)
    .replace(/\/+$/, '')
    .replace(/\/_emulator$/, '');
  let envUrl: URL;
  try {
    envUrl = new URL(`${base}/_emulator/env`);
  } catch {
    throw new UsageError(`--url must be the emulator's base URL like ${defaultEnvUrl}, got "${String(values.url)}"`);
  }
  let env: Record<string, string>;
  try {
    const token = process.env.BTP_EMULATOR_CONTROL_TOKEN;
    const res = await fetch(envUrl, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    if (!res.ok) throw new Error(`${envUrl} answered ${res.status} ${await res.text()}`);
    env = (await res.json()) as Record<string, string>;
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message;
    console.error(
      `btp-emulator: cannot read the env from ${envUrl}: ${cause ?? (err as Error).message}. Is the emulator running (btp-emulator start)?`,
    );
    process.exitCode = exitFailure;
    return;
  }
  if (format === 'json' && !out) console.log(JSON.stringify(env, null, 2));
  else if (format === 'shell' && !out) for (const [key, value] of Object.entries(env)) console.log(`${key}=${shellQuote(String(value))}`);
  else {
    const output = renderEnv(env, format as EnvFormat, { out, layout: layout as BindingLayout | undefined });
    process.stdout.write(output.stdout);
    if (output.written) console.error(`btp-emulator: wrote ${output.written.join(', ')}`);
  }
}

/**
 * `exec [start flags] [--user NAME] [--tenant T] -- <command> [args…]`: start the emulator, run the command with
 * the app's env, stop the emulator, exit with the command's exit code (see exec.ts).
 */
async function runExec(args: string[]): Promise<void> {
  const split = args.indexOf('--');
  const command = split < 0 ? [] : args.slice(split + 1);
  const values = parseFlags(split < 0 ? args : args.slice(0, split), {
    ...startFlagOptions(),
    user: { type: 'string' },
    tenant: { type: 'string' },
  });
  if (values.help) {
    console.log(usage());
    return;
  }
  if (!command.length || !command[0]) throw new UsageError('exec needs a command after "--", e.g. btp-emulator exec --port 0 -- npm test');
  const user = values.user === undefined ? undefined : nonEmpty(String(values.user), 'user');
  const tenant = values.tenant === undefined ? undefined : nonEmpty(String(values.tenant), 'tenant');
  if (tenant && !user) throw new UsageError('--tenant selects the tenant of the --user token; give --user NAME too');
  const options = startOptionsFrom(values);
  const emulator = await startOrExplain(options);
  if (!emulator) return;
  const { runCommand } = await import('./exec.ts');
  let code: number;
  try {
    if (tenant && !emulator.core.state.tenants.some((t) => t.subdomain === tenant || t.zid === tenant)) {
      throw new UsageError(
        `--tenant "${tenant}" is not a tenant of the scenario (${emulator.core.state.tenants.map((t) => t.subdomain).join(', ')})`,
      );
    }
    writeEnvIfAsked(emulator);
    console.error(
      `btp-emulator exec: emulator ready (scenario "${emulator.core.scenario.name}", control ${emulator.urls.control}); running: ${command.join(' ')}`,
    );
    code = await runCommand({ emulator, command, user, tenant });
  } finally {
    await emulator.stop();
  }
  process.exit(code);
}

/** `k8s --namespace NS [--scenario FILE] [--image I] [--name N] [--control-token T] [--binding-namespace NS] [--layout L] [--out PATH]`. */
async function runK8s(args: string[]): Promise<void> {
  const values = parseFlags(args, {
    namespace: { type: 'string' },
    scenario: { type: 'string' },
    image: { type: 'string' },
    name: { type: 'string' },
    'control-token': { type: 'string' },
    'binding-namespace': { type: 'string' },
    layout: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) {
    console.log(usage());
    return;
  }
  if (values.namespace === undefined) throw new UsageError('k8s needs --namespace NS: the namespace the emulator runs in');
  const { bindingLayouts } = await import('./exec-env.ts');
  const layout = values.layout === undefined ? undefined : String(values.layout);
  if (layout !== undefined && !(bindingLayouts as string[]).includes(layout))
    throw new UsageError(`--layout must be one of ${bindingLayouts.join(', ')}, got "${layout}"`);
  const scenarioFile =
    values.scenario === undefined ? defaultScenarioFile : readableFile(nonEmpty(String(values.scenario), 'scenario'), 'scenario');
  const { renderK8s } = await import('./k8s.ts');
  const given = (flag: string): string | undefined => (values[flag] === undefined ? undefined : nonEmpty(String(values[flag]), flag));
  try {
    const output = await renderK8s({
      // For the files' first line; a token given is not repeated there.
      command: [
        'btp-emulator',
        'k8s',
        ...args.map((a, i) => (args[i - 1] === '--control-token' ? '…' : a.replace(/^(--control-token=).*/, '$1…'))),
      ].join(' '),
      scenarioText: readScenarioFile(scenarioFile),
      scenarioSource: scenarioFile,
      namespace: String(values.namespace),
      image: given('image'),
      name: given('name'),
      controlToken: given('control-token'),
      bindingNamespace: given('binding-namespace'),
      layout: layout as BindingLayout | undefined,
      out: values.out === undefined ? undefined : resolve(nonEmpty(String(values.out), 'out')),
    });
    process.stdout.write(output.stdout);
    const { manifests } = output;
    console.error(
      `btp-emulator: ${output.written ? `wrote ${output.written.length === 1 ? output.written[0] : `${output.written.length} files into ${resolve(String(values.out))}`}` : `${manifests.manifests.length} manifests`}; ` +
        `the emulator is http://${manifests.host}:${defaultPorts.services}, its control token is in Secret ${manifests.controlSecret.metadata.name}`,
    );
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(`the scenario is refused: ${err.message}`);
    if (err instanceof Error && err.name === 'KubernetesOptionError') throw new UsageError(err.message);
    throw err;
  }
}

const commands: Record<string, (args: string[]) => Promise<void>> = { start: runStart, env: runEnv, exec: runExec, k8s: runK8s };

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
  if (!run)
    throw new UsageError(`unknown command "${command}"; the commands are ${Object.keys(commands).join(', ')}. Run "btp-emulator --help".`);
  await run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`btp-emulator: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof UsageError ? exitUsage : exitFailure;
});
