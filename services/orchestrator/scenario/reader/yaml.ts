/**
 * Pass 1 of the reader: the YAML, parsed with node ranges kept so that every later refusal names
 * its line and column. Integers are parsed exactly (intAsBigInt), then those within 2^53 handed on
 * as numbers, so `0x8004000040000003` never passes through a float.
 */
import { isNode, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ScenarioError, ScenarioSource, type ScenarioProblem } from '../errors.ts';
import { SCENARIO_LIMITS } from '../value-shapes.ts';
import { applySettings, placeSettings, type ScenarioSetting } from './settings.ts';

const YAML_HINTS: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'a key may appear once in a mapping: remove or rename one',
  MULTIPLE_DOCS: 'a scenario file holds one YAML document: remove the second ---',
  BAD_INDENT: 'check the indentation and that every { or [ is closed',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
};

/** The file's YAML with `settings` written into it (settings.ts), and the source that locates its problems. */
export function parseYaml(text: string, file: string, settings: readonly ScenarioSetting[] = []): { source: ScenarioSource; value: unknown } {
  const placed = placeSettings(settings, file);
  if (text.length > SCENARIO_LIMITS.fileLength) {
    throw new ScenarioError({ file, line: 1, column: 1 }, `the file has ${text.length} characters, more than ${SCENARIO_LIMITS.fileLength}: split it, or use count: and workload steps`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, intAsBigInt: true, prettyErrors: false, uniqueKeys: true });
  const source = new ScenarioSource(file, text, doc, lines, placed);
  // The YAML's own errors all at once; a file that is not YAML goes no further.
  const yamlProblems = doc.errors.map((error) => {
    const { line, col } = lines.linePos(error.pos[0]);
    return { file, line, column: col, reason: `invalid YAML: ${error.message} (${YAML_HINTS[error.code] ?? 'fix the YAML syntax here'})` };
  });
  if (yamlProblems.length > 0) throw ScenarioError.of(yamlProblems);
  refuseCollectionKeys(doc, source);
  applySettings(doc, placed, source);
  try {
    return { source, value: exactNumbers(doc.toJS({ maxAliasCount: 100 })) };
  } catch (cause) {
    // toJS refuses alias bombs (too many alias expansions): a file problem, not a bug.
    throw new ScenarioError({ file, line: 1, column: 1 }, `invalid YAML: ${(cause as Error).message}`);
  }
}

/** A mapping or list used as a key (`{ a: 1 }: x`) would reach us stringified: refuse each where it is. */
function refuseCollectionKeys(doc: Document, source: ScenarioSource): void {
  const problems: ScenarioProblem[] = [];
  visit(doc, {
    Pair(_key, pair) {
      if (pair.key === null || isScalar(pair.key) || !isNode(pair.key) || !pair.key.range) return undefined;
      problems.push({ ...source.locationOf(pair.key.range[0]), reason: 'a key must be a plain word, not a mapping or a list: check the indentation and the braces' });
      return undefined;
    },
  });
  if (problems.length > 0) throw ScenarioError.of(problems);
}

/** Integers within 2^53 as numbers, beyond as the exact bigints YAML parsed them to. */
function exactNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(exactNumbers);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, exactNumbers(item)]));
  return value;
}
