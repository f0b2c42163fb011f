/**
 * A run's output folder (docs/design.md §8): summary.json, trace.json and report.html side by
 * side. The history itself is written as the run goes, elsewhere (shared/runtime/history.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { ScenarioResult, WorldModel } from '../scenario/types.ts';
import { bigintAsHex } from './escape.ts';
import { renderReport } from './report.ts';
import { buildTrace } from './trace.ts';
import type { TraceDetail } from './trace-detail.ts';

export interface RunOutputPaths {
  summary: string;
  /** Null with --trace none. */
  trace: string | null;
  report: string;
}

/** summary.json: the result object, 64-bit values as "0x…" (as the history writes them). */
export function summaryJson(result: ScenarioResult): string {
  return `${JSON.stringify(result, bigintAsHex, 2)}\n`;
}

/**
 * trace.json with one event per line: the same JSON as JSON.stringify(trace), but a reader can
 * grep it and a diff of two runs lines up.
 */
export function traceJson(entries: readonly HistoryEntry[], detail: Exclude<TraceDetail, 'none'> = 'full', model?: WorldModel): string {
  const trace = buildTrace(entries, { detail, ...(model ? { model } : {}) });
  const events = trace.traceEvents.map((event) => JSON.stringify(event, bigintAsHex));
  return `{"traceEvents":[\n${events.join(',\n')}\n],"displayTimeUnit":${JSON.stringify(trace.displayTimeUnit)}}\n`;
}

/**
 * Writes summary.json, trace.json (unless `trace` is none) and report.html into `dir` (created if
 * missing). The world's model, when given, lets the report pair sends and callbacks as the
 * checkers do.
 */
export async function writeRunOutputs(
  dir: string,
  input: { result: ScenarioResult; entries: readonly HistoryEntry[]; model?: WorldModel },
  options: { trace: TraceDetail } = { trace: 'full' },
): Promise<RunOutputPaths> {
  await mkdir(dir, { recursive: true });
  const paths: RunOutputPaths = { summary: join(dir, 'summary.json'), trace: options.trace === 'none' ? null : join(dir, 'trace.json'), report: join(dir, 'report.html') };
  await writeFile(paths.summary, summaryJson(input.result));
  if (paths.trace !== null && options.trace !== 'none') await writeFile(paths.trace, traceJson(input.entries, options.trace, input.model));
  await writeFile(paths.report, await renderReport(input));
  return paths;
}
