/**
 * "Why did my call fail?" over the control API: the hops of one app call from the journal, by correlation id
 * (`GET /_emulator/journal/chains/{correlationId}`) or as "the last call to destination X"
 * (`GET /_emulator/journal/last-call?destination=X`), each with the first failing hop and its reason; JSON, or
 * `&format=text` for a terminal.
 */
import type { Context } from 'hono';
import type { App, AppEnv } from '../../core/app-env.ts';
import { chainByCorrelationId, lastCallTo, type Chain } from '../../core/journal-chains.ts';
import type { EmulatorCore } from '../emulator-core.ts';
import { paramOf, queryOf, registerOperation } from './operation.ts';

/** `?format=text`: the summary lines for a terminal (`curl …/last-call?destination=X&format=text`); else JSON. */
function answer(c: Context<AppEnv>, chain: Chain): Response {
  if (c.req.query('format') !== 'text') return c.json(chain);
  const verdict = chain.failed
    ? `failed at ${chain.failed.role} (${chain.failed.status})${chain.failed.reason ? `: ${chain.failed.reason}` : ''}`
    : 'no hop failed';
  return c.text(`${verdict}\n${chain.summary.map((line) => `  ${line}`).join('\n')}\n`);
}

export function registerChainRoutes(app: App, core: EmulatorCore): void {
  registerOperation(app, 'getChain', (c) => {
    queryOf(c, 'getChain');
    const id = paramOf(c, 'correlationId');
    const chain = chainByCorrelationId(core.journal.list(), id);
    if (!chain)
      return c.json(
        { error: 'not_found', message: `no journal entry carries correlation id "${id}" (sent as x-correlation-id or x-vcap-request-id)` },
        404,
      );
    return answer(c, chain);
  });

  registerOperation(app, 'getLastCall', (c) => {
    const { destination } = queryOf(c, 'getLastCall');
    const chain = lastCallTo(core.journal.list(), destination);
    if (!chain)
      return c.json(
        {
          error: 'not_found',
          message: `the journal has no lookup of destination "${destination}" (cleared by a reset, or the app found it in its own cache)`,
        },
        404,
      );
    return answer(c, chain);
  });
}
