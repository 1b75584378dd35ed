/**
 * "Did you mean …?" for names that were not found: the existing names nearest to the one asked for, by
 * case-insensitive edit distance (Levenshtein), so a typo, a different casing or a missing suffix
 * (`ERP_QA` → `ERP_QAS`) points at the name that exists.
 */

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Up to `max` names from `candidates` close to `name`, nearest first: the same name in another casing (then only
 * that), or at most
 * about a third of the name's characters different (at least 2), or one name containing the other.
 */
export function nearestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const wanted = name.toLowerCase();
  const sameIgnoringCase = [...new Set(candidates)].filter((c) => c !== name && c.toLowerCase() === wanted);
  if (sameIgnoringCase.length) return sameIgnoringCase.sort().slice(0, max);
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  const scored: { candidate: string; score: number }[] = [];
  for (const candidate of new Set(candidates)) {
    if (candidate === name) continue;
    const lower = candidate.toLowerCase();
    let score = levenshtein(wanted, lower);
    if (score > limit && wanted.length >= 3 && (lower.includes(wanted) || wanted.includes(lower))) score = limit;
    if (score <= limit) scored.push({ candidate, score });
  }
  return scored
    .sort((x, y) => x.score - y.score || x.candidate.localeCompare(y.candidate))
    .slice(0, max)
    .map((s) => s.candidate);
}

/** `did you mean \`A\` or \`B\`?`, or '' when nothing is near. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const near = nearestNames(name, candidates);
  if (!near.length) return '';
  const quoted = near.map((n) => `\`${n}\``);
  return `did you mean ${quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`}?`;
}
