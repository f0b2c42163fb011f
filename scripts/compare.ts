/**
 * `ffa-world compare FILE --set KEY=V1,V2 … [--seeds N] [--json] [--out DIR]`: one scenario under
 * every combination of the settings (services/orchestrator/compare), under the sim runtime, and
 * what differed between the runs: step outcomes, returned registers, check verdicts, key figures.
 *
 * Exit status, as diff(1)'s: 0 every run showed the same, 1 the runs differ, 2 an invalid option,
 * setting or scenario (every combination is read before any runs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readCombinations, runComparison, type Comparison, type CompareRun } from '../services/orchestrator/compare/compare.ts';
import { renderComparePage } from '../services/orchestrator/compare/page.ts';
import { COMPARE_LIMITS, combinationCount, parseAxes, type CompareAxis } from '../services/orchestrator/compare/plan.ts';
import { plural } from '../shared/plural.ts';

export const EXIT = { same: 0, differ: 1, invalid: 2 } as const;

export interface CompareOptions {
  file: string;
  axes: CompareAxis[];
  /** How many seeds, and the first (default: the file's seed, else 1). */
  seeds: number;
  from: number | null;
  json: boolean;
  out: string | null;
}

function integerOption(name: string, value: unknown, min: number, max: number): number | string {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) return `--${name} must be an integer in ${min}..${max}, not ${String(value)}`;
  return n;
}

/** The command line's options, checked; a string is what is wrong with them (exit 2). */
export function parseCompareOptions(file: unknown, options: Record<string, unknown>): CompareOptions | string {
  if (typeof file !== 'string' || file === '') return 'compare needs one scenario file';
  const given = options['set'] === undefined ? [] : [options['set']].flat();
  if (given.some((text) => typeof text !== 'string')) return '--set takes KEY=VALUE[,VALUE…], such as --set spmc.profile=optee,hafnium';
  const axes = parseAxes(given as string[]);
  if (typeof axes === 'string') return axes;
  const seeds = options['seeds'] === undefined ? 1 : integerOption('seeds', options['seeds'], 1, COMPARE_LIMITS.seeds);
  if (typeof seeds === 'string') return seeds;
  const from = options['seed'] === undefined ? null : integerOption('seed', options['seed'], 0, 0xffff_ffff - (seeds - 1));
  if (typeof from === 'string') return from;
  const runs = combinationCount(axes) * seeds;
  if (runs > COMPARE_LIMITS.runs) return `${combinationCount(axes)} combinations × ${seeds} seeds = ${runs} runs, more than ${COMPARE_LIMITS.runs}: give fewer values or seeds`;
  if (runs < 2) return 'nothing to compare: give a key two values or more (--set spmc.profile=optee,hafnium), or --seeds 2 or more';
  if (options['json'] !== undefined && typeof options['json'] !== 'boolean') return '--json takes no value';
  if (options['out'] !== undefined && (typeof options['out'] !== 'string' || options['out'] === '')) return '--out needs a folder';
  return { file, axes, seeds, from, json: options['json'] === true, out: typeof options['out'] === 'string' ? options['out'] : null };
}

// ---------------------------------------------------------------- the terminal's table

/** Longest cell and row title printed; the whole of each is in --json and compare.html. */
const CELL_CHARS = 36;
const TITLE_CHARS = 56;

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const settingsLine = (run: CompareRun) => Object.entries(run.settings).map(([key, value]) => `${key}=${value}`).join(' ') || '(the file as written)';

/** A column's cell: its value, or each seed's when they differ. */
function cellOf(values: readonly string[]): string {
  const distinct = [...new Set(values)];
  return distinct.length === 1 ? (distinct[0] ?? '') : values.join(' / ');
}

function printDifferences(comparison: Comparison): void {
  const { differences, runs } = comparison;
  console.log(differences.length === 0 ? `every run showed the same in all ${plural(comparison.rows.length, 'row')}` : `${differences.length} of ${plural(comparison.rows.length, 'row')} differ:`);
  if (differences.length === 0) return;
  const columns = [...new Set(runs.map((run) => run.column))];
  const table = differences.map((difference) => {
    const cells = columns.map((column) => cut(cellOf(difference.values.filter((_, index) => runs[index]?.column === column)), CELL_CHARS));
    const title = cut(difference.label, TITLE_CHARS) + (difference.between === 'seeds' ? ' (seeds only)' : '');
    return [title, ...cells];
  });
  const header = ['row', ...columns];
  const widths = header.map((_, index) => Math.max(...[header, ...table].map((line) => (line[index] ?? '').length)));
  const line = (cells: readonly string[]) => `  ${cells.map((text, index) => text.padEnd(widths[index] ?? 0)).join('  ')}`.trimEnd();
  console.log(line(header));
  for (const row of table) console.log(line(row));
}

function printRun(run: CompareRun, seeds: number): void {
  const seed = seeds > 1 ? ` seed ${run.seed}` : '';
  console.log(`  ${run.column}${seed}  ${settingsLine(run)}: ${run.passed ? 'PASS' : 'FAIL'} (${run.ended}, ${run.wallMs} ms)`);
}

// ---------------------------------------------------------------- the command

export async function compareCommand(options: CompareOptions): Promise<number> {
  const read = readCombinations(options.file, options.axes);
  if ('problems' in read) {
    for (const message of read.problems) console.error(`ffa-world: invalid scenario: ${message}`);
    return EXIT.invalid;
  }
  const { combinations } = read;
  const first = combinations[0];
  if (first === undefined) throw new Error('bug: a comparison with no combination');
  const from = options.from ?? first.scenario.seed ?? 1;
  const seeds = Array.from({ length: options.seeds }, (_, index) => from + index);
  if (!options.json) {
    const runtime = first.scenario.runtime === 'ws' ? ' (the file\'s runtime: ws is not used)' : '';
    console.log(`compare ${first.scenario.name} (${options.file}): ${plural(combinations.length, 'combination')} × ${plural(seeds.length, 'seed')} (${seeds.join(', ')}), runtime sim${runtime}`);
  }
  const comparison = await runComparison(options.file, options.axes, seeds, combinations, (run) => {
    if (!options.json) printRun(run, seeds.length);
  });
  if (options.json) {
    const { file, name, axes, runs, differences } = comparison;
    console.log(JSON.stringify({ file, name, axes, seeds, runs, differences }));
  } else printDifferences(comparison);
  if (options.out !== null) writeOutputs(options.out, comparison, options.json);
  return comparison.differences.length === 0 ? EXIT.same : EXIT.differ;
}

/** compare.json (what --json prints) and compare.html in `out`. */
function writeOutputs(out: string, comparison: Comparison, json: boolean): void {
  mkdirSync(out, { recursive: true });
  const { file, name, axes, seeds, runs, differences } = comparison;
  writeFileSync(join(out, 'compare.json'), `${JSON.stringify({ file, name, axes, seeds, runs, differences }, null, 2)}\n`);
  const page = join(out, 'compare.html');
  writeFileSync(page, renderComparePage(comparison));
  if (!json) console.log(`  side by side: ${relative(process.cwd(), page) || page}`);
}
