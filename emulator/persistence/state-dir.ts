/**
 * A state directory (`stateDir`, `--state-dir`): the emulator's state survives a restart and a `kill -9`.
 * On start, `state.json` is restored if it is there (a file that cannot be read or restored is a startup error
 * naming the file and the field, never a silent fresh start). After every change the whole snapshot
 * (app/snapshot.ts) is written atomically: a temp file in the same directory, fsync, rename over
 * `state.json`, fsync of the directory. A crash leaves either the old or the new file, never a torn one;
 * leftover temp files are removed on the next start.
 *
 * Writes run one at a time, in order. Changes that arrive while a write is running are coalesced into the
 * next write, which reads the state when it starts, so it holds all of them. A request that changes state
 * gets its 2xx only after a write that includes its change is on disk (change-notifier.ts): an acknowledged
 * change is durable.
 */
import { ValidationError } from '../core/validation.ts';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EmulatorCore } from '../app/emulator-core.ts';
import { exportSnapshotText, importSnapshot } from '../app/snapshot.ts';

export const stateFileName = 'state.json';
const tempPattern = /^state\.json\..+\.tmp$/;

/** The state directory cannot be used or its state.json cannot be restored; the message names the file and why. */
export class StateFileError extends Error {
  override name = 'StateFileError';
}

export interface StateDir {
  readonly dir: string;
  readonly file: string;
  /** True when the emulator started from an existing state.json. */
  readonly restored: boolean;
  /** Write the current state; resolves once a write that started after this call is on disk. */
  save(): Promise<void>;
  /** Write the state one last time and stop listening for changes. */
  close(): Promise<void>;
}

/** Restore `dir`/state.json into `core` if it exists, then keep it up to date with every change. */
export async function openStateDir(directory: string, core: EmulatorCore): Promise<StateDir> {
  const dir = resolve(directory);
  const file = join(dir, stateFileName);
  try {
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) if (tempPattern.test(name)) await rm(join(dir, name), { force: true });
  } catch (err) {
    throw new StateFileError(`cannot use the state directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const restored = await restore(file, core);

  let tail: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  let sequence = 0;
  const write = async (): Promise<void> => {
    const text = await exportSnapshotText(core);
    const temp = join(dir, `${stateFileName}.${process.pid}-${++sequence}.tmp`);
    try {
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new Error(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
    }
    await syncDirectory(dir);
  };
  const save = (): Promise<void> => {
    // Join the write that has not started yet, or queue one behind the running one.
    queued ??= tail = tail
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return write();
      });
    return queued;
  };

  const unsubscribe = core.onChange(save);
  try {
    await save();
  } catch (err) {
    unsubscribe();
    throw new StateFileError(`cannot use the state directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  let closed: Promise<void> | undefined;
  return {
    dir,
    file,
    restored,
    save,
    close: () => {
      closed ??= (async () => {
        unsubscribe();
        await save();
      })();
      return closed;
    },
  };
}

async function restore(file: string, core: EmulatorCore): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new StateFileError(`cannot read the saved state ${file}: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StateFileError(`the saved state ${file} is not JSON (${(err as Error).message}); move it away to start fresh`, {
      cause: err,
    });
  }
  try {
    await importSnapshot(core, value);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new StateFileError(`the saved state ${file} cannot be restored: ${err.message}; fix or move it away to start fresh`, {
      cause: err,
    });
  }
  return true;
}

/** Make the rename itself durable. Windows cannot open a directory for fsync (and does not need to). */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
