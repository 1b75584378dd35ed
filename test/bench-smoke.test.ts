/**
 * CI runs the benchmarks in miniature: bench/smoke.ts as a child process must finish with exit 0 and print a
 * row for every benchmark. Figures are not asserted (machines differ); a benchmark that throws fails this.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const smokeFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'smoke.ts');

describe('bench smoke', () => {
  it('runs every benchmark with few iterations and exits 0', async () => {
    const child = spawn(process.execPath, [smokeFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code, `bench/smoke.ts failed:\n${stderr}`).toBe(0);
    for (const row of ['startEmulator({ port: 0 }) to ready', 'start + stop()', 'first start on a machine', 'to ready line', 'reset() with the default scenario', 'tokens over HTTP, 1 in flight']) {
      expect(stdout).toContain(row);
    }
    // Every row has a figure, a baseline and a ratio.
    expect(stdout.match(/\d+(\.\d+)?×/g)?.length).toBeGreaterThanOrEqual(7);
  }, 120_000);
});
