/**
 * The open model the bench drives its chain floor with, the same one the load workload drives the
 * world with (shared/scenario/workload.ts): arrival i is due at start + i / rate whatever became of
 * the earlier ones, one arrival per timer firing, and latency runs from that intended time, so a
 * floor that falls behind shows it as latency (coordinated omission corrected), never as a lower
 * offered rate. Pure: the chain's threads and the tests use the same functions.
 */
import { percentilesOfNs } from '../../services/orchestrator/load-test/load-stats.ts';
import type { Percentiles } from '../../services/orchestrator/scenario/types.ts';

/** When arrival `index` is due, ns on the same clock as `startNs`. */
export function intendedNs(startNs: number, ratePerSecond: number, index: number): number {
  return startNs + (index * 1e9) / ratePerSecond;
}

/** Arrivals a trial of `durationMs` at `ratePerSecond` offers (at least one). */
export function arrivalsOf(ratePerSecond: number, durationMs: number): number {
  return Math.max(1, Math.round((ratePerSecond * durationMs) / 1000));
}

/**
 * How the ws runtime's timers wait `delayNs` (shared/runtime/ws/ws-transport.ts schedule): below
 * a millisecond on the next turn of the event loop, else setTimeout rounded to the millisecond.
 * The chain's generator waits the same way the world's does.
 */
export function timerFor(delayNs: number): { kind: 'immediate' } | { kind: 'timeout'; ms: number } {
  return delayNs < 1e6 ? { kind: 'immediate' } : { kind: 'timeout', ms: Math.round(delayNs / 1e6) };
}

/** A trial of the chain as its threads saw it: each arrival's intended time, and when it landed (NaN: never). */
export interface TrialTimes {
  ratePerSecond: number;
  /** Arrival 0's intended time. */
  startNs: number;
  intendedNs: Float64Array;
  landedNs: Float64Array;
  /** When the landings were collected: an arrival not landed by then counts as this late at least. */
  collectedNs: number;
}

export interface TrialFigures {
  ratePerSecond: number;
  arrivals: number;
  landed: number;
  /** Intended time → landing, ns. Lower bounds when not every arrival landed (`complete` false). */
  latencyNs: Percentiles;
  complete: boolean;
  /** Landings in the window [start, start + arrivals / rate), a second: as the world counts callbacks. */
  landedPerSecondInWindow: number;
  /** Landings a second from arrival 0's intended time to the last landing (drain included). */
  carriedPerSecond: number;
  sustained: boolean;
}

/**
 * A rate is sustained when every arrival landed and the chain carried at least this fraction of
 * it, start to last landing: past saturation the backlog grows through the trial, the last
 * landing slips past the window and this ratio falls.
 */
export const SUSTAINED_FRACTION = 0.95;

export function trialFigures(times: TrialTimes): TrialFigures {
  const { ratePerSecond, startNs, intendedNs: intended, landedNs: landed, collectedNs } = times;
  const arrivals = intended.length;
  const windowEndNs = startNs + (arrivals * 1e9) / ratePerSecond;
  const latencies: number[] = [];
  let landedCount = 0;
  let inWindow = 0;
  let lastLandingNs = startNs;
  for (let i = 0; i < arrivals; i++) {
    const at = landed[i] ?? Number.NaN;
    const due = intended[i] ?? startNs;
    if (Number.isNaN(at)) {
      latencies.push(collectedNs - due);
      continue;
    }
    landedCount++;
    latencies.push(at - due);
    if (at < windowEndNs) inWindow++;
    lastLandingNs = Math.max(lastLandingNs, at);
  }
  const windowNs = windowEndNs - startNs;
  const spanNs = Math.max(lastLandingNs - startNs, windowNs);
  const carriedPerSecond = spanNs > 0 ? (landedCount * 1e9) / spanNs : 0;
  const complete = landedCount === arrivals;
  return {
    ratePerSecond,
    arrivals,
    landed: landedCount,
    latencyNs: percentilesOfNs(latencies),
    complete,
    landedPerSecondInWindow: windowNs > 0 ? (inWindow * 1e9) / windowNs : 0,
    carriedPerSecond,
    sustained: complete && carriedPerSecond >= SUSTAINED_FRACTION * ratePerSecond,
  };
}

/** What a saturation search knows: the highest rate sustained and the lowest one not. */
export interface SaturationBounds {
  sustained: number | null;
  notSustained: number | null;
}

export interface SaturationSearch {
  startRate: number;
  minRate: number;
  maxRate: number;
  /** Stop once notSustained / sustained is within 1 + this. */
  precision: number;
}

/**
 * The next rate to try, or null when the search is done: double while every rate holds, halve
 * while none does, then bisect. Rates are whole arrivals a second within [minRate, maxRate].
 */
export function nextSaturationProbe(bounds: SaturationBounds, search: SaturationSearch): number | null {
  const { sustained, notSustained } = bounds;
  const clamp = (rate: number) => Math.max(search.minRate, Math.min(search.maxRate, Math.round(rate)));
  if (sustained === null && notSustained === null) return clamp(search.startRate);
  if (notSustained === null) return sustained !== null && sustained < search.maxRate ? clamp(sustained * 2) : null;
  if (sustained === null) return notSustained > search.minRate ? clamp(notSustained / 2) : null;
  if (notSustained <= sustained * (1 + search.precision)) return null;
  const middle = Math.round((sustained + notSustained) / 2);
  return middle > sustained && middle < notSustained ? middle : null;
}

/** The bounds after a trial at `rate`. */
export function afterProbe(bounds: SaturationBounds, rate: number, sustained: boolean): SaturationBounds {
  if (sustained) return { ...bounds, sustained: Math.max(bounds.sustained ?? 0, rate) };
  return { ...bounds, notSustained: Math.min(bounds.notSustained ?? Number.POSITIVE_INFINITY, rate) };
}
