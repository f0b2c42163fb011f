/** How the ABI's numbers are written in records, logs and reasons: hex, as the FF-A spec writes IDs and function IDs. */

/** `0x…` in lower case, no padding (an ID, a function ID, a register, a bitmap). */
export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}
