/**
 * A duration in nanoseconds as the lines people read show it: milliseconds to the microsecond
 * ("12.345 ms"), the same width at every size, so a column of them lines up.
 */
export function formatMs(ns: number): string {
  return `${(ns / 1e6).toFixed(3)} ms`;
}
