/**
 * The `peers` group: the emulator's connectivity proxy next to other proxies on the same machine, same workload,
 * same run. Debian's squid and tinyproxy (HTTP) and dante (SOCKS5) when installed, each configured minimally on
 * loopback from a temp dir; always a bare Node pipe proxy (peer-node-proxy.ts) and a bare Node SOCKS5 relay
 * (peer-node-socks.ts). Every proxy, the emulator (the CLI) and the backend (a second emulator's fake backend)
 * run in processes of their own; the client is this process, the same client code for every subject. Rounds
 * interleave the subjects (the order rotates per round), so each sees the same machine state. Each figure is
 * printed as a ratio to direct, the emulator's also as a ratio to the best peer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, result, type BenchResult } from './common.ts';
import {
  benchHttpHost,
  benchLocation,
  benchTcpHost,
  httpCall,
  mbPerSecond,
  RawHttpConnection,
  socksTunnel,
  tcpConnect,
  type ConnectivitySettings,
  type HttpTarget,
} from './connectivity.ts';
import { benchScenario, connectivityToken, startCli, stop, type Child } from './proxy-processes.ts';

export interface PeerSettings extends ConnectivitySettings {
  /** Rounds over all subjects (median over rounds; small requests: median over all requests). */
  peerRounds: number;
}

const mib = (bytes: number): string => (bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes} bytes`);
const heavyName = 'node pipe proxy with a 20 MB heap (control, not a peer)';
const here = dirname(fileURLToPath(import.meta.url));

interface Daemon {
  name: string;
  process: ChildProcess;
  port: number;
}

/** A port that was free a moment ago (for daemons that take their port from a config file). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Resolve once `port` accepts a connection; reject when the process exits first or after 15 s. */
async function waitForPort(name: string, child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited (${child.exitCode}) before listening: ${output()}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} did not listen on ${port} within 15 s: ${output()}`);
}

/** A system daemon in the foreground with a config written to `dir`; undefined when the binary is not installed. */
async function startDaemon(
  name: string,
  binary: string,
  dir: string,
  config: (port: number) => string,
  args: (file: string) => string[],
): Promise<Daemon | undefined> {
  if (!existsSync(binary)) return undefined;
  const port = await freePort();
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, config(port));
  const child = spawn(binary, args(file), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    await waitForPort(name, child, port, () => out);
  } catch (err) {
    await stopDaemon({ name, process: child, port });
    throw err;
  }
  return { name, process: child, port };
}

/** One of our own Node peers (prints `listening <port>`). */
function startNodePeer(name: string, file: string, args: string[] = []): Promise<Daemon> {
  const child = spawn(process.execPath, [join(here, file), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /listening (\d+)/.exec(out)?.[1];
      if (port) resolve({ name, process: child, port: Number(port) });
    });
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}) before listening: ${out}`)));
  });
}

async function stopDaemon(daemon: Daemon | undefined): Promise<void> {
  if (!daemon || daemon.process.exitCode !== null || daemon.process.signalCode !== null) return;
  const closed = new Promise((resolve) => daemon.process.on('close', resolve));
  daemon.process.kill('SIGTERM');
  const timer = setTimeout(() => daemon.process.kill('SIGKILL'), 5000);
  await closed;
  clearTimeout(timer);
}

const squidConfig = (port: number): string =>
  [
    `http_port 127.0.0.1:${port}`,
    'http_access allow all',
    'cache deny all',
    'cache_mem 0 MB',
    'access_log none',
    'cache_store_log none',
    'cache_log /dev/null',
    'pid_filename none',
    'shutdown_lifetime 0 seconds',
    'via off',
    'forwarded_for delete',
    '',
  ].join('\n');
const tinyproxyConfig = (port: number): string =>
  [`Port ${port}`, 'Listen 127.0.0.1', 'Allow 127.0.0.1', 'MaxClients 100', 'LogLevel Critical', 'DisableViaHeader Yes', ''].join('\n');
const danteConfig = (port: number): string =>
  [
    'logoutput: stderr',
    `internal: 127.0.0.1 port = ${port}`,
    'external: 127.0.0.1',
    'clientmethod: none',
    'socksmethod: none',
    'user.privileged: root',
    'user.unprivileged: nobody',
    'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
    'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
    '',
  ].join('\n');

interface SystemPeer {
  name: string;
  kind: 'http' | 'socks';
  binary: string;
  install: string;
  config: (port: number) => string;
  args: (file: string) => string[];
}

const systemPeers: SystemPeer[] = [
  {
    name: 'squid',
    kind: 'http',
    binary: '/usr/sbin/squid',
    install: 'apt-get install -y squid',
    config: squidConfig,
    args: (f) => ['-N', '-f', f],
  },
  {
    name: 'tinyproxy',
    kind: 'http',
    binary: '/usr/bin/tinyproxy',
    install: 'apt-get install -y tinyproxy',
    config: tinyproxyConfig,
    args: (f) => ['-d', '-c', f],
  },
  {
    name: 'dante',
    kind: 'socks',
    binary: '/usr/sbin/danted',
    install: 'apt-get install -y dante-server',
    config: danteConfig,
    args: (f) => ['-f', f],
  },
];

/** SOCKS5 without authentication (0x00), CONNECT to an IPv4 address: how a plain SOCKS5 client talks to dante. */
async function plainSocksTunnel(port: number, target: number): Promise<Socket> {
  const socket = await tcpConnect(port);
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    let stage = 0;
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (stage === 0 && got.length >= 2) {
        if (got[1] !== 0) return fail(new Error(`SOCKS5 method ${got[1]}`));
        got = got.subarray(2);
        stage = 1;
        socket.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, target >> 8, target & 0xff]));
      }
      if (stage === 1 && got.length >= 10) {
        if (got[1] !== 0) return fail(new Error(`SOCKS5 CONNECT refused (${got[1]})`));
        socket.off('data', onData);
        socket.off('error', fail);
        socket.pause();
        resolve(socket);
      }
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.write(Buffer.from([5, 1, 0]));
  });
}

/** CPU time (user + system) of a process and its direct children, in ms; undefined where /proc is missing. */
function cpuMs(pid: number | undefined): number | undefined {
  if (!pid || !existsSync('/proc/self/stat')) return undefined;
  const ticks = (p: string): number => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      return 0;
    }
  };
  let total = ticks(String(pid));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = readFileSync(`/proc/${entry}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ')[1];
      if (Number(ppid) === pid) total += ticks(entry);
    } catch {
      // gone meanwhile
    }
  }
  return total * 10; // USER_HZ is 100 on Linux
}

interface HttpSubject {
  name: string;
  pid?: number;
  target: HttpTarget;
}
interface SocksSubject {
  name: string;
  pid?: number;
  open: () => Promise<Socket>;
}

/** Run every subject once per round, rotating the order; per subject the values of all rounds. */
async function rounds<S extends { name: string }>(
  subjects: S[],
  count: number,
  run: (s: S) => Promise<number[]>,
): Promise<Map<string, number[][]>> {
  const out = new Map<string, number[][]>(subjects.map((s) => [s.name, []]));
  for (let r = 0; r < count; r++)
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[(i + r) % subjects.length];
      out.get(subject.name)!.push(
        await run(subject).catch((err: Error) => {
          throw new Error(`${subject.name}: ${err.message}`);
        }),
      );
    }
  return out;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export async function benchPeers(settings: PeerSettings): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'btp-bench-peers-'));
  chmodSync(dir, 0o755); // squid and dante read their config as root but may work as another user
  const daemons: Daemon[] = [];
  let onPrem: Child | undefined;
  let emulator: Child | undefined;
  const agents: Agent[] = [];
  try {
    onPrem = await startCli([]);
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(benchScenario(onPrem.ports.backend)));
    emulator = await startCli(['--scenario', join(dir, 'scenario.json')]);
    const token = await connectivityToken(emulator.ports.services);
    const backend = onPrem.ports.backend;
    const skipped: string[] = [];
    const nodeProxy = await startNodePeer('node pipe proxy', 'peer-node-proxy.ts');
    daemons.push(nodeProxy);
    // The same pipe with ~20 MB of live objects on its heap, as the emulator has (19–20 MB after a full GC): not a
    // peer, the control that shows what a bigger retained heap alone costs the same code (not counted as best peer).
    const heavyProxy = await startNodePeer(heavyName, 'peer-node-proxy.ts', ['--retain-mb', '14']);
    daemons.push(heavyProxy);
    const nodeSocks = await startNodePeer('node SOCKS5 relay', 'peer-node-socks.ts');
    daemons.push(nodeSocks);
    const installed: Daemon[] = [];
    for (const peer of systemPeers) {
      const daemon = await startDaemon(peer.name, peer.binary, dir, peer.config, peer.args);
      if (!daemon) skipped.push(`${peer.name} skipped, not installed (${peer.install})`);
      else {
        daemons.push(daemon);
        installed.push(daemon);
      }
    }
    const kindOf = (name: string): 'http' | 'socks' => systemPeers.find((p) => p.name === name)!.kind;

    const agent = (keepAlive = true): Agent => {
      const a = new Agent({ keepAlive, maxSockets: 1 });
      agents.push(a);
      return a;
    };
    // tinyproxy closes the client connection after every response without saying so: a new connection per request.
    const viaPeer = (port: number, keepAlive = true): HttpTarget => {
      const a = agent(keepAlive);
      return { agent: a, options: (path) => ({ host: '127.0.0.1', port, path: `http://127.0.0.1:${backend}${path}`, headers: {} }) };
    };
    const emulatorHttp = agent();
    const http: HttpSubject[] = [
      { name: 'direct', target: { agent: agent(), options: (path) => ({ host: '127.0.0.1', port: backend, path, headers: {} }) } },
      {
        name: 'emulator 20003',
        pid: emulator.process.pid,
        target: {
          agent: emulatorHttp,
          options: (path) => ({
            host: '127.0.0.1',
            port: emulator!.ports.httpProxy,
            path: `http://${benchHttpHost}${path}`,
            headers: { 'proxy-authorization': `Bearer ${token}`, host: benchHttpHost, 'sap-connectivity-scc-location_id': benchLocation },
          }),
        },
      },
      { name: nodeProxy.name, pid: nodeProxy.process.pid, target: viaPeer(nodeProxy.port) },
      { name: heavyProxy.name, pid: heavyProxy.process.pid, target: viaPeer(heavyProxy.port) },
      ...installed
        .filter((d) => kindOf(d.name) === 'http')
        .map((d) => ({ name: d.name, pid: d.process.pid, target: viaPeer(d.port, d.name !== 'tinyproxy') })),
    ];
    const socks: SocksSubject[] = [
      { name: 'direct', open: () => tcpConnect(backend) },
      {
        name: 'emulator 20004',
        pid: emulator.process.pid,
        open: () => socksTunnel(emulator!.ports.socks5, token, benchLocation, benchTcpHost),
      },
      { name: nodeSocks.name, pid: nodeSocks.process.pid, open: () => plainSocksTunnel(nodeSocks.port, backend) },
      ...installed
        .filter((d) => kindOf(d.name) === 'socks')
        .map((d) => ({ name: d.name, pid: d.process.pid, open: () => plainSocksTunnel(d.port, backend) })),
    ];

    const small = '/bytes/64';
    const bulk = `/bytes/${settings.bulkBytes}`;
    const perRound = Math.max(5, Math.round(settings.latencyRequests / settings.peerRounds));
    const cpu = new Map<string, number[]>();
    const addCpu = (name: string, ms: number | undefined): void => {
      if (ms !== undefined) cpu.set(name, [...(cpu.get(name) ?? []), ms]);
    };

    // Warm-up: a few small requests and one bulk transfer through each.
    for (const s of http) {
      for (let i = 0; i < 20; i++) await httpCall(s.target, small);
      await httpCall(s.target, bulk);
    }
    const smallHttp = await rounds(http, settings.peerRounds, async (s) => {
      const times: number[] = [];
      const before = cpuMs(s.pid);
      for (let i = 0; i < perRound; i++) times.push(await timed(() => httpCall(s.target, small)));
      const after = cpuMs(s.pid);
      if (before !== undefined && after !== undefined) addCpu(`small ${s.name}`, ((after - before) / perRound) * 1000);
      return times;
    });
    const bulkHttp = await rounds(http, settings.peerRounds, async (s) => {
      const before = cpuMs(s.pid);
      const ms = await timed(() => httpCall(s.target, bulk));
      const after = cpuMs(s.pid);
      if (before !== undefined && after !== undefined) addCpu(`http ${s.name}`, after - before);
      return [ms];
    });

    const tunnels = new Map<string, RawHttpConnection>();
    for (const s of socks) {
      const c = new RawHttpConnection(await s.open());
      tunnels.set(s.name, c);
      await c.get(bulk);
    }
    const bulkSocks = await rounds(socks, settings.peerRounds, async (s) => {
      const before = cpuMs(s.pid);
      const ms = await timed(() => tunnels.get(s.name)!.get(bulk));
      const after = cpuMs(s.pid);
      if (before !== undefined && after !== undefined) addCpu(`socks ${s.name}`, after - before);
      return [ms];
    });
    for (const c of tunnels.values()) c.close();
    const setupPerRound = Math.max(3, Math.round(perRound / 4));
    const setupSocks = await rounds(socks, settings.peerRounds, async (s) => {
      const times: number[] = [];
      for (let i = 0; i < setupPerRound; i++)
        times.push(
          await timed(async () => {
            const c = new RawHttpConnection(await s.open());
            await c.get(small);
            c.close();
          }),
        );
      return times;
    });

    const results: BenchResult[] = [];
    const cpuNote = (key: string): string | undefined => {
      const values = cpu.get(key);
      if (!values?.length) return undefined;
      return key.startsWith('small ')
        ? `proxy process CPU ${median(values).toFixed(0)} ms per 1000 requests`
        : `proxy process CPU ${median(values).toFixed(0)} ms per transfer`;
    };
    /** The lowest and highest figure of a round (each round's median), so the spread between rounds shows. */
    const spreadNote = (perRound: number[][], toFigure: (v: number) => number): string => {
      const figures = perRound.map((values) => toFigure(median(values))).sort((a, b) => a - b);
      const digits = figures[0] < 10 ? 3 : 0;
      return `rounds ${figures[0].toFixed(digits)}–${figures[figures.length - 1].toFixed(digits)}`;
    };
    /** Issue 19's aims for 20003: the emulator against the bare Node pipe proxy of the same run. */
    const versusPipe = (
      what: string,
      values: Map<string, number[][]>,
      toFigure: (ms: number) => number,
      unit: 'ms' | 'MB/s',
      aim: { text: string; min?: number; max?: number },
    ): void => {
      const figure = (name: string): number => toFigure(median(values.get(name)!.flat()));
      results.push(
        result(
          `peers: ${what}, emulator 20003 vs the bare Node pipe proxy`,
          unit,
          figure('emulator 20003'),
          nodeProxy.name,
          figure(nodeProxy.name),
          values.get('emulator 20003')!.flat().length,
          aim,
        ),
      );
    };
    /** One row per subject against direct, then the emulator against the best peer. */
    const table = (
      what: string,
      unit: 'ms' | 'MB/s',
      values: Map<string, number[][]>,
      toFigure: (ms: number) => number,
      emulatorName: string,
      cpuPrefix?: string,
    ): void => {
      const figure = (name: string): number => toFigure(median(values.get(name)!.flat()));
      const count = (name: string): number => values.get(name)!.flat().length;
      const directValue = figure('direct');
      const peers = [...values.keys()].filter((n) => n !== 'direct' && n !== emulatorName);
      for (const name of [emulatorName, ...peers]) {
        const note = [spreadNote(values.get(name)!, toFigure), cpuPrefix ? cpuNote(`${cpuPrefix} ${name}`) : undefined]
          .filter(Boolean)
          .join('; ');
        results.push(
          result(`peers: ${what}, ${name}`, unit, figure(name), 'direct', directValue, count(name), undefined, note || undefined),
        );
      }
      const better = (a: number, b: number): boolean => (unit === 'ms' ? a < b : a > b);
      const candidates = peers.filter((n) => n !== heavyName);
      const best = candidates.reduce((acc, name) => (better(figure(name), figure(acc)) ? name : acc), candidates[0]);
      const missing = skipped.filter((s) => (emulatorName.endsWith('20003') ? !s.startsWith('dante') : s.startsWith('dante')));
      results.push(
        result(
          `peers: ${what}, ${emulatorName} vs the best peer`,
          unit,
          figure(emulatorName),
          `best peer (${best})`,
          figure(best),
          count(emulatorName),
          undefined,
          missing.length ? missing.join('; ') : undefined,
        ),
      );
    };
    table('HTTP small request (GET /bytes/64, keep-alive)', 'ms', smallHttp, (ms) => ms, 'emulator 20003', 'small');
    versusPipe('HTTP small request', smallHttp, (ms) => ms, 'ms', { text: '≤ 1.1× the pipe', max: 1.1 });
    table(
      `HTTP download ${mib(settings.bulkBytes)}`,
      'MB/s',
      bulkHttp,
      (ms) => mbPerSecond(settings.bulkBytes, ms),
      'emulator 20003',
      'http',
    );
    versusPipe(`HTTP download ${mib(settings.bulkBytes)}`, bulkHttp, (ms) => mbPerSecond(settings.bulkBytes, ms), 'MB/s', {
      text: '≥ 0.9× the pipe',
      min: 0.9,
    });
    table(
      `SOCKS5 download ${mib(settings.bulkBytes)} on an open tunnel`,
      'MB/s',
      bulkSocks,
      (ms) => mbPerSecond(settings.bulkBytes, ms),
      'emulator 20004',
      'socks',
    );
    table('SOCKS5 connect + handshake + small request', 'ms', setupSocks, (ms) => ms, 'emulator 20004');
    return results;
  } finally {
    for (const a of agents) a.destroy();
    await Promise.all([stop(emulator), stop(onPrem), ...daemons.map(stopDaemon)]);
    rmSync(dir, { recursive: true, force: true });
  }
}
