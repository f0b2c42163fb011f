/**
 * A history read back as a stream (docs/design.md §8): line by line (node:readline), so a history
 * of any size passes through in memory bounded by its longest line, never read as one string
 * (V8 caps a string at 2^29 - 24 characters: a 64-guest load run's history is past that).
 *
 * Judging reads a history more than once (the run's facts first, then the checkers), so a source
 * is something that can be read again from its start: a file, or entries held in memory.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { FileInputError } from './files.ts';
import { decodeHistoryLineAt, type HistoryEntry } from './history.ts';

/** A history that can be read from its start as often as asked. */
export interface HistorySource {
  /** What it is, for messages: a path, or "the history in memory". */
  readonly name: string;
  /** Its entries in order, from the first. */
  read(): AsyncIterable<HistoryEntry>;
  /** The entries themselves when they are in memory (a test's, a short run's): read without awaiting. */
  readonly held: readonly HistoryEntry[] | null;
}

/** A history kept in memory (MemoryHistorySink, a test's HistoryBuilder). */
export function historyInMemory(entries: readonly HistoryEntry[], name = 'the history in memory'): HistorySource {
  return {
    name,
    held: entries,
    async *read() {
      yield* entries;
    },
  };
}

/** A history file (history.jsonl, a component's own): each read opens it again and streams it. */
export function historyFile(path: string): HistorySource {
  return {
    name: path,
    held: null,
    async *read() {
      for await (const { number, line } of historyLines(path)) yield decodeHistoryLineAt(path, number, line);
    },
  };
}

/** A line of a history file with its number (1-based); blank lines are skipped. */
export interface HistoryLine {
  readonly number: number;
  readonly line: string;
}

/** The path as something to stream: a regular file or a pipe, else FileInputError naming it. */
function checkReadable(path: string): void {
  let isFile: boolean;
  try {
    const stat = statSync(path);
    isFile = stat.isFile() || stat.isFIFO();
    if (stat.isDirectory()) throw new FileInputError('NOT_A_FILE', path, 'a folder, not a file');
  } catch (error) {
    if (error instanceof FileInputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileInputError('FILE_UNREADABLE', path, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message);
  }
  if (!isFile) throw new FileInputError('NOT_A_FILE', path, 'not a regular file (a device or a socket)');
}

/**
 * The file's non-blank lines, read as a stream. Stopping early (a `break`, or a throw from the
 * loop's body) closes the file.
 */
export async function* historyLines(path: string): AsyncGenerator<HistoryLine> {
  checkReadable(path);
  const input = createReadStream(path, 'utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of lines) {
      number++;
      if (line.trim() !== '') yield { number, line };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
