/**
 * The SMCCC register file an FF-A call carries (SMCCC v1.2: x0..x17 for arguments and results).
 * 32-bit calls use the w-registers, the low 32 bits; 64-bit calls use all 64 bits.
 */

/** Number of registers carried: x0..x17. */
export const REGISTER_COUNT = 18;

/** x0..x17, each an unsigned 64-bit value. Index i is register xi. */
export type RegisterFile = bigint[];

const U64_MAX = (1n << 64n) - 1n;

/** A zeroed register file with x0 = fid and x1.. = rest (each truncated to 64 bits). */
export function registers(fid: number | bigint, ...rest: (number | bigint)[]): RegisterFile {
  if (rest.length >= REGISTER_COUNT) throw new RangeError(`at most ${REGISTER_COUNT - 1} argument registers`);
  const regs: RegisterFile = new Array<bigint>(REGISTER_COUNT).fill(0n);
  regs[0] = BigInt.asUintN(64, BigInt(fid));
  rest.forEach((value, index) => {
    regs[index + 1] = BigInt.asUintN(64, BigInt(value));
  });
  return regs;
}

/** True when `value` is a register file: exactly 18 bigints, each in 0..2^64-1. */
export function isRegisterFile(value: unknown): value is RegisterFile {
  if (!Array.isArray(value) || value.length !== REGISTER_COUNT) return false;
  return value.every((r) => typeof r === 'bigint' && r >= 0n && r <= U64_MAX);
}

/** wN: the low 32 bits of register N, as a number. */
export function w(regs: RegisterFile, index: number): number {
  return Number((regs[index] ?? 0n) & 0xffff_ffffn);
}

/** xN: register N as a bigint. */
export function x(regs: RegisterFile, index: number): bigint {
  return regs[index] ?? 0n;
}
