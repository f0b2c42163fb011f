/**
 * Register files for forwarding tests: all 64 bits set, and distinct patterns that use every bit
 * position, so a register that is dropped, truncated to 32 bits, moved or zeroed shows.
 */
import { REGISTER_COUNT, type RegisterFile } from '../../../shared/protocol/messages.ts';

export const ALL_ONES = (1n << 64n) - 1n;

/** x0 = fid, x1..x17 all ones. */
export function allOnes(fid: number | bigint): RegisterFile {
  return [BigInt(fid), ...new Array<bigint>(REGISTER_COUNT - 1).fill(ALL_ONES)];
}

/** x0 = fid, xN = a 64-bit pattern distinct per N and per `seed`, upper and lower halves both nonzero. */
export function patterned(fid: number | bigint, seed = 0): RegisterFile {
  const regs: RegisterFile = [BigInt(fid)];
  for (let index = 1; index < REGISTER_COUNT; index++) {
    regs.push(BigInt.asUintN(64, (0x0123_4567_89ab_cdefn << BigInt(index % 8)) ^ (BigInt(index) * 0x1111_1111_0000_0101n) ^ (BigInt(seed) << 56n)));
  }
  return regs;
}

/** `regs` with x[index] replaced. */
export function withRegister(regs: RegisterFile, index: number, value: bigint): RegisterFile {
  return regs.map((r, i) => (i === index ? value : r));
}

/** x8..x17 of `regs`. */
export function upper(regs: readonly bigint[]): bigint[] {
  return regs.slice(8, REGISTER_COUNT);
}

/** x1..x7 of `regs`. */
export function arguments1To7(regs: readonly bigint[]): bigint[] {
  return regs.slice(1, 8);
}

export const ZEROS_8_TO_17: readonly bigint[] = new Array<bigint>(REGISTER_COUNT - 8).fill(0n);
