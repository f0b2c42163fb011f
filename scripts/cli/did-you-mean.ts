/**
 * "Did you mean …?" for a mistyped command or option, as git and npm answer one: the closest
 * known name by edit distance (fastest-levenshtein), when it is close enough to be a typo.
 */
import { closest, distance } from 'fastest-levenshtein';

/** The known name nearest to `given`, or null when none is within a typo's reach. */
export function didYouMean(given: string, known: readonly string[]): string | null {
  if (known.length === 0) return null;
  const nearest = closest(given, [...known]);
  // A third of the name, at least 2 edits: "rn" → "run", "--runtme" → "--runtime", not "x" → "run".
  const reach = Math.max(2, Math.floor(given.length / 3));
  return distance(given, nearest) <= reach ? nearest : null;
}

/** ", did you mean 'run'?" or nothing. */
export function suggestion(given: string, known: readonly string[]): string {
  const nearest = didYouMean(given, known);
  return nearest === null ? '' : `; did you mean '${nearest}'?`;
}
