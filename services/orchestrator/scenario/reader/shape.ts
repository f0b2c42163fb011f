/**
 * Pass 2 of the reader: the shape, judged by the zod schema (../schema.ts); unknown keys are
 * refused everywhere. A zod issue becomes a refusal at the file's line and column, in the file's
 * own words.
 */
import type { z } from 'zod';
import { fieldPath } from '../../../../shared/config/parse-config.ts';
import { ScenarioError, ScenarioSource, type Target, type ValuePath } from '../errors.ts';
import { checkBranchOf, expectationBranchOf, stepBranchOf, timedFaultBranchOf } from '../schema.ts';

interface Problem {
  path: PropertyKey[];
  reason: string;
  target: Target;
}

/** The schema's output for `value` (found at `at`), or the problem that comes first in the file. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, source: ScenarioSource, at: ValuePath): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw firstInFile(result.error.issues.flatMap((issue) => explain(issue, value, at)), source);
}

function firstInFile(problems: Problem[], source: ScenarioSource): ScenarioError {
  const located = problems.map((problem) => ({ problem, at: source.location(problem.path, problem.target) }));
  located.sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
  const first = located[0];
  if (first === undefined) return new ScenarioError(source.location([]), 'is invalid');
  const { path, reason, target } = first.problem;
  // An unknown key's message names the key; the path names the mapping it sits in.
  const where = fieldPath(target === 'key' ? path.slice(0, -1) : path);
  const said = target === 'value' ? source.asWritten(reason, path) : reason;
  return new ScenarioError(first.at, where === '' ? said : `${where}: ${said}`);
}

/**
 * One zod issue as a problem at a path. A value that matches no branch of a union (a step, an
 * expectation, a check) is judged against the branch its keys say it means, so the message says
 * "unknown key 'bitmaps'" rather than "matches no step kind".
 */
function explain(issue: z.core.$ZodIssue, root: unknown, at: ValuePath): Problem[] {
  const path = [...at, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const value = valueAt(root, issue.path);
    const result = branchFor(path, value)?.safeParse(value);
    if (result?.success === false) return result.error.issues.flatMap((inner) => explain(inner, value, path));
  }
  if (issue.code === 'unrecognized_keys') return [{ path: [...path, issue.keys[0] ?? ''], reason: issue.message, target: 'key' }];
  if (issue.code === 'invalid_key') return [{ path, reason: issue.message, target: 'key' }];
  return [{ path, reason: issue.message, target: 'value' }];
}

function branchFor(path: readonly PropertyKey[], value: unknown): z.ZodType | null {
  const [section, index, key] = path;
  if (section === 'steps' && typeof index === 'number') {
    if (path.length === 2) return stepBranchOf(value);
    if (path.length === 3 && key === 'expect') return expectationBranchOf(value);
  }
  if (section === 'checks' && typeof index === 'number' && path.length === 2) return checkBranchOf(value);
  if (section === 'faults' && typeof index === 'number' && path.length === 2) return timedFaultBranchOf(value);
  return null;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined), root);
}

