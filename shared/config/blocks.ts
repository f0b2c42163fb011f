/**
 * The zod building blocks the components' configs share. Each carries its own wording, so a
 * refusal reads the same in every component ("must be an integer in 1..64, got 0") instead of
 * zod's generic text; every one puts a bound on what it accepts (TigerBeetle: a limit on
 * everything).
 */
import { z } from 'zod';
import { isSecureId, isUuid, isValidVersion, parseVersion } from '../ffa/index.ts';

/** A value as the world file wrote it, for "got …" (undefined shows as undefined). */
export const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** Zod's error option: "must be <what>, got <the value given>". */
export function must(what: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => `must be ${what}, got ${show(issue.input)}` };
}

/** An integer in min..max (both inclusive). */
export function integerIn(min: number, max: number) {
  const wording = must(`an integer in ${min}..${max}`);
  return z.number(wording).int(wording).min(min, wording).max(max, wording);
}

/** For bounds known only once other fields are parsed: the same wording as `integerIn`, from a refinement. */
export function checkIntegerIn(ctx: z.RefinementCtx, path: PropertyKey[], value: number, min: number, max: number): void {
  if (value < min || value > max) ctx.addIssue({ code: 'custom', path, message: `must be an integer in ${min}..${max}, got ${show(value)}` });
}

/** A component (or VM) name: 1..maxLength characters; without a bound, just non-empty. */
export function componentName(maxLength?: number) {
  if (maxLength === undefined) return z.string(must('a non-empty component name')).min(1, must('a non-empty component name'));
  const wording = must(`a name of 1..${maxLength} characters`);
  return z.string(wording).min(1, wording).max(maxLength, wording);
}

/** A 16-bit FF-A endpoint ID (FF-A §6.1: IDs are 16 bits wide). */
export const endpointId = () => integerIn(0, 0xffff);

/** An endpoint ID of the secure world: bit 15 set (FF-A §6.1). */
export function secureId(why = (id: number) => `0x${id.toString(16)} is not a secure partition ID (bit 15 clear)`) {
  return endpointId().refine(isSecureId, { error: (issue) => why(issue.input as number) });
}

/** "MAJOR.MINOR" as a manifest writes it, encoded ((major << 16) | minor). */
export function versionString(wording = must('"MAJOR.MINOR"')) {
  return z.string(wording).transform((text, ctx) => parseVersion(text) ?? rejected(ctx, text, wording));
}

/** A version written "1.2" or already encoded (0x10002). */
export function versionStringOrNumber(wording: ReturnType<typeof must>) {
  return z.union([z.string(), z.number()], wording).transform((value, ctx) => {
    const version = typeof value === 'string' ? parseVersion(value) : isValidVersion(value) ? value : null;
    return version ?? rejected(ctx, value, wording);
  });
}

function rejected(ctx: z.RefinementCtx, input: unknown, wording: ReturnType<typeof must>): never {
  ctx.addIssue({ code: 'custom', input, message: wording.error({ input }) });
  return z.NEVER;
}

/** One of a fixed list of words. */
export function oneOf<const T extends string>(values: readonly T[], wording = must(`one of ${values.join(', ')}`)) {
  return z.enum(values as readonly [T, ...T[]], wording);
}

/** A UUID as text (any case; FF-A §6.2: 128 bits, written 8-4-4-4-12). */
export const uuid = () => z.string(must('a UUID')).refine(isUuid, must('a UUID'));

/** A list of at most `max` items. */
export function listOf<T extends z.ZodType>(item: T, max: number, wording = must(`a list of at most ${max}`)) {
  return z.array(item, wording).max(max, wording);
}

/** A boolean. */
export const flag = (wording = must('true or false')) => z.boolean(wording);

/**
 * An object whose keys are all known: a misspelt key in a world file is refused, not ignored.
 * The refusal lists the keys it knows.
 */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key(s) ${issue.keys.join(', ')} (known: ${known})`
        : `must be an object, got ${show(issue.input)}`,
  });
}

/** Refuses every item whose key an earlier item already has: "<key> is used twice", at that item's field. */
export function checkUnique<T, K>(ctx: z.RefinementCtx, items: readonly T[], keyOf: (item: T) => K, at: (index: number) => PropertyKey[], shown: (key: K) => string): void {
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (items.findIndex((other) => keyOf(other) === key) !== index) ctx.addIssue({ code: 'custom', path: at(index), message: `${shown(key)} is used twice` });
  });
}

/** Checks a policy-override object with the component's own policy table (policies.ts), naming the policy. */
export function policyOverrides(
  component: string,
  isPolicyName: (name: string) => boolean,
  check: (name: string, value: unknown) => { ok: true } | { ok: false; why: string },
) {
  return z.record(z.string(), z.unknown(), must('an object of policy name → value')).superRefine((overrides, ctx) => {
    for (const [policy, value] of Object.entries(overrides)) {
      const verdict = isPolicyName(policy) ? check(policy, value) : { ok: false as const, why: `is not a policy of the ${component}` };
      if (!verdict.ok) ctx.addIssue({ code: 'custom', path: [policy], message: verdict.why });
    }
  });
}
