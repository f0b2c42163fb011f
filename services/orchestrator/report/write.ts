/**
 * A run's output folder (docs/design.md §8): summary.json, trace.json and report.html side by
 * side. The history itself is written as the run goes, elsewhere (shared/runtime/history.ts).
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { ScenarioResult, WorldModel } from '../scenario/types.ts';
import { bigintAsHex } from './escape.ts';
import { renderReport, renderReportOf, type ReportInput } from './report.ts';
import { buildTrace } from './trace.ts';
import type { TraceDetail } from './trace-detail.ts';
import type { ChromeTrace } from './trace-model.ts';

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
  return [...traceChunks(trace, Infinity)].join('');
}

/** The trace's text in pieces of about `bytes` each (one event a line). */
function* traceChunks(trace: ChromeTrace, bytes: number): Generator<string> {
  let chunk = '{"traceEvents":[\n';
  for (let index = 0; index < trace.traceEvents.length; index++) {
    chunk += `${index > 0 ? ',\n' : ''}${JSON.stringify(trace.traceEvents[index], bigintAsHex)}`;
    if (chunk.length < bytes) continue;
    yield chunk;
    chunk = '';
  }
  yield `${chunk}\n],"displayTimeUnit":${JSON.stringify(trace.displayTimeUnit)}}\n`;
}

/** Writes trace.json a piece at a time, so its text is never one string. */
async function writeTrace(path: string, trace: ChromeTrace): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (const piece of traceChunks(trace, TRACE_CHUNK_BYTES)) await file.write(piece);
  } finally {
    await file.close();
  }
}

const TRACE_CHUNK_BYTES = 1 << 20;

/** Writes summary.json, trace.json (when there is one) and report.html into `dir` (created if missing). */
export async function writeOutputs(dir: string, report: ReportInput, trace: ChromeTrace | null): Promise<RunOutputPaths> {
  await mkdir(dir, { recursive: true });
  const paths: RunOutputPaths = { summary: join(dir, 'summary.json'), trace: trace === null ? null : join(dir, 'trace.json'), report: join(dir, 'report.html') };
  await writeFile(paths.summary, summaryJson(report.result));
  if (paths.trace !== null && trace !== null) await writeTrace(paths.trace, trace);
  await writeFile(paths.report, await renderReportOf(report));
  return paths;
}

/**
 * Writes the outputs of a history held in memory: summary.json, trace.json (unless `trace` is
 * none) and report.html. The world's model, when given, lets the report pair sends and callbacks
 * as the checkers do.
 */
export async function writeRunOutputs(
  dir: string,
  input: { result: ScenarioResult; entries: readonly HistoryEntry[]; model?: WorldModel },
  options: { trace: TraceDetail } = { trace: 'full' },
): Promise<RunOutputPaths> {
  await mkdir(dir, { recursive: true });
  const paths: RunOutputPaths = { summary: join(dir, 'summary.json'), trace: options.trace === 'none' ? null : join(dir, 'trace.json'), report: join(dir, 'report.html') };
  await writeFile(paths.summary, summaryJson(input.result));
  if (paths.trace !== null && options.trace !== 'none') await writeTrace(paths.trace, buildTrace(input.entries, { detail: options.trace, ...(input.model ? { model: input.model } : {}) }));
  await writeFile(paths.report, await renderReport(input));
  return paths;
}
