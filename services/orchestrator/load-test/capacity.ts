/**
 * Protocol capacity curves (docs/load-and-benchmarks.md "Protocol capacity"): the load world
 * under sim, with service times (scenario/service-times.ts), over a grid of SPMC profiles, guest
 * counts and offered rates. Each point is one deterministic run; the curves say where each SPMC's
 * notification path saturates and why: distinct deliveries (callbacks) against the offered rate,
 * the p99, INFO_GET calls per loop, and how many sends merged into a bit already pending.
 */
import type { LoadStats } from './load-stats.ts';
import type { SpmcProfile } from '../scenario/types.ts';

/** The grid: every combination runs once. */
export interface CapacityGrid {
  spmcs: readonly SpmcProfile[];
  guests: readonly number[];
  ratesPerSecond: readonly number[];
}

export const CAPACITY_LIMITS = { points: 200, listLength: 20 } as const;

/** One run's figures. */
export interface CapacityPoint {
  spmc: SpmcProfile;
  guests: number;
  offeredPerSecond: number;
  /** Distinct deliveries: the receivers' callbacks a second, from the workload's start to the last. */
  callbacksPerSecond: number;
  /** Sends whose bit reached a callback, a second (a callback covers every send merged into its bit). */
  deliveredSendsPerSecond: number;
  /** Sends delivered per callback: 1 when nothing merged; the sends a callback covered otherwise. */
  sendsPerCallback: number;
  /** Sends that found their bit already pending at the SPMC. */
  mergedAtSpmc: number;
  /** SRI and NPI raises that merged at the GIC into one still pending. */
  sriMerged: number;
  npiMerged: number;
  /** Intended arrival → callback, corrected for coordinated omission (ns). */
  p50Ns: number;
  p99Ns: number;
  infoGetPerLoop: number;
  infoGetLoopBoundHits: number;
  /** The run's checks all held. */
  passed: boolean;
}

/** Every combination of the grid, SPMC first, then guests, then rate (the order the table prints in). */
export function gridPoints(grid: CapacityGrid): { spmc: SpmcProfile; guests: number; ratePerSecond: number }[] {
  const points = grid.spmcs.flatMap((spmc) => grid.guests.flatMap((guests) => grid.ratesPerSecond.map((ratePerSecond) => ({ spmc, guests, ratePerSecond }))));
  if (points.length > CAPACITY_LIMITS.points) throw new RangeError(`${points.length} grid points: at most ${CAPACITY_LIMITS.points}`);
  return points;
}

export function capacityPoint(at: { spmc: SpmcProfile; guests: number }, stats: LoadStats, passed: boolean): CapacityPoint {
  const { throughput, notifications, latency, infoGet, sri, npi } = stats;
  const callbacks = throughput.callbacks.count;
  return {
    spmc: at.spmc,
    guests: at.guests,
    offeredPerSecond: throughput.offeredPerSecond,
    callbacksPerSecond: throughput.callbacks.perSecond,
    deliveredSendsPerSecond: throughput.deliveredSends.perSecond,
    sendsPerCallback: callbacks === 0 ? 0 : throughput.deliveredSends.count / callbacks,
    mergedAtSpmc: notifications.mergedAtSpmc,
    sriMerged: sri.merged,
    npiMerged: npi.merged,
    p50Ns: latency.corrected.p50,
    p99Ns: latency.corrected.p99,
    infoGetPerLoop: infoGet.perLoop.mean,
    infoGetLoopBoundHits: infoGet.loopBoundHits,
    passed,
  };
}

/**
 * Where a curve saturates: the most callbacks a second any of its points made, and the knee, the
 * first offered rate at which the path stopped delivering each send on its own: sends fell behind
 * (delivered under 90% of offered) or merged (over 1.1 sends per callback). Null: never in the grid.
 */
export function saturation(points: readonly CapacityPoint[]): { peakCallbacksPerSecond: number; kneePerSecond: number | null } {
  const sorted = [...points].sort((a, b) => a.offeredPerSecond - b.offeredPerSecond);
  const knee = sorted.find((p) => p.deliveredSendsPerSecond < 0.9 * p.offeredPerSecond || p.sendsPerCallback > 1.1);
  return { peakCallbacksPerSecond: Math.max(0, ...points.map((p) => p.callbacksPerSecond)), kneePerSecond: knee?.offeredPerSecond ?? null };
}

/** A curve's saturation in words: its peak and its knee, or that the grid did not reach one. */
export function saturationText(s: { peakCallbacksPerSecond: number; kneePerSecond: number | null }): string {
  const knee = s.kneePerSecond === null ? 'not saturated in this grid' : `saturates from ${s.kneePerSecond}/s offered`;
  return `at most ${Math.round(s.peakCallbacksPerSecond)} callbacks/s; ${knee}`;
}

/** The points of one curve (an SPMC profile and a guest count), by offered rate. */
export function curves(points: readonly CapacityPoint[]): { spmc: SpmcProfile; guests: number; points: CapacityPoint[] }[] {
  const byKey = new Map<string, { spmc: SpmcProfile; guests: number; points: CapacityPoint[] }>();
  for (const p of points) {
    const key = `${p.spmc}/${p.guests}`;
    const curve = byKey.get(key) ?? { spmc: p.spmc, guests: p.guests, points: [] };
    curve.points.push(p);
    byKey.set(key, curve);
  }
  for (const curve of byKey.values()) curve.points.sort((a, b) => a.offeredPerSecond - b.offeredPerSecond);
  return [...byKey.values()];
}
