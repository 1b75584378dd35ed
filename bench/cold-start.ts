/**
 * The CLI's cold process start as users get it: `node dist/emulator/cli/bin.js start --port 0` (the built package,
 * what `npx btp-emulator` runs) and the same entry on the sources, each from spawn to the ready line, next to a
 * bare `node -e` HTTP server from spawn to listening, interleaved in one run. Node's compile cache is warm after
 * the first run, as on a developer's machine. Builds dist/ first.
 *   node bench/cold-start.ts [runs=10]
 */
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './common.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 10);

/** Milliseconds from spawning `node args…` to the first stdout line matching `ready`; the process is then stopped. */
function timeToLine(args: string[], ready: RegExp): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const early = (code: number | null): void => reject(new Error(`${args.join(' ')} exited with ${code} before ${ready}: ${output}`));
    child.once('exit', early);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output) && child.listeners('exit').includes(early)) {
        const ms = performance.now() - started;
        child.off('exit', early);
        child.once('exit', () => resolve(ms));
        child.kill('SIGTERM');
      }
    });
  });
}

execFileSync('npm', ['run', 'build', '--silent'], { cwd: repo, stdio: 'inherit' });
const cases = {
  'built package (dist/emulator/cli/bin.js)': () =>
    timeToLine([join(repo, 'dist/emulator/cli/bin.js'), 'start', '--port', '0'], /btp-emulator ready/),
  'sources (emulator/cli/bin.js, type stripping)': () =>
    timeToLine([join(repo, 'emulator/cli/bin.js'), 'start', '--port', '0'], /btp-emulator ready/),
  'bare node -e http server': () =>
    timeToLine(['-e', "require('http').createServer().listen(0, () => console.log('listening'))"], /listening/),
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (const run of Object.values(cases)) await run(); // fills the compile cache
for (let i = 0; i < runs; i++) for (const [name, run] of Object.entries(cases)) times[name].push(await run());
for (const [name, values] of Object.entries(times))
  console.log(
    `${name}: median ${median(values).toFixed(0)} ms of ${runs} (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)})`,
  );
