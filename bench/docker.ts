/**
 * `npm run bench:docker`: the emulator image — its size, and the time from `docker run` to (a) `/_emulator/health`
 * answering and (b) Docker's own health status `healthy`. Aim: start to healthy ≤ 1.5 s. Host networking with free
 * ports, like the Docker test suite. Needs a Docker engine and the image (bash .ci/docker.sh --images). Writes
 * bench/results/docker.json. The times grow with the machine's load (a container start is mostly CPU: Node, TLS keys).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_IMAGE, freePort } from '../emulator/testcontainers/index.ts';

const image = process.env.BTP_EMULATOR_IMAGE ?? DEFAULT_IMAGE;
const runs = Number(process.env.BENCH_DOCKER_RUNS ?? 5);
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();

const sizeBytes = Number(docker('image', 'inspect', '--format', '{{.Size}}', image));
const toHealth: number[] = [];
const toHealthy: number[] = [];
for (let i = 0; i < runs; i++) {
  const ports = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  const flags = [
    '--port',
    '--http-proxy-port',
    '--socks-proxy-port',
    '--backend-http-port',
    '--backend-tcp-port',
    '--smtp-port',
    '--ldap-port',
  ].flatMap((flag, j) => [flag, String(ports[j])]);
  const t0 = performance.now();
  const id = docker('run', '-d', '--rm', '--network', 'host', '-e', `BTP_EMULATOR_PORT=${ports[0]}`, image, ...flags);
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${ports[0]}/_emulator/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() - t0 > 30_000) throw new Error(`no health answer after 30 s: ${docker('logs', id)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    toHealth.push(performance.now() - t0);
    while (docker('inspect', '--format', '{{.State.Health.Status}}', id) !== 'healthy') {
      if (performance.now() - t0 > 60_000) throw new Error('not healthy after 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    toHealthy.push(performance.now() - t0);
  } finally {
    docker('rm', '-f', id);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const report = {
  image,
  imageSizeMB: Math.round(sizeBytes / 1e5) / 10,
  runs,
  startToHealthEndpointMs: { median: Math.round(median(toHealth)), max: Math.round(Math.max(...toHealth)) },
  startToDockerHealthyMs: { median: Math.round(median(toHealthy)), max: Math.round(Math.max(...toHealthy)) },
  aimStartToHealthyMs: 1500,
};
console.log(
  `image ${image}: ${report.imageSizeMB} MB; docker run → /_emulator/health answers: median ${report.startToHealthEndpointMs.median} ms ` +
    `(max ${report.startToHealthEndpointMs.max}), → Docker status healthy: median ${report.startToDockerHealthyMs.median} ms ` +
    `(max ${report.startToDockerHealthyMs.max}); aim ≤ 1500 ms; ${runs} runs`,
);
const resultsFile = join(dirname(fileURLToPath(import.meta.url)), 'results', 'docker.json');
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify({ ...report, at: new Date().toISOString() }, null, 2)}\n`);
console.log(`written to ${resultsFile}`);
