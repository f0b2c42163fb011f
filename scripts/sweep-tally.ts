/**
 * What a sweep counts as its seeds' verdicts come in: totals, causes, the lowest failing seeds and
 * the failing seeds grouped by how they failed. One tally per sweep, or one per shard of a sharded
 * sweep (`--shard I/K`); `mergeTallies` makes the shards' tallies into the one the unsharded sweep
 * would have counted (scripts/sweep-merge.ts, docs/cli.md).
 */
import { failureSignature } from '../services/orchestrator/report/failure-groups.ts';
import type { SeedSummary } from './sweep-task.ts';

/** Failing seeds kept for the terminal (and its failure groups' examples); the rest are counted. */
export const PRINTED_FAILURES = 20;
/** Failing seeds kept in --json output and in a shard's results file. */
export const JSON_FAILURES = 1000;
/** Distinct failure signatures kept, each with its count; past this, failures are counted as "other". */
export const MAX_FAILURE_GROUPS = 50;
/** Seeds named per failure group. */
export const SEEDS_NAMED = 8;

/** One seed's verdict: its run's summary (the failing run's, when one of two failed). */
export interface SeedVerdict extends SeedSummary {
  /** --check-determinism: the second run's hash and worker, and whether it matched. */
  second: { passed: boolean; historyHash: string; threadId: number } | null;
  nondeterministic: boolean;
}

export interface FailureGroup {
  signature: string;
  count: number;
  /** The lowest failing seeds of this group (at most SEEDS_NAMED). */
  seeds: number[];
  /** The lowest seed's verdict: its lines and its replay command. */
  example: SeedVerdict;
}

export interface Tally {
  done: number;
  passed: number;
  failed: number;
  nondeterministic: number;
  /** --check-determinism pairs that ran in one worker (no other was free, or --jobs 1). */
  sameWorker: number;
  causes: Map<string, number>;
  /** The lowest failing seeds (trimmed as it grows). */
  failures: SeedVerdict[];
  /** Failing seeds by how they failed (failureLines with the numbers out): count, lowest seeds, an example. */
  groups: Map<string, FailureGroup>;
  /** Failures past MAX_FAILURE_GROUPS distinct signatures. */
  ungrouped: number;
  runMs: number;
}

export function emptyTally(): Tally {
  return { done: 0, passed: 0, failed: 0, nondeterministic: 0, sameWorker: 0, causes: new Map(), failures: [], groups: new Map(), ungrouped: 0, runMs: 0 };
}

const shortHash = (hash: string): string => (hash === '' ? '(none: the run threw)' : `${hash.slice(0, 16)}…`);

/** What made a seed fail, one line each (bounded). */
export function failureLines(verdict: SeedVerdict): string[] {
  const lines: string[] = [];
  if (verdict.nondeterministic && verdict.second) {
    lines.push(`not deterministic: history sha256 ${shortHash(verdict.historyHash)} then ${shortHash(verdict.second.historyHash)} (workers ${verdict.threadId} and ${verdict.second.threadId})`);
  }
  if (verdict.error !== null) lines.push(`the run threw: ${verdict.error}`);
  for (const step of verdict.failingSteps.slice(0, 2)) lines.push(`step ${step.index} ${step.label}: ${step.detail}`);
  for (const check of verdict.failingChecks.slice(0, 3)) lines.push(`${check.name}: ${check.firstFailure ?? check.detail}`);
  if (lines.length === 0) lines.push(`the world ended ${verdict.ended}`);
  return lines.slice(0, 5);
}

/** How a seed failed, with the particulars (bits, IDs, times, hashes) taken out. */
export function failureSignatureOf(verdict: SeedVerdict): string {
  return failureSignature(failureLines(verdict).join('\n'));
}

function groupFailure(tally: Tally, verdict: SeedVerdict): void {
  const signature = failureSignatureOf(verdict);
  let group = tally.groups.get(signature);
  if (!group) {
    if (tally.groups.size >= MAX_FAILURE_GROUPS) {
      tally.ungrouped++;
      return;
    }
    group = { signature, count: 0, seeds: [], example: verdict };
    tally.groups.set(signature, group);
  }
  group.count++;
  if (verdict.seed < group.example.seed) group.example = verdict;
  group.seeds = lowestSeeds([...group.seeds, verdict.seed], SEEDS_NAMED);
}

const lowestSeeds = (seeds: number[], keep: number): number[] => seeds.sort((a, b) => a - b).slice(0, keep);

function causesOf(verdict: SeedVerdict): string[] {
  const causes: string[] = [];
  if (verdict.nondeterministic) causes.push('nondeterministic');
  if (verdict.error !== null) causes.push('threw');
  for (const check of verdict.failingChecks) causes.push(check.name);
  for (const step of verdict.failingSteps) causes.push(`step ${step.index}`);
  if (causes.length === 0 && !verdict.passed) causes.push(`ended ${verdict.ended}`);
  return causes;
}

/** Counts one seed's verdict; `keep` bounds the failing seeds kept whole. */
export function recordVerdict(tally: Tally, verdict: SeedVerdict, keep: number): void {
  tally.done++;
  tally.runMs += verdict.wallMs;
  if (verdict.second && verdict.second.threadId === verdict.threadId) tally.sameWorker++;
  if (verdict.passed) {
    tally.passed++;
    return;
  }
  tally.failed++;
  if (verdict.nondeterministic) tally.nondeterministic++;
  for (const cause of causesOf(verdict)) tally.causes.set(cause, (tally.causes.get(cause) ?? 0) + 1);
  groupFailure(tally, verdict);
  tally.failures.push(verdict);
  if (tally.failures.length >= 2 * keep) trimFailures(tally, keep);
}

/** Keeps the lowest `keep` failing seeds, in seed order. */
export function trimFailures(tally: Tally, keep: number): void {
  tally.failures.sort((a, b) => a.seed - b.seed);
  tally.failures.length = Math.min(tally.failures.length, keep);
}

/** --check-determinism: a seed's two runs as one verdict. */
export function pairVerdict(first: SeedSummary, second: SeedSummary): SeedVerdict {
  const nondeterministic = first.historyHash === '' || first.historyHash !== second.historyHash;
  const shown = !first.passed || second.passed ? first : second;
  const bothThrewAlike = first.error !== null && first.error === second.error;
  return {
    ...shown,
    wallMs: first.wallMs + second.wallMs,
    passed: first.passed && second.passed && !nondeterministic,
    nondeterministic: nondeterministic && !bothThrewAlike,
    second: { passed: second.passed, historyHash: second.historyHash, threadId: second.threadId },
  };
}

/** Largest first; ties by their lowest seed. */
export function sortedGroups(tally: Tally): FailureGroup[] {
  return [...tally.groups.values()].sort((a, b) => b.count - a.count || a.example.seed - b.example.seed);
}

function mergeGroup(into: Map<string, FailureGroup>, group: FailureGroup): void {
  const known = into.get(group.signature);
  if (!known) {
    into.set(group.signature, { ...group, seeds: [...group.seeds] });
    return;
  }
  known.count += group.count;
  known.seeds = lowestSeeds([...known.seeds, ...group.seeds], SEEDS_NAMED);
  if (group.example.seed < known.example.seed) known.example = group.example;
}

/**
 * The tally of disjoint sets of seeds counted apart (a sharded sweep's shards), as one: the same
 * totals, causes, lowest failing seeds and groups as one tally over all of them. With more than
 * MAX_FAILURE_GROUPS distinct signatures the largest are kept and the rest counted as ungrouped
 * (which of them a single sweep keeps depends on the order its seeds finished in).
 */
export function mergeTallies(tallies: readonly Tally[], keep: number): Tally {
  const merged = emptyTally();
  const groups = new Map<string, FailureGroup>();
  for (const tally of tallies) {
    merged.done += tally.done;
    merged.passed += tally.passed;
    merged.failed += tally.failed;
    merged.nondeterministic += tally.nondeterministic;
    merged.sameWorker += tally.sameWorker;
    merged.ungrouped += tally.ungrouped;
    merged.runMs += tally.runMs;
    for (const [cause, n] of tally.causes) merged.causes.set(cause, (merged.causes.get(cause) ?? 0) + n);
    merged.failures.push(...tally.failures);
    for (const group of tally.groups.values()) mergeGroup(groups, group);
  }
  trimFailures(merged, keep);
  const ranked = sortedGroups({ ...merged, groups });
  for (const group of ranked.slice(0, MAX_FAILURE_GROUPS)) merged.groups.set(group.signature, group);
  merged.ungrouped += ranked.slice(MAX_FAILURE_GROUPS).reduce((n, g) => n + g.count, 0);
  return merged;
}
