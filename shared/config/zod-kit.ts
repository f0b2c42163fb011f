/**
 * The zod kit that every checked input shares: the components' configs (blocks.ts, each service's
 * config.ts) and the scenario file (services/orchestrator/scenario/schema.ts). Each block carries
 * its own wording, so a refusal reads the same everywhere ("must be an integer in 1..64, got 0")
 * instead of zod's generic text, and every one puts a bound on what it accepts (TigerBeetle: a
 * limit on everything).
 *
 * Wording only ever goes into error options: the JSON Schema generated from a schema built with
 * this kit (scenarios/scenario.schema.json) sees the same types, bounds and patterns as plain zod.
 */
import { z } from 'zod';
import { UUID_PATTERN } from '../ffa/index.ts';

// ---------------------------------------------------------------- wording

/** The longest value a message quotes whole; a longer one is cut, so one message stays one line. */
const SHOWN_LENGTH_MAX = 60;

/** A value as the file wrote it, for "got …". */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // Beyond 2^53 a file writes hex (a register or bitmap), so it reads back in hex.
  if (typeof value === 'bigint') return `0x${value.toString(16)}`;
  const text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? `0x${item.toString(16)}` : item)) ?? String(value);
  return text.length > SHOWN_LENGTH_MAX ? `${text.slice(0, SHOWN_LENGTH_MAX - 3)}...` : text;
}

export type ErrorOption = { error: (issue: { input?: unknown }) => string };

/** Zod's error option: "must be <what>, got <value>", or "is missing" when there is no value. */
export function must(what: string): ErrorOption {
  return { error: (issue) => (issue.input === undefined ? `is missing: add it (${what})` : `must be ${what}, got ${show(issue.input)}`) };
}

/** The candidate nearest to `word` (edit distance at most a third of its length), for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// ---------------------------------------------------------------- mappings

/**
 * An object whose keys are all known: a misspelt key is refused with the keys it takes (and the
 * nearest one), never ignored. `what` names the object in messages ("world.spmc takes …").
 */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S, what?: string) {
  const known = Object.keys(shape);
  const typeWording = must(what === undefined ? 'an object' : `${what} (a mapping)`);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownKeysMessage(issue.keys, known, what) : typeWording.error(issue)),
  });
}

/** "unknown key 'partition': did you mean 'partitions'? world.spmc takes profile, …". */
function unknownKeysMessage(keys: readonly string[], known: readonly string[], what = 'it'): string {
  const [first = ''] = keys;
  const guess = keys.length === 1 ? closest(first, known) : null;
  const hint = guess === null ? '' : `did you mean '${guess}'? `;
  const named = keys.length === 1 ? `key '${first}'` : `keys ${keys.map((key) => `'${key}'`).join(', ')}`;
  return `unknown ${named}: ${hint}${what} takes ${known.join(', ')}`;
}

/** A discriminated union's refusal, about its discriminator's value rather than the whole mapping. */
export function discriminatorError(key: string, what: string): ErrorOption {
  const value = (input: unknown): unknown => (typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : input);
  return { error: (issue) => must(what).error({ input: value(issue.input) }) };
}

// ---------------------------------------------------------------- values

/** An integer in min..max, both inclusive (`what` words the bounds another way, e.g. in hex). */
export function integerIn(min: number, max: number, what = `an integer in ${min}..${max}`) {
  const wording = must(what);
  return z.number(wording).int(wording).min(min, wording).max(max, wording);
}

/** One of a fixed list of words. */
export function oneOf<const T extends string>(values: readonly T[], wording = must(`one of ${values.join(', ')}`)) {
  return z.enum(values as readonly [T, ...T[]], wording);
}

/** A list of at most `max` items. */
export function listOf<T extends z.ZodType>(item: T, max: number, wording = must(`a list of at most ${max}`)) {
  return z.array(item, wording).max(max, wording);
}

/** A boolean. */
export const flag = (wording = must('true or false')) => z.boolean(wording);

/** A UUID as text, any case (FF-A §6.2: 128 bits, written 8-4-4-4-12). */
export const uuid = (wording = must('a UUID such as 486178e0-e7f8-11e3-bc5e-0002a5d5c51b')) => z.string(wording).regex(UUID_PATTERN, wording);
