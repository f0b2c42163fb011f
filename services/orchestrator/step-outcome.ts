import type { RegisterFile } from '../../shared/ffa/index.ts';

/**
 * How a step ends: passed or not, with a one-line detail the report shows (docs/scenarios.md
 * "Results"), and for a call that returned, the registers it returned (`ffa-world compare` sets
 * them side by side).
 */
export type Finish = (passed: boolean, detail: string, returned?: RegisterFile) => void;

/** Registers as a step record keeps them: hex, x0 first, the zero registers at the end left out. */
export function returnedRegisters(regs: RegisterFile): string[] {
  let end = regs.length;
  while (end > 1 && regs[end - 1] === 0n) end--;
  return regs.slice(0, end).map((value) => `0x${value.toString(16)}`);
}

/** A duration as the details show it: milliseconds, without trailing zeros. */
export const ms = (ns: number): string => `${(ns / 1e6).toFixed(3).replace(/\.?0+$/, '')} ms`;
