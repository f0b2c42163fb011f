/**
 * Rule violations found while decoding an incoming call. Implementations differ on which
 * reserved bits they check and which code they answer with, so a decoder reports every
 * violation it sees, each saying who checks it and how, and the receiver picks its policy.
 */
import type { FfaErrorName } from './errors.ts';

/** The implementations the reference read, in their role as receivers of calls. */
export type Checker = 'tf-a' | 'optee' | 'hafnium' | 'xen';

export interface Violation {
  /** Stable name, e.g. 'bind.flags-reserved'. */
  readonly rule: string;
  /** What is wrong, for logs: 'w5..w7 must be zero'. */
  readonly why: string;
  /** The code a strict receiver answers with. */
  readonly error: FfaErrorName;
  /** The implementations known to reject it, and with which code. Empty: only the spec says so. */
  readonly checkedBy: Readonly<Partial<Record<Checker, FfaErrorName>>>;
}

export interface DecodedCall<Args> {
  /** The fields as the registers carry them, whatever the violations. */
  readonly args: Args;
  readonly violations: readonly Violation[];
}

export type CallCheck<Args> =
  | { readonly ok: true; readonly args: Args }
  | { readonly ok: false; readonly error: FfaErrorName; readonly why: string; readonly rule: string };

/** 'strict' enforces every violation with its default code; 'none' enforces nothing. */
export type EnforcementPolicy = Checker | 'strict' | 'none';

export function violation(rule: string, why: string, error: FfaErrorName, checkedBy: Violation['checkedBy']): Violation {
  return { rule, why, error, checkedBy };
}

/** The violations whose condition holds, in order. */
export function violationsWhere(checks: readonly (readonly [boolean, Violation])[]): Violation[] {
  return checks.filter(([broken]) => broken).map(([, rule]) => rule);
}

/** The first violation the policy enforces, as the error it answers; otherwise the arguments. */
export function enforce<Args>(decoded: DecodedCall<Args>, policy: EnforcementPolicy): CallCheck<Args> {
  for (const found of decoded.violations) {
    const error = errorUnder(found, policy);
    if (error !== null) return { ok: false, error, why: found.why, rule: found.rule };
  }
  return { ok: true, args: decoded.args };
}

function errorUnder(found: Violation, policy: EnforcementPolicy): FfaErrorName | null {
  if (policy === 'none') return null;
  if (policy === 'strict') return found.error;
  return found.checkedBy[policy] ?? null;
}
