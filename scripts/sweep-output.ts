/**
 * What a sweep prints: the verdict line, the determinism line, the causes and the failure groups
 * (each with its count, its lowest seeds and one replay command), or one JSON object. A sweep
 * and a merge of its shards (sweep-merge.ts) print through the same functions, so the two read
 * alike and --json gives the same fields.
 */
import { plural } from '../shared/plural.ts';
import { failureLines, sortedGroups, type Tally } from './sweep-tally.ts';

/** A sweep's and a merge's exit status (docs/cli.md). */
export const SWEEP_EXIT = { passed: 0, failed: 1, invalid: 2, interrupted: 130 } as const;

/** Failure groups printed, largest first. */
const PRINTED_GROUPS = 10;

/** A sweep, or a merge of a sweep's shards, when its seeds are counted. */
export interface SweepOutcome {
  name: string;
  file: string;
  from: number;
  seeds: number;
  /** Worker threads (a merge: the shards' added up). */
  jobs: number;
  checkDeterminism: boolean;
  tally: Tally;
  /** Interrupted (a merge: a shard was). */
  interrupted: boolean;
  /** Why not every seed was run, for the verdict line (", interrupted after 5 of 12 seeds"), or ''. */
  incomplete: string;
  wallMs: number;
}

export const sweepPassed = (outcome: SweepOutcome): boolean => outcome.tally.failed === 0 && outcome.incomplete === '';

const seedsPerSecond = (outcome: SweepOutcome): number => outcome.tally.done / Math.max(outcome.wallMs / 1000, 1e-3);

export function printSummary(outcome: SweepOutcome): void {
  const { tally } = outcome;
  const verdict = sweepPassed(outcome) ? 'PASS' : 'FAIL';
  console.log(`${verdict} ${tally.passed} passed, ${tally.failed} failed of ${tally.done} seeds in ${(outcome.wallMs / 1000).toFixed(1)} s (${seedsPerSecond(outcome).toFixed(1)} seeds/s)${outcome.incomplete}`);
  if (outcome.checkDeterminism) {
    const shared = tally.sameWorker > 0 ? ` (${tally.sameWorker} pairs ran in one worker)` : '';
    console.log(`  determinism: ${tally.done - tally.nondeterministic}/${tally.done} seeds gave the same history twice${shared}`);
  }
  if (tally.failed === 0) return;
  // Ties by name: a sweep and the merge of its shards list the causes alike.
  const causes = [...tally.causes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([cause, n]) => `${cause} ${n}`);
  console.log(`  failing: ${causes.join(', ')}`);
  const groups = sortedGroups(tally);
  for (const group of groups.slice(0, PRINTED_GROUPS)) {
    const more = group.count > group.seeds.length ? ', …' : '';
    const seeds = group.count === 1 ? `seed ${group.example.seed}` : `${plural(group.count, 'seed')} (${group.seeds.join(', ')}${more})`;
    console.log(`  ${seeds} failed this way${group.count === 1 ? '' : `; seed ${group.example.seed}`}:`);
    for (const line of failureLines(group.example)) console.log(`    ${line}`);
    console.log(`    replay: ${group.example.replay}`);
  }
  const unprinted = groups.slice(PRINTED_GROUPS).reduce((n, g) => n + g.count, 0) + tally.ungrouped;
  if (unprinted > 0) console.log(`  … and ${plural(unprinted, 'more failing seed')} that failed other ways (--json lists them)`);
}

export function jsonSummary(outcome: SweepOutcome): Record<string, unknown> {
  const { tally } = outcome;
  return {
    name: outcome.name,
    file: outcome.file,
    runtime: 'sim',
    from: outcome.from,
    to: outcome.from + outcome.seeds - 1,
    seeds: outcome.seeds,
    jobs: outcome.jobs,
    checkDeterminism: outcome.checkDeterminism,
    passed: sweepPassed(outcome),
    interrupted: outcome.interrupted,
    done: tally.done,
    passedSeeds: tally.passed,
    failedSeeds: tally.failed,
    nondeterministicSeeds: tally.nondeterministic,
    sameWorkerPairs: tally.sameWorker,
    causes: Object.fromEntries(tally.causes),
    wallMs: outcome.wallMs,
    runMs: tally.runMs,
    seedsPerSecond: Math.round(seedsPerSecond(outcome) * 10) / 10,
    failures: tally.failures,
    failuresOmitted: tally.failed - tally.failures.length,
    failureGroups: sortedGroups(tally).map((g) => ({ signature: g.signature, count: g.count, seeds: g.seeds, replay: g.example.replay })),
  };
}
