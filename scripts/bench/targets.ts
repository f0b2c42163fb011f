/**
 * The bench's targets, each judged against its figure: most are ratios to a floor measured in the
 * same run (the bare echo, the chain), so a slow or busy machine moves figure and floor together.
 * Pure, so the ratios and verdicts are tested without timing anything.
 */

export type Verdict = 'met' | 'missed' | 'not measured';

export interface Target {
  /** What is held to the limit, e.g. "optee at 88/s: world p99 / chain p99". */
  name: string;
  /** The measured figure (a ratio, a rate, milliseconds …); null when it could not be measured. */
  figure: number | null;
  comparison: '<=' | '>=';
  limit: number;
  /** The figure's unit as printed after it: 'x', 'msgs/s', 'ms', 'MiB'. */
  unit: string;
  verdict: Verdict;
}

/** a / b to two decimals; null when either is missing or b is not positive (no floor to compare with). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0) || !Number.isFinite(a)) return null;
  return Math.round((a / b) * 100) / 100;
}

export function judge(name: string, figure: number | null, comparison: '<=' | '>=', limit: number, unit: string): Target {
  const verdict: Verdict = figure === null || !Number.isFinite(figure) ? 'not measured' : (comparison === '<=' ? figure <= limit : figure >= limit) ? 'met' : 'missed';
  return { name, figure, comparison, limit, unit, verdict };
}

/** One line: "optee at 88/s: world p99 / chain p99  3.21x  (target <= 2x)  missed". */
export function targetLine(target: Target, width = 56): string {
  const figure = target.figure === null ? '—' : `${target.figure.toLocaleString('en')}${target.unit}`;
  const limit = `${target.limit.toLocaleString('en')}${target.unit}`;
  return `${target.name.padEnd(width)} ${figure.padStart(12)}  (target ${target.comparison} ${limit})  ${target.verdict}`;
}

/** Latency percentiles the targets compare, in milliseconds. */
export interface LatencyMs {
  p50: number;
  p99: number;
}

/**
 * The world's latency as a multiple of the chain's at the same offered rate, judged (<= `limit`)
 * only at rates up to half the world's capacity: past it the world queues by design, and the
 * ratio is reported for what it shows, not held to the target.
 */
export function latencyTargets(profile: string, rates: readonly { ratePerSecond: number; world: LatencyMs; chain: LatencyMs | null }[], halfCapacityPerSecond: number, limit: number): Target[] {
  const judged = rates.filter((r) => r.ratePerSecond <= halfCapacityPerSecond);
  if (judged.length === 0) return [judge(`${profile}: world / chain latency (no rate run at or below ${halfCapacityPerSecond}/s)`, null, '<=', limit, 'x')];
  return judged.flatMap((r) =>
    (['p50', 'p99'] as const).map((p) => judge(`${profile} at ${r.ratePerSecond}/s: world ${p} / chain ${p}`, ratio(r.world[p], r.chain?.[p]), '<=', limit, 'x')),
  );
}

export function tally(targets: readonly Target[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { met: 0, missed: 0, 'not measured': 0 };
  for (const t of targets) counts[t.verdict]++;
  return counts;
}
