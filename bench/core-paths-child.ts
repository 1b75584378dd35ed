/**
 * One scenario-file measurement in a fresh process (run by bench/core-paths.ts with --expose-gc):
 *   node --expose-gc bench/core-paths-child.ts parse|start <scenario.json>
 * Both import the emulator and start it once with the minimal scenario (so both processes hold the same code and
 * servers); then `parse` times a bare `JSON.parse` of the file (the baseline) and keeps the result, `start` times
 * `startEmulator({ scenario: file })`. Prints one JSON line: the time, the peak RSS of the process (`maxRSS`, which
 * the garbage of a parse counts towards) and the RSS after forced GCs.
 */
import { readFileSync } from 'node:fs';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function settledRssMb(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

const [mode, file] = process.argv.slice(2);
const { startEmulator } = await import('../emulator/index.ts');
await (await startEmulator({ port: 0 })).stop();

let kept: unknown;
let started = performance.now();
if (mode === 'parse') {
  kept = JSON.parse(readFileSync(file, 'utf8'));
  const ms = performance.now() - started;
  console.log(
    JSON.stringify({ ms, rssMb: await settledRssMb(), peakRssMb: peakRssMb(), tenants: (kept as { tenants: unknown[] }).tenants.length }),
  );
} else if (mode === 'start') {
  started = performance.now();
  const emu = await startEmulator({ port: 0, scenario: file, maxEntitiesPerLevel: 100_000 });
  const ms = performance.now() - started;
  const destinations = emu.core.scenario.tenants.reduce((sum, t) => sum + t.destinations.length, 0);
  console.log(JSON.stringify({ ms, destinations, rssMb: await settledRssMb(), peakRssMb: peakRssMb() }));
  await emu.stop();
} else {
  throw new Error(`unknown mode ${mode}`);
}
