/**
 * Pass 2 of the reader: the shape, judged by the zod schema (../schema.ts); unknown keys are
 * refused everywhere. Every zod issue becomes a problem at the file's line and column, in the
 * file's own words. When the whole file is not valid, the parts that are valid alone (the world,
 * each step, timed fault and check) still go on to pass 3, so that its problems are found too.
 */
import type { z } from 'zod';
import { fieldPath } from '../../../../shared/config/parse-config.ts';
import { ScenarioError, type ScenarioProblem, type ScenarioSource, type Target, type ValuePath } from '../errors.ts';
import {
  checkBranchOf,
  expectationBranchOf,
  SCENARIO_PARTS,
  scenarioSchema,
  stepBranchOf,
  timedFaultBranchOf,
  type CheckInput,
  type ScenarioInput,
  type StepInput,
  type TimedFaultInput,
  type WorldInput,
} from '../schema.ts';
import type { Problems } from './problems.ts';

/** What pass 3 may judge: each part in its validated form, or null where it is not valid. */
export interface ScenarioParts {
  /** The whole file, when all of it is valid. */
  readonly whole: ScenarioInput | null;
  /** undefined when the file gives no world (the defaults); null when it gives an invalid one. */
  readonly world: WorldInput | undefined | null;
  readonly steps: readonly (StepInput | null)[];
  readonly faults: readonly (TimedFaultInput | null)[];
  readonly checks: readonly (CheckInput | null)[];
}

/** The file's parts; its shape problems are noted. */
export function readParts(value: unknown, source: ScenarioSource, problems: Problems): ScenarioParts {
  const result = scenarioSchema.safeParse(value);
  if (result.success) {
    const input = result.data;
    return { whole: input, world: input.world, steps: input.steps ?? [], faults: input.faults ?? [], checks: input.checks ?? [] };
  }
  problems.note(ScenarioError.of(shapeProblems(result.error, value, source, [])));
  const file = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return {
    whole: null,
    world: file.world === undefined ? undefined : partOf(SCENARIO_PARTS.world, file.world),
    steps: listOf(SCENARIO_PARTS.step, file.steps),
    faults: listOf(SCENARIO_PARTS.timedFault, file.faults),
    checks: listOf(SCENARIO_PARTS.check, file.checks),
  };
}

function partOf<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | null {
  const result = schema.safeParse(value);
  return result.success ? result.data : null;
}

function listOf<S extends z.ZodType>(schema: S, value: unknown): (z.output<S> | null)[] {
  return Array.isArray(value) ? value.map((item: unknown) => partOf(schema, item)) : [];
}

/** The schema's output for `value` (found at `at`), or a ScenarioError with every problem in it. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, source: ScenarioSource, at: ValuePath): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw ScenarioError.of(shapeProblems(result.error, value, source, at));
}

/** A zod issue, explained: where in the value, and whether it is about a key or its value. */
interface Issue {
  path: PropertyKey[];
  reason: string;
  target: Target;
}

function shapeProblems(error: z.ZodError, value: unknown, source: ScenarioSource, at: ValuePath): ScenarioProblem[] {
  const issues = error.issues.flatMap((issue) => explain(issue, value, at));
  if (issues.length === 0) return [{ ...source.location(at), reason: 'is invalid' }];
  return issues.map(({ path, reason, target }) => {
    // An unknown key's message names the key; the path names the mapping it sits in.
    const where = fieldPath(target === 'key' ? path.slice(0, -1) : path);
    const said = target === 'value' ? source.asWritten(reason, path) : reason;
    return { ...source.location(path, target), reason: where === '' ? said : `${where}: ${said}` };
  });
}

/**
 * One zod issue as issues at paths. A value that matches no branch of a union (a step, an
 * expectation, a check) is judged against the branch its keys say it means, so the message says
 * "unknown key 'bitmaps'" rather than "matches no step kind".
 */
function explain(issue: z.core.$ZodIssue, root: unknown, at: ValuePath): Issue[] {
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
