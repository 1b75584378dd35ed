/**
 * `npm run bench`: the full benchmark run. Prints each figure next to its baseline from the same run and
 * writes bench/results/latest.json. The issues' aims are printed (✔/✘), not asserted.
 * `npm run bench -- proxy memory` runs only the named groups (startup, reset, tokens, find, scaling, proxy,
 * tproxy, processes, memory, persistence, load) and writes bench/results/partial.json instead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchGroups, formatTable, fullSettings, runBenchmarks, type BenchGroup } from './benchmarks.ts';

const groups = process.argv.slice(2) as BenchGroup[];
const unknown = groups.filter((g) => !benchGroups.includes(g));
if (unknown.length) throw new Error(`unknown benchmark group(s) ${unknown.join(', ')}; known: ${benchGroups.join(', ')}`);
const resultsFile = join(dirname(fileURLToPath(import.meta.url)), 'results', groups.length ? 'partial.json' : 'latest.json');

const report = await runBenchmarks(fullSettings, groups.length ? groups : benchGroups);
console.log(formatTable(report));
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwritten to ${resultsFile}`);
