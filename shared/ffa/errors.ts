/**
 * FF-A status codes and the two result shapes every ABI shares (docs/ffa-reference.md §1.3):
 * FFA_ERROR with the code in w2 as a signed 32-bit value, or FFA_SUCCESS_32/64.
 */
import { FFA_FIDS } from './function-ids.ts';
import { registers, w, type RegisterFile } from './registers.ts';

/** Linux arm_ffa.h and Hafnium ffa.h go to -10; Xen stops at NO_DATA (-9), TF-A at ABORTED (-8). */
export const FFA_ERROR_CODES = {
  NOT_SUPPORTED: -1,
  INVALID_PARAMETERS: -2,
  NO_MEMORY: -3,
  BUSY: -4,
  INTERRUPTED: -5,
  DENIED: -6,
  RETRY: -7,
  ABORTED: -8,
  NO_DATA: -9,
  NOT_READY: -10,
} as const;

export type FfaErrorName = keyof typeof FFA_ERROR_CODES;

const errorNameByCode = new Map<number, FfaErrorName>(
  (Object.entries(FFA_ERROR_CODES) as [FfaErrorName, number][]).map(([name, code]) => [code, name]),
);

export function isErrorName(name: string): name is FfaErrorName {
  return Object.hasOwn(FFA_ERROR_CODES, name);
}

/** The name of a (signed) error code, or null for a code FF-A does not define. */
export function errorName(code: number): FfaErrorName | null {
  return errorNameByCode.get(code) ?? null;
}

/** FFA_ERROR: x0 = 0x84000060, w1 = target info (usually 0), w2 = the code as 32-bit two's complement. */
export function ffaError(code: FfaErrorName | number, targetInfo = 0): RegisterFile {
  const value = typeof code === 'number' ? code : FFA_ERROR_CODES[code];
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) throw new RangeError(`error code ${value} is not a 32-bit signed value`);
  if (!Number.isInteger(targetInfo) || targetInfo < 0 || targetInfo > 0xffff_ffff) throw new RangeError(`target info ${targetInfo} is not 32-bit`);
  return registers(FFA_FIDS.FFA_ERROR, targetInfo, value >>> 0);
}

/** FFA_SUCCESS_32 with w1, w2, … = values; a value wider than 32 bits is a bug. */
export function ffaSuccess32(...values: (number | bigint)[]): RegisterFile {
  values.forEach((value, index) => {
    const v = BigInt(value);
    if (v < 0n || v > 0xffff_ffffn) throw new RangeError(`FFA_SUCCESS_32 w${index + 1} = ${v} does not fit 32 bits`);
  });
  return registers(FFA_FIDS.FFA_SUCCESS_32, ...values);
}

/** FFA_SUCCESS_64 with x1, x2, … = values, each 64-bit. */
export function ffaSuccess64(...values: (number | bigint)[]): RegisterFile {
  values.forEach((value, index) => {
    const v = BigInt(value);
    if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`FFA_SUCCESS_64 x${index + 1} = ${v} does not fit 64 bits`);
  });
  return registers(FFA_FIDS.FFA_SUCCESS_64, ...values);
}

export type DecodedResult =
  | { readonly kind: 'success'; readonly fid: number; readonly regs: RegisterFile }
  | { readonly kind: 'error'; readonly code: number; readonly name: FfaErrorName | null }
  | { readonly kind: 'other'; readonly fid: number };

/**
 * Classify a returned register file by w0. FFA_ERROR_64 counts as an error too (TF-A defines it).
 * 'other' covers returns that are neither: FFA_VERSION's bare version, DIRECT_RESP, FFA_INTERRUPT, …
 */
export function decodeResult(regs: RegisterFile): DecodedResult {
  const fid = w(regs, 0);
  if (fid === FFA_FIDS.FFA_SUCCESS_32 || fid === FFA_FIDS.FFA_SUCCESS_64) return { kind: 'success', fid, regs };
  if (fid === FFA_FIDS.FFA_ERROR || fid === FFA_FIDS.FFA_ERROR_64) {
    const code = w(regs, 2) | 0;
    return { kind: 'error', code, name: errorName(code) };
  }
  return { kind: 'other', fid };
}
