/**
 * The whole state as one JSON document under /_emulator/snapshot: GET exports it (see core/snapshot.ts), PUT
 * replaces the state with one (`snapshotBody`). A bad snapshot is a 400 naming the field and changes nothing.
 */
import type { App } from '../../core/app-env.ts';
import type { EmulatorCore } from '../emulator-core.ts';
import { exportSnapshot, importSnapshot } from '../snapshot.ts';
import { readControlJson } from './json-body.ts';
import { registerOperation } from './operation.ts';

export { snapshotBody } from '../snapshot.ts';

export function registerSnapshotRoutes(app: App, core: EmulatorCore): void {
  registerOperation(app, 'exportSnapshot', async (c) => c.json(await exportSnapshot(core)));
  registerOperation(app, 'importSnapshot', async (c) => {
    await importSnapshot(core, await readControlJson(c));
    return c.json({ status: 'restored', scenario: core.scenario.name });
  });
}
