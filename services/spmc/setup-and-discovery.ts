/**
 * The setup and discovery family (Hafnium src/ffa/spmc/setup_and_discovery.c): FFA_VERSION (also
 * as the SPMD's framework message), FFA_FEATURES per caller, FFA_ID_GET, FFA_SPM_ID_GET,
 * FFA_PARTITION_INFO_GET with descriptors written to the caller's RX buffer, or the count only,
 * and FFA_PARTITION_INFO_GET_REGS with the descriptors in x3..x17.
 */
import {
  FFA_VERSION_1_0,
  FFA_VERSION_1_1,
  FFA_VERSION_1_2,
  hex,
  FFA_PAGE_SIZE,
  NIL_UUID,
  PARTITION_INFO_SIZE_V1_0,
  rxWrite,
  PARTITION_INFO_SIZE_V1_1,
  abiNameOf,
  featureNameOf,
  ffaFeatures,
  ffaIdGet,
  ffaPartitionInfoGet,
  ffaPartitionInfoGetRegs,
  ffaSuccess32,
  partitionInfoRegsWindow,
  ffaVersion,
  isFeatureId,
  registers,
  versionMajor,
  versionMinor,
  versionNotSupported,
  violation,
  w,
  type FfaAbiName,
  type PartitionInfo,
} from '../../shared/ffa/index.ts';
import { callerId, callerVersion, checkRegisters, reply, refuse, type Answer, type CallContext, type SpmcState } from './call-context.ts';
import { propertiesSeenBy } from './config.ts';
import type { Partition } from './partitions.ts';

// ---------------------------------------------------------------- FFA_VERSION (§1.4)

/** Hafnium HF_MANAGED_EXIT_INTID: the virtual managed-exit interrupt offered to SPs. */
const MANAGED_EXIT_INTID = 4;

/**
 * Answer a version request and record what the caller negotiated; null = NOT_SUPPORTED.
 * - negotiated (OP-TEE spmc_exchange_version): below 1.1 → 1.0, else capped at the SPMC's own.
 * - own (Hafnium api_ffa_version): another major, or a newer minor, is NOT_SUPPORTED; else the
 *   caller runs at what it asked for and the answer is the SPMC's own version.
 */
export function negotiateVersion(spmc: SpmcState, requested: number, record: (version: number) => void): number | null {
  const own = spmc.config.ffaVersion;
  if (spmc.policies.versionAnswer === 'negotiated') {
    // No bit-31 check: the SPMD refuses such requests before they reach OP-TEE.
    const negotiated = requested >>> 0 < FFA_VERSION_1_1 ? FFA_VERSION_1_0 : Math.min(requested >>> 0, own);
    record(negotiated);
    return negotiated;
  }
  if ((requested & 0x8000_0000) !== 0) return null; // Hafnium ffa_version_is_valid (TF-A FFA_VERSION_BIT31_MASK)
  if (versionMajor(requested) !== versionMajor(own) || versionMinor(requested) > versionMinor(own)) return null;
  record(requested);
  return own;
}

export function handleVersion(cc: CallContext): Answer {
  const { version } = ffaVersion.decodeCall(cc.regs).args;
  const { origin, spmc } = cc;
  const answer = negotiateVersion(spmc, version, (negotiated) => {
    if (origin.kind === 'nwd') spmc.nwdVersion = negotiated;
    else origin.partition.version = negotiated;
  });
  return reply(answer === null ? versionNotSupported() : registers(answer));
}

// ---------------------------------------------------------------- FFA_FEATURES (§1.2, §2.7)

export function handleFeatures(cc: CallContext): Answer {
  const check = checkRegisters(cc.spmc, ffaFeatures.decodeCall(cc.regs));
  if (!check.ok) return refuse(cc, check.error, check.why);
  const { id } = check.args;
  const properties = isFeatureId(id) ? featureProperties(cc, id) : functionProperties(cc, id, check.args.properties);
  if (properties === null) return refuse(cc, 'NOT_SUPPORTED', `FFA_FEATURES: ${hex(id)} is not supported for this caller`);
  return reply(ffaSuccess32(0, properties));
}

/** Feature IDs: the interrupt IDs per the interruptFeatures policy (docs/ffa-reference.md §8.5). */
function featureProperties(cc: CallContext, id: number): number | null {
  const { policies } = cc.spmc;
  const fromNwd = cc.origin.kind === 'nwd';
  const hafniumTable = policies.featuresTable === 'hafnium';
  switch (featureNameOf(id)) {
    case 'SRI':
      // Hafnium ffa_features_feature: only to NWd callers; OP-TEE handle_features: once notifications are ready.
      return policies.interruptFeatures === 'sri-only' || fromNwd ? policies.sriIntid : null;
    case 'NPI':
      return policies.interruptFeatures === 'sri-to-nwd-npi-to-sp' && !fromNwd ? policies.npiIntid : null;
    case 'MEI':
      // OP-TEE: `case FFA_FEATURE_MANAGED_EXIT_INTR` → success, w2 = 0; Hafnium: SPs only, HF_MANAGED_EXIT_INTID.
      if (!hafniumTable) return 0;
      return fromNwd ? null : MANAGED_EXIT_INTID;
    case 'NOTIFICATION':
      // Hafnium (v1.3): bit 0/1 = per-vCPU not supported for VMs/SPs. OP-TEE: default case.
      if (!hafniumTable) return null;
      return policies.perVcpuNotifications === 'unsupported' ? 0b11 : 0;
    case null:
      return null;
  }
}

/**
 * OP-TEE thread_spmc.c handle_features (newest read: August 2026): a fixed list for every caller
 * (SET included though not dispatched); DIRECT_REQ2/RESP2 apart (OPTEE_FROM_NWD_V1_2). Row by row
 * under test with its source: features-optee.test.ts.
 */
const OPTEE_FEATURES: Partial<Record<FfaAbiName, number>> = {
  FFA_RXTX_MAP_32: 0, // 4 KiB minimum buffer size and alignment
  FFA_RXTX_MAP_64: 0,
  FFA_MEM_SHARE_32: 1, // BIT(0): buffers allocated by the endpoint
  FFA_MEM_SHARE_64: 1,
  ...Object.fromEntries(
    (
      [
        'FFA_ERROR',
        'FFA_VERSION',
        'FFA_SUCCESS_32',
        'FFA_SUCCESS_64',
        'FFA_FEATURES',
        'FFA_SPM_ID_GET',
        'FFA_MEM_FRAG_TX',
        'FFA_MEM_RECLAIM',
        'FFA_MSG_SEND_DIRECT_REQ_64',
        'FFA_MSG_SEND_DIRECT_REQ_32',
        'FFA_INTERRUPT',
        'FFA_PARTITION_INFO_GET',
        'FFA_RXTX_UNMAP',
        'FFA_RX_RELEASE',
        'FFA_NOTIFICATION_BITMAP_CREATE',
        'FFA_NOTIFICATION_BITMAP_DESTROY',
        'FFA_NOTIFICATION_BIND',
        'FFA_NOTIFICATION_UNBIND',
        'FFA_NOTIFICATION_SET',
        'FFA_NOTIFICATION_GET',
        'FFA_NOTIFICATION_INFO_GET_32',
        'FFA_NOTIFICATION_INFO_GET_64',
      ] as const
    ).map((name) => [name, 0]),
  ),
};

/**
 * OP-TEE handle_features: `if (my_rxtx.ffa_vers >= FFA_VERSION_1_2)`, the version the normal
 * world negotiated (its RX/TX state), whoever asks, an SP included.
 */
const OPTEE_FROM_NWD_V1_2: ReadonlySet<FfaAbiName> = new Set<FfaAbiName>(['FFA_MSG_SEND_DIRECT_REQ2', 'FFA_MSG_SEND_DIRECT_RESP2']);

function opteeFunctionProperties(cc: CallContext, name: FfaAbiName): number | null {
  if (OPTEE_FROM_NWD_V1_2.has(name)) return cc.spmc.nwdVersion >= FFA_VERSION_1_2 ? 0 : null;
  return OPTEE_FEATURES[name] ?? null;
}

type HafniumFeature = { since: number; only?: 'nwd' | 'sp' | 'sp-with-several-vcpus' };

/**
 * Hafnium api.c ffa_features_function (newest read: August 2026, after "fix(ffa): align
 * ffa_feature handling and coverage", January 2026): success (w2 = 0) when the compiled version
 * (here the SPMC's configured version) is recent enough, some only at one FF-A instance.
 * FFA_RXTX_MAP_64's properties are computed per caller. Memory-sharing ABIs are listed as Hafnium
 * lists them, although this SPMC does not model memory sharing.
 */
const HAFNIUM_FEATURES: Partial<Record<FfaAbiName, HafniumFeature>> = {
  ...Object.fromEntries(
    (
      [
        'FFA_ERROR',
        'FFA_SUCCESS_32',
        'FFA_SUCCESS_64',
        'FFA_INTERRUPT',
        'FFA_VERSION',
        'FFA_FEATURES',
        'FFA_RX_RELEASE',
        'FFA_RXTX_UNMAP',
        'FFA_PARTITION_INFO_GET',
        'FFA_ID_GET',
        'FFA_MSG_WAIT',
        'FFA_RUN',
        'FFA_MEM_DONATE_32',
        'FFA_MEM_DONATE_64',
        'FFA_MEM_LEND_32',
        'FFA_MEM_LEND_64',
        'FFA_MEM_SHARE_32',
        'FFA_MEM_SHARE_64',
        'FFA_MEM_RETRIEVE_RESP',
        'FFA_MEM_RELINQUISH',
        'FFA_MEM_RECLAIM',
        'FFA_MEM_FRAG_RX',
        'FFA_MEM_FRAG_TX',
        'FFA_MSG_SEND_DIRECT_RESP_64',
        'FFA_MSG_SEND_DIRECT_RESP_32',
        'FFA_MSG_SEND_DIRECT_REQ_64',
        'FFA_MSG_SEND_DIRECT_REQ_32',
      ] as const
    ).map((name) => [name, { since: FFA_VERSION_1_0 }]),
  ),
  ...Object.fromEntries(
    (
      [
        'FFA_SPM_ID_GET',
        'FFA_NOTIFICATION_BITMAP_CREATE',
        'FFA_NOTIFICATION_BITMAP_DESTROY',
        'FFA_NOTIFICATION_BIND',
        'FFA_NOTIFICATION_UNBIND',
        'FFA_NOTIFICATION_SET',
        'FFA_NOTIFICATION_GET',
        'FFA_MSG_SEND2',
      ] as const
    ).map((name) => [name, { since: FFA_VERSION_1_1 }]),
  ),
  // vm_is_primary(current->vm): at the SPMC the primary scheduler is the other world
  // (HF_PRIMARY_VM_ID = HF_OTHER_WORLD_ID), as api_ffa_notification_info_get itself requires.
  FFA_NOTIFICATION_INFO_GET_64: { since: FFA_VERSION_1_1, only: 'nwd' },
  ...Object.fromEntries(
    (['FFA_CONSOLE_LOG_32', 'FFA_CONSOLE_LOG_64', 'FFA_PARTITION_INFO_GET_REGS', 'FFA_MSG_SEND_DIRECT_REQ2', 'FFA_MSG_SEND_DIRECT_RESP2'] as const).map(
      (name) => [name, { since: FFA_VERSION_1_2 }],
    ),
  ),
  FFA_RXTX_MAP_64: { since: FFA_VERSION_1_0 },
  // Properties per caller: memRetrieveReqProperties.
  FFA_MEM_RETRIEVE_REQ_32: { since: FFA_VERSION_1_0 },
  FFA_MEM_RETRIEVE_REQ_64: { since: FFA_VERSION_1_0 },
  FFA_NS_RES_INFO_GET: { since: 0x1_0003, only: 'nwd' },
  // "Only discoverable to the normal-world hypervisor" (api.c, since 7ae7d281 of 2026-01; before
  // it Hafnium did not report it, which Xen works around: ffa.c ffa_probe_fw).
  FFA_RX_ACQUIRE: { since: FFA_VERSION_1_1, only: 'nwd' },
  FFA_SECONDARY_EP_REGISTER_64: { since: FFA_VERSION_1_1, only: 'sp-with-several-vcpus' },
  FFA_YIELD: { since: FFA_VERSION_1_0, only: 'sp' },
  // Offered to every SP whatever the version it negotiated: no caller-version check in
  // ffa_features_function (nor a compiled-version one).
  FFA_ABORT_32: { since: FFA_VERSION_1_0, only: 'sp' },
  FFA_ABORT_64: { since: FFA_VERSION_1_0, only: 'sp' },
};

/**
 * FF-A memory management supplement v1.2 Table 3.1, Hafnium inc/vmapi/hf/ffa.h
 * FFA_FEATURES_MEM_RETRIEVE_REQ_*: input bit 1 = the caller handles the NS bit; output bit 0 =
 * dynamically allocated buffers (0: not), bit 1 = NS bit handled, bit 2 = retrieval by the hypervisor.
 */
const MEM_RETRIEVE_REQ_NS_BIT = 1 << 1;
const MEM_RETRIEVE_REQ_HYPERVISOR_RETRIEVE = 1 << 2;

/** struct ffa_features_rxtx_map_params: max_buf_size (pages) in w2[31:16] for v1.2+ callers. */
const RXTX_MAP_MAX_PAGES_SHIFT = 16;

function functionProperties(cc: CallContext, fid: number, inputProperties: number): number | null {
  const name = abiNameOf(fid);
  if (name === null) return null;
  if (cc.spmc.policies.featuresTable === 'optee') return opteeFunctionProperties(cc, name);
  const feature = HAFNIUM_FEATURES[name];
  if (!feature || cc.spmc.config.ffaVersion < feature.since) return null;
  if (!offeredTo(cc, feature)) return null;
  if (name === 'FFA_RXTX_MAP_64') return callerVersion(cc) >= FFA_VERSION_1_2 ? 1 << RXTX_MAP_MAX_PAGES_SHIFT : 0;
  if (name === 'FFA_MEM_RETRIEVE_REQ_32' || name === 'FFA_MEM_RETRIEVE_REQ_64') return memRetrieveReqProperties(cc, inputProperties);
  return 0;
}

/** Hafnium ffa_features_function: YIELD and ABORT to SPs, SECONDARY_EP_REGISTER to SPs with more than one vCPU. */
function offeredTo(cc: CallContext, feature: HafniumFeature): boolean {
  switch (feature.only) {
    case undefined:
      return true;
    case 'sp-with-several-vcpus':
      return cc.origin.kind === 'sp' && cc.origin.partition.vcpus.length > 1;
    default:
      return feature.only === cc.origin.kind;
  }
}

/**
 * Hafnium ffa_features_function FFA_MEM_RETRIEVE_REQ_32/64: a v1.1+ caller must say it handles
 * the NS bit (reserved input bits are only warned about); the answer is the same for every caller.
 */
function memRetrieveReqProperties(cc: CallContext, inputProperties: number): number | null {
  if (callerVersion(cc) >= FFA_VERSION_1_1 && (inputProperties & MEM_RETRIEVE_REQ_NS_BIT) === 0) return null;
  return MEM_RETRIEVE_REQ_NS_BIT | MEM_RETRIEVE_REQ_HYPERVISOR_RETRIEVE;
}

// ---------------------------------------------------------------- FFA_ID_GET, FFA_SPM_ID_GET (§1.5, §2.7)

export function handleIdGet(cc: CallContext): Answer {
  if (cc.origin.kind === 'sp') return reply(ffaIdGet.success!.encode({ id: cc.origin.partition.id }));
  if (cc.spmc.policies.nwdIdGet === 'not-dispatched') return refuse(cc, 'NOT_SUPPORTED', 'FFA_ID_GET from the NWd is the SPMD\'s to answer');
  return reply(ffaIdGet.success!.encode({ id: 0 })); // Hafnium: the other-world VM, HF_OTHER_WORLD_ID
}

/** OP-TEE spmc_handle_spm_id_get and Hafnium api_ffa_spm_id_get: the SPMC's ID. */
export function handleSpmIdGet(cc: CallContext): Answer {
  return reply(ffaSuccess32(0, cc.spmc.config.spmcId));
}

// ---------------------------------------------------------------- FFA_PARTITION_INFO_GET (§2.7)

/** Hafnium api_ffa_partition_info_get: w5 bits [31:1] MBZ. */
const PARTITION_INFO_FLAGS_RESERVED = violation('partition-info-get.flags-reserved', 'w5 bits [31:1] must be zero', 'INVALID_PARAMETERS', {
  hafnium: 'INVALID_PARAMETERS',
});

/** FF-A v1.0 descriptors define only properties bits [2:0] (OP-TEE spmc_fill_partition_entry). */
const V1_0_PROPERTIES_MASK = 0b111;

/** A partition's descriptor as this caller sees it (policy partitionProperties, config.ts propertiesSeenBy). */
function describedTo(cc: CallContext, partition: Partition): PartitionInfo {
  const info = partition.info();
  const properties = propertiesSeenBy(info.properties, partition.version, cc.origin.kind, cc.spmc.policies.partitionProperties);
  return { ...info, properties };
}

export function handlePartitionInfoGet(cc: CallContext): Answer {
  const decoded = ffaPartitionInfoGet.decodeCall(cc.regs);
  const extra = (w(cc.regs, 5) & ~1) !== 0 ? [PARTITION_INFO_FLAGS_RESERVED] : [];
  const check = checkRegisters(cc.spmc, { args: decoded.args, violations: [...decoded.violations, ...extra] });
  if (!check.ok) return refuse(cc, check.error, check.why);
  const { uuid, countOnly } = check.args;
  const matching = cc.spmc.partitions.all.filter((p) => uuid === NIL_UUID || p.uuid === uuid.toLowerCase());
  if (countOnly) {
    if (matching.length === 0) return refuse(cc, 'INVALID_PARAMETERS', `no partition has UUID ${uuid}`);
    return reply(ffaSuccess32(0, matching.length));
  }
  return writePartitionInfo(cc, matching.map((p) => describedTo(cc, p)), uuid);
}

function writePartitionInfo(cc: CallContext, partitions: PartitionInfo[], uuid: string): Answer {
  const { spmc } = cc;
  const optee = spmc.policies.rxBufferRules === 'optee';
  const owner = callerId(cc.origin);
  const mailbox = spmc.mailboxes.get(owner);
  // Hafnium checks the UUID before the buffer; OP-TEE takes the buffer first.
  if (!optee && partitions.length === 0) return refuse(cc, 'INVALID_PARAMETERS', `no partition has UUID ${uuid}`);
  // Hafnium vm_is_mailbox_busy, OP-TEE `!rxtx->size || !rxtx->tx_is_mine`.
  if (!mailbox || mailbox.state !== 'empty') return refuse(cc, 'BUSY', `the caller's RX buffer is ${mailbox ? mailbox.state : 'not mapped'}`);
  if (partitions.length === 0) {
    // OP-TEE spmc_handle_partition_info_get: `tx_is_mine = false` on every non-count-only exit.
    spmc.mailboxes.handOver(mailbox);
    return refuse(cc, 'INVALID_PARAMETERS', `no partition has UUID ${uuid}`);
  }
  const version = callerVersion(cc);
  const descriptorSize = version >= FFA_VERSION_1_1 ? PARTITION_INFO_SIZE_V1_1 : PARTITION_INFO_SIZE_V1_0;
  if (partitions.length * descriptorSize > mailbox.pageCount * FFA_PAGE_SIZE) return refuse(cc, 'NO_MEMORY', 'the descriptors do not fit the RX buffer');
  const written =
    version >= FFA_VERSION_1_1 ? partitions : partitions.map((p) => ({ ...p, properties: p.properties & V1_0_PROPERTIES_MASK, uuid: NIL_UUID }));
  const content = { kind: 'partition-info', partitions: written, descriptorSize } as const;
  spmc.mailboxes.fill(mailbox, content);
  spmc.ctx.record({ event: 'rx-partition-info', owner, descriptorSize, partitions: written.map((p) => ({ ...p })) });
  // OP-TEE reports the size in w3 only for v1.1+ callers; Hafnium always. The caller reads the
  // descriptors from its RX buffer once the call returns: the return carries them to its side.
  return reply(ffaSuccess32(0, written.length, optee && version < FFA_VERSION_1_1 ? 0 : descriptorSize), rxWrite(owner, content));
}

// ---------------------------------------------------------------- FFA_PARTITION_INFO_GET_REGS (§4.1)

/**
 * Hafnium api.c api_ffa_partition_info_get_regs, in its order:
 * - a nonzero tag → RETRY ("TODO: Add support for using tags"), at any start index;
 * - the partitions matching the UUID (nil: all), each with its UUID only for a nil-UUID query
 *   (api_ffa_fill_partitions_info_array, `if (uuid_is_null) ffa_uuid_to_u64x2(...)`);
 * - none, or a start index at or past their count → INVALID_PARAMETERS;
 * - FFA_SUCCESS_64 with x2 = 24 << 48 | current << 16 | last (tag 0) and at most 5 descriptors.
 * No caller-version check: Hafnium offers it by its compiled version (ffa_features_function).
 * An SP's call would also be forwarded to the SPMD for EL3 logical partitions; the SPMD here has
 * none (NOT_SUPPORTED, which Hafnium does not count as a failure), so both callers get the table.
 */
export function handlePartitionInfoGetRegs(cc: CallContext): Answer {
  const { spmc } = cc;
  if (spmc.policies.partitionInfoGetRegs === 'not-dispatched') {
    return refuse(cc, 'NOT_SUPPORTED', 'FFA_PARTITION_INFO_GET_REGS is not dispatched (OP-TEE thread_spmc_msg_recv)');
  }
  const check = checkRegisters(spmc, ffaPartitionInfoGetRegs.decodeCall(cc.regs));
  if (!check.ok) return refuse(cc, check.error, check.why);
  const { uuid, startIndex, tag } = check.args;
  if (tag !== 0) return refuse(cc, 'RETRY', `tag ${tag}: tags are not supported (Hafnium)`);
  const nil = uuid === NIL_UUID;
  const matching = spmc.partitions.all.filter((p) => nil || p.uuid === uuid.toLowerCase()).map((p) => describedTo(cc, p));
  if (matching.length === 0) return refuse(cc, 'INVALID_PARAMETERS', `no partition has UUID ${uuid}`);
  if (startIndex >= matching.length) return refuse(cc, 'INVALID_PARAMETERS', `start index ${startIndex} is past the last of ${matching.length} partitions`);
  const { currentIndex, window } = partitionInfoRegsWindow(matching, startIndex);
  const partitions = nil ? window : window.map((p) => ({ ...p, uuid: NIL_UUID }));
  return reply(ffaPartitionInfoGetRegs.success!.encode({ lastIndex: matching.length - 1, currentIndex, tag: 0, partitions }));
}
