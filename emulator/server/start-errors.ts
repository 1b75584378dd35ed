/**
 * The errors `startEmulator()` throws for what lies outside the emulator: a port another process holds, and a
 * scenario file that cannot be read. Each names the port and its option, or the file; the CLI prints the same
 * wording with its flag names (emulator/cli/main.ts).
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultLimits, formatBytes } from '../core/limits.ts';

/** `port 20003 (httpProxyPort) is already in use on 127.0.0.1; stop the other process, or <fix>`. */
export function portInUseMessage(port: number, host: string, option: string, fix: string): string {
  return `port ${port} (${option}) is already in use on ${host}; stop the other process, or ${fix}`;
}

/** The port a `portInUseMessage` names, read back from text that holds one (e.g. a container's logs); else undefined. */
export function portInUseFromMessage(text: string): number | undefined {
  const port = /port (\d+) \([^)]+\) is already in use on /.exec(text)?.[1];
  return port === undefined ? undefined : Number(port);
}

/** A port of the emulator is held by another process. `code` stays `EADDRINUSE`, as Node's own error has it. */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';
  /** The StartOptions field that sets this port (`port`, `httpProxyPort`, …). */
  readonly option: string;
  readonly port: number;
  readonly host: string;
  constructor(port: number, host: string, option: string, cause: unknown) {
    super(portInUseMessage(port, host, option, `pass ${option}: 0 for a free one`), { cause });
    this.name = 'PortInUseError';
    this.port = port;
    this.host = host;
    this.option = option;
  }
}

/** `listen()` whose EADDRINUSE becomes a PortInUseError naming `option`; other errors pass unchanged. */
export async function listenAs(option: string, port: number, host: string, listen: () => Promise<number>): Promise<number> {
  try {
    return await listen();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(port, host, option, err);
    throw err;
  }
}

/** A scenario file (or a Destination CR file) that is missing or unreadable; `path` is absolute. */
export class ScenarioFileError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, cause: NodeJS.ErrnoException, what = 'the scenario file') {
    const why =
      cause.code === 'ENOENT'
        ? 'no such file'
        : cause.code === 'EACCES'
          ? 'permission denied'
          : cause.code === 'EISDIR'
            ? 'it is a directory'
            : cause.message;
    super(`cannot read ${what} ${path}: ${why}`, { cause });
    this.name = 'ScenarioFileError';
    this.path = path;
    this.code = cause.code;
  }
}

const sizeText = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`;

/**
 * The text of a scenario file (or a Destination CR file), or a ScenarioFileError naming its absolute path. It is
 * read whole, so its size is bounded first: by `maxBytes`, the limit of `maxSnapshotBytes` (a scenario file, like
 * `state.json`, can hold a whole subaccount).
 */
export function readScenarioFile(file: string, maxBytes: number = defaultLimits.maxSnapshotBytes, what = 'the scenario file'): string {
  const path = resolve(file);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { size } = fstatSync(fd);
    if (size > maxBytes) {
      const tooLarge = Object.assign(
        new Error(
          `it is ${sizeText(size)}, larger than ${formatBytes(maxBytes)}, the limit for scenario and state files; start the emulator with maxSnapshotBytes (--max-snapshot-bytes) to raise it`,
        ),
        { code: 'EFBIG' },
      );
      throw new ScenarioFileError(path, tooLarge, what);
    }
    return readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof ScenarioFileError) throw err;
    throw new ScenarioFileError(path, err as NodeJS.ErrnoException, what);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
