/**
 * Before the Docker suite: a Docker engine must answer and the emulator image must exist. Otherwise the run fails
 * here, once, saying what is missing — the suite is never skipped silently.
 */
import { emulatorImage, run } from './docker-cli.ts';

export default async function setup(): Promise<void> {
  const info = await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 });
  if (info.code !== 0 || !info.stdout.trim()) {
    throw new Error(
      `The Docker test suite needs a Docker engine, and none answers: ${info.stderr.trim() || 'docker version failed'}\n` +
        'Start one (bash .ci/docker.sh installs docker.io, starts dockerd --bridge=none --iptables=false and builds the image).',
    );
  }
  const image = emulatorImage();
  const inspect = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image]);
  if (inspect.code !== 0) {
    throw new Error(`The emulator image ${image} does not exist: build it with "bash .ci/docker.sh --images" (or set BTP_EMULATOR_IMAGE).`);
  }
}
