/**
 * The blocks the components' configs share beyond the zod kit (zod-kit.ts): names, FF-A IDs and
 * versions as a world file writes them, uniqueness across a list, and policy overrides.
 */
import { z } from 'zod';
import { isSecureId, isValidVersion, parseVersion } from '../ffa/index.ts';
import { integerIn, must, type ErrorOption } from './zod-kit.ts';

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
export function versionStringOrNumber(wording: ErrorOption) {
  return z.union([z.string(), z.number()], wording).transform((value, ctx) => {
    const version = typeof value === 'string' ? parseVersion(value) : isValidVersion(value) ? value : null;
    return version ?? rejected(ctx, value, wording);
  });
}

function rejected(ctx: z.RefinementCtx, input: unknown, wording: ErrorOption): never {
  ctx.addIssue({ code: 'custom', input, message: wording.error({ input }) });
  return z.NEVER;
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
