/**
 * `btp-connectivity-emulator/testcontainers`: the emulator's Docker image as a Testcontainers module, in the shape of
 * the official ones.
 *
 *   const emulator = await new BtpEmulatorContainer().withScenario('test/my.scenario.yaml').start();
 *   spawn('node', ['app.js'], { env: { ...process.env, ...emulator.getEnv() } });  // VCAP_SERVICES, NODE_EXTRA_CA_CERTS
 *   const jwt = await emulator.control.issueUserToken({ user: 'alice' });
 *   await emulator.stop();
 *
 * The URLs the emulator hands out (bindings, `{{services}}`, `{{backend}}`) must be the ones the test process sees,
 * so the module picks free host ports before the start, binds them explicitly and passes them to the emulator as
 * its advertised ports. With host networking (`withNetworkMode('host')`, e.g. a Docker engine without a bridge
 * network) the container listens on those ports itself, so parallel containers never collide either. An engine
 * without a bridge network also needs TESTCONTAINERS_RYUK_DISABLED=true (Ryuk's own container would need the
 * bridge) and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1; without host networking there the start fails saying so.
 * A start that fails after the container was created (timeout, bad argument, an exit) removes that container.
 */
import { defaultPorts } from '../core/ports.ts';
import '../require-node.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import * as tls from 'node:tls';
import { ControlClient } from '../client/control-client.ts';
import { firstFileOfTar } from './tar.ts';
import { portInUseFromMessage } from '../server/start-errors.ts';
import {
  AbstractStartedContainer,
  GenericContainer,
  getContainerRuntimeClient,
  type StartedTestContainer,
  type WaitStrategy,
} from 'testcontainers';

/** The image `docker/Dockerfile` builds; override with the constructor argument or BTP_EMULATOR_IMAGE. */
export const DEFAULT_IMAGE = 'btp-connectivity-emulator:latest';

/** The emulator's ports inside the container (the image's defaults). */
export const EMULATOR_PORTS = defaultPorts;

export type EmulatorPortName = keyof typeof EMULATOR_PORTS;
export type EmulatorPorts = Record<EmulatorPortName, number>;

/** The CLI's start flags of each port (bound, and advertised where there is one). */
export const portFlags: Record<EmulatorPortName, [bound: string, advertised?: string]> = {
  services: ['--port', '--advertised-port'],
  httpProxy: ['--http-proxy-port', '--advertised-http-proxy-port'],
  socks5: ['--socks-proxy-port', '--advertised-socks-proxy-port'],
  backendHttp: ['--backend-http-port', '--advertised-backend-port'],
  backendTcp: ['--backend-tcp-port'],
  smtp: ['--smtp-port'],
  ldap: ['--ldap-port'],
  transparentProxy: ['--transparent-proxy-port'],
  identity: ['--identity-port', '--advertised-identity-port'],
  cloudConnectorApi: ['--cloud-connector-api-port'],
};

/** A port nothing on this machine listens on right now (the kernel's pick). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts(1, host))[0];
}

/** `count` distinct free ports: every listener stays open until all are chosen, so the kernel cannot pick one twice. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: ReturnType<typeof createServer>[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      server.unref();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolvePort, reject) => {
          server.once('error', reject);
          server.listen(0, host, () => resolvePort((server.address() as { port: number }).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((done) => (server.listening ? server.close(() => done()) : done()))));
  }
}

/**
 * How often a host-network start is tried again with other free ports when one of the chosen ports was taken between
 * the choice and the container's bind (another process's outgoing connection can land on it: free ports come from the
 * kernel's ephemeral range).
 */
const PORT_RACE_ATTEMPTS = 3;

/** Waits until `GET /_emulator/health` answers 200; fails early, with the container's logs, if it exits. */
class HealthEndpointWaitStrategy implements WaitStrategy {
  private timeoutMs = 30_000;
  private timeoutSet = false;
  private readonly url: () => string;
  constructor(url: () => string) {
    this.url = url;
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.timeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }
  getStartupTimeout(): number {
    return this.timeoutMs;
  }

  async waitUntilReady(...[container]: Parameters<WaitStrategy['waitUntilReady']>): Promise<void> {
    const url = this.url();
    const deadline = Date.now() + this.timeoutMs;
    let last = 'no answer';
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
        last = `${res.status} ${await res.text()}`;
      } catch (err) {
        last = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      }
      if (attempt % 5 === 4) {
        const state = (await container.inspect()).State;
        if (!state.Running) {
          const logs = String(await container.logs({ stdout: true, stderr: true, tail: 20 }));
          throw new Error(`the emulator container exited (code ${state.ExitCode}) before ${url} answered:\n${logs}`);
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the emulator container did not become healthy within ${this.timeoutMs} ms: ${url}: ${last}`);
  }
}

export class BtpEmulatorContainer extends GenericContainer {
  private scenarioArgs: string[] = [];
  private advertisedHost = 'localhost';
  private hostPorts: Partial<EmulatorPorts> = {};
  private extraArgs: string[] = [];
  private ports?: EmulatorPorts;
  private controlToken?: string;
  /** The container of the start in progress, so that a failed start can remove it. */
  private createdContainerId?: string;

  constructor(image = process.env.BTP_EMULATOR_IMAGE ?? DEFAULT_IMAGE) {
    super(image);
    this.withWaitStrategy(new HealthEndpointWaitStrategy(() => `http://127.0.0.1:${this.ports?.services}/_emulator/health`));
    this.withStartupTimeout(30_000);
  }

  /** A scenario file (YAML or JSON) on this machine, or a scenario object; copied into the container. */
  withScenario(scenario: string | object): this {
    if (typeof scenario === 'string') {
      const file = resolve(scenario);
      const target = `/home/node/scenario${extname(file) || '.yaml'}`;
      this.withCopyFilesToContainer([{ source: file, target, mode: 0o644 }]);
      this.scenarioArgs = ['--scenario', target];
    } else {
      const target = '/home/node/scenario.json';
      this.withCopyContentToContainer([{ content: JSON.stringify(scenario), target, mode: 0o644 }]);
      this.scenarioArgs = ['--scenario', target];
    }
    return this;
  }

  /** The host name written into the bindings, URLs and the TLS certificate (default `localhost`). */
  withAdvertisedHost(host: string): this {
    this.advertisedHost = host;
    return this;
  }

  /** Host ports to use instead of free ones (e.g. `{ services: 20000 }`); with host networking also the container's. */
  withHostPorts(ports: Partial<EmulatorPorts>): this {
    this.hostPorts = { ...this.hostPorts, ...ports };
    return this;
  }

  /** Require this control token on the control API (passed as BTP_EMULATOR_CONTROL_TOKEN); `control` sends it. */
  withControlToken(token: string): this {
    this.controlToken = token;
    this.withEnvironment({ BTP_EMULATOR_CONTROL_TOKEN: token });
    return this;
  }

  /** More `btp-emulator start` flags, e.g. `['--write-env', '/env']`. */
  withEmulatorArgs(...args: string[]): this {
    this.extraArgs.push(...args);
    return this;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const hostNetwork = this.networkMode === 'host';
    if (!this.networkMode) await refuseEngineWithoutBridge();
    const names = Object.keys(EMULATOR_PORTS) as EmulatorPortName[];
    const free = await freePorts(names.filter((name) => this.hostPorts[name] === undefined).length);
    const ports = {} as EmulatorPorts;
    for (const name of names) ports[name] = this.hostPorts[name] ?? free.shift()!;
    const args: string[] = [...this.scenarioArgs, '--advertised-host', this.advertisedHost];
    for (const name of names) {
      const [bound, advertised] = portFlags[name];
      if (hostNetwork) args.push(bound, String(ports[name]));
      else {
        this.withExposedPorts({ container: EMULATOR_PORTS[name], host: ports[name] });
        if (advertised) args.push(advertised, String(ports[name]));
      }
    }
    // The image's health check reads the services port from here.
    this.withEnvironment({ BTP_EMULATOR_PORT: String(hostNetwork ? ports.services : EMULATOR_PORTS.services) });
    this.withCommand([...args, ...this.extraArgs]);
    this.ports = ports;
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    this.createdContainerId = containerId;
  }

  /**
   * Starts the container and waits until `/_emulator/health` answers (the wait strategy polls the services port).
   * If anything fails once the container exists, the container is removed before the error is rethrown.
   */
  override async start(): Promise<StartedBtpEmulatorContainer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (err) {
        if (attempt >= PORT_RACE_ATTEMPTS || !this.lostAChosenPort(err)) throw err;
      }
    }
  }

  /** The container exited because a port this module chose (not one of `withHostPorts`) was taken meanwhile. */
  private lostAChosenPort(err: unknown): boolean {
    if (this.networkMode !== 'host' || !this.ports) return false;
    const taken = portInUseFromMessage(String((err as Error)?.message ?? err));
    if (taken === undefined) return false;
    const name = (Object.keys(this.ports) as EmulatorPortName[]).find((n) => this.ports![n] === taken);
    return name !== undefined && this.hostPorts[name] === undefined;
  }

  private async startOnce(): Promise<StartedBtpEmulatorContainer> {
    this.createdContainerId = undefined;
    try {
      const container = await super.start();
      if (!this.ports) throw new Error('BtpEmulatorContainer: the ports were not chosen before the start');
      return await StartedBtpEmulatorContainer.create(container, this.ports, this.advertisedHost, this.controlToken);
    } catch (err) {
      if (this.createdContainerId) await removeContainer(this.createdContainerId);
      throw err;
    } finally {
      this.createdContainerId = undefined;
    }
  }
}

/** Removes a container whatever its state; a container that is already gone is fine. */
async function removeContainer(id: string): Promise<void> {
  const client = await getContainerRuntimeClient();
  await client.container
    .getById(id)
    .remove({ force: true, v: true })
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
}

/** Without a network mode Docker uses its `bridge` network; an engine started with `--bridge=none` has none. */
async function refuseEngineWithoutBridge(): Promise<void> {
  const client = await getContainerRuntimeClient();
  const missing = await client.network
    .getById('bridge')
    .inspect()
    .then(
      () => false,
      (err: { statusCode?: number }) => err.statusCode === 404,
    );
  if (missing) {
    throw new Error(
      "BtpEmulatorContainer: this Docker engine has no bridge network (dockerd --bridge=none): use .withNetworkMode('host'), " +
        'with TESTCONTAINERS_RYUK_DISABLED=true and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 in the environment',
    );
  }
}

/** The typed control API client (`btp-connectivity-emulator/client`), under the name this module always exported. */
export { ControlClient as EmulatorControlClient } from '../client/control-client.ts';

export class StartedBtpEmulatorContainer extends AbstractStartedContainer {
  /** The control API client (`/_emulator`). */
  readonly control: ControlClient;
  private readonly ports: EmulatorPorts;
  private readonly advertisedHost: string;
  private readonly vcapServices: string;
  private readonly caFile: string;

  private constructor(
    startedTestContainer: StartedTestContainer,
    ports: EmulatorPorts,
    advertisedHost: string,
    vcapServices: string,
    caFile: string,
    controlToken?: string,
  ) {
    super(startedTestContainer);
    this.ports = ports;
    this.advertisedHost = advertisedHost;
    this.vcapServices = vcapServices;
    this.caFile = caFile;
    this.control = new ControlClient(`${this.getServicesUrl()}/_emulator`, { token: controlToken });
  }

  /** Reads the env from the control API and copies the CA out of the container into a local temp file. */
  static async create(
    container: StartedTestContainer,
    ports: EmulatorPorts,
    advertisedHost: string,
    controlToken?: string,
  ): Promise<StartedBtpEmulatorContainer> {
    const control = new ControlClient(`http://127.0.0.1:${ports.services}/_emulator`, { token: controlToken });
    const env = await control.env();
    const caInContainer = env.NODE_EXTRA_CA_CERTS;
    const caPem = await firstFileOfTar(await container.copyArchiveFromContainer(caInContainer));
    const caFile = join(mkdtempSync(join(tmpdir(), 'btp-emulator-container-')), basename(caInContainer));
    writeFileSync(caFile, caPem);
    return new StartedBtpEmulatorContainer(container, ports, advertisedHost, env.VCAP_SERVICES, caFile, controlToken);
  }

  /** The env for the app under test: `VCAP_SERVICES` with this machine's ports, `NODE_EXTRA_CA_CERTS` a local copy of the CA. */
  getEnv(): { VCAP_SERVICES: string; NODE_EXTRA_CA_CERTS: string } {
    return { VCAP_SERVICES: this.vcapServices, NODE_EXTRA_CA_CERTS: this.caFile };
  }
  getVcapServices(): Record<string, { name: string; label: string; credentials: Record<string, unknown> }[]> {
    return JSON.parse(this.vcapServices) as Record<string, { name: string; label: string; credentials: Record<string, unknown> }[]>;
  }
  /** The emulator's CA certificate as a local file (for NODE_EXTRA_CA_CERTS of a process started later). */
  getCaFile(): string {
    return this.caFile;
  }
  getCaPem(): Promise<string> {
    return readFile(this.caFile, 'utf8');
  }
  /**
   * Trust the emulator's CA in this process from now on (Node ≥ 22.19 / 24.5: `tls.setDefaultCACertificates`), for
   * tests that run the SAP Cloud SDK in the test process itself. NODE_EXTRA_CA_CERTS only works for new processes.
   */
  async trustCaInThisProcess(): Promise<void> {
    const set = (tls as { setDefaultCACertificates?: (certs: string[]) => void }).setDefaultCACertificates;
    if (!set)
      throw new Error(
        `tls.setDefaultCACertificates is missing in Node ${process.version}: start the process with NODE_EXTRA_CA_CERTS=${this.caFile}`,
      );
    set([...tls.getCACertificates('default'), await this.getCaPem()]);
  }
  /** All host ports: services, httpProxy, socks5, backendHttp, backendTcp, smtp, ldap. */
  getPorts(): EmulatorPorts {
    return { ...this.ports };
  }
  /** Plain-HTTP base of XSUAA + Destination Service (the same port speaks TLS). */
  getServicesUrl(): string {
    return `http://${this.advertisedHost}:${this.ports.services}`;
  }
  getControlUrl(): string {
    return `${this.getServicesUrl()}/_emulator`;
  }
  getHttpProxyPort(): number {
    return this.ports.httpProxy;
  }
  getSocksProxyPort(): number {
    return this.ports.socks5;
  }
  getHttpProxyUrl(): string {
    return `http://${this.advertisedHost}:${this.ports.httpProxy}`;
  }
  getSocksProxyUrl(): string {
    return `socks5://${this.advertisedHost}:${this.ports.socks5}`;
  }
  /** The fake on-prem backend, directly (not through the proxy). */
  getBackendUrl(): string {
    return `http://${this.advertisedHost}:${this.ports.backendHttp}`;
  }
}
