/**
 * CRUD routes on subaccount and instance level (destinations, fragments, certificates): thin Hono handlers
 * that authenticate the bearer token, pick the caller's level store and hand over to crud.ts.
 */
import { type LevelStore } from '../state.ts';
import { type DestinationProps } from '../schema.ts';
import { formatPath } from '../../../core/validation.ts';
import type { Context } from 'hono';
import type { App, AppEnv } from '../../../core/app-env.ts';
import type { CertificateAuthority } from '../certificates/certificates.ts';
import { certificateKind, ConfigurationCrud, destinationKind, fragmentKind, type EntityKind } from './crud.ts';
import { DestinationError } from '../errors.ts';
import { tooDeepAt, tooDeepMessage } from '../../../core/json-depth.ts';
import { expandPlaceholders, type DestinationGateway, type Level } from '../gateway.ts';
import { parseListQuery, type ListQueryRules } from './list-query.ts';
import { destinationBase, send } from '../routes.ts';

/** What the CRUD routes take from the core: its clock and the values of `{{placeholders}}`. */
export interface CrudWiring {
  now: () => number;
  placeholders?: () => Record<string, string>;
  /** The CA that signs certificates generated from `Attributes`; without it they are self-signed. */
  certificateAuthority?: () => CertificateAuthority | undefined;
  /** Entities of each kind per level (see core/limits.ts). */
  maxEntitiesPerLevel?: number;
}

const wirings = new WeakMap<DestinationGateway, CrudWiring>();

/** Give a gateway's CRUD routes the core's clock and placeholders. Without it they use real time and show values as stored. */
export function wireCrud(gateway: DestinationGateway, wiring: CrudWiring): void {
  wirings.set(gateway, wiring);
}

interface Collection {
  /** `Destinations` → `/v1/subaccountDestinations` and `/v1/instanceDestinations`. */
  suffix: string;
  kind: EntityKind;
  /** List parameters; undefined = the list takes none (fragments). */
  listRules?: ListQueryRules;
  /** Arrays in POST/PUT bodies and DELETE on the collection by `$filter`. */
  bulk: boolean;
  /** `GET …/{name}/publicKeys` (certificates). */
  publicKeys?: boolean;
}

const collections: Collection[] = [
  { suffix: 'Destinations', kind: destinationKind, listRules: { filters: 'all', includeMetadata: true }, bulk: true },
  { suffix: 'DestinationFragments', kind: fragmentKind, bulk: false },
  {
    suffix: 'Certificates',
    kind: certificateKind,
    listRules: { filters: 'in-list', includeMetadata: false },
    bulk: true,
    publicKeys: true,
  },
];

const levels: Level[] = ['subaccount', 'instance'];

export function registerCrudRoutes(app: App, gateway: DestinationGateway): void {
  const now = (): number => (wirings.get(gateway)?.now ?? Date.now)();
  const view = (props: Record<string, string>): Record<string, string> => {
    const values = wirings.get(gateway)?.placeholders?.();
    return values ? expandPlaceholders({ ...props } as DestinationProps, values) : { ...props };
  };

  for (const collection of collections) {
    const certificateAuthority = (): CertificateAuthority | undefined => wirings.get(gateway)?.certificateAuthority?.();
    const maxPerLevel = (): number => wirings.get(gateway)?.maxEntitiesPerLevel ?? Infinity;
    const crud = new ConfigurationCrud(collection.kind, { now, view, certificateAuthority, maxPerLevel });
    const isDestination = collection.kind === destinationKind;
    for (const level of levels) {
      const segment = `${level}${collection.suffix}`;
      const path = `${destinationBase}/v1/${segment}`;
      const store = async (c: Context<AppEnv>): Promise<LevelStore> => {
        const caller = await gateway.authenticate(c.req.header('authorization'));
        c.set('tenant', caller.tenant.subdomain);
        return gateway.level(caller, level);
      };
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
          if (dollar) throw new DestinationError(400, `The ${collection.kind.noun} list takes no query parameters, got ${dollar}`);
          return send(c, await crud.list(levelStore, { mode: 'default', metadata: [] }, segment));
        }
        return send(c, await crud.list(levelStore, parseListQuery(params, collection.listRules), segment));
      });
      app.post(path, async (c) => {
        const levelStore = await store(c);
        return send(c, await crud.create(levelStore, await readJsonBody(c), collection.bulk));
      });
      app.put(path, async (c) => {
        const levelStore = await store(c);
        return send(c, await crud.update(levelStore, await readJsonBody(c), collection.bulk));
      });
      if (collection.bulk) {
        app.delete(path, async (c) => {
          const levelStore = await store(c);
          return send(c, crud.removeByFilter(levelStore, new URL(c.req.url).searchParams.get('$filter')));
        });
      }
      app.get(`${path}/:name`, async (c) => {
        const levelStore = await store(c);
        const headers = c.req.raw.headers;
        return send(c, await crud.get(levelStore, named(c), (etag) => gateway.conditional(headers, etag)));
      });
      app.delete(`${path}/:name`, async (c) => {
        const levelStore = await store(c);
        return send(c, crud.remove(levelStore, named(c)));
      });
      if (collection.publicKeys) {
        app.get(`${path}/:name/publicKeys`, async (c) => {
          const levelStore = await store(c);
          const headers = c.req.raw.headers;
          return send(c, await crud.publicKeys(levelStore, named(c), (etag) => gateway.conditional(headers, etag)));
        });
      }
    }
  }
}

export async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) throw new DestinationError(400, 'The request body is missing');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new DestinationError(400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
  const deep = tooDeepAt(value);
  if (deep) throw new DestinationError(400, `The request body ${deep.length ? `at ${formatPath(deep)} ` : ''}${tooDeepMessage}`);
  return value;
}
