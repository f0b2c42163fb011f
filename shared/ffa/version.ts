/**
 * FF-A version numbers (docs/ffa-reference.md §1.4): (major << 16) | minor, with bit 31 MBZ, major in
 * bits [30:16] and minor in bits [15:0] (TF-A ffa_svc.h MAKE_FFA_VERSION, FFA_VERSION_BIT31_MASK).
 */
import { hex } from './format.ts';

export const FFA_VERSION_1_0 = 0x1_0000;
export const FFA_VERSION_1_1 = 0x1_0001;
export const FFA_VERSION_1_2 = 0x1_0002;
export const FFA_VERSION_1_3 = 0x1_0003;

/** What FFA_VERSION puts in w0 when the caller's version is refused: NOT_SUPPORTED (-1). */
export const VERSION_NOT_SUPPORTED = 0xffff_ffff;

const MAJOR_MAX = 0x7fff;
const MINOR_MAX = 0xffff;

export function makeVersion(major: number, minor: number): number {
  if (!Number.isInteger(major) || major < 0 || major > MAJOR_MAX) throw new RangeError(`major ${major} is not in 0..${MAJOR_MAX}`);
  if (!Number.isInteger(minor) || minor < 0 || minor > MINOR_MAX) throw new RangeError(`minor ${minor} is not in 0..${MINOR_MAX}`);
  return ((major << 16) | minor) >>> 0;
}

/** A 32-bit value with bit 31 clear. */
export function isValidVersion(version: number): boolean {
  return Number.isInteger(version) && version >= 0 && version <= 0x7fff_ffff;
}

export function versionMajor(version: number): number {
  return (version >>> 16) & MAJOR_MAX;
}

export function versionMinor(version: number): number {
  return version & MINOR_MAX;
}

/** "1.2" -> 0x10002; null when the text is not MAJOR.MINOR within range. */
export function parseVersion(text: string): number | null {
  const match = /^(\d{1,5})\.(\d{1,5})$/.exec(text);
  if (!match) return null;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major <= MAJOR_MAX && minor <= MINOR_MAX ? makeVersion(major, minor) : null;
}

/** 0x10002 -> "1.2". */
export function formatVersion(version: number): string {
  assertValidVersion(version);
  return `${versionMajor(version)}.${versionMinor(version)}`;
}

/** Negative, zero or positive as a is older than, equal to or newer than b. */
export function compareVersions(a: number, b: number): number {
  assertValidVersion(a);
  assertValidVersion(b);
  return Math.sign(a - b);
}

function assertValidVersion(version: number): void {
  if (!isValidVersion(version)) throw new RangeError(`${hex(version)} is not an FF-A version (bit 31 set or not 32-bit)`);
}
