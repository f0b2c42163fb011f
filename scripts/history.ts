/**
 * `ffa-world history FILE`: a history's events as JSON lines, filtered by type or component. The
 * file is read line by line (shared/runtime/history-source.ts), so a history of any size streams
 * through in bounded memory. A file that is missing, or a line that is not a history event, is the user's input at
 * fault: its message names the file and the line, and the exit status is 2.
 *
 * `ffa-world history DIR`: the histories the components of a world of processes wrote there
 * (FFA_HISTORY_DIR, shared/runtime/history-files.ts), merged in time order, each that stops
 * without its end marked `tail-missing`: what is left when the orchestrator did not live to merge them.
 */
import { statSync } from 'node:fs';
import { findHistories, mergeHistories, onOneBase } from '../shared/runtime/history-files.ts';
import { historyLines } from '../shared/runtime/history-source.ts';
import { decodeHistoryLine, encodeHistoryLine, HistoryLineError, type HistoryEntry } from '../shared/runtime/history.ts';

export interface HistoryFilter {
  type?: string;
  component?: string;
}

/** A problem with the file given, said as `FILE:LINE: …` where there is a line. */
export class HistoryFileError extends Error {
  override readonly name = 'HistoryFileError';
}

const EVENT_TYPES = new Set(['send', 'deliver', 'fault', 'refused', 'component', 'call-failed', 'record']);

/** The merged histories of a folder's component history files, filtered. */
async function printMerged(dir: string, filter: HistoryFilter, print: (line: string) => void): Promise<void> {
  const found = findHistories(dir);
  if (found.length === 0) throw new HistoryFileError(`${dir}: a folder with no history files (*.jsonl) in it`);
  try {
    for await (const entry of mergeHistories(onOneBase(found))) if (keep(entry, filter)) print(encodeHistoryLine(entry));
  } catch (error) {
    if (error instanceof HistoryLineError) throw new HistoryFileError(error.message);
    throw error;
  }
}

/** The line as a history entry, or what is wrong with it. */
export function historyEntryOf(line: string): HistoryEntry | string {
  let value: unknown;
  try {
    value = decodeHistoryLine(line);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  const entry = value as Partial<HistoryEntry> | null;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'not a JSON object';
  if (typeof entry.seq !== 'number' || typeof entry.t !== 'number') return 'no numeric "seq" and "t"';
  const type = (entry.event as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) return `"event.type" is ${JSON.stringify(type)}, not one of ${[...EVENT_TYPES].join(', ')}`;
  return entry as HistoryEntry;
}

function keep(entry: HistoryEntry, filter: HistoryFilter): boolean {
  const { event } = entry;
  if (filter.type !== undefined && event.type !== filter.type) return false;
  if (filter.component === undefined) return true;
  const names = 'component' in event ? [event.component] : 'from' in event ? [event.from, event.to] : [];
  return names.includes(filter.component);
}

const preview = (line: string): string => (line.length > 80 ? `${line.slice(0, 77)}...` : line);

/** Prints the entries that pass the filter (of a folder's histories, merged); throws HistoryFileError at the first bad line. */
export async function printHistory(file: string, filter: HistoryFilter, print: (line: string) => void = console.log): Promise<void> {
  try {
    if (statSync(file).isDirectory()) return await printMerged(file, filter, print);
    if (!statSync(file).isFile()) throw new HistoryFileError(`${file}: not a file`);
  } catch (error) {
    if (error instanceof HistoryFileError) throw error;
    throw new HistoryFileError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  for await (const { number, line } of historyLines(file)) {
    const entry = historyEntryOf(line);
    if (typeof entry === 'string') throw new HistoryFileError(`${file}:${number}: not a history event: ${entry}: ${preview(line)}`);
    if (keep(entry, filter)) print(encodeHistoryLine(entry));
  }
}
