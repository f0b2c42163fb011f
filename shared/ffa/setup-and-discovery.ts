/**
 * Setup and discovery ABIs (Hafnium's setup_and_discovery family): VERSION, FEATURES, ID_GET,
 * SPM_ID_GET, PARTITION_INFO_GET(_REGS), RXTX_MAP/UNMAP, RX_RELEASE/ACQUIRE. docs/ffa-reference.md §1.2,
 * §1.4, §2.7; PARTITION_INFO_GET_REGS's layout is in partition-info-regs.ts.
 */
import { EMPTY_SUCCESS_32, type AbiCodec, type NoArgs, type NoResult, type SuccessCodec } from './abi-codec.ts';
import { violation, violationsWhere } from './call-checks.ts';
import { ffaSuccess32, ffaSuccess64 } from './errors.ts';
import { isFeatureId } from './features.ts';
import { FFA_FIDS } from './function-ids.ts';
import { NIL_UUID, uuidFromWords, uuidToWords, type PartitionInfo } from './partition-info.ts';
import {
  PARTITION_INFO_REGS_DESCRIPTOR_SIZE,
  PARTITION_INFO_REGS_PER_CALL,
  descriptorFromRegisters,
  descriptorSlotEmpty,
  descriptorToRegisters,
  isEmptyDescriptor,
  packPartitionInfoRegsHeader,
  packStartAndTag,
  unpackPartitionInfoRegsHeader,
  uuidFromRegisters,
  uuidToRegisters,
} from './partition-info-regs.ts';
import { registers, w, x, type RegisterFile } from './registers.ts';
import { assertBigUint, assertBoolean, assertUint } from './register-fields.ts';
import { isValidVersion, VERSION_NOT_SUPPORTED } from './version.ts';
import { hex } from './format.ts';

export const SETUP_RULES = {
  // TF-A spmd_main.c FFA_VERSION: a request with bit 31 set (FFA_VERSION_BIT31_MASK) -> NOT_SUPPORTED.
  versionBit31: violation('version.bit31', 'w1 bit 31 must be zero', 'NOT_SUPPORTED', { 'tf-a': 'NOT_SUPPORTED' }),
  // Hafnium api_ffa_features (docs/ffa-reference.md §1.2): feature-ID bits [30:8] nonzero -> NOT_SUPPORTED, and
  // input properties on a feature ID -> NOT_SUPPORTED (Linux refuses to send the latter at all).
  featureIdReserved: violation('features.feature-id-reserved', 'w1 bits [30:8] must be zero for a feature ID', 'NOT_SUPPORTED', { hafnium: 'NOT_SUPPORTED' }),
  featureIdProperties: violation('features.feature-id-properties', 'w2 must be zero for a feature ID', 'NOT_SUPPORTED', { hafnium: 'NOT_SUPPORTED' }),
  // OP-TEE thread_spmc.c spmc_handle_rxtx_map: a3 & GENMASK_64(63, 6), or a page count of 0 -> INVALID_PARAMETERS.
  rxtxMapPageCountReserved: violation('rxtx-map.w3-reserved', 'w3 bits [31:6] must be zero', 'INVALID_PARAMETERS', { optee: 'INVALID_PARAMETERS' }),
  rxtxMapPageCountZero: violation('rxtx-map.page-count-zero', 'w3 page count must not be zero', 'INVALID_PARAMETERS', { optee: 'INVALID_PARAMETERS' }),
  // Xen ffa_partinfo.c ffa_handle_partition_info_get_regs (GET_REGS patch v2): "Start index must
  // allow room for up to 5 entries without 16-bit overflow": start > 0xFFFF - 4 -> INVALID_PARAMETERS.
  partitionInfoRegsStartOverflow: violation('partition-info-get-regs.start-index-overflow', 'x3[15:0] start index must leave room for 5 entries (<= 0xfffb)', 'INVALID_PARAMETERS', {
    xen: 'INVALID_PARAMETERS',
  }),
  // A tag belongs to a listing already started: Xen refuses a nonzero tag at start index 0 with
  // INVALID_PARAMETERS; Hafnium api_ffa_partition_info_get_regs ("TODO: Add support for using
  // tags") and TF-A spmd_el3_populate_logical_partition_info refuse any nonzero tag with RETRY.
  partitionInfoRegsTagAtStart: violation('partition-info-get-regs.tag-at-start', 'x3[31:16] tag must be zero with start index 0', 'INVALID_PARAMETERS', {
    xen: 'INVALID_PARAMETERS',
    hafnium: 'RETRY',
    'tf-a': 'RETRY',
  }),
} as const;

const R = SETUP_RULES;

export type VersionArgs = { version: number };
export type VersionResult = { version: number };

/** FFA_VERSION refusing the caller: NOT_SUPPORTED (-1) in w0 itself, not an FFA_ERROR (docs/ffa-reference.md §1.4). */
export function versionNotSupported(): RegisterFile {
  return registers(VERSION_NOT_SUPPORTED);
}

/** w1 = the caller's version; the answer is the callee's version in w0. */
export const ffaVersion: AbiCodec<VersionArgs, VersionResult> = {
  abi: 'FFA_VERSION',
  fid: FFA_FIDS.FFA_VERSION,
  args: { version: 'version' },
  encodeCall: ({ version }) => registers(FFA_FIDS.FFA_VERSION, assertUint('version', version, 32)),
  decodeCall: (regs) => ({
    args: { version: w(regs, 1) },
    violations: violationsWhere([[(w(regs, 1) & 0x8000_0000) !== 0, R.versionBit31]]),
  }),
  success: {
    fid: null,
    encode: ({ version }) => {
      if (!isValidVersion(version)) throw new RangeError(`${hex(version)} is not a version; use versionNotSupported() to refuse`);
      return registers(version);
    },
    decode: (regs) => {
      const w0 = w(regs, 0);
      if (w0 === VERSION_NOT_SUPPORTED) return { ok: false, why: 'w0 is NOT_SUPPORTED (-1)' };
      return isValidVersion(w0) ? { ok: true, result: { version: w0 } } : { ok: false, why: `w0 ${hex(w0)} has bit 31 set` };
    },
  },
};

export type FeaturesArgs = { id: number; properties?: number };
/**
 * w2 is the interface properties; for the interrupt features (NPI, SRI, MEI) it is the interrupt
 * ID, which the scenario format calls `intid`. Give one of the two when encoding.
 */
export type FeaturesResult = { properties?: number; intid?: number; moreProperties?: number };

export const ffaFeatures: AbiCodec<FeaturesArgs, FeaturesResult> = {
  abi: 'FFA_FEATURES',
  fid: FFA_FIDS.FFA_FEATURES,
  args: { id: 'feature-id', properties: 'u32' },
  encodeCall: ({ id, properties = 0 }) => registers(FFA_FIDS.FFA_FEATURES, assertUint('id', id, 32), assertUint('properties', properties, 32)),
  decodeCall: (regs) => {
    const id = w(regs, 1);
    const properties = w(regs, 2);
    return {
      args: { id, properties },
      violations: violationsWhere([
        [isFeatureId(id) && id >>> 8 !== 0, R.featureIdReserved],
        [isFeatureId(id) && properties !== 0, R.featureIdProperties],
      ]),
    };
  },
  success: {
    fid: FFA_FIDS.FFA_SUCCESS_32,
    encode: ({ properties, intid, moreProperties = 0 }) => {
      if (properties !== undefined && intid !== undefined && properties !== intid) throw new RangeError('properties and intid are both w2: give one');
      return ffaSuccess32(0, assertUint('properties', intid ?? properties ?? 0, 32), assertUint('moreProperties', moreProperties, 32));
    },
    decode: (regs) => ({ ok: true, result: { properties: w(regs, 2), intid: w(regs, 2), moreProperties: w(regs, 3) } }),
  },
};

export type IdResult = { id: number };

/** w2[15:0] = an endpoint ID (docs/ffa-reference.md §2.7). */
const ID_IN_W2: SuccessCodec<IdResult> = {
  fid: FFA_FIDS.FFA_SUCCESS_32,
  encode: ({ id }) => ffaSuccess32(0, assertUint('id', id, 16)),
  decode: (regs) => ({ ok: true, result: { id: w(regs, 2) & 0xffff } }),
};

/** The caller's own ID. */
export const ffaIdGet: AbiCodec<NoArgs, IdResult> = {
  abi: 'FFA_ID_GET',
  fid: FFA_FIDS.FFA_ID_GET,
  args: {},
  encodeCall: () => registers(FFA_FIDS.FFA_ID_GET),
  decodeCall: () => ({ args: {}, violations: [] }),
  success: ID_IN_W2,
};

/** The SPMC's ID asked from the normal world, the SPMD's (0xFFFF) asked from the secure world. */
export const ffaSpmIdGet: AbiCodec<NoArgs, IdResult> = {
  abi: 'FFA_SPM_ID_GET',
  fid: FFA_FIDS.FFA_SPM_ID_GET,
  args: {},
  encodeCall: () => registers(FFA_FIDS.FFA_SPM_ID_GET),
  decodeCall: () => ({ args: {}, violations: [] }),
  success: ID_IN_W2,
};

export type PartitionInfoGetArgs = { uuid?: string; countOnly?: boolean };
/** w2 = count; w3 = descriptor size (0 when counting only: OP-TEE spmc_handle_partition_info_get). */
export type PartitionInfoGetResult = { count: number; descriptorSize?: number };

/** FFA_PARTITION_INFO_GET_COUNT_FLAG (v1.1): w5 bit 0 asks for the count only. */
const COUNT_ONLY_FLAG = 1;

/**
 * w1..w4 = UUID (nil: all partitions), w5 bit 0 = count only. None of the implementations read
 * checks the other w5 bits (OP-TEE and Hafnium handler.c read w5 as flags, testing bit 0).
 */
export const ffaPartitionInfoGet: AbiCodec<PartitionInfoGetArgs, PartitionInfoGetResult> = {
  abi: 'FFA_PARTITION_INFO_GET',
  fid: FFA_FIDS.FFA_PARTITION_INFO_GET,
  args: { uuid: 'uuid', countOnly: 'boolean' },
  encodeCall: ({ uuid = NIL_UUID, countOnly = false }) =>
    registers(FFA_FIDS.FFA_PARTITION_INFO_GET, ...uuidToWords(uuid), assertBoolean('countOnly', countOnly) ? COUNT_ONLY_FLAG : 0),
  decodeCall: (regs) => ({
    args: { uuid: uuidFromWords([w(regs, 1), w(regs, 2), w(regs, 3), w(regs, 4)]), countOnly: (w(regs, 5) & COUNT_ONLY_FLAG) !== 0 },
    violations: [],
  }),
  success: {
    fid: FFA_FIDS.FFA_SUCCESS_32,
    encode: ({ count, descriptorSize = 0 }) => ffaSuccess32(0, assertUint('count', count, 32), assertUint('descriptorSize', descriptorSize, 32)),
    decode: (regs) => ({ ok: true, result: { count: w(regs, 2), descriptorSize: w(regs, 3) } }),
  },
};

export type PartitionInfoGetRegsArgs = { uuid?: string; startIndex?: number; tag?: number };
/**
 * x2's four fields and the descriptors of this return. `partitions` holds the descriptors up to the
 * last non-empty slot: a return does not say how many it carries (the caller knows its start
 * index: current − start + 1), and every implementation zeroes the slots it leaves empty.
 */
export type PartitionInfoGetRegsResult = {
  lastIndex: number;
  currentIndex: number;
  tag?: number;
  descriptorSize?: number;
  partitions: readonly PartitionInfo[];
};

/** Largest start index Xen accepts (0xFFFF − (5 − 1)). */
const REGS_START_INDEX_MAX = 0xffff - (PARTITION_INFO_REGS_PER_CALL - 1);

/**
 * FFA_PARTITION_INFO_GET_REGS (v1.2, SMC64): x1/x2 the UUID (nil: all), x3 = start index [15:0] |
 * tag [31:16]; the return packs up to 5 descriptors in x3..x17 (partition-info-regs.ts).
 */
export const ffaPartitionInfoGetRegs: AbiCodec<PartitionInfoGetRegsArgs, PartitionInfoGetRegsResult> = {
  abi: 'FFA_PARTITION_INFO_GET_REGS',
  fid: FFA_FIDS.FFA_PARTITION_INFO_GET_REGS,
  args: { uuid: 'uuid', startIndex: 'u16', tag: 'u16' },
  encodeCall: ({ uuid = NIL_UUID, startIndex = 0, tag = 0 }) =>
    registers(FFA_FIDS.FFA_PARTITION_INFO_GET_REGS, ...uuidToRegisters(uuid), packStartAndTag(assertUint('startIndex', startIndex, 16), assertUint('tag', tag, 16))),
  decodeCall: (regs) => {
    const startIndex = Number(x(regs, 3) & 0xffffn);
    const tag = Number((x(regs, 3) >> 16n) & 0xffffn);
    return {
      args: { uuid: uuidFromRegisters(x(regs, 1), x(regs, 2)), startIndex, tag },
      violations: violationsWhere([
        [startIndex > REGS_START_INDEX_MAX, R.partitionInfoRegsStartOverflow],
        [startIndex === 0 && tag !== 0, R.partitionInfoRegsTagAtStart],
      ]),
    };
  },
  success: {
    fid: FFA_FIDS.FFA_SUCCESS_64,
    encode: ({ lastIndex, currentIndex, tag = 0, descriptorSize = PARTITION_INFO_REGS_DESCRIPTOR_SIZE, partitions }) => {
      if (partitions.length > PARTITION_INFO_REGS_PER_CALL) throw new RangeError(`at most ${PARTITION_INFO_REGS_PER_CALL} descriptors fit x3..x17, got ${partitions.length}`);
      const header = packPartitionInfoRegsHeader({
        lastIndex: assertUint('lastIndex', lastIndex, 16),
        currentIndex: assertUint('currentIndex', currentIndex, 16),
        tag: assertUint('tag', tag, 16),
        descriptorSize: assertUint('descriptorSize', descriptorSize, 16),
      });
      const descriptors = partitions.flatMap((partition, index) => {
        assertUint(`partitions[${index}].id`, partition.id, 16);
        assertUint(`partitions[${index}].vcpus`, partition.vcpus, 16);
        assertUint(`partitions[${index}].properties`, partition.properties, 32);
        if (isEmptyDescriptor(partition)) throw new RangeError(`partitions[${index}] is all zeros, which reads as an empty slot`);
        return descriptorToRegisters(partition);
      });
      return ffaSuccess64(0n, header, ...descriptors);
    },
    decode: (regs) => {
      const header = unpackPartitionInfoRegsHeader(x(regs, 2));
      let count = 0;
      for (let slot = 0; slot < PARTITION_INFO_REGS_PER_CALL; slot++) if (!descriptorSlotEmpty(regs, slot)) count = slot + 1;
      if (header.currentIndex > header.lastIndex) return { ok: false, why: `current index ${header.currentIndex} is past the last index ${header.lastIndex}` };
      if (count > header.currentIndex + 1) return { ok: false, why: `${count} descriptors, but the current index ${header.currentIndex} allows ${header.currentIndex + 1}` };
      const partitions = Array.from({ length: count }, (_, slot) => descriptorFromRegisters(regs, slot));
      return { ok: true, result: { ...header, partitions } };
    },
  },
};

export type RxtxMapArgs = { tx: bigint; rx: bigint; pageCount: number };

const PAGE_COUNT_MASK = 0x3f;

/** x1 = TX buffer address, x2 = RX buffer address (w1/w2 for the 32-bit call), w3[5:0] = pages. */
function rxtxMap(width: 32 | 64): AbiCodec<RxtxMapArgs, NoResult> {
  const fid = width === 64 ? FFA_FIDS.FFA_RXTX_MAP_64 : FFA_FIDS.FFA_RXTX_MAP_32;
  const address = (regs: RegisterFile, index: number) => (width === 64 ? x(regs, index) : BigInt(w(regs, index)));
  return {
    abi: width === 64 ? 'FFA_RXTX_MAP_64' : 'FFA_RXTX_MAP_32',
    fid,
    args: { tx: 'u64', rx: 'u64', pageCount: 'u32' },
    encodeCall: ({ tx, rx, pageCount }) =>
      registers(fid, assertBigUint('tx', tx, width), assertBigUint('rx', rx, width), assertUint('pageCount', pageCount, 32)),
    decodeCall: (regs) => ({
      args: { tx: address(regs, 1), rx: address(regs, 2), pageCount: w(regs, 3) },
      violations: violationsWhere([
        [(w(regs, 3) & ~PAGE_COUNT_MASK) !== 0, R.rxtxMapPageCountReserved],
        [(w(regs, 3) & PAGE_COUNT_MASK) === 0, R.rxtxMapPageCountZero],
      ]),
    }),
    success: EMPTY_SUCCESS_32,
  };
}

export const ffaRxtxMap32 = rxtxMap(32);
export const ffaRxtxMap64 = rxtxMap(64);

export type RxtxUnmapArgs = { id?: number };

/** w1[31:16] = the VM whose buffers to unmap, when a hypervisor asks (Hafnium ffa.h ffa_vm_id). */
export const ffaRxtxUnmap: AbiCodec<RxtxUnmapArgs, NoResult> = {
  abi: 'FFA_RXTX_UNMAP',
  fid: FFA_FIDS.FFA_RXTX_UNMAP,
  args: { id: 'endpoint' },
  encodeCall: ({ id = 0 }) => registers(FFA_FIDS.FFA_RXTX_UNMAP, (assertUint('id', id, 16) << 16) >>> 0),
  decodeCall: (regs) => ({ args: { id: w(regs, 1) >>> 16 }, violations: [] }),
  success: EMPTY_SUCCESS_32,
};

export type RxOwnershipArgs = { receiver?: number };

/** w1[15:0] = the buffer owner, when a hypervisor acts for a VM (Hafnium handler.c ffa_receiver). */
function rxOwnership(abi: 'FFA_RX_RELEASE' | 'FFA_RX_ACQUIRE'): AbiCodec<RxOwnershipArgs, NoResult> {
  const fid = FFA_FIDS[abi];
  return {
    abi,
    fid,
    args: { receiver: 'endpoint' },
    encodeCall: ({ receiver = 0 }) => registers(fid, assertUint('receiver', receiver, 16)),
    decodeCall: (regs) => ({ args: { receiver: w(regs, 1) & 0xffff }, violations: [] }),
    success: EMPTY_SUCCESS_32,
  };
}

export const ffaRxRelease = rxOwnership('FFA_RX_RELEASE');
export const ffaRxAcquire = rxOwnership('FFA_RX_ACQUIRE');
