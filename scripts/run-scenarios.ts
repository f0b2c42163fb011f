/**
 * `ffa-world run FILE…` (docs/design.md §9): load every scenario first (an invalid one is exit 2
 * before anything runs), run each under its runtime and seed, print a short summary (or the
 * format page's result objects with --json), write each run's outputs, and optionally JUnit XML.
 * Exit status: 0 all passed, 1 something failed, 2 a scenario is invalid, 3 the only failures
 * were latency thresholds missed (runner.ts failedOnlyThresholds: slow is not wrong).
 */
import { randomInt } from 'node:crypto';
import { Presets, SingleBar } from 'cli-progress';
import { writeFileSync } from 'node:fs';
import { makeFolder } from '../shared/runtime/files.ts';
import { dirname, join, relative } from 'node:path';
import { nounFor, plural } from '../shared/plural.ts';
import { linkLatest, runFolder } from './cli/run-store.ts';
import { fileURLToPath } from 'node:url';
import { junitXml } from '../services/orchestrator/report/index.ts';
import { readScenarioFile, ScenarioError } from '../services/orchestrator/scenario/reader/index.ts';
import { failedOnlyThresholds, runScenario } from '../services/orchestrator/run/runner.ts';
import type { TraceDetail } from '../services/orchestrator/report/trace-detail.ts';
import { describeFault, swarmProfile } from '../services/orchestrator/swarm.ts';
import type { Percentiles, Scenario, ScenarioResult } from '../services/orchestrator/scenario/types.ts';
import { formatMs } from '../shared/duration.ts';

export interface RunCommand {
  files: string[];
  /** `--set KEY=VALUE`: values of every file's world in place of its own (scenario/reader/settings.ts). */
  settings?: { key: string; value: string }[];
  runtime?: 'sim' | 'ws';
  seed?: number;
  /**
   * Output folder, used as given (one sub-folder per scenario when several run). Default: a new
   * folder per run, out/<name>/<timestamp>-<seed>, with out/<name>/latest linked to it.
   */
  out?: string;
  json: boolean;
  junit?: string;
  logLevel?: string;
  trace?: TraceDetail;
}

export const EXIT = { passed: 0, failed: 1, invalid: 2, thresholdsMissed: 3 } as const;

/** What `npm start` and `ffa-world default` run. */
export const DEFAULT_WORLD_FILE = relative(process.cwd(), fileURLToPath(new URL('../scenarios/default-world.yaml', import.meta.url)));

function readAll(files: readonly string[], settings: RunCommand['settings'] = []): Scenario[] | string[] {
  const scenarios: Scenario[] = [];
  const errors: string[] = [];
  for (const file of files) {
    try {
      scenarios.push(readScenarioFile(file, settings));
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      errors.push(error.message);
    }
  }
  return errors.length > 0 ? errors : scenarios;
}


function percentilesLine(what: string, p: Percentiles): string {
  return `  ${what}: p50 ${formatMs(p.p50)}, p90 ${formatMs(p.p90)}, p99 ${formatMs(p.p99)}, p99.9 ${formatMs(p['p99.9'])}, max ${formatMs(p.max)} (${p.count})`;
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * The workers with the largest heaps (this run's own), and the process's peak RSS: every world of
 * a `run a.yaml b.yaml` runs in this one process, so that peak is the process's so far, not the run's.
 */
export function memoryLine(memory: NonNullable<ScenarioResult['memory']>): string {
  const heaviest = Object.entries(memory.heapPeakBytes).sort((a, b) => b[1] - a[1]).slice(0, 3);
  return `largest worker heaps ${heaviest.map(([name, bytes]) => `${name.length > 24 ? `${name.slice(0, 21)}…` : name} ${mb(bytes)}`).join(', ')}; process peak RSS so far ${mb(memory.rssPeakBytes)}`;
}

/** Failing steps listed in the terminal; the rest are counted. */
const PRINTED_STEPS = 5;

/** "steps: 3/5 passed, 1 failed, 1 skipped" and the failing steps, at most PRINTED_STEPS. */
function stepLines(steps: ScenarioResult['steps']): string[] {
  const failed = steps.filter((s) => !s.passed && !s.skipped);
  const skipped = steps.filter((s) => s.skipped);
  const counts = [`${steps.length - failed.length - skipped.length}/${steps.length} passed`];
  if (failed.length > 0) counts.push(`${failed.length} failed`);
  if (skipped.length > 0) counts.push(`${skipped.length} skipped (${(skipped[0] as ScenarioResult['steps'][number]).detail})`);
  const lines = [`  steps: ${counts.join(', ')}`];
  for (const step of failed.slice(0, PRINTED_STEPS)) lines.push(`    step ${step.index} ${step.label}: ${step.detail}`);
  if (failed.length > PRINTED_STEPS) lines.push(`    … ${failed.length - PRINTED_STEPS} more failed ${nounFor(failed.length - PRINTED_STEPS, 'step')} (all in report.html and summary.json)`);
  return lines;
}

/** The terminal's short summary of one run. */
export function printResult(result: ScenarioResult, files: { report: string; trace: string | null; history: string } | null, latest: string | null = null): void {
  console.log(`${result.passed ? 'PASS' : 'FAIL'} ${result.name} (${result.runtime}, seed ${result.seed}, ${result.ended}, ${result.wallMs} ms)`);
  for (const line of stepLines(result.steps)) console.log(line);
  for (const check of result.checks) {
    console.log(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.name}${check.expectFail ? ' (expected to fail)' : ''}: ${check.detail}`);
    for (const failure of check.passed ? [] : check.failures.slice(0, 3)) console.log(`       ${failure.message}`);
  }
  if (result.latency.endToEnd.count > 0) console.log(percentilesLine('SET → callback', result.latency.endToEnd));
  if (result.memory) console.log(`  memory: ${memoryLine(result.memory)}`);
  for (const departure of result.departures ?? []) console.log(`  left the world: ${departure}`);
  for (const absent of result.absent ?? []) console.log(`  left out of the run: ${absent}`);
  for (const tail of result.missingTails ?? []) console.log(`  history cut short: ${tail}`);
  console.log(`  faults applied: ${result.faultsApplied}; history ${plural(result.historyEntries, 'event')}, sha256 ${result.historyHash.slice(0, 16)}…`);
  const shown = (path: string) => relative(process.cwd(), path) || path;
  if (files) {
    console.log(`  report ${shown(files.report)}${latest ? ` (also ${shown(join(latest, 'report.html'))})` : ''}`);
    if (files.trace) console.log(`  trace ${shown(files.trace)} (open in https://ui.perfetto.dev)`);
  }
  console.log(`  replay: ${result.replay}`);
}

/** The seed first, and every swarm's drawn faults: what a failing run needs to be replayed. */
function printStart(scenario: Scenario, runtime: string, seed: number): void {
  console.log(`seed ${seed} (${scenario.name}, runtime ${runtime})`);
  for (const swarm of swarmProfile(scenario, seed)) {
    console.log(`swarm at ${swarm.where}:${swarm.faults.length === 0 ? ' no faults drawn' : ''}`);
    for (const fault of swarm.faults) console.log(`  ${describeFault(fault)}`);
  }
}

/** Steps done, in a TTY only (never in CI or with --json: the output must stay parseable). */
function progressBar(command: RunCommand, scenario: Scenario): SingleBar | null {
  if (command.json || !process.stdout.isTTY || process.env.CI || scenario.steps.length < 2) return null;
  const bar = new SingleBar({ format: `  ${scenario.name} [{bar}] {value}/{total} steps`, clearOnComplete: true }, Presets.shades_classic);
  bar.start(scenario.steps.length, 0);
  return bar;
}

/** --out as given (a sub-folder per scenario when several run), else a new folder in the run store. */
function outFor(command: RunCommand, scenario: Scenario, several: boolean, seed: number): { out: string; store: boolean } {
  const name = scenario.name.replace(/[^A-Za-z0-9._-]+/g, '-');
  if (command.out === undefined) return { out: runFolder('out', name, seed), store: true };
  return { out: several ? join(command.out, name) : command.out, store: false };
}

/** The last line of a run of several files: how many passed, failed, and were invalid. */
export function totalLine(results: readonly ScenarioResult[], invalid: number): string {
  const passed = results.filter((r) => r.passed).length;
  return `${passed} passed, ${results.length - passed} failed, ${invalid} invalid`;
}

export async function runScenarioFiles(command: RunCommand): Promise<number> {
  const loaded = readAll(command.files, command.settings);
  if (typeof loaded[0] === 'string') {
    for (const message of loaded as string[]) console.error(`ffa-world: invalid scenario: ${message}`);
    if (command.files.length > 1) console.error(`${totalLine([], loaded.length)} (nothing ran: every file is checked before any runs)`);
    return EXIT.invalid;
  }
  const scenarios = loaded as Scenario[];
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const runtime = command.runtime ?? scenario.runtime ?? 'sim';
    const seed = command.seed ?? scenario.seed ?? randomInt(0, 2 ** 32 - 1);
    if (!command.json) printStart(scenario, runtime, seed);
    const progress = progressBar(command, scenario);
    const { out, store } = outFor(command, scenario, scenarios.length > 1, seed);
    const run = await runScenario(scenario, {
      runtime,
      seed,
      out,
      ...(command.logLevel ? { logLevel: command.logLevel } : {}),
      ...(command.trace ? { trace: command.trace } : {}),
      ...(progress ? { onStep: (done: number) => progress.update(done) } : {}),
    });
    progress?.stop();
    const latest = store ? linkLatest(out) : null;
    results.push(run.result);
    if (command.json) console.log(JSON.stringify(run.result));
    else printResult(run.result, run.files, latest);
  }
  if (!command.json && scenarios.length > 1) console.log(totalLine(results, 0));
  if (command.junit) {
    makeFolder(dirname(command.junit));
    writeFileSync(command.junit, junitXml(results));
  }
  if (results.every((r) => r.passed)) return EXIT.passed;
  return results.every((r) => r.passed || failedOnlyThresholds(r)) ? EXIT.thresholdsMissed : EXIT.failed;
}
