/** The docker CLI for the Docker suite: run a command, and the compose command this machine has (plugin or v1). */
import { execFile } from 'node:child_process';
import { DEFAULT_IMAGE } from 'btp-connectivity-emulator/testcontainers';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: err && !stderr ? err.message : String(stderr) });
      },
    );
  });
}

export async function docker(...args: string[]): Promise<string> {
  const result = await run('docker', args);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** `docker compose` if the plugin is there, else `docker-compose` (v1), else undefined. */
export async function composeCommand(): Promise<string[] | undefined> {
  if ((await run('docker', ['compose', 'version'])).code === 0) return ['docker', 'compose'];
  if ((await run('docker-compose', ['version'])).code === 0) return ['docker-compose'];
  return undefined;
}

/** The image under test: BTP_EMULATOR_IMAGE, else the Testcontainers module's default (the tag .ci/docker.sh builds). */
export const emulatorImage = (): string => process.env.BTP_EMULATOR_IMAGE ?? DEFAULT_IMAGE;
