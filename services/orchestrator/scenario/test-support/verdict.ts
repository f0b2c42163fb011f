/**
 * A run's verdict as a test may assert it. Under ws, time is the machine's: a latency threshold
 * is a speed target, and speed targets are measured in benchmarks, not asserted in tests that
 * must hold on a loaded 2-core CI machine (a clean-clone CI run once failed the default world's
 * p99 ≤ 100 ms under load). So under ws a missed latency threshold is reported (printed as a
 * test diagnostic), not failed; under sim, time is virtual and every check counts.
 */
import type { ScenarioResult } from '../types.ts';

type Judged = Pick<ScenarioResult, 'runtime' | 'ended' | 'steps' | 'checks'>;

/** no-lost-notification's detail when every failure was a delivery past the liveness bound (no-lost-notification.ts). */
/** "N late notification(s)", with "(first K shown)" when the checker lists only some of them. */
const ONLY_LATE = /^\d+ late notifications?( \(first \d+ shown\))?;/;

/**
 * Is this check a speed figure in this run (not asserted)? Under ws: a latency threshold, and a
 * no-lost-notification whose every failure is a bit delivered late, not lost (late is a matter of
 * speed: docs/load-and-benchmarks.md "Late is not lost").
 */
export function isSpeedFigure(result: Pick<ScenarioResult, 'runtime'>, check: ScenarioResult['checks'][number]): boolean {
  if (result.runtime !== 'ws' || check.expectFail) return false;
  return check.name === 'latency' || (check.name === 'no-lost-notification' && ONLY_LATE.test(check.detail));
}

/** What failed, apart from speed figures: the run's ending, steps, checks. Empty: the run held. */
export function failuresApartFromSpeed(result: Judged): string[] {
  for (const check of result.checks) {
    if (isSpeedFigure(result, check) && !check.passed) process.stdout.write(`# speed figure (not asserted under ws): ${check.detail}\n`);
  }
  return [
    ...(result.ended === 'done' ? [] : [`the run ended ${result.ended}`]),
    ...result.steps.filter((s) => !s.passed).map((s) => `step ${s.index} ${s.label}: ${s.detail}`),
    ...result.checks.filter((c) => !c.passed && !isSpeedFigure(result, c)).map((c) => `${c.name}: ${c.detail}`),
  ];
}
