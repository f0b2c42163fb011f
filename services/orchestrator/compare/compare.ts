/**
 * `ffa-world compare` (docs/cli.md): one scenario under every combination of the settings given,
 * each over the same seeds, under the sim runtime; then the rows of every run (observe.ts) set side
 * by side, and the rows whose values are not the same in every run are the differences.
 *
 * Every combination is read before any runs, so an invalid setting is refused (exit 2) with nothing
 * run. A run that throws (a component's bug under sim throws out of the run) is that run's ending,
 * shown like any other value, and the others still run.
 */
import { readScenarioFile, ScenarioError, type ScenarioSetting } from '../scenario/reader/index.ts';
import type { Scenario } from '../scenario/types.ts';
import { replayCommand, runScenario } from '../run/runner.ts';
import { ABSENT, observeRun, observeThrow, type Observed, type RowKind } from './observe.ts';
import { COMPARE_LIMITS } from './limits.ts';
import { columnName, combinations, type CompareAxis } from './plan.ts';

export interface CompareStep {
  index: number;
  label: string;
  /** not run: an earlier step failed, or the world ended before it. */
  outcome: 'pass' | 'FAIL' | 'not run';
  detail: string;
  /** A call's returned registers x0.., hex; null for other steps and calls that did not return. */
  returned: string[] | null;
}

export interface CompareRun {
  /** The combination's column: A, B, …; its seeds share it. */
  column: string;
  settings: Record<string, string>;
  seed: number;
  passed: boolean;
  ended: string;
  /** The first COMPARE_LIMITS.stepsCompared steps (the figure `steps` counts them all). */
  steps: CompareStep[];
  checks: { name: string; passed: boolean; held: boolean; detail: string }[];
  /** The key figures, by name, as the rows show them. */
  figures: Record<string, string>;
  replay: string;
  wallMs: number;
}

/** One row across the runs: its value (and detail) in each run, in the runs' order. */
export interface CompareRow {
  key: string;
  kind: RowKind;
  label: string;
  values: string[];
  details: (string | null)[];
}

export interface Difference {
  key: string;
  kind: RowKind;
  label: string;
  /** Each run's value, in the runs' order. */
  values: string[];
  /** Whether the combinations differ, or only one combination's seeds (or both). */
  between: 'settings' | 'seeds' | 'settings and seeds';
}

export interface Comparison {
  file: string;
  name: string;
  axes: CompareAxis[];
  seeds: number[];
  runs: CompareRun[];
  rows: CompareRow[];
  differences: Difference[];
}

/** A combination read: its settings and its scenario. */
export interface Combination {
  column: string;
  settings: ScenarioSetting[];
  scenario: Scenario;
}

/**
 * Every combination read with its settings, or what is wrong: the file's own problems (read alone
 * first), else each combination's, once each. A problem that names no setting (two settings that
 * do not fit together) is said with the combination's settings.
 */
export function readCombinations(file: string, axes: readonly CompareAxis[]): { combinations: Combination[] } | { problems: string[] } {
  const alone = attempt(() => readScenarioFile(file));
  if (alone instanceof ScenarioError) return { problems: [alone.message] };
  const problems = new Set<string>();
  const read = combinations(axes).map((settings, index) => {
    const scenario = attempt(() => readScenarioFile(file, settings));
    if (!(scenario instanceof ScenarioError)) return { column: columnName(index), settings, scenario };
    const named = scenario.problems.some((problem) => problem.setting !== undefined);
    problems.add(named ? scenario.message : `with ${settings.map(({ key, value }) => `--set ${key}=${value}`).join(' ')}: ${scenario.message}`);
    return null;
  });
  return problems.size > 0 ? { problems: [...problems] } : { combinations: read.filter((combination) => combination !== null) };
}

function attempt(read: () => Scenario): Scenario | ScenarioError {
  try {
    return read();
  } catch (error) {
    if (error instanceof ScenarioError) return error;
    throw error;
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `threw ${String(error)}`;
  const frame = error.stack?.split('\n').find((line) => /^\s+at /.test(line))?.trim();
  return `${error.name}: ${error.message}${frame ? ` (${frame})` : ''}`;
}

const settingsRecord = (settings: readonly ScenarioSetting[]) => Object.fromEntries(settings.map(({ key, value }) => [key, value]));

/** One combination under one seed: the run's summary and its rows. */
async function runOne(combination: Combination, seed: number): Promise<{ run: CompareRun; rows: Observed[] }> {
  const { scenario, column } = combination;
  const settings = settingsRecord(combination.settings);
  const started = process.hrtime.bigint();
  const wallMs = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  try {
    const { result, entries } = await runScenario(scenario, { runtime: 'sim', seed });
    const rows = observeRun(scenario, result, entries);
    const outcomes = new Map(rows.filter((row) => row.kind === 'step').map((row) => [row.key, row.value as CompareStep['outcome']]));
    const steps = result.steps.slice(0, COMPARE_LIMITS.stepsCompared).map((step) => ({
      index: step.index,
      label: step.label,
      outcome: outcomes.get(`step ${step.index}`) ?? 'FAIL',
      detail: step.detail,
      returned: step.returned ?? null,
    }));
    const checks = result.checks.map(({ name, passed, held, detail }) => ({ name, passed, held, detail }));
    const figures = Object.fromEntries(rows.filter((row) => row.kind === 'figure').map((row) => [row.label, row.value]));
    return { run: { column, settings, seed, passed: result.passed, ended: result.ended, steps, checks, figures, replay: result.replay, wallMs: result.wallMs }, rows };
  } catch (error) {
    const rows = observeThrow(describeError(error));
    const ended = rows[0]?.value ?? 'threw';
    return { run: { column, settings, seed, passed: false, ended, steps: [], checks: [], figures: { ended }, replay: replayCommand(scenario, 'sim', seed), wallMs: wallMs() }, rows };
  }
}

/** The rows of every run lined up: in the order of the run that has the most, then any others. */
function lineUp(observed: readonly Observed[][]): CompareRow[] {
  const ordered = [...observed].sort((a, b) => b.length - a.length).flat();
  const rows = new Map<string, CompareRow>();
  for (const row of ordered) {
    if (!rows.has(row.key)) rows.set(row.key, { key: row.key, kind: row.kind, label: row.label, values: [], details: [] });
  }
  for (const rowsOfRun of observed) {
    const byKey = new Map(rowsOfRun.map((row) => [row.key, row]));
    for (const row of rows.values()) {
      const mine = byKey.get(row.key);
      row.values.push(mine?.value ?? ABSENT);
      row.details.push(mine?.detail ?? null);
    }
  }
  return [...rows.values()];
}

/** The rows whose values are not all the same, and whether the combinations or the seeds differ. */
function differencesOf(rows: readonly CompareRow[], runs: readonly CompareRun[]): Difference[] {
  const columns = [...new Set(runs.map((run) => run.column))];
  return rows.flatMap((row) => {
    if (new Set(row.values).size <= 1) return [];
    const cells = columns.map((column) => row.values.filter((_, index) => runs[index]?.column === column));
    const settingsDiffer = new Set(cells.map((cell) => JSON.stringify(cell))).size > 1;
    const seedsDiffer = cells.some((cell) => new Set(cell).size > 1);
    const between = settingsDiffer && seedsDiffer ? 'settings and seeds' : settingsDiffer ? 'settings' : 'seeds';
    return [{ key: row.key, kind: row.kind, label: row.label, values: row.values, between }];
  });
}

/**
 * Runs every combination under every seed, one after another (each run is one thread's work
 * under sim), calling `onRun` as each ends.
 */
export async function runComparison(
  file: string,
  axes: readonly CompareAxis[],
  seeds: readonly number[],
  combined: readonly Combination[],
  onRun: (run: CompareRun, done: number, total: number) => void = () => {},
): Promise<Comparison> {
  const runs: CompareRun[] = [];
  const observed: Observed[][] = [];
  const total = combined.length * seeds.length;
  for (const combination of combined) {
    for (const seed of seeds) {
      const { run, rows } = await runOne(combination, seed);
      runs.push(run);
      observed.push(rows);
      onRun(run, runs.length, total);
    }
  }
  const rows = lineUp(observed);
  const name = combined[0]?.scenario.name ?? file;
  return { file, name, axes: axes.map((axis) => ({ key: axis.key, values: [...axis.values] })), seeds: [...seeds], runs, rows, differences: differencesOf(rows, runs) };
}
