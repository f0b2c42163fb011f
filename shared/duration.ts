/**
 * A duration in nanoseconds as the lines people read show it: milliseconds, always to the
 * microsecond ("12.345 ms", "0.200 ms"), so figures side by side have the same precision.
 */
export function formatMs(ns: number): string {
  return `${(ns / 1e6).toFixed(3)} ms`;
}
