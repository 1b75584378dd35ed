/**
 * Fault injection under /_emulator/faults: add a fault (201 with its id), list them, read one, remove one
 * (404 when unknown) or all (204). The fault model and its schema are in core/faults.ts and
 * core/fault-schema.ts, the answers' shapes in schemas.ts; `POST /_emulator/reset` clears the faults too. A bad body changes nothing.
 */
import type { App } from '../../core/app-env.ts';
import type { EmulatorCore } from '../emulator-core.ts';
import { bodyOf, paramOf, registerOperation } from './operation.ts';

const notFound = (id: string) => ({
  error: 'not_found',
  message: `no fault "${id}" (it may have expired: times used up, or durationMs/until passed)`,
});

export function registerFaultRoutes(app: App, core: EmulatorCore): void {
  registerOperation(app, 'addFault', async (c) => c.json(core.faults.add(await bodyOf(c, 'addFault')), 201));

  registerOperation(app, 'listFaults', (c) => c.json({ faults: core.faults.list() }));

  registerOperation(app, 'getFault', (c) => {
    const fault = core.faults.get(paramOf(c, 'id'));
    return fault ? c.json(fault) : c.json(notFound(paramOf(c, 'id')), 404);
  });

  registerOperation(app, 'removeFault', (c) =>
    core.faults.remove(paramOf(c, 'id')) ? c.body(null, 204) : c.json(notFound(paramOf(c, 'id')), 404),
  );

  registerOperation(app, 'clearFaults', (c) => {
    core.faults.clear();
    return c.body(null, 204);
  });
}
