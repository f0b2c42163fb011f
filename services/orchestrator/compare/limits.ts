/**
 * The bounds of a comparison (plan.ts), apart so that `ffa-world --help` prints them without
 * loading the scenario reader. A comparison of 64 worlds is already more than a page can set side
 * by side.
 */
export const COMPARE_LIMITS = {
  /** Combinations of the settings' values: the product of each key's value count. */
  combinations: 64,
  seeds: 16,
  /** Combinations times seeds. */
  runs: 256,
  /** Values one key takes. */
  valuesPerKey: 16,
  /** Steps of a run set side by side one by one (two rows each); the rest are summed up in the figure `steps`. */
  stepsCompared: 1000,
} as const;
