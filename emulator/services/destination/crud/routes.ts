/**
 * CRUD routes on subaccount and instance level (destinations, fragments, certificates, and their labels): thin
 * Hono handlers that authenticate the bearer token, pick the caller's level store, read the JSON body and hand
 * over to the gateway's CRUD part (configurations.ts).
 */
import type { Context } from 'hono';
import type { App, AppEnv } from '../../../core/app-env.ts';
import { parseCheckedJson, tooDeepMessage } from '../../../core/json-depth.ts';
import { resultResponse } from '../../../core/service-result.ts';
import { formatPath } from '../../../core/validation.ts';
import { DestinationError } from '../errors.ts';
import type { DestinationGateway } from '../gateway.ts';
import type { Level, LevelStore } from '../state.ts';
import type { DestinationCrud } from './configurations.ts';
import { parseListQuery, type ListQueryRules } from './list-query.ts';

interface Collection {
  /** `Destinations` → `/v1/subaccountDestinations` and `/v1/instanceDestinations`. */
  suffix: string;
  /** Its CRUD in the gateway. */
  crud: keyof DestinationCrud;
  /** List parameters; undefined = the list takes none (fragments). */
  listRules?: ListQueryRules;
  /** Arrays in POST/PUT bodies and DELETE on the collection by `$filter`. */
  bulk: boolean;
  /** `GET …/{name}/publicKeys` (certificates). */
  publicKeys?: boolean;
}

const collections: Collection[] = [
  { suffix: 'Destinations', crud: 'destinations', listRules: { filters: 'all', includeMetadata: true }, bulk: true },
  { suffix: 'DestinationFragments', crud: 'fragments', bulk: false },
  {
    suffix: 'Certificates',
    crud: 'certificates',
    listRules: { filters: 'in-list', includeMetadata: false },
    bulk: true,
    publicKeys: true,
  },
];

const levels: Level[] = ['subaccount', 'instance'];

/** The routes under `base` (`/destination-configuration`): labels first, then the collections and their entities. */
export function registerCrudRoutes(app: App, gateway: DestinationGateway, base: string): void {
  const storeOf = async (c: Context<AppEnv>, level: Level): Promise<LevelStore> => {
    const caller = await gateway.authenticate(c.req.header('authorization'), { headers: c.req.raw.headers });
    c.set('tenant', caller.tenant.subdomain);
    return gateway.level(caller, level);
  };

  for (const level of levels) {
    for (const collection of collections) {
      const crud = gateway.crud[collection.crud];
      const path = `${base}/v1/${level}${collection.suffix}/:name/labels`;
      const labels = async (c: Context<AppEnv>) => crud.labels(await storeOf(c, level), level, c.req.param('name') ?? '');
      app.get(path, async (c) => c.json((await labels(c)).get()));
      app.put(path, async (c) => {
        const target = await labels(c);
        return c.json(target.replace(await readJsonBody(c)));
      });
      app.patch(path, async (c) => {
        const target = await labels(c);
        return c.json(target.patch(await readJsonBody(c)));
      });
    }
  }

  for (const collection of collections) {
    const crud = gateway.crud[collection.crud];
    const isDestination = collection.crud === 'destinations';
    for (const level of levels) {
      const segment = `${level}${collection.suffix}`;
      const path = `${base}/v1/${segment}`;
      const store = (c: Context<AppEnv>): Promise<LevelStore> => storeOf(c, level);
      const named = (c: Context<AppEnv>): string => {
        const name = c.req.param('name') ?? '';
        if (isDestination) c.set('destination', name);
        return name;
      };

      app.get(path, async (c) => {
        const levelStore = await store(c);
        const params = new URL(c.req.url).searchParams;
        if (!collection.listRules) {
          const dollar = [...params.keys()].find((k) => k.startsWith('$'));
          if (dollar) throw new DestinationError(400, `The ${crud.kind.noun} list takes no query parameters, got ${dollar}`);
          return resultResponse(await crud.list(levelStore, { mode: 'default', metadata: [] }, segment));
        }
        return resultResponse(await crud.list(levelStore, parseListQuery(params, collection.listRules), segment));
      });
      app.post(path, async (c) => {
        const levelStore = await store(c);
        return resultResponse(await crud.create(levelStore, await readJsonBody(c), collection.bulk));
      });
      app.put(path, async (c) => {
        const levelStore = await store(c);
        return resultResponse(await crud.update(levelStore, await readJsonBody(c), collection.bulk));
      });
      if (collection.bulk) {
        app.delete(path, async (c) => {
          const levelStore = await store(c);
          return resultResponse(crud.removeByFilter(levelStore, new URL(c.req.url).searchParams.get('$filter')));
        });
      }
      app.get(`${path}/:name`, async (c) => {
        const levelStore = await store(c);
        const headers = c.req.raw.headers;
        return resultResponse(await crud.get(levelStore, named(c), (etag) => gateway.conditional(headers, etag)));
      });
      app.delete(`${path}/:name`, async (c) => {
        const levelStore = await store(c);
        return resultResponse(crud.remove(levelStore, named(c)));
      });
      if (collection.publicKeys) {
        app.get(`${path}/:name/publicKeys`, async (c) => {
          const levelStore = await store(c);
          const headers = c.req.raw.headers;
          return resultResponse(await crud.publicKeys(levelStore, named(c), (etag) => gateway.conditional(headers, etag)));
        });
      }
    }
  }
}

/** The JSON body of a write: missing, not JSON or nested too deep is a 400 in the service's `ErrorMessage` form. */
async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) throw new DestinationError(400, 'The request body is missing');
  const parsed = parseCheckedJson(text);
  if (parsed.ok) return parsed.value;
  if ('syntaxError' in parsed) throw new DestinationError(400, `The request body is not valid JSON: ${parsed.syntaxError}`);
  const deep = parsed.tooDeepAt;
  throw new DestinationError(400, `The request body ${deep.length ? `at ${formatPath(deep)} ` : ''}${tooDeepMessage}`);
}
