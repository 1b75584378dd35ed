/**
 * `btp-emulator exec [start options] [--user NAME] [--tenant T] -- <command> [args…]`: start the emulator, run
 * one command with the app's env, stop the emulator and exit with the command's exit code — for CI scripts
 * and shells, like `cds bind --exec` and `firebase emulators:exec`. The command gets VCAP_SERVICES,
 * NODE_EXTRA_CA_CERTS, the control URL (BTP_EMULATOR_URL, BTP_EMULATOR_CONTROL_URL) and, with `--user`, a
 * user token (BTP_EMULATOR_USER_TOKEN). SIGINT, SIGTERM and SIGHUP are passed on to the command; a command
 * ended by a signal exits 128 + the signal number, as a shell reports it.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { EmulatorHandle } from '../server/start-emulator.ts';
import { controlUrlVariable } from '../../sdk-adapters/test-run-emulator.ts';

/** The variables `exec` adds to the command's env, besides the emulator's own (VCAP_SERVICES, NODE_EXTRA_CA_CERTS). */
export const execVariables = { url: 'BTP_EMULATOR_URL', controlUrl: controlUrlVariable, userToken: 'BTP_EMULATOR_USER_TOKEN' } as const;

/** Exit code when the command cannot be started (as a shell reports "command not found"). */
export const exitCommandNotFound = 127;

export interface ExecRequest {
  emulator: EmulatorHandle;
  /** The command and its arguments; one element with spaces runs through the shell (`exec -- "npm test && x"`). */
  command: string[];
  user?: string;
  tenant?: string;
  /** Where the command's streams go; default: inherited. */
  stdio?: 'inherit' | 'pipe';
}

/** The env the command runs with: this process's env, the emulator's, the control URL and the user token. */
export async function execEnv(
  request: Pick<ExecRequest, 'emulator' | 'user' | 'tenant'>,
  base: NodeJS.ProcessEnv = process.env,
): Promise<NodeJS.ProcessEnv> {
  const { emulator } = request;
  const env: NodeJS.ProcessEnv = {
    ...base,
    ...emulator.env,
    [execVariables.url]: emulator.urls.control,
    [execVariables.controlUrl]: emulator.urls.control,
  };
  if (request.user)
    env[execVariables.userToken] = await emulator.issueUserToken({
      user: request.user,
      ...(request.tenant ? { tenant: request.tenant } : {}),
    });
  return env;
}

const forwardedSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs the command to its end and returns the exit code `exec` should exit with. The emulator keeps running. */
export async function runCommand(request: ExecRequest): Promise<number> {
  const env = await execEnv(request);
  const [file, ...args] = request.command;
  const viaShell = request.command.length === 1 && /\s/.test(file);
  const child = spawn(file, args, { env, stdio: request.stdio ?? 'inherit', shell: viaShell });
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of forwardedSignals) process.on(signal, forward);
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        console.error(`btp-emulator exec: cannot run ${file}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`);
        resolve(err.code === 'ENOENT' ? exitCommandNotFound : 126);
      });
      child.once('exit', (code, signal) => {
        if (code !== null) resolve(code);
        else resolve(128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });
  } finally {
    for (const signal of forwardedSignals) process.off(signal, forward);
  }
}
