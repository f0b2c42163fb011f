/**
 * The register layout of FFA_PARTITION_INFO_GET_REGS (FF-A v1.2, SMC64 only, FID 0xC400008B):
 * partition descriptors carried in registers instead of the RX buffer. Every implementation read
 * agrees on it:
 *
 * Call:
 *   x1 = UUID words 0 | 1 << 32, x2 = UUID words 2 | 3 << 32 (nil: every partition);
 *   x3 = start index [15:0] | UUID information tag [31:16].
 *   Linux driver.c __ffa_partition_info_get_regs (`.a1 = (u64)uuid1 << 32 | uuid0`,
 *   `.a3 = start_idx | tag << 16`); Hafnium handler.c (`ffa_uuid_from_u64x2(arg1, arg2)`,
 *   `start_index = arg3 & 0xFFFF`, `tag = (arg3 >> 16) & 0xFFFF`); TF-A spmd_logical_sp.c
 *   spmd_build_ffa_info_get_regs. x3[63:32] and x4..x17 are "SBZ" (should be zero): Xen's GET_REGS
 *   patch v2 changelog "ignore x4-x17 not being zero and x3 bits 63-32 not being zero (defined as
 *   SBZ in the spec)", and neither Hafnium nor TF-A reads them; so no implementation rejects them.
 *
 * Return, FFA_SUCCESS_64:
 *   x1 = 0;
 *   x2 = last index [15:0] | current index [31:16] | UUID information tag [47:32] | descriptor
 *        size [63:48] (Linux LAST_INDEX_MASK GENMASK(15, 0), CURRENT_INDEX_MASK GENMASK(31, 16),
 *        UUID_INFO_TAG_MASK GENMASK(47, 32), PARTITION_INFO_SZ_MASK GENMASK(63, 48); Hafnium api.c
 *        api_ffa_partition_info_get_regs `arg2 = size << 48 | curr_idx << 16 | max_idx`; Xen
 *        ffa_partinfo.c `size << 48 | tag_end << 32 | (start + n - 1) << 16 | (total - 1)`);
 *   x3..x17 = up to 5 descriptors of 3 registers each: id [15:0] | execution contexts [31:16] |
 *        properties [63:32] (Linux PART_INFO_ID_MASK, PART_INFO_EXEC_CXT_MASK, PART_INFO_PROPS_MASK;
 *        Hafnium api_ffa_pack_vmid_count_props; TF-A spmd_pack_lp_count_props), then the UUID in
 *        two registers as in x1/x2 (Hafnium api_ffa_pack_uuid / ffa_uuid_to_u64x2, TF-A
 *        spmd_pack_lp_uuid; Linux reads them back through a `union { uuid_t; u64 regs[2]; }`).
 *        The UUID registers are zero when the caller named a UUID (Hafnium `if (uuid_is_null)`,
 *        TF-A the same, Xen "UUID fields … MBZ" for a non-Nil UUID query).
 *   5 = (15 × 8 bytes) / 24: Hafnium and TF-A MAX_INFO_REGS_ENTRIES_PER_CALL, Xen
 *   FFA_PARTINFO_REG_MAX_ENTRIES. The caller takes `current − start + 1` descriptors and calls
 *   again from `current + 1` until current = last (Linux `while (cur_idx < (count - 1))`).
 */
import { NIL_UUID, PARTITION_INFO_SIZE_V1_1, uuidFromWords, uuidToWords, type PartitionInfo } from './partition-info.ts';
import { x, type RegisterFile } from './registers.ts';

/** Descriptors per return: x3..x17, 3 registers each. */
export const PARTITION_INFO_REGS_PER_CALL = 5;
/** Registers per descriptor: id/contexts/properties, then the UUID's two halves. */
export const PARTITION_INFO_REGS_PER_DESCRIPTOR = 3;
/** The first descriptor register of a return. */
export const PARTITION_INFO_REGS_FIRST = 3;
/** The descriptor size every implementation reports: the v1.1 descriptor (Hafnium sizeof(struct ffa_partition_info)). */
export const PARTITION_INFO_REGS_DESCRIPTOR_SIZE = PARTITION_INFO_SIZE_V1_1;

const U16 = 0xffffn;
const U32 = 0xffff_ffffn;

/** A UUID as two registers (x1/x2 of the call, a descriptor's second and third registers). */
export function uuidToRegisters(uuid: string): [bigint, bigint] {
  const [w0, w1, w2, w3] = uuidToWords(uuid).map(BigInt) as [bigint, bigint, bigint, bigint];
  return [(w1 << 32n) | w0, (w3 << 32n) | w2];
}

export function uuidFromRegisters(low: bigint, high: bigint): string {
  return uuidFromWords([Number(low & U32), Number((low >> 32n) & U32), Number(high & U32), Number((high >> 32n) & U32)]);
}

/** x3 of the call: start index [15:0] | tag [31:16]. */
export function packStartAndTag(startIndex: number, tag: number): bigint {
  return (BigInt(tag) << 16n) | BigInt(startIndex);
}

/** What x2 of a successful return says. */
export interface PartitionInfoRegsHeader {
  /** Index of the last descriptor of the whole list (count − 1). */
  readonly lastIndex: number;
  /** Index of the last descriptor in this return. */
  readonly currentIndex: number;
  /** UUID information tag, to be passed back with the next start index (0: tags not used). */
  readonly tag: number;
  /** Size of one descriptor in bytes (24 in every implementation). */
  readonly descriptorSize: number;
}

export function packPartitionInfoRegsHeader(header: PartitionInfoRegsHeader): bigint {
  return (BigInt(header.descriptorSize) << 48n) | (BigInt(header.tag) << 32n) | (BigInt(header.currentIndex) << 16n) | BigInt(header.lastIndex);
}

export function unpackPartitionInfoRegsHeader(x2: bigint): PartitionInfoRegsHeader {
  return {
    lastIndex: Number(x2 & U16),
    currentIndex: Number((x2 >> 16n) & U16),
    tag: Number((x2 >> 32n) & U16),
    descriptorSize: Number((x2 >> 48n) & U16),
  };
}

/** The three registers of one descriptor; a UUID query's descriptors carry NIL_UUID (zeros). */
export function descriptorToRegisters(partition: PartitionInfo): [bigint, bigint, bigint] {
  const first = (BigInt(partition.properties >>> 0) << 32n) | (BigInt(partition.vcpus) << 16n) | BigInt(partition.id);
  return [first, ...uuidToRegisters(partition.uuid)];
}

/** Descriptor `slot` (0..4) of a return. */
export function descriptorFromRegisters(regs: RegisterFile, slot: number): PartitionInfo {
  const first = PARTITION_INFO_REGS_FIRST + slot * PARTITION_INFO_REGS_PER_DESCRIPTOR;
  const value = x(regs, first);
  return {
    id: Number(value & U16),
    vcpus: Number((value >> 16n) & U16),
    properties: Number((value >> 32n) & U32),
    uuid: uuidFromRegisters(x(regs, first + 1), x(regs, first + 2)),
  };
}

/** Whether descriptor `slot` of a return is all zeros (implementations zero the slots they leave empty). */
export function descriptorSlotEmpty(regs: RegisterFile, slot: number): boolean {
  const first = PARTITION_INFO_REGS_FIRST + slot * PARTITION_INFO_REGS_PER_DESCRIPTOR;
  return x(regs, first) === 0n && x(regs, first + 1) === 0n && x(regs, first + 2) === 0n;
}

/** An all-zero descriptor (ID 0, no execution context, no properties, nil UUID): not a partition. */
export function isEmptyDescriptor(partition: PartitionInfo): boolean {
  return partition.id === 0 && partition.vcpus === 0 && partition.properties === 0 && partition.uuid === NIL_UUID;
}

/**
 * The window of a listing that one call returns: from `startIndex`, at most 5. The caller checks
 * that `startIndex` is below the list's length first (every implementation: INVALID_PARAMETERS).
 */
export function partitionInfoRegsWindow<T>(list: readonly T[], startIndex: number): { currentIndex: number; window: T[] } {
  const window = list.slice(startIndex, startIndex + PARTITION_INFO_REGS_PER_CALL);
  return { currentIndex: startIndex + window.length - 1, window };
}
