/** How a step ends: passed or not, with a one-line detail the report shows (docs/scenarios.md "Results"). */
export type Finish = (passed: boolean, detail: string) => void;

/** A duration as the details show it: milliseconds, without trailing zeros. */
export const ms = (ns: number): string => `${(ns / 1e6).toFixed(3).replace(/\.?0+$/, '')} ms`;
