/**
 * The fake on-prem backend's LDAP directory: the entries and bind users of the scenario (`backend.ldap`), and what
 * a simple bind and a search answer. Read-only: the emulator serves no LDAP write. The filter is the LDAP server's
 * (emulator/server/backend/ldap-server.ts), handed in as a predicate; DNs are compared as LDAP does, attribute
 * names and values without regard to case and spaces around the separators. No transport here.
 */

/** A validated `backend.ldap` (schema.ts ldapSchema, which checks it with {@link ldapConfigProblems}). */
interface LdapConfig {
  baseDn: string;
  anonymousSearch: boolean;
  bindUsers: { dn: string; password: string }[];
  entries: { dn: string; attributes: Record<string, string | string[]> }[];
}

export interface LdapEntry {
  /** As the scenario spells it. */
  dn: string;
  /** Normalised (see {@link normaliseDn}): the key entries are found by. */
  key: string;
  /** Attribute name as the scenario spells it → its values (the RDN's attribute and value included). */
  attributes: Record<string, string[]>;
}

export interface LdapDirectory {
  /** The directory's suffix as the scenario spells it ('' when the scenario has no directory). */
  baseDn: string;
  anonymousSearch: boolean;
  /** In the scenario's order, the base entry first. */
  entries: LdapEntry[];
  /** Normalised bind DN → password. */
  bindUsers: Map<string, string>;
}

/** The RDNs of a DN (split at commas that are not escaped), or undefined when one has no `attribute=value`. */
export function parseDn(dn: string): { attribute: string; value: string }[] | undefined {
  if (dn.trim() === '') return [];
  const rdns: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn[++i];
    } else if (c === ',') {
      rdns.push(current);
      current = '';
    } else current += c;
  }
  rdns.push(current);
  const parsed: { attribute: string; value: string }[] = [];
  for (const rdn of rdns) {
    const eq = rdn.indexOf('=');
    const attribute = eq < 0 ? '' : rdn.slice(0, eq).trim();
    const value = eq < 0 ? '' : rdn.slice(eq + 1).trim();
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(attribute) || value === '') return undefined;
    parsed.push({ attribute, value });
  }
  return parsed;
}

/** `uid=Alice, ou=People,DC=example` → `uid=alice,ou=people,dc=example`; undefined when it is no DN. */
export function normaliseDn(dn: string): string | undefined {
  return parseDn(dn)
    ?.map((r) => `${r.attribute.toLowerCase()}=${r.value.toLowerCase()}`)
    .join(',');
}

/** The parent's normalised DN ('' for a one-RDN DN). */
function parentKey(key: string): string {
  const rdns = parseDn(key) ?? [];
  return rdns
    .slice(1)
    .map((r) => `${r.attribute}=${r.value}`)
    .join(',');
}

const unescape = (value: string): string => value.replace(/\\(.)/g, '$1');

function entryOf(dn: string, attributes: Record<string, string | string[]>): LdapEntry {
  const all: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(attributes)) all[name] = Array.isArray(value) ? [...value] : [value];
  // The RDN's attribute and value are part of the entry, as in any directory.
  const [rdn] = parseDn(dn) ?? [];
  if (rdn) {
    const name = Object.keys(all).find((n) => n.toLowerCase() === rdn.attribute.toLowerCase()) ?? rdn.attribute;
    const value = unescape(rdn.value);
    const values = (all[name] ??= []);
    if (!values.some((v) => v.toLowerCase() === value.toLowerCase())) values.unshift(value);
  }
  return { dn, key: normaliseDn(dn)!, attributes: all };
}

/** The directory of a (validated) scenario; none configured is an empty one: every bind fails, every search finds nothing. */
export function buildLdapDirectory(config: LdapConfig | undefined): LdapDirectory {
  if (!config) return { baseDn: '', anonymousSearch: false, entries: [], bindUsers: new Map() };
  const baseKey = normaliseDn(config.baseDn)!;
  const listed = config.entries.map((e) => entryOf(e.dn, e.attributes));
  const base = listed.find((e) => e.key === baseKey);
  const [rdn] = parseDn(config.baseDn) ?? [];
  const entries = [
    base ?? entryOf(config.baseDn, { objectClass: ['top', rdn?.attribute.toLowerCase() === 'dc' ? 'domain' : 'organization'] }),
    ...listed.filter((e) => e !== base),
  ];
  return {
    baseDn: config.baseDn,
    anonymousSearch: config.anonymousSearch,
    entries,
    bindUsers: new Map(config.bindUsers.map((u) => [normaliseDn(u.dn)!, u.password])),
  };
}

/** Whether `key` is `base` or below it (both normalised). */
function within(key: string, base: string): boolean {
  return base === '' || key === base || key.endsWith(`,${base}`);
}

/**
 * Problems of a directory's configuration, for the scenario's schema: a DN that is none, an entry outside the base
 * DN or without its parent, a DN listed twice.
 */
export function ldapConfigProblems(config: {
  baseDn: string;
  entries: { dn: string }[];
  bindUsers: { dn: string }[];
}): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const baseKey = normaliseDn(config.baseDn);
  if (!baseKey) return [{ path: ['baseDn'], message: 'baseDn must be a DN such as dc=example,dc=com' }];
  const keys = new Set<string>([baseKey]);
  config.entries.forEach((entry, i) => {
    const key = normaliseDn(entry.dn);
    if (!key)
      return problems.push({ path: ['entries', i, 'dn'], message: 'dn must be a DN such as uid=alice,ou=people,dc=example,dc=com' });
    if (!within(key, baseKey))
      return problems.push({ path: ['entries', i, 'dn'], message: `dn ${entry.dn} is not under baseDn ${config.baseDn}` });
    if (key !== baseKey && keys.has(key)) return problems.push({ path: ['entries', i, 'dn'], message: `dn ${entry.dn} is listed twice` });
    keys.add(key);
  });
  config.entries.forEach((entry, i) => {
    const key = normaliseDn(entry.dn);
    if (!key || key === baseKey || !within(key, baseKey)) return;
    const parent = parentKey(key);
    if (!keys.has(parent))
      problems.push({
        path: ['entries', i, 'dn'],
        message: `the parent ${parent} of ${entry.dn} is not an entry; list it before its children`,
      });
  });
  const users = new Set<string>();
  config.bindUsers.forEach((user, i) => {
    const key = normaliseDn(user.dn);
    if (!key) return problems.push({ path: ['bindUsers', i, 'dn'], message: 'dn must be a DN such as cn=admin,dc=example,dc=com' });
    if (users.has(key)) problems.push({ path: ['bindUsers', i, 'dn'], message: `bind user ${user.dn} is listed twice` });
    users.add(key);
  });
  return problems;
}

/** LDAP result codes the directory answers with (RFC 4511). */
export const ldapResult = {
  sizeLimitExceeded: 4,
  noSuchObject: 32,
  invalidDnSyntax: 34,
  invalidCredentials: 49,
  insufficientAccessRights: 50,
  unwillingToPerform: 53,
} as const;

export type LdapBindResult = { ok: true; dn: string; anonymous: boolean } | { ok: false; code: number; message: string };

/** A simple bind: a known bind user with its password; an empty DN with an empty password is the anonymous bind. */
export function ldapBind(directory: LdapDirectory, dn: string, password: string): LdapBindResult {
  if (dn.trim() === '' && password === '') return { ok: true, dn: '', anonymous: true };
  const key = normaliseDn(dn);
  if (key === undefined) return { ok: false, code: ldapResult.invalidDnSyntax, message: `${dn} is not a DN` };
  // RFC 4513 5.1.2: a name with an empty password is an unauthenticated bind, which this directory refuses.
  if (password === '')
    return { ok: false, code: ldapResult.unwillingToPerform, message: 'unauthenticated bind (a DN without a password) is not allowed' };
  const expected = directory.bindUsers.get(key);
  if (expected === undefined || expected !== password)
    return { ok: false, code: ldapResult.invalidCredentials, message: 'Invalid Credentials' };
  return { ok: true, dn, anonymous: false };
}

export type LdapScope = 'base' | 'one' | 'sub';

export type LdapSearchResult = { ok: true; entries: LdapEntry[]; truncated: boolean } | { ok: false; code: number; message: string };

/**
 * The entries of a search: the base object, its children or its whole subtree, those the filter matches (`matches`,
 * the server's filter over the attributes with lower-cased names), at most `sizeLimit` (0: no limit). An anonymous
 * client may search only when the scenario allows it.
 */
export function ldapSearch(
  directory: LdapDirectory,
  request: {
    baseDn: string;
    scope: LdapScope;
    sizeLimit: number;
    bound: boolean;
    matches: (attributes: Record<string, string[]>) => boolean;
  },
): LdapSearchResult {
  if (!request.bound && !directory.anonymousSearch)
    return { ok: false, code: ldapResult.insufficientAccessRights, message: 'anonymous search is not allowed: bind first' };
  const base = normaliseDn(request.baseDn);
  if (base === undefined) return { ok: false, code: ldapResult.invalidDnSyntax, message: `${request.baseDn} is not a DN` };
  if (!directory.entries.some((e) => e.key === base))
    return { ok: false, code: ldapResult.noSuchObject, message: `no entry ${request.baseDn}` };
  const found: LdapEntry[] = [];
  for (const entry of directory.entries) {
    const inScope =
      request.scope === 'base' ? entry.key === base : request.scope === 'one' ? parentKey(entry.key) === base : within(entry.key, base);
    if (!inScope || !request.matches(lowerCaseNames(entry.attributes))) continue;
    if (request.sizeLimit > 0 && found.length === request.sizeLimit) return { ok: true, entries: found, truncated: true };
    found.push(entry);
  }
  return { ok: true, entries: found, truncated: false };
}

function lowerCaseNames(attributes: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(attributes)) (out[name.toLowerCase()] ??= []).push(...values);
  return out;
}
