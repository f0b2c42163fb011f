/**
 * `ffa-world sweep merge DIR...`: the results files of a sharded sweep's shards (sweep-shard.ts),
 * read back as the one sweep: the same totals, causes, failure groups and determinism line as the
 * unsharded sweep prints (sweep-output.ts), and which shards are missing or were interrupted.
 *
 * Exit status, as a sweep's: 0 every seed of every shard passed, 1 a seed failed or the sweep is
 * incomplete (a shard missing or interrupted: its seeds were not all run), 2 invalid input (no
 * results, a file that is not one, shards of different sweeps).
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { plural } from '../shared/plural.ts';
import { SWEEP_LIMITS } from './cli/limits.ts';
import { jsonSummary, printSummary, SWEEP_EXIT, sweepPassed, type SweepOutcome } from './sweep-output.ts';
import { isResultsFileName, readShardResults, ResultsFileError, type ShardResults } from './sweep-shard.ts';
import { JSON_FAILURES, mergeTallies, type Tally } from './sweep-tally.ts';

export interface MergeOptions {
  /** Folders of results files, or results files themselves. */
  paths: string[];
  json: boolean;
}

/** Shard indices named on one line before the rest are counted. */
const SHARDS_NAMED = 20;

/** The command line's arguments, checked; a string is what is wrong with them (exit 2). */
export function parseMergeOptions(paths: readonly string[], options: Record<string, unknown>): MergeOptions | string {
  if (paths.length === 0) return 'sweep merge needs the folders its shards wrote (--out DIR of each)';
  if (paths.length > SWEEP_LIMITS.shards) return `sweep merge takes at most ${SWEEP_LIMITS.shards} folders`;
  const sweepOnly = ['seeds', 'from', 'jobs', 'checkDeterminism', 'shard', 'out'].filter((key) => options[key] !== undefined);
  if (sweepOnly.length > 0) return `sweep merge takes only --json, not --${sweepOnly[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (options.json !== undefined && typeof options.json !== 'boolean') return '--json takes no value';
  return { paths: [...paths], json: options.json === true };
}

/** The results files named, or found in the folders named (each once); throws ResultsFileError. */
function resultsFiles(paths: readonly string[]): string[] {
  const files = new Set<string>();
  for (const path of paths) {
    let isFolder: boolean;
    try {
      isFolder = statSync(path).isDirectory();
    } catch {
      throw new ResultsFileError(`${path}: no such folder or file`);
    }
    const found = isFolder ? readdirSync(path).filter(isResultsFileName).sort().map((name) => join(path, name)) : [path];
    if (found.length === 0) throw new ResultsFileError(`${path}: no shard results in it (sweep-shard-I-of-K.json, written by sweep --shard I/K --out ${path})`);
    for (const file of found) files.add(realpathSync(file));
    if (files.size > SWEEP_LIMITS.shards) throw new ResultsFileError(`more than ${SWEEP_LIMITS.shards} results files`);
  }
  return [...files];
}

const sweepOf = (r: ShardResults): string =>
  `${r.scenario.name} (scenario sha256 ${r.scenario.sha256.slice(0, 12)}…), seeds ${r.sweep.from}..${r.sweep.from + r.sweep.seeds - 1}` +
  `${r.sweep.checkDeterminism ? ' checked for determinism' : ''} in ${r.shard.count} shards, ffa-world ${r.ffaWorldVersion}`;

interface ShardFile {
  file: string;
  results: ShardResults;
}

/** The shards, one per index, all of one sweep; a string says which two do not belong together. */
function oneSweep(shards: readonly ShardFile[]): string | null {
  const first = shards[0] as ShardFile;
  const byIndex = new Map<number, string>();
  for (const { file, results: r } of shards) {
    if (sweepOf(r) !== sweepOf(first.results)) return `${first.file} and ${file} are shards of different sweeps:\n  ${sweepOf(first.results)}\n  ${sweepOf(r)}`;
    const twin = byIndex.get(r.shard.index);
    if (twin !== undefined) return `shard ${r.shard.index}/${r.shard.count} is given twice: ${twin} and ${file}`;
    byIndex.set(r.shard.index, file);
  }
  return null;
}

function tallyOf(r: ShardResults): Tally {
  return {
    ...r.totals,
    nondeterministic: r.determinism.nondeterministicSeeds,
    sameWorker: r.determinism.sameWorkerPairs,
    causes: new Map(Object.entries(r.causes)),
    failures: r.failures,
    groups: new Map(r.failureGroups.map((group) => [group.signature, group])),
  };
}

const named = (indices: readonly number[]): string =>
  indices.length > SHARDS_NAMED ? `${indices.slice(0, SHARDS_NAMED).join(', ')}, … (${indices.length})` : indices.join(', ');

interface Coverage {
  count: number;
  missing: number[];
  interrupted: number[];
}

function coverageOf(results: readonly ShardResults[]): Coverage {
  const count = (results[0] as ShardResults).shard.count;
  const present = new Set(results.map((r) => r.shard.index));
  const missing = Array.from({ length: count }, (_, index) => index).filter((index) => !present.has(index));
  const interrupted = results.filter((r) => r.interrupted).map((r) => r.shard.index).sort((a, b) => a - b);
  return { count, missing, interrupted };
}

function incompleteOf(coverage: Coverage): string {
  const parts: string[] = [];
  if (coverage.missing.length > 0) parts.push(`${coverage.missing.length} of ${coverage.count} shards missing`);
  if (coverage.interrupted.length > 0) parts.push(`${coverage.interrupted.length} interrupted`);
  return parts.length === 0 ? '' : `, incomplete: ${parts.join(', ')}`;
}

function printCoverage(outcome: SweepOutcome, coverage: Coverage, results: readonly ShardResults[]): void {
  const merged = coverage.count - coverage.missing.length;
  console.log(`sweep merge ${outcome.name} (${outcome.file}): seeds ${outcome.from}..${outcome.from + outcome.seeds - 1} (${outcome.seeds}), runtime sim, ${merged} of ${coverage.count} shards, ${plural(outcome.jobs, 'worker')} in all`);
  if (coverage.missing.length > 0) {
    const rerun = `ffa-world sweep ${outcome.file} --seeds ${outcome.seeds} --from ${outcome.from} --shard ${coverage.missing[0]}/${coverage.count} --out DIR`;
    console.log(`  missing shards: ${named(coverage.missing)} of 0..${coverage.count - 1}: their seeds were not run (${rerun} runs the first)`);
  }
  for (const r of results.filter((s) => s.interrupted).slice(0, SHARDS_NAMED)) {
    console.log(`  shard ${r.shard.index}/${r.shard.count} was interrupted after ${r.totals.done} of its ${r.shard.seeds} seeds`);
  }
}

export function runMerge(options: MergeOptions): number {
  let shards: ShardFile[];
  try {
    shards = resultsFiles(options.paths).map((file) => ({ file, results: readShardResults(file) }));
  } catch (error) {
    if (!(error instanceof ResultsFileError)) throw error;
    console.error(`ffa-world: ${error.message}`);
    return SWEEP_EXIT.invalid;
  }
  const mixed = oneSweep(shards);
  if (mixed !== null) {
    console.error(`ffa-world: ${mixed}`);
    return SWEEP_EXIT.invalid;
  }
  const results = shards.map((s) => s.results).sort((a, b) => a.shard.index - b.shard.index);
  const first = results[0] as ShardResults;
  const coverage = coverageOf(results);
  const outcome: SweepOutcome = {
    name: first.scenario.name,
    file: first.scenario.file,
    ...first.sweep,
    jobs: results.reduce((n, r) => n + r.jobs, 0),
    tally: mergeTallies(results.map(tallyOf), JSON_FAILURES),
    interrupted: coverage.interrupted.length > 0,
    incomplete: incompleteOf(coverage),
    // The shards ran side by side: the sweep took as long as its slowest shard.
    wallMs: Math.max(...results.map((r) => r.wallMs)),
  };
  if (options.json) {
    const shards = { count: coverage.count, merged: results.map((r) => r.shard.index), missing: coverage.missing, interrupted: coverage.interrupted };
    console.log(JSON.stringify({ ...jsonSummary(outcome), shards }));
  } else {
    printCoverage(outcome, coverage, results);
    printSummary(outcome);
  }
  return sweepPassed(outcome) ? SWEEP_EXIT.passed : SWEEP_EXIT.failed;
}
