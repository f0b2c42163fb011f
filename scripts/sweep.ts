/**
 * `ffa-world sweep FILE --seeds N`: one scenario under the sim runtime over seeds
 * S..S+N-1, in parallel in a piscina pool (sweep-worker.mjs → sweep-task.ts), with a verdict per
 * seed and the replay command of every failing one. Sweeps are sim-only: a file's `runtime: ws`
 * and `seed` are not used.
 *
 * The scheduler feeds the pool itself, one task per idle worker (never more than the pool has
 * threads, so a million seeds never sit in piscina's queue). With --check-determinism every seed
 * runs twice and the second run goes to another worker than the first where one exists (a load
 * balancer reads the task's hint); the two history hashes must be equal.
 *
 * Exit status: 0 every seed passed (and was deterministic), 1 a seed failed, 2 invalid arguments or
 * scenario (loaded once here first, so the loader's file:line:column message is printed), 130 when
 * interrupted (the seeds done so far are summarized).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Presets, SingleBar } from 'cli-progress';
import { Piscina } from 'piscina';
import { readScenarioFile, ScenarioError } from '../services/orchestrator/scenario/reader/index.ts';
import { replayCommand } from '../services/orchestrator/run/runner.ts';
import type { Scenario } from '../services/orchestrator/scenario/types.ts';
import type { SeedSummary, SweepTask } from './sweep-task.ts';
import { failureSignature } from '../services/orchestrator/report/failure-groups.ts';
import { plural } from '../shared/plural.ts';

import { SWEEP_LIMITS } from './cli/limits.ts';

export { SWEEP_LIMITS };
/** Failing seeds kept for the terminal (and its failure groups' examples); the rest are counted. */
const PRINTED_FAILURES = 20;
/** Distinct failure signatures kept, each with its count; past this, failures are counted as "other". */
const MAX_FAILURE_GROUPS = 50;
/** Failure groups printed, largest first, and seeds named per group. */
const PRINTED_GROUPS = 10;
const SEEDS_NAMED = 8;
/** Failing seeds kept in --json output. */
const JSON_FAILURES = 1000;
const EXIT = { passed: 0, failed: 1, invalid: 2, interrupted: 130 } as const;

export interface SweepOptions {
  file: string;
  seeds: number;
  from: number;
  jobs: number;
  checkDeterminism: boolean;
  json: boolean;
}

/** One seed's verdict: its run's summary (the failing run's, when one of two failed). */
export interface SeedVerdict extends SeedSummary {
  /** --check-determinism: the second run's hash and worker, and whether it matched. */
  second: { passed: boolean; historyHash: string; threadId: number } | null;
  nondeterministic: boolean;
}

function integerOption(name: string, value: unknown, min: number, max: number): number | string {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) return `--${name} must be an integer in ${min}..${max}, not ${String(value)}`;
  return n;
}

/** The command line's options, checked; a string is what is wrong with them (exit 2). */
export function parseSweepOptions(file: unknown, options: Record<string, unknown>): SweepOptions | string {
  if (typeof file !== 'string' || file === '') return 'sweep needs one scenario file';
  if (options.seeds === undefined) return 'sweep needs --seeds N (how many seeds to run)';
  const seeds = integerOption('seeds', options.seeds, 1, SWEEP_LIMITS.seeds);
  if (typeof seeds === 'string') return seeds;
  const from = options.from === undefined ? 1 : integerOption('from', options.from, 0, SWEEP_LIMITS.seedMax);
  if (typeof from === 'string') return from;
  if (from + seeds - 1 > SWEEP_LIMITS.seedMax) return `--from ${from} --seeds ${seeds} goes past the last seed, ${SWEEP_LIMITS.seedMax}`;
  const jobs = options.jobs === undefined ? availableParallelism() : integerOption('jobs', options.jobs, 1, SWEEP_LIMITS.jobs);
  if (typeof jobs === 'string') return jobs;
  for (const flag of ['checkDeterminism', 'json'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') return `--${flag === 'json' ? 'json' : 'check-determinism'} takes no value`;
  }
  return { file, seeds, from, jobs, checkDeterminism: options.checkDeterminism === true, json: options.json === true };
}

// ---------------------------------------------------------------- the pool and its scheduler

/** A run handed to the pool; `[queueOptionsSymbol]` is the balancer's hint (not sent to the worker). */
interface Job {
  seed: number;
  /** Second run of a --check-determinism pair. */
  second: boolean;
  /** The worker the scheduler picked it for, and the worker of the pair's first run. */
  target: number | null;
  avoid: number | null;
  /** The worker the balancer gave it to. */
  assigned: number | null;
}

type PoolTask = SweepTask & { [key: symbol]: Job };

interface BalancedWorker {
  id: number;
  currentUsage: number;
  terminating: boolean;
  destroyed: boolean;
}

const HINT = Piscina.queueOptionsSymbol;

/**
 * Piscina load balancer: an idle worker, the one the scheduler picked if it is idle, else one
 * that did not run the pair's first run, else any (the pair then shares a worker: counted).
 */
function hintedBalancer(task: unknown, workers: BalancedWorker[]): BalancedWorker | null {
  const job = (task as Record<symbol, Job | null | undefined>)[HINT] ?? null;
  const idle = workers.filter((w) => w.currentUsage === 0 && !w.terminating && !w.destroyed);
  const chosen = idle.find((w) => w.id === job?.target) ?? idle.find((w) => w.id !== job?.avoid) ?? idle[0] ?? null;
  if (chosen && job) job.assigned = chosen.id;
  return chosen;
}

interface Tally {
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

export interface FailureGroup {
  signature: string;
  count: number;
  /** The lowest failing seeds of this group (at most SEEDS_NAMED). */
  seeds: number[];
  /** The lowest seed's verdict: its lines and its replay command. */
  example: SeedVerdict;
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
  group.seeds.push(verdict.seed);
  group.seeds.sort((a, b) => a - b);
  if (group.seeds.length > SEEDS_NAMED) group.seeds.length = SEEDS_NAMED;
}

function causesOf(verdict: SeedVerdict): string[] {
  const causes: string[] = [];
  if (verdict.nondeterministic) causes.push('nondeterministic');
  if (verdict.error !== null) causes.push('threw');
  for (const check of verdict.failingChecks) causes.push(check.name);
  for (const step of verdict.failingSteps) causes.push(`step ${step.index}`);
  if (causes.length === 0 && !verdict.passed) causes.push(`ended ${verdict.ended}`);
  return causes;
}

function record(tally: Tally, verdict: SeedVerdict, keep: number): void {
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
  if (tally.failures.length >= 2 * keep) {
    tally.failures.sort((a, b) => a.seed - b.seed);
    tally.failures.length = keep;
  }
}

function pairVerdict(first: SeedSummary, second: SeedSummary): SeedVerdict {
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

/** A task the pool rejected (its worker died): that seed's failure, never the sweep's. */
function rejectedRun(scenario: Scenario, job: Job, error: unknown): SeedSummary {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    seed: job.seed,
    passed: false,
    ended: 'threw',
    failingSteps: [],
    failingChecks: [],
    error: `the worker failed: ${message}`,
    historyHash: '',
    replay: replayCommand(scenario, 'sim', job.seed),
    wallMs: 0,
    threadId: job.assigned ?? -1,
  };
}

interface SweepRun {
  tally: Tally;
  interrupted: boolean;
}

async function runSeeds(options: SweepOptions, scenario: Scenario, onVerdict: (tally: Tally) => void): Promise<SweepRun> {
  const { file, seeds, from, checkDeterminism } = options;
  const threads = Math.min(options.jobs, seeds * (checkDeterminism ? 2 : 1));
  const keep = options.json ? JSON_FAILURES : PRINTED_FAILURES;
  const tally: Tally = { done: 0, passed: 0, failed: 0, nondeterministic: 0, sameWorker: 0, causes: new Map(), failures: [], groups: new Map(), ungrouped: 0, runMs: 0 };
  const pool = new Piscina<PoolTask, SeedSummary>({
    filename: fileURLToPath(new URL('./sweep-worker.mjs', import.meta.url)),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    loadBalancer: hintedBalancer as never,
  });
  let nextFirst = 0;
  /** --check-determinism: first runs done, by the worker that ran them, waiting for their second. */
  const waiting = new Map<number, SeedSummary[]>();
  const inFlight = new Set<Job>();
  let interrupted = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const waitingFrom = (worker: number | null, own: boolean): SeedSummary | undefined => {
    for (const [ranOn, list] of waiting) {
      if ((ranOn === worker) === own && list.length > 0) return list.shift();
    }
    return undefined;
  };
  /** Workers that have run something: a worker still starting (a replacement) gets first runs only. */
  const known = new Set<number>();
  /** The next run for a worker: a second run whose first ran elsewhere, else a new seed. */
  const pick = (worker: number | null): Job | null => {
    const other = worker === null || known.has(worker) ? waitingFrom(worker, false) : undefined;
    if (other) return { seed: other.seed, second: true, target: worker, avoid: other.threadId, assigned: null };
    if (nextFirst < seeds) return { seed: from + nextFirst++, second: false, target: worker, avoid: null, assigned: null };
    const own = threads === 1 ? waitingFrom(worker, true) : undefined;
    return own ? { seed: own.seed, second: true, target: worker, avoid: own.threadId, assigned: null } : null;
  };
  const firsts = new Map<number, SeedSummary>();

  const settle = (job: Job, summary: SeedSummary): void => {
    inFlight.delete(job);
    if (job.assigned !== null) known.add(job.assigned);
    if (!checkDeterminism) {
      record(tally, { ...summary, second: null, nondeterministic: false }, keep);
      onVerdict(tally);
    } else if (!job.second) {
      firsts.set(job.seed, summary);
      const list = waiting.get(summary.threadId) ?? [];
      list.push(summary);
      waiting.set(summary.threadId, list);
    } else {
      const first = firsts.get(job.seed) as SeedSummary;
      firsts.delete(job.seed);
      record(tally, pairVerdict(first, summary), keep);
      onVerdict(tally);
    }
    pump();
  };
  const submit = (job: Job): void => {
    inFlight.add(job);
    pool.run({ file, seed: job.seed, [HINT]: job }).then(
      (summary) => settle(job, summary),
      (error: unknown) => settle(job, rejectedRun(scenario, job, error)),
    );
  };
  function pump(): void {
    if (!interrupted) {
      // A worker is busy with the job the balancer gave it, or reserved by a job still queued for it.
      const busy = new Set([...inFlight].map((job) => job.assigned ?? job.target));
      for (const worker of pool.threads) {
        if (inFlight.size >= threads) break;
        if (busy.has(worker.threadId)) continue;
        const job = pick(worker.threadId);
        if (job) submit(job);
      }
      // Only second runs no idle worker may take are left, and nothing runs: let the balancer place one.
      if (inFlight.size === 0) {
        const own = waitingFrom(null, false);
        if (own) submit({ seed: own.seed, second: true, target: null, avoid: own.threadId, assigned: null });
      }
    }
    if (inFlight.size === 0) finish();
  }

  const onSigint = (): void => {
    interrupted = true;
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  try {
    pump();
    await finished;
  } finally {
    process.off('SIGINT', onSigint);
    await pool.destroy();
  }
  tally.failures.sort((a, b) => a.seed - b.seed);
  tally.failures.length = Math.min(tally.failures.length, keep);
  return { tally, interrupted };
}

// ---------------------------------------------------------------- output

function progressBar(options: SweepOptions, scenario: Scenario): SingleBar | null {
  if (options.json || !process.stderr.isTTY || process.env.CI) return null;
  const bar = new SingleBar(
    { format: `  ${scenario.name} [{bar}] {value}/{total} seeds, {failed} failed, {eta_formatted} left`, etaBuffer: 200, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(options.seeds, 0, { failed: 0 });
  return bar;
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

function header(options: SweepOptions, scenario: Scenario, threads: number): string {
  const last = options.from + options.seeds - 1;
  const notes: string[] = [];
  if (scenario.runtime === 'ws') notes.push('the file\'s runtime: ws is not used, sweeps run under sim');
  if (scenario.seed !== null) notes.push(`the file's seed ${scenario.seed} is not used`);
  const twice = options.checkDeterminism ? ', each seed twice (determinism)' : '';
  return `sweep ${scenario.name} (${options.file}): seeds ${options.from}..${last} (${options.seeds}), runtime sim, ${threads} worker${threads === 1 ? '' : 's'}${twice}${notes.length > 0 ? `\n  (${notes.join('; ')})` : ''}`;
}

function printSummary(options: SweepOptions, run: SweepRun, wallMs: number): void {
  const { tally } = run;
  const rate = tally.done / Math.max(wallMs / 1000, 1e-3);
  const verdict = tally.failed === 0 && !run.interrupted ? 'PASS' : 'FAIL';
  const stopped = run.interrupted ? `, interrupted after ${tally.done} of ${options.seeds} seeds` : '';
  console.log(`${verdict} ${tally.passed} passed, ${tally.failed} failed of ${tally.done} seeds in ${(wallMs / 1000).toFixed(1)} s (${rate.toFixed(1)} seeds/s)${stopped}`);
  if (options.checkDeterminism) {
    const shared = tally.sameWorker > 0 ? ` (${tally.sameWorker} pairs ran in one worker)` : '';
    console.log(`  determinism: ${tally.done - tally.nondeterministic}/${tally.done} seeds gave the same history twice${shared}`);
  }
  if (tally.failed === 0) return;
  const causes = [...tally.causes].sort((a, b) => b[1] - a[1]).map(([cause, n]) => `${cause} ${n}`);
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

/** Largest first; ties by their lowest seed. */
function sortedGroups(tally: Tally): FailureGroup[] {
  return [...tally.groups.values()].sort((a, b) => b.count - a.count || a.example.seed - b.example.seed);
}

function jsonSummary(options: SweepOptions, scenario: Scenario, threads: number, run: SweepRun, wallMs: number): unknown {
  const { tally } = run;
  return {
    name: scenario.name,
    file: options.file,
    runtime: 'sim',
    from: options.from,
    to: options.from + options.seeds - 1,
    seeds: options.seeds,
    jobs: threads,
    checkDeterminism: options.checkDeterminism,
    passed: tally.failed === 0 && !run.interrupted,
    interrupted: run.interrupted,
    done: tally.done,
    passedSeeds: tally.passed,
    failedSeeds: tally.failed,
    nondeterministicSeeds: tally.nondeterministic,
    sameWorkerPairs: tally.sameWorker,
    causes: Object.fromEntries(tally.causes),
    wallMs,
    runMs: tally.runMs,
    seedsPerSecond: Math.round((tally.done / Math.max(wallMs / 1000, 1e-3)) * 10) / 10,
    failures: tally.failures,
    failuresOmitted: tally.failed - tally.failures.length,
    failureGroups: sortedGroups(tally).map((g) => ({ signature: g.signature, count: g.count, seeds: g.seeds, replay: g.example.replay })),
  };
}

export async function runSweep(options: SweepOptions): Promise<number> {
  let scenario: Scenario;
  try {
    scenario = readScenarioFile(options.file);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    console.error(`ffa-world: invalid scenario: ${error.message}`);
    return EXIT.invalid;
  }
  const threads = Math.min(options.jobs, options.seeds * (options.checkDeterminism ? 2 : 1));
  if (!options.json) console.log(header(options, scenario, threads));
  const started = process.hrtime.bigint();
  const bar = progressBar(options, scenario);
  let run: SweepRun;
  try {
    run = await runSeeds(options, scenario, (tally) => bar?.update(tally.done, { failed: tally.failed }));
  } finally {
    bar?.stop();
  }
  const wallMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  if (options.json) console.log(JSON.stringify(jsonSummary(options, scenario, threads, run, wallMs)));
  else printSummary(options, run, wallMs);
  if (run.interrupted) return EXIT.interrupted;
  return run.tally.failed === 0 ? EXIT.passed : EXIT.failed;
}
