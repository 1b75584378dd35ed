/**
 * The Destination Service CRUD API without HTTP: list, read, create, update and delete destinations,
 * fragments and certificates in one level store (subaccount level, or instance/subscription level).
 * Bodies are validated with the scenario schemas; a rejected body changes nothing. Certificates are checked
 * against their Name's file type or generated from `Attributes`, and answer with their public keys
 * (certificates.ts). Each entity may carry labels (labels.ts).
 */
import { etagOf, type ServiceResult } from '../../../core/service-result.ts';
import { type Level, type LevelStore, type Stored } from '../state.ts';
import { formatPath } from '../../../core/validation.ts';
import { certificateSchema, destinationSchema, fragmentSchema } from '../schema.ts';
import type { z } from 'zod';
import {
  assertCertificateContent,
  generateCertificate,
  parseGenerationAttributes,
  publicKeysOf,
  type CertificateAuthority,
} from '../certificates/certificates.ts';
import { DestinationError, NOT_FOUND_MESSAGE } from '../errors.ts';
import { EntityLabels, labelsOf } from './labels.ts';
import { linkHeader, matchesFilter, pageOf, parseInList, type ListQuery, type MetadataField } from './list-query.ts';

type Props = Record<string, string>;

/** What differs between destinations, fragments and certificates. */
export interface EntityKind {
  /** Singular noun for messages. */
  noun: string;
  /** The property that names an entity. */
  nameKey: 'Name' | 'FragmentName';
  schema: z.ZodType<Props>;
  entries(store: LevelStore): Map<string, Stored<Props>>;
  notFoundMessage: string;
  /** A reason the emulator refuses a body the real service would accept, if any. */
  unsupported?(body: Record<string, unknown>): string | undefined;
  /** Turn a schema-valid body into what is stored (e.g. generate a certificate); throws a 400 naming the field. */
  prepare?(body: Record<string, unknown>, context: PrepareContext): Promise<Record<string, unknown>>;
}

export interface PrepareContext {
  now: number;
  certificateAuthority?: CertificateAuthority;
}

export const destinationKind: EntityKind = {
  noun: 'destination',
  nameKey: 'Name',
  schema: destinationSchema,
  entries: (store) => store.destinations,
  notFoundMessage: NOT_FOUND_MESSAGE,
};

export const fragmentKind: EntityKind = {
  noun: 'fragment',
  nameKey: 'FragmentName',
  schema: fragmentSchema,
  entries: (store) => store.fragments,
  notFoundMessage: 'Fragment with the specified name was not found',
};

export const certificateKind: EntityKind = {
  noun: 'certificate',
  nameKey: 'Name',
  schema: certificateSchema as z.ZodType<Props>,
  entries: (store) => store.certificates as Map<string, Stored<Props>>,
  notFoundMessage: NOT_FOUND_MESSAGE,
  prepare: async (body, context) => {
    const name = typeof body.Name === 'string' ? body.Name : '';
    if ('Attributes' in body) {
      if (!name) throw new DestinationError(400, 'Invalid certificate: Name: Name is required and must be a string');
      if ('Content' in body)
        throw new DestinationError(
          400,
          'Invalid certificate: send either Content (an upload) or Attributes (a generation request), not both',
        );
      const { Attributes: raw, ...rest } = body;
      const attributes = parseGenerationAttributes(name, raw);
      const content = await generateCertificate(name, attributes, { now: context.now, ca: context.certificateAuthority });
      return { ...rest, Type: rest.Type ?? 'CERTIFICATE', Content: content };
    }
    if (name && typeof body.Content === 'string' && body.Content) await assertCertificateContent(name, body.Content);
    return body;
  },
};

/** One element of a bulk POST/PUT result (lower-case keys, as the service sends them). */
export interface BulkItemResult {
  name: string;
  status: number;
  etag?: string;
  cause?: string;
}

export interface BulkDeleteSummary {
  Count: number;
  Summary: { name: string; status: 'DELETED' | 'NOT_FOUND'; reason?: string }[];
}

/** `shared`: the body's `$metadata.shared_with_subscriber` (subscription level zones). */
type Validated = { ok: true; props: Props; name: string; shared: boolean } | { ok: false; name: string; cause: string };

export interface CrudOptions {
  /** Entities of this kind one level holds (BTP: 1,000); a create beyond it is refused. Default: no limit. */
  maxPerLevel?: () => number;
  /** The emulator clock, in ms; stamps `modifiedAt` and drives `modifiedwithin`. */
  now: () => number;
  /** How a stored entity is shown to a client (e.g. with `{{placeholders}}` expanded). Default: as stored. */
  view?: (props: Props) => Props;
  /** The CA that signs generated certificates, if the face has one. */
  certificateAuthority?: () => CertificateAuthority | undefined;
}

export class ConfigurationCrud {
  readonly kind: EntityKind;
  private readonly now: () => number;
  private readonly view: (props: Props) => Props;
  private readonly certificateAuthority: () => CertificateAuthority | undefined;
  private readonly maxPerLevel: () => number;

  constructor(kind: EntityKind, options: CrudOptions) {
    this.kind = kind;
    this.now = options.now;
    this.view = options.view ?? ((props) => ({ ...props }));
    this.certificateAuthority = options.certificateAuthority ?? (() => undefined);
    this.maxPerLevel = options.maxPerLevel ?? (() => Infinity);
  }

  /** GET on the collection. `collection` is the last path segment, for the `Link` header. */
  async list(store: LevelStore, query: ListQuery, collection: string): Promise<ServiceResult> {
    const entries = [...this.kind.entries(store).values()];
    if (query.mode === 'select') return { status: 200, body: entries.map((e) => ({ Name: e.props[this.kind.nameKey] })) };
    if (query.mode === 'page') {
      const page = pageOf(entries, query.page, query.pageSize);
      const headers: Record<string, string> = {};
      if (query.pageCount) headers['Page-Count'] = String(page.pageCount);
      if (query.entityCount) headers['Entity-Count'] = String(page.entityCount);
      const link = linkHeader(collection, query.page, query.pageSize, page.pageCount);
      if (link) headers.Link = link;
      return { status: 200, body: page.items.map((e) => this.view(e.props)), headers };
    }
    const now = this.now();
    const filter = query.filter;
    const selected = filter
      ? entries.filter((e) =>
          matchesFilter(filter, e.props[this.kind.nameKey], e.modifiedAt, now, labelsOf(store, this.kind.noun, e.props[this.kind.nameKey])),
        )
      : entries;
    const body = await Promise.all(selected.map((e) => this.withMetadata(e, query.metadata)));
    return { status: 200, body };
  }

  /** GET one, with its ETag; `If-None-Match`/`If-Match` are answered by `conditional`. */
  async get(store: LevelStore, name: string, conditional: (etag: string) => ServiceResult | undefined): Promise<ServiceResult> {
    const entry = this.kind.entries(store).get(name);
    if (!entry) throw new DestinationError(404, this.kind.notFoundMessage);
    const shown = this.view(entry.props);
    const etag = etagOf(shown);
    return conditional(etag) ?? { status: 200, body: shown, headers: { ETag: etag } };
  }

  /** `GET …Certificates/{name}/publicKeys`: the public chain(s), with an ETag. */
  async publicKeys(store: LevelStore, name: string, conditional: (etag: string) => ServiceResult | undefined): Promise<ServiceResult> {
    const entry = this.kind.entries(store).get(name);
    if (!entry) throw new DestinationError(404, this.kind.notFoundMessage);
    const keys = await publicKeysOf(this.view(entry.props) as { Name: string; Content: string });
    const etag = etagOf(keys);
    return conditional(etag) ?? { status: 200, body: keys, headers: { ETag: etag } };
  }

  /** POST: one object → 201 empty; an array → 201 or 207 with one result per item. */
  async create(store: LevelStore, body: unknown, allowArray = true): Promise<ServiceResult> {
    if (Array.isArray(body) && allowArray) return this.bulk(store, body, 'create');
    const item = await this.validate(requireObject(body, this.kind.noun, allowArray));
    if (!item.ok) throw new DestinationError(400, item.cause);
    const failure = this.write(store, item.props, 'create', item.shared);
    if (failure) throw new DestinationError(failure.status, failure.cause);
    return { status: 201 };
  }

  /** PUT (full overwrite, name in the body): one object → 200 `{Count: 1}`; an array → 200 or 207. */
  async update(store: LevelStore, body: unknown, allowArray = true): Promise<ServiceResult> {
    if (Array.isArray(body) && allowArray) return this.bulk(store, body, 'update');
    const item = await this.validate(requireObject(body, this.kind.noun, allowArray));
    if (!item.ok) throw new DestinationError(400, item.cause);
    const failure = this.write(store, item.props, 'update', item.shared);
    if (failure) throw new DestinationError(failure.status, failure.cause);
    return { status: 200, body: { Count: 1 } };
  }

  /** The labels of an entity of this kind (`…/{name}/labels`); a 404 when the level has no such entity. */
  labels(store: LevelStore, level: Level, name: string): EntityLabels {
    if (!this.kind.entries(store).get(name))
      throw new DestinationError(404, `The ${this.kind.noun} "${name}" was not found on the ${level} level`);
    return new EntityLabels(store, this.kind.noun, name);
  }

  /** DELETE one by name → 200 `{Count: 1}` or 404. */
  remove(store: LevelStore, name: string): ServiceResult {
    if (!this.kind.entries(store).delete(name)) throw new DestinationError(404, this.kind.notFoundMessage);
    return { status: 200, body: { Count: 1 } };
  }

  /** DELETE on the collection with a required in-list `$filter`: a summary per listed name. */
  removeByFilter(store: LevelStore, filter: string | null): ServiceResult {
    if (filter === null || !filter.trim())
      throw new DestinationError(400, "$filter is required to delete several configurations, e.g. $filter=Name in ('a', 'b')");
    const entries = this.kind.entries(store);
    const summary: BulkDeleteSummary = { Count: 0, Summary: [] };
    for (const name of parseInList(filter)) {
      if (entries.delete(name)) {
        summary.Count++;
        summary.Summary.push({ name, status: 'DELETED' });
      } else {
        summary.Summary.push({ name, status: 'NOT_FOUND', reason: 'Could not find configuration' });
      }
    }
    return { status: 200, body: summary };
  }

  private async bulk(store: LevelStore, items: unknown[], action: 'create' | 'update'): Promise<ServiceResult> {
    if (!items.length) throw new DestinationError(400, `The request body is an empty array; send at least one ${this.kind.noun}`);
    if (items.length > this.maxPerLevel())
      throw new DestinationError(400, `The request body has ${items.length} items; a level holds at most ${this.limitText()}`);
    const success = action === 'create' ? 201 : 200;
    const results: BulkItemResult[] = [];
    for (const [index, raw] of items.entries()) {
      const item: Validated = isObject(raw)
        ? await this.validate(raw)
        : { ok: false, name: '', cause: `Item ${index} is not a JSON object` };
      if (!item.ok) {
        results.push({ name: item.name, status: 400, cause: item.cause });
        continue;
      }
      const failure = this.write(store, item.props, action, item.shared);
      results.push(failure ? { name: item.name, ...failure } : { name: item.name, status: success, etag: etagOf(this.view(item.props)) });
    }
    return { status: results.every((r) => r.status === success) ? success : 207, body: results };
  }

  /** Store an entity; returns the failure (409 on create of an existing name, 404 on update of a missing one). */
  private write(
    store: LevelStore,
    props: Props,
    action: 'create' | 'update',
    shared = false,
  ): { status: number; cause: string } | undefined {
    const entries = this.kind.entries(store);
    const name = props[this.kind.nameKey];
    const exists = entries.has(name);
    if (action === 'create' && exists)
      return { status: 409, cause: `Duplicate key: a ${this.kind.noun} named "${name}" already exists on this level` };
    if (action === 'update' && !exists) return { status: 404, cause: this.kind.notFoundMessage };
    if (action === 'create' && entries.size >= this.maxPerLevel())
      return {
        status: 400,
        cause: `This level already holds ${entries.size} ${this.kind.noun}s, the most a level holds: ${this.limitText()}`,
      };
    const conflict = shared ? store.shareConflict?.(this.kind.entries, name) : undefined;
    if (conflict) return { status: 409, cause: conflict };
    entries.set(name, { props, modifiedAt: this.now(), ...(shared ? { sharedWithSubscriber: true } : {}) });
    return undefined;
  }

  private limitText(): string {
    return `${this.maxPerLevel()} ${this.kind.noun}s (as on BTP; start the emulator with maxEntitiesPerLevel, --max-entities-per-level, to raise it)`;
  }

  /** Check a body against the kind's schema; the cause names every offending field. */
  private async validate(raw: Record<string, unknown>): Promise<Validated> {
    const { $metadata: metadata, ...given } = raw;
    const shared = isObject(metadata) && metadata.shared_with_subscriber === true;
    const name = typeof given[this.kind.nameKey] === 'string' ? (given[this.kind.nameKey] as string) : '';
    const unsupported = this.kind.unsupported?.(given);
    if (unsupported) return { ok: false, name, cause: unsupported };
    let body = given;
    if (this.kind.prepare) {
      try {
        body = await this.kind.prepare(given, { now: this.now(), certificateAuthority: this.certificateAuthority() });
      } catch (error) {
        if (error instanceof DestinationError) return { ok: false, name, cause: error.message };
        throw error;
      }
    }
    const parsed = this.kind.schema.safeParse(body);
    if (parsed.success) return { ok: true, props: withoutNulls(parsed.data), name: parsed.data[this.kind.nameKey], shared };
    const problems = parsed.error.issues.map((issue) => {
      const field = formatPath(issue.path);
      return field ? `${field}: ${issue.message}` : issue.message;
    });
    return { ok: false, name, cause: `Invalid ${this.kind.noun}: ${problems.join('; ')}` };
  }

  private async withMetadata(entry: Stored<Props>, fields: MetadataField[]): Promise<Record<string, unknown>> {
    const shown = this.view(entry.props);
    if (!fields.length) return shown;
    const metadata: Record<string, string> = {};
    for (const field of fields) {
      metadata[field] = field === 'etag' ? etagOf(shown) : new Date(entry.modifiedAt).toISOString();
    }
    return { ...shown, $metadata: metadata };
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A certificate's `Type` may be null; it is stored as absent. */
const withoutNulls = (props: Props): Props => {
  for (const key in props)
    if (props[key] === null || props[key] === undefined)
      return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== null && v !== undefined)) as Props;
  return props;
};

function requireObject(body: unknown, noun: string, allowArray: boolean): Record<string, unknown> {
  if (isObject(body)) return body;
  throw new DestinationError(
    400,
    `The request body must be a JSON object${allowArray ? ` or an array of objects` : ''} describing a ${noun}`,
  );
}
