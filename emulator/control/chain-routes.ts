/**
 * "Why did my call fail?" over the control API: the hops of one app call from the journal, by correlation id
 * (`GET /_emulator/journal/chains/{correlationId}`) or as "the last call to destination X"
 * (`GET /_emulator/journal/last-call?destination=X`), each with the first failing hop and its reason.
 */
import type { App } from '../core/app-env.ts';
import { chainByCorrelationId, lastCallTo } from '../core/chains.ts';
import type { EmulatorCore } from '../core/emulator-core.ts';
import { ValidationError } from '../core/scenario-schema.ts';

const base = '/_emulator/journal';

export function registerChainRoutes(app: App, core: EmulatorCore): void {
  app.get(`${base}/chains/:correlationId`, (c) => {
    const id = c.req.param('correlationId');
    const chain = chainByCorrelationId(core.journal.list(), id);
    if (!chain) return c.json({ error: 'not_found', message: `no journal entry carries correlation id "${id}" (sent as x-correlation-id or x-vcap-request-id)` }, 404);
    return c.json(chain);
  });

  app.get(`${base}/last-call`, (c) => {
    const destination = c.req.query('destination');
    if (!destination) throw new ValidationError('journal query', [{ path: 'destination', message: 'destination is required: the name the app looked up' }]);
    const chain = lastCallTo(core.journal.list(), destination);
    if (!chain) return c.json({ error: 'not_found', message: `the journal has no lookup of destination "${destination}" (cleared by a reset, or the app found it in its own cache)` }, 404);
    return c.json(chain);
  });
}
