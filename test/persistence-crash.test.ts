/**
 * Crash safety of a state directory: the CLI (`btp-emulator start --state-dir`) in a child process takes a
 * stream of concurrent writes (Destination Service CRUD and control API stubs) and is killed with SIGKILL in the
 * middle, at a different moment each round. After each kill, state.json parses, the restarted emulator has every
 * change that was answered 2xx before the kill (acknowledged writes are durable), and each entity is in the state
 * after its acknowledged operations or after the one that was in flight — never anything else. A state.json that
 * cannot be restored makes the CLI exit 2 naming the file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { call, dest, destinationToken, httpDestination } from './state-helpers.ts';

const cliFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'emulator', 'cli', 'main.ts');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Start the CLI on free ports with `dir` as its state directory; resolve with its services URL once it is ready. */
function startCli(dir: string): Promise<{ child: ChildProcess; services: string }> {
  const child = spawn(process.execPath, [cliFile, 'start', '--port', '0', '--state-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`not ready in 15 s; stdout: ${stdout} stderr: ${stderr}`)), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const ready = /ready .*services (http:\/\/\S+) /.exec(stdout);
      if (ready) {
        clearTimeout(timer);
        resolve({ child, services: ready[1] });
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the CLI exited (${code}) before it was ready; stderr: ${stderr}`));
    });
  });
}

/** SIGKILL a CLI that is running; rejects unless the process was alive and died of that very signal. */
async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null)
    throw new Error(`the CLI had already ended (exit ${child.exitCode}, signal ${child.signalCode}) when the round meant to kill it`);
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, signal) => resolve(signal)));
  child.kill('SIGKILL');
  const signal = await closed;
  if (signal !== 'SIGKILL') throw new Error(`the CLI ended by ${signal ?? 'exiting'}, not by the SIGKILL`);
}

/** What one entity looks like: its destination's URL (or none) and whether its backend stub exists. */
interface EntityState {
  url?: string;
  stub: boolean;
}

type Op = { kind: 'post' | 'put'; url: string } | { kind: 'delete' } | { kind: 'stub' };

/** Each entity's operations, in order; `acked` answered 2xx, `sent` also counts the one in flight at the kill. */
interface Entity {
  ops: Op[];
  acked: number;
  sent: number;
  /** Its state when this round began (what the previous restart found). */
  base: EntityState;
}

function replay(base: EntityState, ops: Op[]): EntityState {
  const state = { ...base };
  for (const op of ops) {
    if (op.kind === 'post' || op.kind === 'put') state.url = op.url;
    else if (op.kind === 'delete') state.url = undefined;
    else state.stub = true;
  }
  return state;
}

const opsFor = (name: string, i: number): Op[] => [
  { kind: 'post', url: `https://${name.toLowerCase()}.example.com/v1` },
  { kind: 'put', url: `https://${name.toLowerCase()}.example.com/v2` },
  { kind: 'stub' },
  ...(i % 3 === 0 ? [{ kind: 'delete' } as const] : []),
];

async function observed(services: string, token: string): Promise<{ urls: Map<string, string>; stubs: Set<string> }> {
  const list = await call(services, 'GET', `${dest}/subaccountDestinations`, { token });
  expect(list.status).toBe(200);
  const stubs = await call(services, 'GET', '/_emulator/backend/stubs');
  return {
    urls: new Map((list.body as { Name: string; URL: string }[]).map((d) => [d.Name, d.URL])),
    stubs: new Set((stubs.body as { stubs: { id: string }[] }).stubs.map((s) => s.id)),
  };
}

describe('state directory: kill -9 in the middle of a stream of writes', () => {
  it('keeps every acknowledged change, over several crashes at different moments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-crash-'));
    const entities = new Map<string, Entity>();
    let seeded: Set<string> | undefined;
    // When to kill: a few ms into the stream, or once this many writes were acknowledged.
    const killAfter: ({ ms: number } | { acks: number })[] = [{ ms: 15 }, { acks: 1 }, { acks: 7 }, { acks: 25 }, { acks: 60 }];
    const report: string[] = [];

    for (let round = 0; round <= killAfter.length; round++) {
      const { child, services } = await startCli(dir);
      const vcap = ((await call(services, 'GET', '/_emulator/env')).body as { VCAP_SERVICES: string }).VCAP_SERVICES;
      const token = await destinationToken(services, vcap);
      const seen = await observed(services, token);
      seeded ??= new Set(seen.urls.keys());

      // Everything acknowledged before the last kill is there; what was in flight may or may not be.
      for (const [name, entity] of entities) {
        const actual: EntityState = { url: seen.urls.get(name), stub: seen.stubs.has(name) };
        const allowed = [replay(entity.base, entity.ops.slice(0, entity.acked))];
        if (entity.sent > entity.acked) allowed.push(replay(entity.base, entity.ops.slice(0, entity.sent)));
        expect(allowed, `${name} after round ${round - 1}: ${entity.acked} of ${entity.ops.length} operations acknowledged`).toContainEqual(
          actual,
        );
        entities.set(name, { ops: [], acked: 0, sent: 0, base: actual });
      }
      for (const name of seen.urls.keys()) expect(seeded.has(name) || entities.has(name), `unexpected destination ${name}`).toBe(true);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      if (round === killAfter.length) {
        child.kill('SIGTERM');
        break;
      }

      // Four workers write concurrently until the child is killed.
      const when = killAfter[round];
      let acked = 0;
      let killed: Promise<void> | undefined;
      /** Acknowledged writes of this round, and writes sent but not answered, at the moment of the kill. */
      let atKill: { acked: number; inFlight: number } | undefined;
      const kill = (): void => {
        if (killed) return;
        atKill = { acked, inFlight: [...entities.values()].filter((e) => e.sent > e.acked).length };
        killed = killHard(child);
      };
      const maybeKill = (): void => {
        if ('acks' in when && acked >= when.acks) kill();
      };
      if ('ms' in when) setTimeout(kill, when.ms);
      const worker = async (w: number): Promise<void> => {
        for (let i = 0; !killed; i++) {
          const name = `R${round}_W${w}_${i}`;
          const entity: Entity = { ops: opsFor(name, i), acked: 0, sent: 0, base: { stub: false } };
          entities.set(name, entity);
          for (const op of entity.ops) {
            if (killed) return;
            entity.sent++;
            const answer = await (
              op.kind === 'post'
                ? call(services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination(name, op.url) })
                : op.kind === 'put'
                  ? call(services, 'PUT', `${dest}/subaccountDestinations`, { token, body: httpDestination(name, op.url) })
                  : op.kind === 'delete'
                    ? call(services, 'DELETE', `${dest}/subaccountDestinations/${name}`, { token })
                    : call(services, 'POST', '/_emulator/backend/stubs', { body: { id: name, path: `/${name}`, body: name } })
            ).catch((err: unknown) => {
              if (killed) return undefined; // the connection died with the process
              throw new Error(`round ${round}: ${op.kind} ${name} failed before the kill: ${(err as Error).message}`, { cause: err });
            });
            if (!answer) return;
            expect(answer.status, `${op.kind} ${name}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
            entity.acked++;
            acked++;
            maybeKill();
          }
        }
      };
      await Promise.all([0, 1, 2, 3].map(worker));
      // The round killed a live CLI (killHard checks it), after its threshold, with writes in flight.
      expect(killed, `round ${round}: the kill (${JSON.stringify(when)}) never happened`).toBeDefined();
      await killed;
      expect(atKill!.acked, `round ${round}: acknowledged writes before the kill`).toBeGreaterThanOrEqual('acks' in when ? when.acks : 0);
      expect(atKill!.inFlight, `round ${round}: writes in flight at the kill`).toBeGreaterThan(0);
      const text = readFileSync(join(dir, 'state.json'), 'utf8');
      expect(() => JSON.parse(text)).not.toThrow();
      const inFlight = [...entities.values()].filter((e) => e.sent > e.acked).length;
      report.push(
        `round ${round}: ${atKill!.acked} acknowledged and ${atKill!.inFlight} in flight when SIGKILL was sent, ${acked} acknowledged in all, ${inFlight} unanswered, temp files left: ${readdirSync(dir).filter((f) => f.endsWith('.tmp')).length}`,
      );
    }
    expect(entities.size).toBeGreaterThan(20);
    console.log(report.join('\n'));
  }, 120_000);

  it('a state.json that cannot be restored: exit 2 and a message naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-crash-'));
    writeFileSync(join(dir, 'state.json'), '{"format": "btp-connectivity-emulator/snapshot", "version": 1}');
    const child = spawn(process.execPath, [cliFile, 'start', '--port', '0', '--state-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain(`the saved state ${join(dir, 'state.json')} cannot be restored`);
    expect(stderr).toMatch(/scenario: /);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
