/**
 * An invalid scenario, and where in its file each problem is. Every refusal the reader makes names
 * file, line and column (1-based) of the offending key or value, and says what to change; one
 * error carries every problem of the file the reader found in one pass, sorted by position, and
 * its message shows the first PROBLEMS_SHOWN_MAX of them, a line each. The CLI prints it as is and
 * exits 2 (docs/scenarios.md "Results").
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { show } from '../../../shared/config/zod-kit.ts';
import { fieldPath } from '../../../shared/config/parse-config.ts';
import type { PlacedSetting } from './reader/settings.ts';
import type { SourceLocation } from './types.ts';
import { writingProblem } from './written-value.ts';

/** How much of a value's source text a message quotes (one line: whitespace runs become one space). */
const WRITTEN_LENGTH = 60;

function clipped(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length <= WRITTEN_LENGTH ? line : `${line.slice(0, WRITTEN_LENGTH - 1)}…`;
}

/**
 * Where a problem is: a place in the file, and the setting (`--set spmc.profile=hafnium`, reader/settings.ts)
 * whose value is at fault when the value there is not the file's own.
 */
export interface ProblemLocation extends SourceLocation {
  readonly setting?: string;
}

/** One refusal: where, and what to change. */
export interface ScenarioProblem extends ProblemLocation {
  /** The message without its "file:line:column: " prefix. */
  readonly reason: string;
}

/** The problems a message lists; the rest are counted ("and 5 more problems"). */
export const PROBLEMS_SHOWN_MAX = 20;

export class ScenarioError extends Error {
  readonly code = 'SCENARIO_INVALID';
  override readonly name = 'ScenarioError';
  /** The first problem in the file. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly reason: string;
  /** Every problem found, in the order of the file, the first one first. */
  readonly problems: readonly ScenarioProblem[];

  constructor(location: ProblemLocation, reason: string, others: readonly ScenarioProblem[] = []) {
    const { file, line, column, setting } = location;
    const problems = inFileOrder([{ file, line, column, ...(setting === undefined ? {} : { setting }), reason }, ...others]);
    super(messageOf(problems));
    const [first = { ...location, reason }] = problems;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.reason = first.reason;
    this.problems = problems;
  }

  /** One error for all of `problems` (at least one). */
  static of(problems: readonly ScenarioProblem[]): ScenarioError {
    const [first, ...others] = problems;
    if (first === undefined) throw new Error('bug: a ScenarioError without a problem');
    return new ScenarioError(first, first.reason, others);
  }
}

/** By line, then column; a problem found twice (zod reports some paths once per branch) is shown once. */
function inFileOrder(problems: readonly ScenarioProblem[]): ScenarioProblem[] {
  const seen = new Set<string>();
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  return sorted.filter((problem) => {
    const key = `${problem.line}:${problem.column}:${problem.setting ?? ''}:${problem.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function messageOf(problems: readonly ScenarioProblem[]): string {
  const lines = problems.slice(0, PROBLEMS_SHOWN_MAX).map((problem) =>
    problem.setting === undefined ? `${problem.file}:${problem.line}:${problem.column}: ${problem.reason}` : `${problem.file}: --set ${problem.setting}: ${problem.reason}`,
  );
  const more = problems.length - PROBLEMS_SHOWN_MAX;
  if (more > 0) lines.push(`and ${more} more problem${more === 1 ? '' : 's'}`);
  return lines.join('\n');
}

/** A path into the scenario as zod and the loader spell it: keys and list indexes. */
export type ValuePath = readonly PropertyKey[];

/** Whether a message is about a key itself (an unknown key) or about its value. */
export type Target = 'key' | 'value';

/**
 * The parsed file with its positions: finds the YAML node at a path so that an error found in the
 * plain value (by zod, or by the loader's checks) still names its line and column.
 */
export class ScenarioSource {
  constructor(
    readonly file: string,
    private readonly text: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    /** Values set beside the file (reader/settings.ts): a problem at or under one names the setting. */
    private readonly settings: readonly PlacedSetting[] = [],
  ) {}

  /**
   * Where the key or value at `path` starts; a path that does not exist (a missing key) gives its
   * nearest parent. A path at or under a setting's also names the setting: its value is not in the text.
   */
  location(path: ValuePath, target: Target = 'value'): ProblemLocation {
    const location = this.locationOf(this.offsetOf(path, target));
    const setting = this.settingAt(path);
    return setting === undefined ? location : { ...location, setting: setting.written };
  }

  private settingAt(path: ValuePath): PlacedSetting | undefined {
    return this.settings.find((setting) => setting.path.length <= path.length && setting.path.every((key, index) => String(key) === String(path[index])));
  }

  /** Where a character offset of the text is. */
  locationOf(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /** The refusal of the key or value at `path`: "<file>:<line>:<column>: <path>: <reason>". */
  error(path: ValuePath, reason: string, target: Target = 'value'): ScenarioError {
    const where = fieldPath(path);
    return new ScenarioError(this.location(path, target), where === '' ? reason : `${where}: ${reason}`);
  }

  /**
   * "…, got 4660" as the file wrote it ("…, got 0x1234") when the value is a scalar: a message
   * should quote the file, not the number it parsed to.
   */
  asWritten(reason: string, path: ValuePath): string {
    const at = reason.lastIndexOf(', got ');
    const written = at < 0 ? null : this.writtenAt(path);
    return written === null ? reason : `${reason.slice(0, at)}, got ${written}`;
  }

  /**
   * The value at `path` as the file wrote it, cut short, and in brackets what is wrong with that
   * writing when it tells ("0xZZ ("Z" is not a hex digit …)"); `value` shown when the path has
   * no source text.
   */
  written(path: ValuePath, value: unknown): string {
    return this.writtenAt(path) ?? show(value);
  }

  private writtenAt(path: ValuePath): string | null {
    const node = this.nodeAt(path);
    const text = this.nodeText(node);
    if (text === null || text === '') return null;
    const problem = isSeq(node) ? this.firstItemProblem(node.items) : isScalar(node) ? writingProblem(text, node.value) : null;
    return problem === null ? clipped(text) : `${clipped(text)} (${problem})`;
  }

  /** A list's first item whose writing says what is wrong with it, as "[i] <item>: <problem>". */
  private firstItemProblem(items: readonly unknown[]): string | null {
    for (const [index, item] of items.entries()) {
      const text = isScalar(item) ? this.nodeText(item) : null;
      const problem = text === null || !isScalar(item) ? null : writingProblem(text, item.value);
      if (problem !== null) return `[${index}] ${clipped(text as string)}: ${problem}`;
    }
    return null;
  }

  private nodeText(node: unknown): string | null {
    const range = (node as Node | null | undefined)?.range;
    return range ? this.text.slice(range[0], range[1]).trim() : null;
  }

  /** The scalar at `path` as written (to read `1.10` as a version, not the float 1.1); null if not a scalar. */
  sourceText(path: ValuePath): string | null {
    const setting = this.settingAt(path);
    if (setting !== undefined) return setting.path.length === path.length ? setting.value : null;
    const node = this.nodeAt(path);
    if (!isScalar(node) || !node.range) return null;
    return this.text.slice(node.range[0], node.range[1]).trim();
  }

  private nodeAt(path: ValuePath): unknown {
    let node: unknown = this.doc.contents;
    for (const key of path) {
      const child = this.child(node, key);
      if (child === undefined) return undefined;
      node = child.value;
    }
    return node;
  }

  private offsetOf(path: ValuePath, target: Target): number {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [index, key] of path.entries()) {
      const child = this.child(node, key);
      if (child === undefined) return offset;
      const last = index === path.length - 1;
      const start = last && target === 'key' ? (rangeStart(child.key) ?? rangeStart(child.value)) : (rangeStart(child.value) ?? rangeStart(child.key));
      offset = start ?? offset;
      node = child.value;
    }
    return offset;
  }

  /** The entry `key` of a map or sequence node: its key node (maps only) and its value node. */
  private child(node: unknown, key: PropertyKey): { key: unknown; value: unknown } | undefined {
    const resolved = isAlias(node) ? node.resolve(this.doc) : node;
    if (isSeq(resolved) && typeof key === 'number') {
      const item = resolved.items[key];
      return item === undefined ? undefined : { key: undefined, value: this.resolve(item) };
    }
    if (!isMap(resolved)) return undefined;
    const pair = resolved.items.find((entry) => isScalar(entry.key) && String(entry.key.value) === String(key));
    return pair === undefined ? undefined : { key: pair.key, value: this.resolve(pair.value) };
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? (node.resolve(this.doc) ?? node) : node;
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
