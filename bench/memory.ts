/**
 * Memory, each figure from a fresh process (bench/memory-child.ts, after forced GCs): RSS of an idle emulator
 * next to a bare Node HTTP server, with 1,000 tenants and 10,000 destinations next to the idle emulator, and
 * RSS after a long run of mixed requests next to the RSS once the warm-up had filled the journal.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, result, type BenchResult } from './common.ts';

const childFile = join(dirname(fileURLToPath(import.meta.url)), 'memory-child.ts');

export interface MemorySettings {
  /** Fresh processes per memory figure (median taken). */
  memoryRuns: number;
  /** Requests in the soak run. */
  soakRequests: number;
}

export interface SoakResult {
  requests: number;
  warmup: number;
  afterWarmupMb: number;
  atEndMb: number;
  rssSamplesMb: number[];
  heapAfterWarmupMb: number;
  heapAtEndMb: number;
  errors: number;
  firstError: string;
  seconds: number;
}

/** Run bench/memory-child.ts in a new process and parse its JSON line. */
export function runMemoryChild<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', childFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`memory-child ${args.join(' ')} exited with ${code}: ${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T);
      } catch {
        reject(new Error(`memory-child ${args.join(' ')} printed no JSON: ${stdout} ${stderr}`));
      }
    });
  });
}

export async function benchMemory(settings: MemorySettings): Promise<BenchResult[]> {
  const bare: number[] = [];
  const idle: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < settings.memoryRuns; i++) {
    bare.push((await runMemoryChild<{ rssMb: number }>(['bare'])).rssMb);
    idle.push((await runMemoryChild<{ rssMb: number }>(['idle'])).rssMb);
    large.push((await runMemoryChild<{ rssMb: number }>(['large'])).rssMb);
  }
  const soak = await runMemoryChild<SoakResult>(['soak', String(settings.soakRequests)]);
  if (soak.errors) throw new Error(`soak run: ${soak.errors} requests failed, first: ${soak.firstError}`);
  return [
    result(
      'RSS idle: startEmulator() with the default scenario',
      'MB',
      median(idle),
      'a bare Node HTTP server process',
      median(bare),
      settings.memoryRuns,
    ),
    result('RSS with 1,000 tenants and 10,000 destinations', 'MB', median(large), 'the idle emulator', median(idle), settings.memoryRuns),
    result(
      `RSS after ${soak.requests} mixed requests (proxy, finds, SOCKS5)`,
      'MB',
      soak.atEndMb,
      `RSS after the first ${soak.warmup}${soak.warmup >= 10_000 ? ' (journal full)' : ''}`,
      soak.afterWarmupMb,
      soak.requests,
      { text: 'flat (≤ 1.15×)', max: 1.15 },
      `RSS samples ${soak.rssSamplesMb.join(' → ')} MB; heap ${soak.heapAfterWarmupMb.toFixed(1)} → ${soak.heapAtEndMb.toFixed(1)} MB; ${soak.seconds.toFixed(1)} s`,
    ),
  ];
}
