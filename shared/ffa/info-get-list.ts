/**
 * The FFA_NOTIFICATION_INFO_GET return: which endpoints (and vCPUs) have pending notifications,
 * packed into x2..x7 exactly as docs/ffa-reference.md §2.6 describes.
 *
 * x2 (w2 for the 32-bit call): bit 0 more pending, bits [6:1] reserved, bits [11:7] list count,
 * then 2 bits per list from bit 12 holding that list's number of vCPU IDs (0..3).
 * x3..x7: the lists' IDs ([endpoint, vCPU…] per list) as 16-bit fields, little-endian within each
 * register: 4 per x-register (64-bit call, 20 IDs) or 2 per w-register (32-bit call, 10 IDs).
 * Sources: Linux driver.c NOTIFICATION_INFO_GET_*, MAX_IDS_64/32, ID_LIST_MASK_64/32; Hafnium
 * ffa.h FFA_NOTIFICATIONS_LIST_SHIFT; OP-TEE thread_spmc.c add_id_in_regs/add_id_count; Xen
 * ffa_notif.c get_id_from_resp.
 */
import { w, x, type RegisterFile } from './registers.ts';

export type InfoGetWidth = 32 | 64;

export interface NotificationInfoList {
  /** The endpoint with pending notifications. */
  readonly id: number;
  /** vCPUs with pending per-vCPU notifications; empty = global notifications only. */
  readonly vcpus: readonly number[];
}

export type NotificationInfo = {
  readonly morePending: boolean;
  readonly lists: readonly NotificationInfoList[];
};

/** [x2, x3, x4, x5, x6, x7] of the return (for the 32-bit call each fits in 32 bits). */
export type InfoGetRegisters = readonly [x2: bigint, x3: bigint, x4: bigint, x5: bigint, x6: bigint, x7: bigint];

/** Hafnium starts a new list for the same endpoint after 3 vCPU IDs (vm_insert_notification_info_list). */
export const MAX_VCPUS_PER_INFO_LIST = 3;

interface Layout {
  readonly idsPerRegister: number;
  readonly maxIds: number;
  /** Lists whose 2-bit size field fits: Linux ID_LIST_MASK_64 = GENMASK(51,12), _32 = GENMASK(31,12). */
  readonly maxLists: number;
}

const LAYOUTS: Readonly<Record<InfoGetWidth, Layout>> = {
  64: { idsPerRegister: 4, maxIds: 20, maxLists: 20 },
  32: { idsPerRegister: 2, maxIds: 10, maxLists: 10 },
};

const MORE_PENDING = 1n;
const RESERVED_LOW_MASK = 0x7en; // x2[6:1]
const LIST_COUNT_SHIFT = 7n;
const LIST_COUNT_MASK = 0x1fn;
const LIST_SIZES_SHIFT = 12n;
const LIST_SIZE_MASK = 3n;
const FIRST_ID_REGISTER = 3;

export function infoGetMaxIds(width: InfoGetWidth): number {
  return LAYOUTS[width].maxIds;
}

export function infoGetMaxLists(width: InfoGetWidth): number {
  return LAYOUTS[width].maxLists;
}

// ---------------------------------------------------------------- reading the fields one at a time

/*
 * What a reader that walks the return itself uses (Xen notif_sri_action, Linux
 * ffa_notification_info_get): each field of x2 and each ID slot, without judging the rest as
 * unpackNotificationInfo does.
 */

/** x2 bit 0: more notifications pending than this return could list. */
export function infoGetMorePending(x2: bigint): boolean {
  return (x2 & MORE_PENDING) !== 0n;
}

/** x2[11:7]: how many lists the return holds. */
export function infoGetListCount(x2: bigint): number {
  return Number((x2 >> LIST_COUNT_SHIFT) & LIST_COUNT_MASK);
}

/** List `index`'s number of vCPU IDs (0..3), from its 2-bit field at x2[12 + 2 × index]. */
export function infoGetListSize(x2: bigint, index: number): number {
  return Number((x2 >> (LIST_SIZES_SHIFT + 2n * BigInt(index))) & LIST_SIZE_MASK);
}

/** The 16-bit ID in slot `slot` of x3..x7: 4 slots per x-register (64-bit call) or 2 per w-register (32-bit call). */
export function infoGetIdAt(regs: RegisterFile, slot: number, width: InfoGetWidth): number {
  const { idsPerRegister } = LAYOUTS[width];
  const register = readRegister(regs, FIRST_ID_REGISTER + Math.floor(slot / idsPerRegister), width);
  return Number((register >> BigInt((slot % idsPerRegister) * 16)) & 0xffffn);
}

function idCount(lists: readonly NotificationInfoList[]): number {
  return lists.reduce((sum, list) => sum + 1 + list.vcpus.length, 0);
}

/**
 * Whether `next` can still be appended to `lists` in one return. An SPMC filling a return stops
 * at the first list that does not fit and sets "more pending" instead.
 */
export function infoListFits(lists: readonly NotificationInfoList[], next: NotificationInfoList, width: InfoGetWidth): boolean {
  const layout = LAYOUTS[width];
  return (
    next.vcpus.length <= MAX_VCPUS_PER_INFO_LIST &&
    lists.length + 1 <= layout.maxLists &&
    idCount(lists) + 1 + next.vcpus.length <= layout.maxIds
  );
}

function assertId(what: string, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError(`${what} ${id} is not a 16-bit ID`);
}

function assertPackable(info: NotificationInfo, layout: Layout): void {
  info.lists.forEach((list, index) => {
    assertId(`list ${index} endpoint`, list.id);
    if (list.vcpus.length > MAX_VCPUS_PER_INFO_LIST) throw new RangeError(`list ${index} has ${list.vcpus.length} vCPU IDs; at most ${MAX_VCPUS_PER_INFO_LIST}`);
    list.vcpus.forEach((vcpu) => assertId(`list ${index} vCPU`, vcpu));
  });
  if (info.lists.length > layout.maxLists) throw new RangeError(`${info.lists.length} lists; at most ${layout.maxLists}`);
  const ids = idCount(info.lists);
  if (ids > layout.maxIds) throw new RangeError(`${ids} IDs; at most ${layout.maxIds}`);
}

/** Pack lists into x2..x7. Lists that do not fit are a bug in the caller: RangeError. */
export function packNotificationInfo(info: NotificationInfo, width: InfoGetWidth): InfoGetRegisters {
  const layout = LAYOUTS[width];
  assertPackable(info, layout);
  let x2 = (info.morePending ? MORE_PENDING : 0n) | (BigInt(info.lists.length) << LIST_COUNT_SHIFT);
  info.lists.forEach((list, index) => {
    x2 |= BigInt(list.vcpus.length) << (LIST_SIZES_SHIFT + 2n * BigInt(index));
  });
  const idRegisters = [0n, 0n, 0n, 0n, 0n];
  info.lists.flatMap((list) => [list.id, ...list.vcpus]).forEach((id, slot) => {
    const register = Math.floor(slot / layout.idsPerRegister);
    const shift = BigInt((slot % layout.idsPerRegister) * 16);
    idRegisters[register] = (idRegisters[register] ?? 0n) | (BigInt(id) << shift);
  });
  const [x3 = 0n, x4 = 0n, x5 = 0n, x6 = 0n, x7 = 0n] = idRegisters;
  return [x2, x3, x4, x5, x6, x7];
}

export type InfoGetDecodeErrorKind = 'reserved-bits' | 'too-many-lists' | 'stale-list-size' | 'too-many-ids' | 'nonzero-padding';

export interface InfoGetDecodeError {
  readonly kind: InfoGetDecodeErrorKind;
  readonly why: string;
}

export type InfoGetUnpacking = { readonly ok: true; readonly info: NotificationInfo } | { readonly ok: false; readonly error: InfoGetDecodeError };

function failure(kind: InfoGetDecodeErrorKind, why: string): InfoGetUnpacking {
  return { ok: false, error: { kind, why } };
}

/** Register `index` as the call reads it: all 64 bits, or the w-register for the 32-bit call. */
function readRegister(regs: RegisterFile, index: number, width: InfoGetWidth): bigint {
  return width === 64 ? x(regs, index) : BigInt(w(regs, index));
}

function checkHeader(x2: bigint, layout: Layout, width: InfoGetWidth): InfoGetUnpacking | null {
  if ((x2 & RESERVED_LOW_MASK) !== 0n) return failure('reserved-bits', 'x2[6:1] are reserved and must be zero');
  const sizeBits = LIST_SIZES_SHIFT + 2n * BigInt(layout.maxLists);
  if (width === 64 && x2 >> sizeBits !== 0n) return failure('reserved-bits', `x2[63:${sizeBits}] are reserved and must be zero`);
  const count = infoGetListCount(x2);
  if (count > layout.maxLists) return failure('too-many-lists', `list count ${count} exceeds ${layout.maxLists}`);
  if (x2 >> (LIST_SIZES_SHIFT + 2n * BigInt(count)) !== 0n) return failure('stale-list-size', `list sizes beyond list ${count - 1} must be zero`);
  return null;
}

/** Unpack x2..x7 of an INFO_GET success; malformed registers are reported as a value. */
export function unpackNotificationInfo(regs: RegisterFile, width: InfoGetWidth): InfoGetUnpacking {
  const layout = LAYOUTS[width];
  const x2 = readRegister(regs, 2, width);
  const headerError = checkHeader(x2, layout, width);
  if (headerError) return headerError;
  const count = infoGetListCount(x2);
  const sizes = Array.from({ length: count }, (_, index) => infoGetListSize(x2, index));
  const total = sizes.reduce((sum, size) => sum + size + 1, 0);
  if (total > layout.maxIds) return failure('too-many-ids', `the lists hold ${total} IDs; at most ${layout.maxIds}`);
  for (let slot = total; slot < layout.maxIds; slot++) {
    if (infoGetIdAt(regs, slot, width) !== 0) return failure('nonzero-padding', `ID slot ${slot} is past the last ID and must be zero`);
  }
  let slot = 0;
  const lists = sizes.map((size) => {
    const ids = Array.from({ length: size + 1 }, (_, offset) => infoGetIdAt(regs, slot + offset, width));
    slot += size + 1;
    return { id: ids[0] ?? 0, vcpus: ids.slice(1) };
  });
  return { ok: true, info: { morePending: infoGetMorePending(x2), lists } };
}
