/**
 * Runs an example app as its own Node process, the way a developer starts it, and waits for the line that
 * says it is ready (no sleeps). Stopping kills it and waits for the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface AppProcess {
  /** The groups of the ready pattern's match. */
  ready: RegExpExecArray;
  output(): string;
  stop(): Promise<void>;
}

export function startAppProcess(
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; ready: RegExp; timeoutMs?: number },
): Promise<AppProcess> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`not ready after ${options.timeoutMs ?? 20_000} ms`)), options.timeoutMs ?? 20_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`${err.message}\n--- output ---\n${output}`)));
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = options.ready.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
        resolve({ ready: match, output: () => output, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => fail(new Error(`exited with ${code} before it was ready`)));
  });
}
