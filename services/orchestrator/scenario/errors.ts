/**
 * An invalid scenario, and where in its file the problem is. Every refusal the loader makes names
 * file, line and column (1-based) of the offending key or value, and says what to change; the CLI
 * prints it as is and exits 2 (scenario-format.md "Results").
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { fieldPath } from '../../../shared/config/parse-config.ts';
import type { SourceLocation } from './types.ts';

export class ScenarioError extends Error {
  readonly code = 'SCENARIO_INVALID';
  override readonly name = 'ScenarioError';
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The message without its "file:line:column: " prefix. */
  readonly reason: string;

  constructor(location: SourceLocation, reason: string) {
    super(`${location.file}:${location.line}:${location.column}: ${reason}`);
    this.file = location.file;
    this.line = location.line;
    this.column = location.column;
    this.reason = reason;
  }
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
  ) {}

  /** Where the key or value at `path` starts; a path that does not exist (a missing key) gives its nearest parent. */
  location(path: ValuePath, target: Target = 'value'): SourceLocation {
    return this.locationOf(this.offsetOf(path, target));
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
    const written = at < 0 ? null : this.sourceText(path);
    return written === null || written === '' ? reason : `${reason.slice(0, at)}, got ${written}`;
  }

  /** The scalar at `path` as written (to read `1.10` as a version, not the float 1.1); null if not a scalar. */
  sourceText(path: ValuePath): string | null {
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
