/**
 * Flag words of the notification ABIs (docs/ffa-reference.md §2.3–§2.5, §3.8), keyed by the names the
 * scenario format uses in `flags: [...]`.
 */

export type FlagTable = Readonly<Record<string, number>>;

/** BIND w2: bit 0 per-vCPU; every other bit MBZ (Hafnium FFA_NOTIFICATIONS_FLAG_PER_VCPU). */
export const BIND_FLAGS = { perVcpu: 1 << 0 } as const;

/**
 * SET w2 bits [15:0]: bit 0 per-vCPU, bit 1 delay SRI (Hafnium FFA_NOTIFICATIONS_FLAG_PER_VCPU,
 * _DELAY_SRI). The receiver's vCPU ID sits in [31:16] (FFA_NOTIFICATIONS_FLAGS_VCPU_ID).
 */
export const SET_FLAGS = { perVcpu: 1 << 0, delaySri: 1 << 1 } as const;
export const SET_FLAGS_VCPU_SHIFT = 16;

/** GET w2: which bitmaps to return and clear (Hafnium FFA_NOTIFICATION_FLAG_BITMAP_{SP,VM,SPM,HYP}). */
export const GET_FLAGS = { sp: 1 << 0, vm: 1 << 1, spm: 1 << 2, hyp: 1 << 3 } as const;

/**
 * Framework notifications, in the SPM (w6) and hypervisor (w7) bitmaps of a GET: bit 0 is
 * "RX buffer full" in both (Linux FRAMEWORK_NOTIFY_RX_BUFFER_FULL; Hafnium uses bit 0 and bit 32
 * of w6:w7 read as one 64-bit word, the same bits).
 */
export const FRAMEWORK_NOTIFICATIONS = { rxBufferFull: 1n << 0n } as const;

export function isFlagName(table: FlagTable, name: string): boolean {
  return Object.hasOwn(table, name);
}

/** ['perVcpu', 'delaySri'] -> 0b11; an unknown name is a bug in the caller (validate names first). */
export function flagsFromNames(table: FlagTable, names: readonly string[]): number {
  return names.reduce((flags, name) => {
    const bit = table[name];
    if (bit === undefined || !Object.hasOwn(table, name)) throw new RangeError(`unknown flag '${name}' (known: ${Object.keys(table).join(', ')})`);
    return (flags | bit) >>> 0;
  }, 0);
}

/** The names of the table's bits set in `flags`, in table order (other bits are not named). */
export function flagNames(table: FlagTable, flags: number): string[] {
  return Object.entries(table)
    .filter(([, bit]) => ((flags >>> 0) & bit) !== 0)
    .map(([name]) => name);
}
