/**
 * CI runs the benchmarks in miniature: bench/smoke.ts as a child process must finish with exit 0 and print a
 * row for every benchmark. Figures are not asserted (machines differ); a benchmark that throws fails this, and
 * so does a load row that saw an error.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const smokeFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'smoke.ts');

describe('bench smoke', () => {
  it('runs every benchmark with few iterations and exits 0', async () => {
    const child = spawn(process.execPath, [smokeFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // after a hang, no orphan
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code, `bench/smoke.ts failed:\n${stderr}`).toBe(0);
    const rows = [
      'startEmulator({ port: 0 }) to ready',
      'start + stop()',
      'first start on a machine',
      'to ready line',
      'reset() with the default scenario',
      'tokens over HTTP, 1 in flight',
      'IAS client_credentials tokens over HTTPS (client secret), 1 in flight',
      'IAS client_credentials tokens over HTTPS (mTLS), 1 in flight',
      'tokens over HTTP vs a bare token server, 1 in flight',
      'destination find over HTTP, 1 in flight',
      'destination find with 100 destinations',
      'HTTP proxy request with 100 system mappings',
      'HTTP proxy 20003: small request latency (GET',
      'HTTP proxy 20003: small request latency, SAP Cloud SDK',
      'HTTP proxy 20003: download throughput',
      'HTTP proxy 20003: upload throughput',
      'SOCKS5 20004: small request latency on an open tunnel',
      'SOCKS5 20004: download throughput',
      'SOCKS5 20004: connect + handshake',
      'connections at once, one request each',
      'tunnels at once, one request each',
      'Transparent Proxy 20005: small request latency',
      'Transparent Proxy 20005: download throughput',
      'HTTP proxy 20003: download throughput (emulator and backend in processes of their own)',
      'SOCKS5 20004: download throughput (emulator and backend in processes of their own)',
      'peers: HTTP small request (GET /bytes/64, keep-alive), node pipe proxy',
      'peers: HTTP download 1 MiB, emulator 20003 vs the best peer',
      'peers: HTTP download 1 MiB, emulator 20003 vs the bare Node pipe proxy',
      'peers: SOCKS5 download 1 MiB on an open tunnel, node SOCKS5 relay',
      'peers: SOCKS5 connect + handshake + small request, emulator 20004 vs the best peer',
      'RSS idle',
      'RSS with 1,000 tenants and 10,000 destinations',
      'mixed requests',
      'destination write (PUT) with a stateDir (default scenario)',
      'destination write (PUT) with a stateDir and 1,000 destinations',
      'startEmulator({ scenario: JSON file with 1,000 destinations })',
      'peak RSS of that process (1,000 destinations from JSON)',
      'bulk POST of 100 destinations (one request)',
      "per-test flow, fresh startEmulator({ port: 'sticky' }) + stop()",
      'per-test flow, fresh startEmulator({ port: 0 }) + stop()',
      'flows: SDK test with one shared emulator',
      'flows: SDK test with a fresh startEmulator()',
    ];
    for (const row of rows) expect(stdout).toContain(row);
    // Every row has a figure, a baseline and a ratio; the load rows saw no error.
    expect(stdout.match(/\d+(\.\d+)?×/g)?.length).toBeGreaterThanOrEqual(rows.length + 1);
    expect(stdout).not.toMatch(/without an error ✘/);
    // The bound below only catches a hang: the smoke run's length is set by its iteration counts, not by the
    // machine's speed (about a minute on 2 busy cores), so it is no assertion about how fast anything is.
  }, 600_000);
});
