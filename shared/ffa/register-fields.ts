/**
 * Field helpers for the ABI encoders and decoders. Encoders assert that each field fits its bits:
 * a value that does not fit is a bug in the caller (RangeError). Decoders only read and never throw;
 * a 32-bit ABI reads w-registers, ignoring the upper halves as real firmware does.
 */
import { w, x, type RegisterFile } from './registers.ts';

const U64_MAX = (1n << 64n) - 1n;

/** `value` as an unsigned integer of at most `bits` bits (bits <= 32). */
export function assertUint(field: string, value: unknown, bits: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`${field} must be an integer in 0..2^${bits}-1, got ${String(value)}`);
  }
  return value;
}

/** `value` as an unsigned bigint of at most `bits` bits (default 64). */
export function assertBigUint(field: string, value: unknown, bits = 64): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > (bits === 64 ? U64_MAX : (1n << BigInt(bits)) - 1n)) {
    throw new RangeError(`${field} must be a bigint in 0..2^${bits}-1, got ${String(value)}`);
  }
  return value;
}

export function assertBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new RangeError(`${field} must be a boolean, got ${String(value)}`);
  return value;
}

export function low32(value: bigint): number {
  return Number(value & 0xffff_ffffn);
}

export function high32(value: bigint): number {
  return Number((value >> 32n) & 0xffff_ffffn);
}

/** The 64-bit value split across two w-registers (BIND/UNBIND/SET bitmaps, GET returns). */
export function join32(low: number, high: number): bigint {
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
}

/** Any of w[first]..w[last] nonzero. */
export function wordsNonzero(regs: RegisterFile, first: number, last: number): boolean {
  for (let index = first; index <= last; index++) if (w(regs, index) !== 0) return true;
  return false;
}

/** Any of x[first]..x[last] nonzero (all 64 bits). */
export function registersNonzero(regs: RegisterFile, first: number, last: number): boolean {
  for (let index = first; index <= last; index++) if (x(regs, index) !== 0n) return true;
  return false;
}
