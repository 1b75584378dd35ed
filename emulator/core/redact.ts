/**
 * Keeping secrets out of what the emulator writes down (the journal, logs): query parameters whose name says
 * they carry a secret keep their name and lose their value.
 *
 * The rule: a value is masked when the parameter's name looks secret (contains `token`, `secret`, `password`,
 * `credential`, …), unless the name is one of a few known parameters that are flags or public type names
 * (`$skipTokenRetrieval=true`, `requested_token_type=urn:…`). Failing safe: a parameter nobody listed, with a
 * secret-looking name, is masked.
 */

const secretName = /secret|password|passwd|pwd|token|assertion|^code$|code_verifier|api[-_]?key|signature|sig$|credential|authorization/i;

/** Parameters whose names look secret but whose values are not: Destination Service flags, OAuth type URNs. */
const notSecret = new Set([
  '$skipTokenRetrieval',
  '$skipCredentials',
  'token_format',
  'requested_token_type',
  'subject_token_type',
  'actor_token_type',
  'client_assertion_type',
]);

export const redacted = '***';

/** Whether the value of query parameter `name` is masked. */
export function isSecretParameter(name: string): boolean {
  return secretName.test(name) && !notSecret.has(name);
}

/** `?client_secret=abc&x=1` → `?client_secret=***&x=1`; any other text is returned as is. */
export function redactQuery(search: string): string {
  if (search.length < 2) return search;
  const parts = search.slice(1).split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    if (eq < 0) continue;
    let name = parts[i].slice(0, eq);
    try {
      name = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // keep the raw name
    }
    if (isSecretParameter(name) && parts[i].length > eq + 1) {
      parts[i] = `${parts[i].slice(0, eq)}=${redacted}`;
      changed = true;
    }
  }
  return changed ? `?${parts.join('&')}` : search;
}

/** A path with its query (`/a?b=c`), or an absolute URL, with secret query values redacted. */
export function redactTarget(target: string): string {
  const q = target.indexOf('?');
  if (q < 0) return target;
  const hash = target.indexOf('#', q);
  const search = hash < 0 ? target.slice(q) : target.slice(q, hash);
  return target.slice(0, q) + redactQuery(search) + (hash < 0 ? '' : target.slice(hash));
}
