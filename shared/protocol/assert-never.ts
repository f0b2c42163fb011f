/**
 * The end of an exhaustive switch (design style.md: one dispatcher, an exhaustive switch,
 * `assertNever` at the end). The type makes a forgotten case a compile error; reaching it at run
 * time is a bug, so it crashes loudly and names the value and where.
 */
import { hex } from '../ffa/format.ts';

export function assertNever(value: never, where: string): never {
  throw new Error(`bug: ${where} has no case for ${describeUnhandled(value)}`);
}

function describeUnhandled(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? hex(item) : item)).slice(0, 200);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
