/**
 * The ws runtime's clock: monotonic real time in nanoseconds since the run started. Every
 * component of a run is handed the same start (process.hrtime.bigint() of the supervisor, as a
 * decimal string), so times recorded by different workers and processes on one machine compare.
 */
import type { Clock } from '../component.ts';

export function parseStartNs(text: string): bigint {
  if (!/^\d{1,20}$/.test(text)) throw new RangeError(`start time "${text.slice(0, 40)}" is not a decimal count of ns`);
  return BigInt(text);
}

export function monotonicClock(startNs: bigint): Clock {
  return { nowNs: () => Number(process.hrtime.bigint() - startNs) };
}

/** Now, as a start value to hand to the components of a new run. */
export function runStartNs(): string {
  return process.hrtime.bigint().toString();
}
