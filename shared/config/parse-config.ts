/**
 * One way for every component to check its plain-data config: a zod schema declares it, and
 * `parseConfig` turns the first problem zod finds into the component's own error class (each has
 * a stable `code`), with a message that names the field the way a world file spells it
 * (`rights.vm1.subscribeVirtual[0] must be an integer in 1..32767`). A bad config is a bug in the
 * world, so it fails at create, loudly, once.
 */
import type { z } from 'zod';

/** What a config problem says: the field as written in the world file ('' for the whole config) and why. */
export interface ConfigProblem {
  readonly field: string;
  readonly why: string;
  /** "<component> config: <field><separator><why>", the whole message. */
  readonly message: string;
}

export interface ParseConfigOptions {
  /** Names the config in the message: "<component> config: …". */
  readonly component: string;
  /** Makes the component's own error (its class and stable `code`) from the problem. */
  readonly errorFactory: (problem: ConfigProblem) => Error;
  /** Between the field and why: ': ' (default, "cpus: must be …") or ' ' ("cpus must be …"). */
  readonly separator?: ': ' | ' ';
  /** How the message names the whole config when it is the culprit; '' leaves it out. Default '(root)'. */
  readonly root?: string;
  /** Prefix of every field, when the value sits inside a larger message (e.g. 'data' of a control request). */
  readonly at?: string;
}

/** `rights.vm1.subscribeVirtual[0]`: the path as a world file writes it. */
export function fieldPath(path: readonly PropertyKey[], at = ''): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text === '' ? String(key) : `${text}.${String(key)}`;
  }, at);
}

/** The schema's output for `value`; otherwise throws the component's error for the first problem. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, options: ParseConfigOptions): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw options.errorFactory(describe(issue, options));
}

function describe(issue: z.core.$ZodIssue | undefined, options: ParseConfigOptions): ConfigProblem {
  const field = fieldPath(issue?.path ?? [], options.at);
  const why = issue?.message ?? 'is invalid';
  const shown = field === '' ? (options.root ?? '(root)') : field;
  // "rights.vm1: unknown key 'fly': …": the object is named, not judged, whatever the separator.
  const separator = issue?.code === 'unrecognized_keys' ? ': ' : (options.separator ?? ': ');
  const head = shown === '' ? why : `${shown}${separator}${why}`;
  return { field, why, message: `${options.component} config: ${head}` };
}
