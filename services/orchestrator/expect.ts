/**
 * A call step's `expect` against the registers that came back (docs/scenarios.md "expect
 * forms"). Outcomes are values: a verdict with a one-line detail a user can read.
 */
import {
  abiNameOf,
  codecForFid,
  decodeResult,
  FFA_FIDS,
  formatVersion,
  hex,
  parseVersion,
  VERSION_NOT_SUPPORTED,
  w,
  x,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import type { Expectation, Step } from './scenario/types.ts';

export interface Verdict {
  passed: boolean;
  detail: string;
}


/** JSON with bigints as hex, for details. */
export function shown(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? hex(v) : v)) ?? String(value);
}

/** A return in one line: FFA_ERROR(DENIED), FFA_SUCCESS_32 w2=0x4, version 1.2, … */
export function describeReturn(callFid: number, regs: RegisterFile): string {
  if (callFid === FFA_FIDS.FFA_VERSION) {
    const version = w(regs, 0);
    return version === VERSION_NOT_SUPPORTED ? 'version NOT_SUPPORTED' : `version ${formatVersion(version)}`;
  }
  const decoded = decodeResult(regs);
  if (decoded.kind === 'error') return `FFA_ERROR(${decoded.name ?? decoded.code})`;
  const name = abiNameOf(w(regs, 0)) ?? hex(w(regs, 0));
  const nonZero = regs.slice(1, 8).flatMap((value, index) => (value === 0n ? [] : [`w${index + 1}=${hex(value)}`]));
  return [name, ...nonZero].join(' ');
}

/**
 * Numbers and bigints compare by value; arrays whole and in order; an object by the keys the
 * scenario gave (a partition descriptor decodes with its UUID too, which a scenario need not name).
 */
function sameValue(expected: unknown, actual: unknown): boolean {
  if ((typeof expected === 'number' || typeof expected === 'bigint') && (typeof actual === 'number' || typeof actual === 'bigint')) {
    return BigInt(expected) === BigInt(actual);
  }
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => sameValue(e, actual[i]));
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return false;
    const got = actual as Record<string, unknown>;
    const want = expected as Record<string, unknown>;
    return Object.keys(want).every((key) => sameValue(want[key], got[key]));
  }
  return expected === actual;
}

function isSuccess(callFid: number, regs: RegisterFile): boolean {
  if (callFid === FFA_FIDS.FFA_VERSION) return w(regs, 0) !== VERSION_NOT_SUPPORTED;
  const codec = codecForFid(callFid);
  const successFid = codec?.success?.fid ?? null;
  const returned = w(regs, 0);
  // "FFA_SUCCESS_32 or _64 (whichever the ABI returns)".
  if (successFid === FFA_FIDS.FFA_SUCCESS_32 || successFid === FFA_FIDS.FFA_SUCCESS_64 || successFid === null) return decodeResult(regs).kind === 'success';
  return returned === successFid;
}

function checkFields(callFid: number, regs: RegisterFile, fields: Record<string, unknown>, rx: Readonly<Record<string, unknown>>): Verdict {
  const codec = codecForFid(callFid);
  if (!codec?.success) return { passed: false, detail: `no decoder for the results of ${abiNameOf(callFid) ?? hex(callFid)}` };
  const decoded = codec.success.decode(regs);
  if (!decoded.ok) return { passed: false, detail: `the return does not decode: ${decoded.why}` };
  const got = { ...(decoded.result as Record<string, unknown>), ...rx };
  const wrong = Object.entries(fields).filter(([key, value]) => !sameValue(value, got[key]));
  if (wrong.length === 0) return { passed: true, detail: `success, ${shown(fields)}` };
  const [key, value] = wrong[0] ?? ['', null];
  return { passed: false, detail: `${key}: expected ${shown(value)}, got ${shown(got[key])}` };
}

function checkRegs(regs: RegisterFile, expected: Record<string, bigint>): Verdict {
  for (const [name, value] of Object.entries(expected)) {
    const index = Number(name.slice(1));
    const actual = name.startsWith('w') ? BigInt(w(regs, index)) : x(regs, index);
    if (actual !== value) return { passed: false, detail: `${name}: expected ${hex(value)}, got ${hex(actual)}` };
  }
  return { passed: true, detail: `registers as expected: ${shown(expected)}` };
}

/**
 * `rx`: the fields the caller read from its RX buffer after the call (rx-buffer.ts), compared
 * beside those decoded from the registers.
 */
export function checkExpectation(callFid: number, regs: RegisterFile, expect: Expectation, rx: Readonly<Record<string, unknown>> = {}): Verdict {
  const got = describeReturn(callFid, regs);
  switch (expect.kind) {
    case 'any':
      return { passed: true, detail: got };
    case 'success':
      return isSuccess(callFid, regs) ? { passed: true, detail: got } : { passed: false, detail: `expected success, got ${got}` };
    case 'error': {
      const decoded = decodeResult(regs);
      const ok = decoded.kind === 'error' && decoded.name === expect.code;
      return ok ? { passed: true, detail: got } : { passed: false, detail: `expected FFA_ERROR(${expect.code}), got ${got}` };
    }
    case 'success-fields': {
      if (!isSuccess(callFid, regs)) return { passed: false, detail: `expected success with ${shown(expect.fields)}, got ${got}` };
      return checkFields(callFid, regs, expect.fields, rx);
    }
    case 'version': {
      const wanted = expect.version === 'NOT_SUPPORTED' ? VERSION_NOT_SUPPORTED : parseVersion(expect.version);
      const ok = wanted !== null && w(regs, 0) === wanted;
      return ok ? { passed: true, detail: got } : { passed: false, detail: `expected version ${expect.version}, got ${got}` };
    }
    case 'regs':
      return checkRegs(regs, expect.regs);
  }
}

/**
 * A call step's verdict; a failure says why where the world's rules make the cause likely. Under
 * Xen a guest that has not negotiated a version gets NOT_SUPPORTED for every call but
 * FFA_VERSION (xen/arch/arm/tee/ffa.c ffa_negotiate_version, docs/ffa-reference.md §5.4): the reader refuses
 * the certain cases (scenario/reader/version-negotiation.ts), and a run can still meet it, say a
 * call right after a reboot, before the guest's driver probed again.
 */
export function checkCallStep(step: Extract<Step, { kind: 'call' }>, regs: RegisterFile, rx: Readonly<Record<string, unknown>> = {}): Verdict {
  const verdict = checkExpectation(step.fid, regs, step.expect, rx);
  if (verdict.passed || step.from.kind !== 'vm' || step.fid === FFA_FIDS.FFA_VERSION) return verdict;
  const decoded = decodeResult(regs);
  if (decoded.kind !== 'error' || decoded.name !== 'NOT_SUPPORTED') return verdict;
  return { passed: false, detail: `${verdict.detail}; ${notNegotiatedHint(step.from.name)}` };
}

function notNegotiatedHint(vm: string): string {
  return (
    `if ${vm} has not negotiated an FF-A version since it booted, that is why: Xen answers every call but FFA_VERSION with ` +
    'NOT_SUPPORTED until the guest has (xen/arch/arm/tee/ffa.c ffa_negotiate_version); a raw driver negotiates only when a ' +
    'step calls FFA_VERSION, a Linux driver at its probe (await probe after a boot or reboot)'
  );
}
