/**
 * A sharded sweep: `ffa-world sweep FILE --seeds N --shard I/K --out DIR` runs shard I of K and
 * writes its results file into DIR; `ffa-world sweep merge DIR...` (sweep-merge.ts) reads the K
 * files back as the one sweep (docs/cli.md, docs/beyond-one-machine.md).
 *
 * Seeds go to shards in contiguous blocks: shard I runs the I-th block of S..S+N-1, the first
 * N mod K blocks one seed longer than the rest. A shard is then an ordinary sweep over its own
 * range (`--from A --seeds B` reruns it on one machine), its results file names one range, and
 * nothing is lost in balance: seeds are independent draws, so a block costs what any K-th costs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Scenario } from '../services/orchestrator/scenario/types.ts';
import { SWEEP_LIMITS } from './cli/limits.ts';
import { JSON_FAILURES, MAX_FAILURE_GROUPS, SEEDS_NAMED, type SeedVerdict, type Tally } from './sweep-tally.ts';

export interface Shard {
  index: number;
  count: number;
}

/** `--shard I/K`, checked against the sweep's seed count; a string is what is wrong with it. */
export function parseShard(value: unknown, seeds: number): Shard | string {
  const match = /^(\d{1,9})\/(\d{1,9})$/.exec(String(value));
  if (!match) return `--shard must be I/K (shard I of K, counted from 0), not ${String(value)}`;
  const [index, count] = [Number(match[1]), Number(match[2])];
  if (count < 1 || count > SWEEP_LIMITS.shards) return `--shard ${index}/${count}: K must be in 1..${SWEEP_LIMITS.shards}`;
  if (index >= count) return `--shard ${index}/${count}: I must be in 0..${count - 1}`;
  if (count > seeds) return `--shard ${index}/${count}: more shards than --seeds ${seeds} (a shard runs at least one seed)`;
  return { index, count };
}

/** The block of seeds S..S+N-1 that shard I of K runs: its first seed and how many. */
export function shardSeeds(from: number, seeds: number, shard: Shard): { from: number; seeds: number } {
  const base = Math.floor(seeds / shard.count);
  const longer = seeds % shard.count;
  return { from: from + shard.index * base + Math.min(shard.index, longer), seeds: base + (shard.index < longer ? 1 : 0) };
}

// ---------------------------------------------------------------- the results file

export const RESULTS_FORMAT = 'ffa-world-sweep-shard';
export const RESULTS_FORMAT_VERSION = 1;
/** A results file holds at most a million outcome letters and JSON_FAILURES verdicts. */
const RESULTS_BYTES_MAX = 64 * 1024 * 1024;
const RESULTS_FILE = /^sweep-shard-(\d+)-of-(\d+)\.json$/;

export const resultsFileName = (shard: Shard): string => `sweep-shard-${shard.index}-of-${shard.count}.json`;
export const isResultsFileName = (name: string): boolean => RESULTS_FILE.test(name);

/** One letter per seed of the shard, in seed order. */
export const OUTCOME = { passed: '.', failed: 'F', nondeterministic: 'N', notRun: '-' } as const;

export function outcomeOf(verdict: SeedVerdict): string {
  if (verdict.passed) return OUTCOME.passed;
  return verdict.nondeterministic ? OUTCOME.nondeterministic : OUTCOME.failed;
}

/**
 * The scenario as the sweep ran it: its parsed form without what a sweep does not use (its path,
 * seed and runtime), so the same world and checks hash alike on every machine, wherever the
 * file sits and however it is laid out.
 */
export function scenarioSha256(scenario: Scenario): string {
  const { file: _file, seed: _seed, runtime: _runtime, ...used } = scenario;
  const text = JSON.stringify(used, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
  return createHash('sha256').update(text).digest('hex');
}

const count = z.number().int().min(0).max(SWEEP_LIMITS.seeds);
const seed = z.number().int().min(0).max(SWEEP_LIMITS.seedMax);
const text = z.string().max(4096);

const seedVerdictSchema: z.ZodType<SeedVerdict> = z.object({
  seed,
  passed: z.boolean(),
  ended: text,
  failingSteps: z.array(z.object({ index: z.number().int(), label: text, detail: text })).max(1000),
  failingChecks: z.array(z.object({ name: text, detail: text, firstFailure: text.nullable() })).max(1000),
  error: text.nullable(),
  historyHash: text,
  replay: text,
  wallMs: z.number().min(0),
  threadId: z.number().int(),
  second: z.object({ passed: z.boolean(), historyHash: text, threadId: z.number().int() }).nullable(),
  nondeterministic: z.boolean(),
});

const resultsSchema = z.object({
  format: z.literal(RESULTS_FORMAT),
  formatVersion: z.literal(RESULTS_FORMAT_VERSION),
  ffaWorldVersion: text,
  scenario: z.object({ name: text, file: text, sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  sweep: z.object({ from: seed, seeds: count.min(1), checkDeterminism: z.boolean() }),
  shard: z.object({ index: z.number().int().min(0), count: z.number().int().min(1).max(SWEEP_LIMITS.shards), from: seed, seeds: count }),
  interrupted: z.boolean(),
  jobs: z.number().int().min(0).max(SWEEP_LIMITS.jobs),
  wallMs: z.number().min(0),
  totals: z.object({ done: count, passed: count, failed: count, ungrouped: count, runMs: z.number().min(0) }),
  determinism: z.object({ checked: z.boolean(), nondeterministicSeeds: count, sameWorkerPairs: count }),
  causes: z.record(text, count),
  outcomes: z.string().max(SWEEP_LIMITS.seeds).regex(/^[.FN-]*$/),
  failures: z.array(seedVerdictSchema).max(JSON_FAILURES),
  failureGroups: z
    .array(z.object({ signature: text, count: count.min(1), seeds: z.array(seed).max(SEEDS_NAMED), example: seedVerdictSchema }))
    .max(MAX_FAILURE_GROUPS),
});

export type ShardResults = z.infer<typeof resultsSchema>;

export interface ShardRun {
  version: string;
  scenario: Scenario;
  file: string;
  sweep: { from: number; seeds: number; checkDeterminism: boolean };
  shard: Shard;
  jobs: number;
  tally: Tally;
  outcomes: string;
  interrupted: boolean;
  wallMs: number;
}

export function shardResults(run: ShardRun): ShardResults {
  const { tally } = run;
  return {
    format: RESULTS_FORMAT,
    formatVersion: RESULTS_FORMAT_VERSION,
    ffaWorldVersion: run.version,
    scenario: { name: run.scenario.name, file: run.file, sha256: scenarioSha256(run.scenario) },
    sweep: run.sweep,
    shard: { ...run.shard, ...shardSeeds(run.sweep.from, run.sweep.seeds, run.shard) },
    interrupted: run.interrupted,
    jobs: run.jobs,
    wallMs: run.wallMs,
    totals: { done: tally.done, passed: tally.passed, failed: tally.failed, ungrouped: tally.ungrouped, runMs: tally.runMs },
    determinism: { checked: run.sweep.checkDeterminism, nondeterministicSeeds: tally.nondeterministic, sameWorkerPairs: tally.sameWorker },
    causes: Object.fromEntries(tally.causes),
    outcomes: run.outcomes,
    failures: tally.failures.slice(0, JSON_FAILURES),
    failureGroups: [...tally.groups.values()],
  };
}

/** Writes the shard's results into `dir`, whole or not at all (a merge never reads half a file). */
export function writeShardResults(dir: string, results: ShardResults): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, resultsFileName(results.shard));
  const partial = `${path}.partial`;
  writeFileSync(partial, `${JSON.stringify(results)}\n`);
  renameSync(partial, path);
  return path;
}

/** A results file that cannot be read as one: its path and why. */
export class ResultsFileError extends Error {
  override readonly name = 'ResultsFileError';
}

/** A shard's results back from its file, checked whole; throws ResultsFileError. */
export function readShardResults(path: string): ShardResults {
  let json: unknown;
  try {
    const size = statSync(path).size;
    if (size > RESULTS_BYTES_MAX) throw new ResultsFileError(`${path}: ${size} bytes, more than a results file holds (${RESULTS_BYTES_MAX})`);
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    if (error instanceof ResultsFileError) throw error;
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
    throw new ResultsFileError(`${path}: cannot read it as JSON: ${reason}`);
  }
  const format = (json as { format?: unknown; formatVersion?: unknown } | null) ?? {};
  if (format.format !== RESULTS_FORMAT) throw new ResultsFileError(`${path}: not a sweep shard's results file (no "format": "${RESULTS_FORMAT}")`);
  if (format.formatVersion !== RESULTS_FORMAT_VERSION) {
    throw new ResultsFileError(`${path}: results format version ${String(format.formatVersion)}; this ffa-world reads version ${RESULTS_FORMAT_VERSION}`);
  }
  const parsed = resultsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ResultsFileError(`${path}: ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}`);
  }
  const inconsistency = inconsistencyOf(parsed.data);
  if (inconsistency) throw new ResultsFileError(`${path}: ${inconsistency}`);
  return parsed.data;
}

const letters = (outcomes: string, letter: string): number => outcomes.split(letter).length - 1;

/** What in a well-formed results file contradicts the rest of it (a file edited or cut by hand). */
function inconsistencyOf(results: ShardResults): string | null {
  const { sweep, shard, totals, outcomes } = results;
  if (shard.index >= shard.count) return `shard ${shard.index}/${shard.count} does not exist`;
  const block = shardSeeds(sweep.from, sweep.seeds, shard);
  if (block.from !== shard.from || block.seeds !== shard.seeds) return `shard ${shard.index}/${shard.count} of seeds ${sweep.from}.. runs ${block.from}.. (${block.seeds}), not ${shard.from}.. (${shard.seeds})`;
  if (outcomes.length !== shard.seeds) return `${outcomes.length} outcomes for a shard of ${shard.seeds} seeds`;
  const failed = letters(outcomes, OUTCOME.failed) + letters(outcomes, OUTCOME.nondeterministic);
  if (letters(outcomes, OUTCOME.passed) !== totals.passed || failed !== totals.failed || totals.passed + totals.failed !== totals.done) {
    return `the outcomes (${outcomes.length} letters) do not add up to the totals (${totals.passed} passed, ${totals.failed} failed of ${totals.done})`;
  }
  if (letters(outcomes, OUTCOME.notRun) > 0 && !results.interrupted) return 'seeds not run in a shard that was not interrupted';
  const outside = results.failures.find((f) => f.seed < shard.from || f.seed >= shard.from + shard.seeds || outcomes[f.seed - shard.from] === OUTCOME.passed);
  if (outside) return `seed ${outside.seed} is listed as failing but is not a failing seed of this shard`;
  return null;
}
