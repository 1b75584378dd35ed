/**
 * Keeping secrets out of what the emulator writes down (the journal, logs): query parameters whose name says
 * they carry a secret keep their name and lose their value.
 */

const secretName = /secret|password|passwd|pwd|token|assertion|^code$|code_verifier|api[-_]?key|signature|sig$|credential|authorization/i;
export const redacted = '***';

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
    if (secretName.test(name) && parts[i].length > eq + 1) {
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
