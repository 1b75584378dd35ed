/**
 * The query language of the Destination Service list endpoints, as pure functions: the three exclusive
 * modes (default with `$filter`/`$includeMetadata`, select with `$select=Name`, pagination with `$page`…),
 * the `$filter` grammar (in-list with percent-encoded names, startswith, endswith, modifiedwithin, label
 * conditions `Label['k'] HAS ('v1', 'v2')` joined with ` AND `),
 * page slicing and the `Link` header. Every mistake is a 400 whose message says what to fix.
 */
import { DestinationError } from '../errors.ts';

export type NameFilter =
  | { kind: 'in'; names: string[] }
  | { kind: 'startswith'; prefix: string }
  | { kind: 'endswith'; suffix: string }
  | { kind: 'modifiedwithin'; minutes: number }
  | { kind: 'label'; key: string; values: string[] }
  | { kind: 'all'; conditions: NameFilter[] };

export type MetadataField = 'modification_time' | 'etag';

export type ListQuery =
  | { mode: 'default'; filter?: NameFilter; metadata: MetadataField[] }
  | { mode: 'select' }
  | { mode: 'page'; page: number; pageSize: number; pageCount: boolean; entityCount: boolean };

export interface ListQueryRules {
  /** Destinations know all four filter forms; certificates only the in-list. */
  filters: 'all' | 'in-list';
  /** Whether `$includeMetadata` is part of the endpoint's contract. */
  includeMetadata: boolean;
}

export const defaultPageSize = 10;
export const maxPageSize = 1000;
const maxModifiedWithinMinutes = 1440;
const metadataFields: readonly MetadataField[] = ['modification_time', 'etag'];
const defaultModeParams = ['$filter', '$includeMetadata'];
const selectModeParams = ['$select'];
const pageModeParams = ['$page', '$pageSize', '$pageCount', '$entityCount'];

const badRequest = (message: string): DestinationError => new DestinationError(400, message);

/** Read the list parameters of a GET on a collection; `params` is the once-decoded query string. */
export function parseListQuery(params: URLSearchParams, rules: ListQueryRules): ListQuery {
  const known = [...defaultModeParams, ...selectModeParams, ...pageModeParams];
  for (const key of params.keys()) {
    if (key.startsWith('$') && !known.includes(key))
      throw badRequest(`Unsupported query parameter ${key}; supported are ${known.join(', ')}`);
  }
  if (!rules.includeMetadata && params.has('$includeMetadata')) throw badRequest('$includeMetadata is not supported on this collection');

  const used = (names: string[]): string[] => names.filter((n) => params.has(n));
  const modes = [used(defaultModeParams), used(selectModeParams), used(pageModeParams)].filter((u) => u.length > 0);
  if (modes.length > 1) {
    throw badRequest(`Only one mode is allowed per request: ${modes.map((m) => m.join('/')).join(' cannot be combined with ')}`);
  }

  if (params.has('$select')) {
    const select = params.get('$select');
    if (select !== 'Name') throw badRequest(`$select supports only the value Name, got "${select}"`);
    return { mode: 'select' };
  }
  if (used(pageModeParams).length) return parsePaging(params);

  const filterText = params.get('$filter');
  const metadataText = params.get('$includeMetadata');
  return {
    mode: 'default',
    filter: filterText === null ? undefined : parseNameFilter(filterText, rules.filters),
    metadata: metadataText === null ? [] : parseMetadataFields(metadataText),
  };
}

function parsePaging(params: URLSearchParams): ListQuery {
  const pageText = params.get('$page');
  if (pageText === null)
    throw badRequest('$pageSize, $pageCount and $entityCount are allowed only in pagination mode, together with $page');
  const page = parseWholeNumber(pageText, '$page');
  if (page < 1) throw badRequest(`Invalid page number ${pageText}: $page starts at 1`);
  const pageSizeText = params.get('$pageSize');
  const pageSize = pageSizeText === null ? defaultPageSize : parseWholeNumber(pageSizeText, '$pageSize');
  if (pageSize < 1 || pageSize > maxPageSize) throw badRequest(`$pageSize must be between 1 and ${maxPageSize}, got ${pageSizeText}`);
  return { mode: 'page', page, pageSize, pageCount: parseFlag(params, '$pageCount'), entityCount: parseFlag(params, '$entityCount') };
}

function parseWholeNumber(text: string, param: string): number {
  if (!/^\d{1,9}$/.test(text.trim())) throw badRequest(`${param} must be a whole number, got "${text}"`);
  return Number(text.trim());
}

function parseFlag(params: URLSearchParams, param: string): boolean {
  const value = params.get(param);
  if (value === null) return false;
  const lower = value.toLowerCase();
  if (lower !== 'true' && lower !== 'false') throw badRequest(`${param} must be true or false, got "${value}"`);
  return lower === 'true';
}

export function parseMetadataFields(text: string): MetadataField[] {
  const fields = text
    .split(';')
    .map((f) => f.trim())
    .filter(Boolean);
  if (!fields.length) throw badRequest(`$includeMetadata names no metadata; supported are ${metadataFields.join(', ')}`);
  for (const field of fields) {
    if (!metadataFields.includes(field as MetadataField))
      throw badRequest(`$includeMetadata: unknown metadata "${field}"; supported are ${metadataFields.join(', ')}`);
  }
  return [...new Set(fields as MetadataField[])];
}

const labelClause = /^Label\s*\[\s*'((?:[^']|'')*)'\s*\]\s+HAS\s*\((.*)\)$/is;

/** `Label['env'] HAS ('prod', 'eu')` → a label condition (an entity matches with any of the values). */
function parseLabelClause(expr: string): NameFilter {
  const match = labelClause.exec(expr)!;
  const values: string[] = [];
  const item = /\s*'((?:[^']|'')*)'\s*(,|$)/y;
  let rest = match[2].trim();
  while (rest.length) {
    item.lastIndex = 0;
    const m = item.exec(rest);
    if (!m) throw badRequest(`Malformed label condition "${expr}": expected Label['key'] HAS ('value1', 'value2')`);
    values.push(m[1].replace(/''/g, "'"));
    rest = rest.slice(item.lastIndex);
  }
  if (!values.length) throw badRequest(`The label condition "${expr}" names no values`);
  return { kind: 'label', key: match[1].replace(/''/g, "'"), values };
}

/** Parse a `$filter` value (already URL-decoded once). */
export function parseNameFilter(text: string, allowed: 'all' | 'in-list'): NameFilter {
  const expr = text.trim();
  if (/\bLabel\s*\[/i.test(expr)) {
    const conditions = expr
      .split(/\s+AND\s+/i)
      .map((part) => (labelClause.test(part.trim()) ? parseLabelClause(part.trim()) : parseNameFilter(part, allowed)));
    return conditions.length === 1 ? conditions[0] : { kind: 'all', conditions };
  }
  if (/^\w+\s+in\s*\(/i.test(expr)) return { kind: 'in', names: parseInList(expr) };
  if (allowed === 'in-list')
    throw badRequest(`Unsupported $filter "${text}": only the in-list condition Name in ('a', 'b') is supported here`);

  const fn = /^(startswith|endswith)\s*\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)$/i.exec(expr);
  if (fn) {
    requireNameField(fn[2]);
    const literal = fn[3].replace(/''/g, "'");
    return fn[1].toLowerCase() === 'startswith' ? { kind: 'startswith', prefix: literal } : { kind: 'endswith', suffix: literal };
  }
  const within = /^modifiedwithin\s*\(\s*'?([^',)]*)'?\s*,\s*'?([^',)]*)'?\s*\)$/i.exec(expr);
  if (within) {
    const [, amount, unit] = within;
    if (unit.trim() !== 'minutes') throw badRequest(`modifiedwithin: the only supported time unit is minutes, got "${unit}"`);
    if (!/^\d+$/.test(amount.trim()) || Number(amount) < 1 || Number(amount) > maxModifiedWithinMinutes) {
      throw badRequest(`modifiedwithin: the number must be a whole number between 1 and ${maxModifiedWithinMinutes}, got "${amount}"`);
    }
    return { kind: 'modifiedwithin', minutes: Number(amount) };
  }
  throw badRequest(
    `Unsupported $filter "${text}": use Name in ('a', 'b'), startswith(Name, 'x'), endswith(Name, 'x') or modifiedwithin('30', 'minutes')`,
  );
}

/** `Name in ('a%27b', 'c')` → `["a'b", "c"]`: each quoted item is percent-decoded once more. */
export function parseInList(text: string): string[] {
  const match = /^(\w+)\s+in\s*\((.*)\)$/is.exec(text.trim());
  if (!match) throw badRequest(`Malformed in-list condition "${text}": expected Name in ('a', 'b')`);
  requireNameField(match[1]);
  const inner = match[2].trim();
  if (!inner) throw badRequest('The in-list condition names no configurations');
  const names: string[] = [];
  const item = /\s*'([^']*)'\s*(,|$)/y;
  let rest = inner;
  while (rest.length) {
    item.lastIndex = 0;
    const m = item.exec(rest);
    if (!m)
      throw badRequest(
        `Malformed in-list condition "${text}": every name must be percent-encoded and wrapped in single quotes, separated by commas`,
      );
    names.push(percentDecode(m[1]));
    rest = rest.slice(item.lastIndex);
    if (m[2] === ',' && !rest.trim()) throw badRequest(`Malformed in-list condition "${text}": a name is missing after the last comma`);
  }
  return names;
}

function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw badRequest(`The name '${value}' in the in-list condition is not correctly percent-encoded`);
  }
}

function requireNameField(field: string): void {
  if (field !== 'Name') throw badRequest(`$filter: Name is the only supported field, got "${field}"`);
}

/** Whether an entry passes a filter; `now` is the emulator clock's current time in ms. */
export function matchesFilter(
  filter: NameFilter,
  name: string,
  modifiedAt: number,
  now: number,
  labels: { key: string; values: string[] }[] = [],
): boolean {
  switch (filter.kind) {
    case 'label':
      return labels.some((l) => l.key === filter.key && l.values.some((v) => filter.values.includes(v)));
    case 'all':
      return filter.conditions.every((c) => matchesFilter(c, name, modifiedAt, now, labels));
    case 'in':
      return filter.names.includes(name);
    case 'startswith':
      return name.startsWith(filter.prefix);
    case 'endswith':
      return name.endsWith(filter.suffix);
    case 'modifiedwithin':
      return modifiedAt >= now - filter.minutes * 60_000;
  }
}

export interface Page<T> {
  items: T[];
  pageCount: number;
  entityCount: number;
}

/** One page of `items`; a page past the last one is a 400 (an empty collection still has page 1). */
export function pageOf<T>(items: T[], page: number, pageSize: number): Page<T> {
  const pageCount = Math.ceil(items.length / pageSize);
  if (page > Math.max(1, pageCount))
    throw badRequest(`Invalid page number ${page}: there ${pageCount === 1 ? 'is 1 page' : `are ${pageCount} pages`} of size ${pageSize}`);
  return { items: items.slice((page - 1) * pageSize, page * pageSize), pageCount, entityCount: items.length };
}

/** `</subaccountDestinations?$page=1&$pageSize=10>; rel='previous', <…>; rel='next'`, or undefined on a single page. */
export function linkHeader(collection: string, page: number, pageSize: number, pageCount: number): string | undefined {
  const link = (n: number, rel: string): string => `</${collection}?$page=${n}&$pageSize=${pageSize}>; rel='${rel}'`;
  const parts: string[] = [];
  if (page > 1) parts.push(link(page - 1, 'previous'));
  if (page < pageCount) parts.push(link(page + 1, 'next'));
  return parts.length ? parts.join(', ') : undefined;
}
