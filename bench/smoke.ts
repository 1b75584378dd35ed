/**
 * The benchmarks with a few iterations each, for CI (test/bench-smoke.test.ts runs this file): it fails only
 * if a benchmark throws, never because a figure is slow. Writes no results file.
 */
import { formatTable, runBenchmarks, smokeSettings } from './benchmarks.ts';

try {
  console.log(formatTable(await runBenchmarks(smokeSettings)));
} catch (err) {
  console.error(`bench smoke failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
}
