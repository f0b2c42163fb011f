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
 * `--shard I/K` runs only shard I's block of the seeds, and `--out DIR` writes what the shard
 * counted into DIR for `ffa-world sweep merge` (sweep-shard.ts, sweep-merge.ts).
 *
 * Exit status: 0 every seed passed (and was deterministic), 1 a seed failed, 2 invalid arguments or
 * scenario (loaded once here first, so the loader's file:line:column message is printed), 130 when
 * interrupted (the seeds done so far are summarized, and written with --out).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Presets, SingleBar } from 'cli-progress';
import { Piscina } from 'piscina';
import { readScenarioFile, ScenarioError } from '../services/orchestrator/scenario/reader/index.ts';
import { replayCommand } from '../services/orchestrator/run/runner.ts';
import type { Scenario } from '../services/orchestrator/scenario/types.ts';
import type { SeedSummary, SweepTask } from './sweep-task.ts';
import { SWEEP_LIMITS } from './cli/limits.ts';
import { jsonSummary, printSummary, SWEEP_EXIT, type SweepOutcome } from './sweep-output.ts';
import { outcomeOf, OUTCOME, parseShard, type Shard, shardResults, shardSeeds, writeShardResults } from './sweep-shard.ts';
import { emptyTally, JSON_FAILURES, pairVerdict, PRINTED_FAILURES, recordVerdict, type SeedVerdict, type Tally, trimFailures } from './sweep-tally.ts';

export { SWEEP_LIMITS };
export { failureSignatureOf, type SeedVerdict } from './sweep-tally.ts';

export interface SweepOptions {
  file: string;
  seeds: number;
  from: number;
  jobs: number;
  checkDeterminism: boolean;
  json: boolean;
  /** --shard I/K: run only shard I's block of the seeds. */
  shard: Shard | null;
  /** --out DIR: write the results file there (a sweep without --shard is shard 0/1). */
  out: string | null;
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
  const shard = options.shard === undefined ? null : parseShard(options.shard, seeds);
  if (typeof shard === 'string') return shard;
  if (options.out !== undefined && (typeof options.out !== 'string' || options.out === '')) return '--out needs a folder';
  const out = options.out === undefined ? null : options.out;
  return { file, seeds, from, jobs, checkDeterminism: options.checkDeterminism === true, json: options.json === true, shard, out };
}

/** The seeds this command runs: the whole sweep's, or its shard's block. */
function seedRange(options: SweepOptions): { from: number; seeds: number } {
  return options.shard ? shardSeeds(options.from, options.seeds, options.shard) : { from: options.from, seeds: options.seeds };
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

/** Seeds `from`..`from+seeds-1` in the pool; `keep` bounds the failing seeds kept whole. */
interface SeedRun {
  file: string;
  from: number;
  seeds: number;
  threads: number;
  checkDeterminism: boolean;
  keep: number;
}

async function runSeeds(run: SeedRun, scenario: Scenario, onVerdict: (tally: Tally, verdict: SeedVerdict) => void): Promise<SweepRun> {
  const { file, seeds, from, checkDeterminism, threads, keep } = run;
  const tally = emptyTally();
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
      const verdict = { ...summary, second: null, nondeterministic: false };
      recordVerdict(tally, verdict, keep);
      onVerdict(tally, verdict);
    } else if (!job.second) {
      firsts.set(job.seed, summary);
      const list = waiting.get(summary.threadId) ?? [];
      list.push(summary);
      waiting.set(summary.threadId, list);
    } else {
      const first = firsts.get(job.seed) as SeedSummary;
      firsts.delete(job.seed);
      const verdict = pairVerdict(first, summary);
      recordVerdict(tally, verdict, keep);
      onVerdict(tally, verdict);
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
  trimFailures(tally, keep);
  return { tally, interrupted };
}

// ---------------------------------------------------------------- output

function progressBar(options: SweepOptions, scenario: Scenario, seeds: number): SingleBar | null {
  if (options.json || !process.stderr.isTTY || process.env.CI) return null;
  const bar = new SingleBar(
    { format: `  ${scenario.name} [{bar}] {value}/{total} seeds, {failed} failed, {eta_formatted} left`, etaBuffer: 200, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(seeds, 0, { failed: 0 });
  return bar;
}

function header(options: SweepOptions, scenario: Scenario, threads: number): string {
  const range = seedRange(options);
  const seeds = `seeds ${range.from}..${range.from + range.seeds - 1} (${range.seeds})`;
  const shard = options.shard ? `shard ${options.shard.index}/${options.shard.count}, ${seeds} of ${options.from}..${options.from + options.seeds - 1}` : seeds;
  const notes: string[] = [];
  if (scenario.runtime === 'ws') notes.push('the file\'s runtime: ws is not used, sweeps run under sim');
  if (scenario.seed !== null) notes.push(`the file's seed ${scenario.seed} is not used`);
  const twice = options.checkDeterminism ? ', each seed twice (determinism)' : '';
  return `sweep ${scenario.name} (${options.file}): ${shard}, runtime sim, ${threads} worker${threads === 1 ? '' : 's'}${twice}${notes.length > 0 ? `\n  (${notes.join('; ')})` : ''}`;
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The results file of this sweep (shard 0/1 when not sharded) in `out`; its path. */
function writeResults(options: SweepOptions & { out: string }, scenario: Scenario, outcome: SweepOutcome, outcomes: string): string {
  const sweep = { from: options.from, seeds: options.seeds, checkDeterminism: options.checkDeterminism };
  const shard = options.shard ?? { index: 0, count: 1 };
  const { tally, interrupted, wallMs, jobs } = outcome;
  return writeShardResults(options.out, shardResults({ version, scenario, file: options.file, sweep, shard, jobs, tally, outcomes, interrupted, wallMs }));
}

function loadScenario(file: string): Scenario | string {
  try {
    return readScenarioFile(file);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    return `invalid scenario: ${error.message}`;
  }
}

/** --out's folder, made before any seed runs, so a bad path costs nothing; a string is why not. */
function makeOutFolder(out: string | null): string | null {
  if (out === null) return null;
  try {
    mkdirSync(out, { recursive: true });
    return null;
  } catch (error) {
    return `--out ${out}: cannot make the folder: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export async function runSweep(options: SweepOptions): Promise<number> {
  const scenario = loadScenario(options.file);
  const refused = typeof scenario === 'string' ? scenario : makeOutFolder(options.out);
  if (typeof scenario === 'string' || refused !== null) {
    console.error(`ffa-world: ${refused}`);
    return SWEEP_EXIT.invalid;
  }
  const range = seedRange(options);
  const threads = Math.min(options.jobs, range.seeds * (options.checkDeterminism ? 2 : 1));
  if (!options.json) console.log(header(options, scenario, threads));
  const started = process.hrtime.bigint();
  const bar = progressBar(options, scenario, range.seeds);
  const outcomes: string[] = options.out === null ? [] : new Array<string>(range.seeds).fill(OUTCOME.notRun);
  const keep = options.json || options.out !== null ? JSON_FAILURES : PRINTED_FAILURES;
  let run: SweepRun;
  try {
    run = await runSeeds({ ...range, file: options.file, threads, checkDeterminism: options.checkDeterminism, keep }, scenario, (tally, verdict) => {
      if (options.out !== null) outcomes[verdict.seed - range.from] = outcomeOf(verdict);
      bar?.update(tally.done, { failed: tally.failed });
    });
  } finally {
    bar?.stop();
  }
  const wallMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const incomplete = run.interrupted ? `, interrupted after ${run.tally.done} of ${range.seeds} seeds` : '';
  const outcome: SweepOutcome = { ...range, name: scenario.name, file: options.file, jobs: threads, checkDeterminism: options.checkDeterminism, ...run, incomplete, wallMs };
  const resultsFile = options.out === null ? null : writeResults({ ...options, out: options.out }, scenario, outcome, outcomes.join(''));
  if (options.json) console.log(JSON.stringify({ ...jsonSummary(outcome), ...(options.shard ? { shard: options.shard } : {}), ...(resultsFile ? { resultsFile } : {}) }));
  else {
    printSummary(outcome);
    if (resultsFile) console.log(`results: ${resultsFile} (ffa-world sweep merge ${options.out} reads it)`);
  }
  if (run.interrupted) return SWEEP_EXIT.interrupted;
  return run.tally.failed === 0 ? SWEEP_EXIT.passed : SWEEP_EXIT.failed;
}
