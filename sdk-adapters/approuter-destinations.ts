/**
 * The approuter's `destinations` environment variable: a JSON array of `{ name, url, forwardAuthToken, … }`.
 * The approuter rejects unknown keys (its schema has `additionalProperties: false`), so this adapter checks
 * them first. The SAP Cloud SDK reads the same variable (step 1 of `getDestination`).
 */

/** One entry, with exactly the keys the approuter (21.x) accepts. */
export interface ApprouterDestination {
  name: string;
  url: string;
  /** Send the user's JWT to the target as `Authorization: Bearer …`. */
  forwardAuthToken?: boolean;
  forwardAuthCertificates?: boolean;
  proxyHost?: string;
  proxyPort?: number | string;
  proxyType?: 'Internet' | 'OnPremise';
  strictSSL?: boolean;
  /** Milliseconds. */
  timeout?: number;
  setXForwardedHeaders?: boolean;
  IASDependencyName?: string;
}

const allowedKeys = new Set([
  'name',
  'url',
  'forwardAuthToken',
  'forwardAuthCertificates',
  'proxyHost',
  'proxyPort',
  'proxyType',
  'strictSSL',
  'timeout',
  'setXForwardedHeaders',
  'IASDependencyName',
]);

/** The value of `destinations`; throws on what the approuter would refuse at start. */
export function approuterDestinationsJson(destinations: ApprouterDestination[]): string {
  const names = new Set<string>();
  for (const d of destinations) {
    const unknown = Object.keys(d).filter((k) => !allowedKeys.has(k));
    if (unknown.length) throw new Error(`destination "${d.name}": the approuter does not accept ${unknown.join(', ')}`);
    if (!d.name) throw new Error('a destination needs a name');
    if (!URL.canParse(d.url)) throw new Error(`destination "${d.name}": url "${d.url}" is not absolute`);
    if ((d.proxyHost === undefined) !== (d.proxyPort === undefined))
      throw new Error(`destination "${d.name}": proxyHost and proxyPort go together`);
    if (names.has(d.name)) throw new Error(`destination "${d.name}" is listed twice`);
    names.add(d.name);
  }
  return JSON.stringify(destinations);
}

/** `{ destinations: <json> }` for the approuter's env. */
export function approuterDestinationsEnv(destinations: ApprouterDestination[]): { destinations: string } {
  return { destinations: approuterDestinationsJson(destinations) };
}
