/**
 * The control API's HTTP routes under /_emulator. Every route is an operation of `contract.ts` (served as
 * OpenAPI at /_emulator/openapi.json); a handler reads its input through the operation's schemas (operation.ts),
 * calls the gateway and answers. A bad body or query is a 400 naming the field, and changes nothing.
 */
import type { Context } from 'hono';
import type { App, AppEnv } from '../../core/app-env.ts';
import type { Chain } from '../../core/journal-chains.ts';
import { controlBase } from './contract.ts';
import { controlTokenGuard } from './control-token.ts';
import type { ControlGateway } from './gateway.ts';
import { readControlJson } from './json-body.ts';
import { controlOpenApi } from './openapi.ts';
import { bodyOf, paramOf, queryOf, registerOperation } from './operation.ts';
import { parse as parseYaml } from 'yaml';
import { parseJsonText } from '../../core/limits.ts';
import { ValidationError } from '../../core/validation.ts';
import { scenarioFormatOf } from '../scenario.ts';

/** `?format=text`: the summary lines for a terminal (`curl …/last-call?destination=X&format=text`); else JSON. */
function chainAnswer(c: Context<AppEnv>, chain: Chain): Response {
  if (c.req.query('format') !== 'text') return c.json(chain);
  const verdict = chain.failed
    ? `failed at ${chain.failed.role} (${chain.failed.status})${chain.failed.reason ? `: ${chain.failed.reason}` : ''}`
    : 'no hop failed';
  return c.text(`${verdict}\n${chain.summary.map((line) => `  ${line}`).join('\n')}\n`);
}

/** A CR body: JSON, or one YAML document (by the content type, else sniffed as scenarios are). */
async function readCrBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (scenarioFormatOf(text, 'Destination CR', c.req.header('content-type')) === 'json')
    return text ? parseJsonText(text, 'request body') : {};
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new ValidationError('request body', [{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
}

/** `controlToken`: see ControlContext.controlToken; its guard comes first on every /_emulator route. */
export function registerRoutes(app: App, gateway: ControlGateway, controlToken: () => string | undefined): void {
  app.use(`${controlBase}/*`, controlTokenGuard(controlToken));

  registerOperation(app, 'getHealth', (c) => c.json(gateway.health()));
  registerOperation(app, 'getOpenApi', (c) => c.json(controlOpenApi()));
  registerOperation(app, 'reset', (c) => c.json(gateway.reset()));
  registerOperation(app, 'loadScenario', async (c) => c.json(gateway.loadScenario(await c.req.text(), c.req.header('content-type'))));
  registerOperation(app, 'getScenario', (c) => c.json(gateway.scenario()));
  registerOperation(app, 'issueUserToken', async (c) => c.json(await gateway.issueUserToken(await bodyOf(c, 'issueUserToken'))));
  registerOperation(app, 'listJournal', (c) => c.json(gateway.journal(queryOf(c, 'listJournal'))));
  registerOperation(app, 'clearJournal', (c) => {
    gateway.clearJournal();
    return c.body(null, 204);
  });
  registerOperation(app, 'getEnv', (c) => c.json(gateway.env()));

  // The on-premise side: Cloud Connectors, the fake backend's stub routes and the mails its SMTP sink received.
  registerOperation(app, 'listCloudConnectors', (c) => c.json(gateway.connectors()));
  registerOperation(app, 'setCloudConnectorState', async (c) =>
    c.json(gateway.setConnectorState(await bodyOf(c, 'setCloudConnectorState'))),
  );
  registerOperation(app, 'putCloudConnector', async (c) => c.json(gateway.putConnector(await bodyOf(c, 'putCloudConnector'))));
  registerOperation(app, 'removeCloudConnector', (c) => {
    gateway.removeConnector(queryOf(c, 'removeCloudConnector'));
    return c.body(null, 204);
  });
  registerOperation(app, 'listStubs', (c) => c.json(gateway.stubs()));
  registerOperation(app, 'addStub', async (c) => c.json(gateway.addStub(await readControlJson(c)), 201));
  registerOperation(app, 'removeStub', (c) => {
    gateway.removeStub(paramOf(c, 'id'));
    return c.body(null, 204);
  });
  registerOperation(app, 'clearStubs', (c) => {
    gateway.clearStubs();
    return c.body(null, 204);
  });
  registerOperation(app, 'listMails', (c) => c.json(gateway.mails()));
  registerOperation(app, 'clearMails', (c) => {
    gateway.clearMails();
    return c.body(null, 204);
  });

  // The Transparent Proxy's Destination CRs: JSON, or YAML text (the form `kubectl apply -f` takes).
  registerOperation(app, 'listDestinationCrs', (c) => c.json(gateway.destinationCrs()));
  registerOperation(app, 'putDestinationCr', async (c) => c.json(gateway.putDestinationCr(await readCrBody(c))));
  registerOperation(app, 'removeDestinationCr', (c) => {
    gateway.removeDestinationCr(paramOf(c, 'namespace'), paramOf(c, 'name'));
    return c.body(null, 204);
  });

  registerOperation(app, 'getClock', (c) => c.json(gateway.clock()));
  registerOperation(app, 'setClock', async (c) => c.json(gateway.setClock(await readControlJson(c))));
  registerOperation(app, 'listKeys', (c) => c.json(gateway.keys(queryOf(c, 'listKeys'))));
  registerOperation(app, 'listIdentityApplications', (c) => c.json(gateway.identityApplications()));
  registerOperation(app, 'rotateKeys', async (c) => c.json(await gateway.rotateKeys(await readControlJson(c))));

  registerOperation(app, 'exportSnapshot', async (c) => c.json(await gateway.exportSnapshot()));
  registerOperation(app, 'importSnapshot', async (c) => c.json(await gateway.importSnapshot(await readControlJson(c))));

  registerOperation(app, 'getChain', (c) => {
    queryOf(c, 'getChain');
    return chainAnswer(c, gateway.chain(paramOf(c, 'correlationId')));
  });
  registerOperation(app, 'getLastCall', (c) => chainAnswer(c, gateway.lastCall(queryOf(c, 'getLastCall').destination)));

  registerOperation(app, 'addFault', async (c) => c.json(gateway.addFault(await bodyOf(c, 'addFault')), 201));
  registerOperation(app, 'listFaults', (c) => c.json(gateway.faults()));
  registerOperation(app, 'getFault', (c) => c.json(gateway.fault(paramOf(c, 'id'))));
  registerOperation(app, 'removeFault', (c) => {
    gateway.removeFault(paramOf(c, 'id'));
    return c.body(null, 204);
  });
  registerOperation(app, 'clearFaults', (c) => {
    gateway.clearFaults();
    return c.body(null, 204);
  });
}
