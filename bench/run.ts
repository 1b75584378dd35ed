/**
 * `npm run bench`: the full benchmark run. Prints each figure next to its baseline from the same run and
 * writes bench/results/latest.json. The aims (start ≤ 100 ms, reset ≤ 2 ms) are printed, not asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, fullSettings, runBenchmarks } from './benchmarks.ts';

const resultsFile = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

const report = await runBenchmarks(fullSettings);
console.log(formatTable(report));
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwritten to ${resultsFile}`);
