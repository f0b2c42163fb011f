/** Assertions on returned register files, naming the step that failed. */
import assert from 'node:assert/strict';
import { FFA_ERROR_CODES, FFA_FIDS, type FfaErrorName, hex, w, x } from '../../../shared/ffa/index.ts';
import type { RegisterFile } from '../../../shared/protocol/messages.ts';

/** FFA_ERROR with this code (w1 = 0, as Xen's ffa_set_regs_error leaves it). */
export function assertError(regs: RegisterFile, name: FfaErrorName, label: string): void {
  assert.equal(hex(w(regs, 0)), hex(FFA_FIDS.FFA_ERROR), `${label}: w0 is ${hex(x(regs, 0))}, want FFA_ERROR(${name})`);
  assert.equal(w(regs, 2) | 0, FFA_ERROR_CODES[name], `${label}: error ${w(regs, 2) | 0}, want ${name}`);
}

/** FFA_SUCCESS_32 (or the given w0) with the given w2/w3 (and other registers) when named. */
export function assertSuccess(regs: RegisterFile, label: string, expected: { w0?: number; w2?: number; w3?: number; x?: Record<number, bigint> } = {}): void {
  const w0 = expected.w0 ?? FFA_FIDS.FFA_SUCCESS_32;
  assert.equal(hex(x(regs, 0)), hex(w0), `${label}: x0 is ${hex(x(regs, 0))} (w2 ${w(regs, 2) | 0}), want ${hex(w0)}`);
  if (expected.w2 !== undefined) assert.equal(hex(w(regs, 2)), hex(expected.w2), `${label}: w2`);
  if (expected.w3 !== undefined) assert.equal(hex(w(regs, 3)), hex(expected.w3), `${label}: w3`);
  for (const [index, value] of Object.entries(expected.x ?? {})) assert.equal(hex(x(regs, Number(index))), hex(value), `${label}: x${index}`);
}

/** SMCCC NOT_SUPPORTED: x0 = -1, what a domain without the mediator gets. */
export function assertSmcccNotSupported(regs: RegisterFile, label: string): void {
  assert.equal(hex(x(regs, 0)), hex((1n << 64n) - 1n), `${label}: x0 is ${hex(x(regs, 0))}, want SMCCC NOT_SUPPORTED (-1)`);
}
