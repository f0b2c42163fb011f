/**
 * The setup and discovery family, both sides of the hypervisor:
 * - towards the firmware, the probe at start (docs/ffa-reference.md §5.1; Xen ffa.c ffa_probe_fw,
 *   ffa_rxtx.c ffa_rxtx_spmc_init, ffa_partinfo.c ffa_partinfo_init, ffa_notif.c ffa_notif_init);
 * - towards guests (docs/ffa-reference.md §5.4, §5.6): FFA_VERSION negotiation, FFA_ID_GET, FFA_FEATURES,
 *   FFA_PARTITION_INFO_GET(_REGS) from the cached SP list, and the guest's RX/TX buffers.
 */
import {
  FFA_FIDS,
  FFA_VERSION_1_0,
  FFA_VERSION_1_2,
  FEATURE_IDS,
  hex,
  NIL_UUID,
  PARTITION_INFO_SIZE_V1_0,
  PARTITION_INFO_SIZE_V1_1,
  abiNameOf,
  enforce,
  ffaFeatures,
  ffaPartitionInfoGet,
  ffaSuccess32,
  rxWrite,
  FFA_PAGE_SIZE,
  isSecureId,
  ffaPartitionInfoGetRegs,
  partitionInfoRegsWindow,
  ffaRxtxMap64,
  isValidVersion,
  registers,
  versionMajor,
  versionMinor,
  w,
  type BufferWrite,
  type FfaAbiName,
  type PartitionInfo,
} from '../../shared/ffa/index.ts';
import { answer, answerAllRegisters, guestVersion, refuse, succeed, type GuestCall, type HypervisorState, type Outcome } from './guest-call.ts';
import { acquireGuestRx, releaseAndRefuse } from './rx-tx-buffers.ts';
import { codeName, describeResult, returnCode, type FirmwareLink, type FirmwareResult } from './firmware.ts';

/** Xen ffa_private.h FFA_MY_VERSION: the version Xen implements, towards guests and the SPMC. */
export const MY_VERSION = FFA_VERSION_1_2;
/** Xen FFA_MIN_SPMC_VERSION: 1.1, where notifications came in. */
const MIN_SPMC_MINOR = 1;
/** Xen ffa_private.h FFA_MAX_NUM_SP: ffa_partinfo_init refuses a count at or above it. */
const MAX_NUM_SP = 64;
/** FFA_RXTX_PAGE_COUNT (Xen's own buffers) and FFA_MAX_RXTX_PAGE_COUNT (a guest's): one 4 KiB page. */
const RXTX_PAGE_COUNT = 1;
/** Where Xen's own RX/TX pages sit: symbolic addresses (only their contents are kept), page aligned and distinct. */
const OWN_TX_ADDRESS = 0x4000_0000n;
const OWN_RX_ADDRESS = 0x4000_1000n;
/** FFA_PARTITION_INFO_GET_COUNT_FLAG (w5 bit 0). */
const COUNT_ONLY_FLAG = 1;
/** struct ffa_features_rxtx_map_params: max_buf_size (pages) in w2[31:16] for v1.2+ callers. */
const RXTX_MAP_MAX_PAGES_SHIFT = 16;

// ---------------------------------------------------------------- the probe (§5.1)

/**
 * Xen ffa.c ffa_fw_abi_needed, as the reference read it: the ABIs Xen asks FFA_FEATURES about.
 * The reference's version also has RX_ACQUIRE, DIRECT_REQ2 and RUN in the list.
 */
const ABIS_NEEDED: readonly FfaAbiName[] = [
  'FFA_VERSION',
  'FFA_FEATURES',
  'FFA_NOTIFICATION_BITMAP_CREATE',
  'FFA_NOTIFICATION_BITMAP_DESTROY',
  'FFA_PARTITION_INFO_GET',
  'FFA_NOTIFICATION_INFO_GET_64',
  'FFA_NOTIFICATION_GET',
  'FFA_RX_RELEASE',
  'FFA_RXTX_MAP_64',
  'FFA_RXTX_UNMAP',
  'FFA_MEM_SHARE_32',
  'FFA_MEM_SHARE_64',
  'FFA_MEM_RECLAIM',
  'FFA_MSG_SEND_DIRECT_REQ_32',
  'FFA_MSG_SEND_DIRECT_REQ_64',
  'FFA_MSG_SEND2',
  'FFA_MSG_SEND_DIRECT_REQ2',
  'FFA_RUN',
  'FFA_RX_ACQUIRE',
];

/** ffa_notif.c ffa_notif_init: firmware notifications need all four. */
const ABIS_FOR_NOTIFICATIONS: readonly FfaAbiName[] = [
  'FFA_NOTIFICATION_BITMAP_CREATE',
  'FFA_NOTIFICATION_BITMAP_DESTROY',
  'FFA_NOTIFICATION_GET',
  'FFA_NOTIFICATION_INFO_GET_64',
];

/** The CPU the probe runs on (Xen's boot CPU). */
const BOOT_CPU = 0;

type Step = (next: () => void) => void;

/** Runs the probe's SMCs one after another; `done` once the firmware is `ready` or `absent`. */
export class FirmwareProbe {
  constructor(
    private readonly hv: HypervisorState,
    private readonly link: FirmwareLink,
    private readonly done: () => void,
  ) {}

  start(): void {
    this.version(() => this.features(0, () => this.mapOwnBuffers(() => this.partitionInfo(() => this.notifications(() => this.finish())))));
  }

  /** One SMC of the probe, recorded as `fw-call` with purpose 'probe'. */
  private smc(regs: ReturnType<typeof registers>, detail: Record<string, unknown>, onResult: (result: FirmwareResult) => void): void {
    this.link.call(regs, BOOT_CPU, (result) => {
      this.hv.ctx.record({ event: 'fw-call', purpose: 'probe', abi: abiNameOf(w(regs, 0)), ...detail, result: describeResult(result) });
      onResult(result);
    });
  }

  /** ffa.c err_no_fw: no usable firmware; every VM will be refused. */
  private absent(why: string): void {
    const { firmware } = this.hv;
    firmware.state = 'absent';
    firmware.version = null;
    firmware.supported.clear();
    firmware.notificationsEnabled = false;
    this.hv.ctx.record({ event: 'fw-probe', state: 'absent', why });
    this.done();
  }

  /** ffa_get_version and the checks of ffa_probe_fw. */
  private version: Step = (next) => {
    this.smc(registers(FFA_FIDS.FFA_VERSION, MY_VERSION), { requested: '1.2' }, (result) => {
      const fw = result.ok ? w(result.regs, 0) : null;
      if (fw === null || !isValidVersion(fw)) return this.absent('FFA_VERSION is not supported');
      if (versionMajor(fw) !== versionMajor(MY_VERSION) || versionMinor(fw) < MIN_SPMC_MINOR) {
        return this.absent(`incompatible firmware version ${versionMajor(fw)}.${versionMinor(fw)}`);
      }
      this.hv.firmware.version = versionMinor(fw) > versionMinor(MY_VERSION) ? MY_VERSION : fw;
      next();
    });
  };

  /** ffa_abi_supported for each of ffa_fw_abi_needed: FFA_FEATURES(fid) answered with success. */
  private features(index: number, next: () => void): void {
    const abi = ABIS_NEEDED[index];
    if (abi === undefined) {
      this.assumeRxAcquire();
      return next();
    }
    this.smc(ffaFeatures.encodeCall({ id: FFA_FIDS[abi] }), { feature: abi }, (result) => {
      if (returnCode(result) === 0) this.hv.firmware.supported.add(abi);
      this.features(index + 1, next);
    });
  }

  /**
   * ffa_probe_fw: "Hafnium v2.14 or earlier does not report FFA_RX_ACQUIRE in FFA_FEATURES even
   * though it supports it": with FFA_MSG_SEND2 supported, RX_ACQUIRE is assumed.
   */
  private assumeRxAcquire(): void {
    const { firmware, ctx } = this.hv;
    if (firmware.supports('FFA_RX_ACQUIRE') || !firmware.supports('FFA_MSG_SEND2')) return;
    firmware.supported.add('FFA_RX_ACQUIRE');
    ctx.record({ event: 'fw-probe', state: 'probing', why: 'the firmware reports FFA_MSG_SEND2 without FFA_RX_ACQUIRE: assuming RX_ACQUIRE support (workaround)' });
  }

  /** ffa_rxtx_spmc_init: map Xen's own RX/TX pair at the SPMC with FFA_RXTX_MAP_64. */
  private mapOwnBuffers: Step = (next) => {
    if (!this.hv.firmware.supports('FFA_RXTX_MAP_64')) return this.absent('FFA_RXTX_MAP_64 is not supported (RXTX buffer init)');
    const regs = ffaRxtxMap64.encodeCall({ tx: OWN_TX_ADDRESS, rx: OWN_RX_ADDRESS, pageCount: RXTX_PAGE_COUNT });
    this.smc(regs, {}, (result) => {
      const code = returnCode(result);
      if (code !== 0) return this.absent(`FFA_RXTX_MAP_64 failed: ${codeName(code)}`);
      next();
    });
  };

  /**
   * ffa_partinfo_init: PARTITION_INFO_GET for every SP into Xen's own RX buffer, the SP list
   * cached from the descriptors there (with the properties the SPMC gives a normal-world caller),
   * then FFA_RX_RELEASE, made only when the call succeeded (`notify_fw`). Any failure: no firmware.
   */
  private partitionInfo: Step = (next) => {
    const { firmware } = this.hv;
    if (!firmware.supports('FFA_PARTITION_INFO_GET') || !firmware.supports('FFA_MSG_SEND_DIRECT_REQ_32')) {
      return this.unmapAndGiveUp('FFA_PARTITION_INFO_GET or FFA_MSG_SEND_DIRECT_REQ_32 is not supported');
    }
    this.smc(ffaPartitionInfoGet.encodeCall({}), {}, (result) => {
      const code = returnCode(result);
      if (code !== 0 || !result.ok) return this.unmapAndGiveUp(`failed to get the list of SPs: ${codeName(code)}`);
      const count = w(result.regs, 2);
      const problem = count >= MAX_NUM_SP ? `more SPs than the maximum supported: ${count} - ${MAX_NUM_SP}` : this.cacheSpList(result.memory, count, w(result.regs, 3));
      this.releaseOwnRx(() => (problem === null ? next() : this.unmapAndGiveUp(problem)));
    });
  };

  /**
   * ffa_sp_list_cache_init over what the SPMC wrote into Xen's RX buffer: the descriptor size at
   * least v1.1's and below a page, the count within the page, and only secure IDs kept ("Secure
   * partition with id … cannot be used"). Why it failed, or null.
   */
  private cacheSpList(memory: BufferWrite | null, count: number, size: number): string | null {
    const { firmware, ctx } = this.hv;
    if (size < PARTITION_INFO_SIZE_V1_1 || size >= FFA_PAGE_SIZE) return `failed to cache the SP list: descriptor size ${size}`;
    if (count > (RXTX_PAGE_COUNT * FFA_PAGE_SIZE) / size) return `failed to cache the SP list: ${count} descriptors of ${size} bytes do not fit the RX buffer`;
    const descriptors = ownRxDescriptors(memory);
    if (descriptors === null || descriptors.length < count) return `failed to cache the SP list: the RX buffer holds no ${count} descriptors`;
    const listed = descriptors.slice(0, count);
    for (const partition of listed.filter((p) => !isSecureId(p.id))) ctx.record({ event: 'sp-ignored', id: partition.id, why: 'the firmware is not using bit 15 convention for IDs' });
    firmware.partitions = listed.filter((p) => isSecureId(p.id));
    return null;
  }

  /** ffa_rxtx_spmc_rx_release: the RX buffer back to the SPMC. */
  private releaseOwnRx(next: () => void): void {
    this.smc(registers(FFA_FIDS.FFA_RX_RELEASE), {}, () => next());
  }

  /** ffa.c err_rxtx_destroy: unmap Xen's buffers, then no firmware. */
  private unmapAndGiveUp(why: string): void {
    this.smc(registers(FFA_FIDS.FFA_RXTX_UNMAP), {}, () => this.absent(why));
  }

  /** ffa_notif_init: FEATURES(SRI) once the four notification ABIs are known to be there. */
  private notifications: Step = (next) => {
    const { firmware } = this.hv;
    if (!ABIS_FOR_NOTIFICATIONS.every((abi) => firmware.supports(abi))) return next();
    this.smc(ffaFeatures.encodeCall({ id: FEATURE_IDS.SRI }), { feature: 'SRI' }, (result) => {
      if (result.ok && w(result.regs, 0) === FFA_FIDS.FFA_SUCCESS_32) {
        firmware.sriIntid = w(result.regs, 2);
        firmware.notificationsEnabled = true;
      }
      next();
    });
  };

  private finish(): void {
    const { firmware, ctx } = this.hv;
    firmware.state = 'ready';
    ctx.record({
      event: 'fw-probe',
      state: 'ready',
      version: firmware.version === null ? null : `${versionMajor(firmware.version)}.${versionMinor(firmware.version)}`,
      supported: [...firmware.supported],
      notifications: firmware.notificationsEnabled,
      sriIntid: firmware.sriIntid,
      partitions: firmware.partitions.map((p) => p.id),
    });
    this.done();
  }
}

// ---------------------------------------------------------------- FFA_VERSION (§5.4)

/**
 * Xen ffa.c ffa_negotiate_version, before negotiation is final: the guest runs at the version it
 * asked for if it has Xen's major and a minor no newer than Xen's, else at Xen's own; the answer
 * is always Xen's version (FF-A: the callee reports its own).
 */
export function negotiateVersion(gc: GuestCall): Outcome {
  const requested = w(gc.regs, 1);
  const sameMajor = versionMajor(requested) === versionMajor(MY_VERSION);
  const tentative = sameMajor && versionMinor(requested) <= versionMinor(MY_VERSION) ? requested : MY_VERSION;
  gc.vm.version = { kind: 'tentative', version: tentative };
  return answer(registers(MY_VERSION), `tentatively ${versionMajor(tentative)}.${versionMinor(tentative)} until the first other call`);
}

/** ffa_handle_call `case FFA_VERSION` once negotiation is final: Xen's version, nothing changes. */
export function handleVersionAfterNegotiation(_gc: GuestCall): Outcome {
  return answer(registers(MY_VERSION), 'negotiation is already final');
}

// ---------------------------------------------------------------- FFA_ID_GET

/** ffa_handle_call: ffa_set_regs_success(regs, ffa_get_vm_id(d), 0). */
export function handleIdGet(gc: GuestCall): Outcome {
  return succeed('the VM\'s own ID (domid + 1)', gc.vm.id);
}

// ---------------------------------------------------------------- FFA_FEATURES (§5.6)

/** Success with w2 = 0 whatever the firmware (ffa.c handle_features' first group). */
const ALWAYS_SUPPORTED: ReadonlySet<FfaAbiName> = new Set<FfaAbiName>([
  'FFA_ERROR',
  'FFA_VERSION',
  'FFA_INTERRUPT',
  'FFA_SUCCESS_32',
  'FFA_SUCCESS_64',
  'FFA_FEATURES',
  'FFA_ID_GET',
  'FFA_RX_RELEASE',
  'FFA_RXTX_UNMAP',
  'FFA_MEM_RECLAIM',
  'FFA_PARTITION_INFO_GET',
  // "We currently don't support dynamically allocated buffers. Report that with 0 in bit[0] of w2."
  'FFA_MEM_SHARE_32',
  'FFA_MEM_SHARE_64',
  // Unconditional, even when firmware notifications are disabled (docs/ffa-reference.md §5.6).
  'FFA_NOTIFICATION_BIND',
  'FFA_NOTIFICATION_UNBIND',
  'FFA_NOTIFICATION_GET',
  'FFA_NOTIFICATION_SET',
  'FFA_NOTIFICATION_INFO_GET_32',
  'FFA_NOTIFICATION_INFO_GET_64',
]);

/** Supported towards guests only when the firmware supports them. */
const WHEN_FIRMWARE_SUPPORTS: ReadonlySet<FfaAbiName> = new Set<FfaAbiName>(['FFA_MSG_SEND_DIRECT_REQ_32', 'FFA_MSG_SEND_DIRECT_REQ_64', 'FFA_RUN']);

/** Supported only for guests that negotiated v1.2 or later. */
const FROM_V1_2: ReadonlySet<FfaAbiName> = new Set<FfaAbiName>(['FFA_MSG_SEND_DIRECT_REQ2', 'FFA_PARTITION_INFO_GET_REGS']);

/** ffa.c handle_features. */
export function handleFeatures(gc: GuestCall): Outcome {
  for (let index = 2; index <= 7; index++) {
    if (w(gc.regs, index) !== 0) return refuse('NOT_SUPPORTED', `FFA_FEATURES: w${index} must be zero`);
  }
  const id = w(gc.regs, 1);
  if (id === FEATURE_IDS.NPI) return interruptFeature(gc, 'NPI');
  if (id === FEATURE_IDS.SRI) return interruptFeature(gc, 'SRI');
  const abi = abiNameOf(id);
  if (abi === null) return refuse('NOT_SUPPORTED', `FFA_FEATURES: ${hex(id)} is not an ABI Xen reports`);
  return functionFeature(gc, abi);
}

/** FFA_FEATURE_NOTIF_PEND_INTR / FFA_FEATURE_SCHEDULE_RECV_INTR, per the guestInterrupts policy. */
function interruptFeature(gc: GuestCall, which: 'NPI' | 'SRI'): Outcome {
  const { policies } = gc.hv;
  if (which === 'NPI') return succeed('GUEST_FFA_NOTIF_PEND_INTR_ID', policies.guestNpiIntid);
  if (policies.guestInterrupts === 'npi-only') return refuse('NOT_SUPPORTED', 'the SRI is not offered to guests (npi-only)');
  return succeed('GUEST_FFA_SCHEDULE_RECV_INTR_ID (offered, never raised)', policies.guestSriIntid);
}

/** The partition descriptors in Xen's own RX buffer (owner 0), as the SPMC's return carried them. */
function ownRxDescriptors(memory: BufferWrite | null): readonly PartitionInfo[] | null {
  if (memory === null || memory.buffer !== 'rx' || memory.owner !== 0 || memory.content.kind !== 'partition-info') return null;
  return memory.content.partitions;
}

function functionFeature(gc: GuestCall, abi: FfaAbiName): Outcome {
  if (ALWAYS_SUPPORTED.has(abi)) return succeed(`${abi} is supported`);
  if (abi === 'FFA_RXTX_MAP_32' || abi === 'FFA_RXTX_MAP_64') {
    // 4 KiB minimum (bits [1:0] = 0); from v1.2 the maximum page count in w2[31:16].
    return succeed('RX/TX buffers of one 4 KiB page', guestVersion(gc) < FFA_VERSION_1_2 ? 0 : RXTX_PAGE_COUNT << RXTX_MAP_MAX_PAGES_SHIFT);
  }
  if (WHEN_FIRMWARE_SUPPORTS.has(abi)) {
    return gc.hv.firmware.supports(abi) ? succeed(`the firmware supports ${abi}`) : refuse('NOT_SUPPORTED', `the firmware does not support ${abi}`);
  }
  if (FROM_V1_2.has(abi)) {
    return guestVersion(gc) >= FFA_VERSION_1_2 ? succeed(`${abi} for a v1.2 guest`) : refuse('NOT_SUPPORTED', `${abi} needs a guest at v1.2`);
  }
  if (abi === 'FFA_MSG_SEND2') {
    // VM-to-VM is not built; to SPs Xen needs the firmware's SEND2 and RX_ACQUIRE.
    const viaFirmware = gc.hv.firmware.supports('FFA_MSG_SEND2') && gc.hv.firmware.supports('FFA_RX_ACQUIRE');
    return viaFirmware ? succeed('FFA_MSG_SEND2 to SPs') : refuse('NOT_SUPPORTED', 'FFA_MSG_SEND2 needs the firmware\'s SEND2 and RX_ACQUIRE');
  }
  // BITMAP_CREATE/DESTROY and RX_ACQUIRE: "Physical-instance-only ABIs are not exposed to VMs".
  return refuse('NOT_SUPPORTED', `${abi} is not offered to guests`);
}

// ---------------------------------------------------------------- FFA_PARTITION_INFO_GET (§5.4)

/**
 * ffa_partinfo.c ffa_handle_partition_info_get, over the SP list cached at probe: count only, or
 * the descriptors written into the guest's RX buffer, which Xen first takes (ffa_rx_acquire,
 * from the SPMC too when it has RX_ACQUIRE) and gives back on an error after (ffa_rx_release).
 * Not modelled: for a v1.2 guest and the nil UUID Xen also lists the calling VM itself
 * (ffa_get_vm_partinfo), as PARTITION_INFO_GET_REGS below does not either.
 */
export function handlePartitionInfoGet(gc: GuestCall): Outcome {
  const version = guestVersion(gc);
  const descriptorSize = version === FFA_VERSION_1_0 ? PARTITION_INFO_SIZE_V1_0 : PARTITION_INFO_SIZE_V1_1;
  const flags = w(gc.regs, 5);
  const uuid = ffaPartitionInfoGet.decodeCall(gc.regs).args.uuid;
  const matching = gc.hv.firmware.partitions.filter((p) => uuid === NIL_UUID || p.uuid === uuid.toLowerCase());
  if (flags !== 0) {
    // "FF-A v1.0 has w5 MBZ while v1.1 allows FFA_PARTITION_INFO_GET_COUNT_FLAG to be non-zero."
    if (version === FFA_VERSION_1_0 || flags !== COUNT_ONLY_FLAG) return refuse('INVALID_PARAMETERS', 'w5 must be 0 or the count-only flag (v1.1+)');
    if (matching.length === 0 && uuid !== NIL_UUID) return refuse('INVALID_PARAMETERS', `no SP has UUID ${uuid}`);
    return succeed('count only, from the SP list cached at probe', matching.length, 0);
  }
  return acquireGuestRx(gc, () => writePartitionInfo(gc, matching, uuid, descriptorSize));
}

/** ffa_get_sp_partinfo into the acquired buffer; "Size should be 0 … not supported in 1.0". */
function writePartitionInfo(gc: GuestCall, matching: readonly PartitionInfo[], uuid: string, descriptorSize: number): Outcome {
  const { buffers } = gc.vm;
  if (buffers === null) throw new Error('bug: wrote the RX buffer of a VM that has none');
  if (matching.length === 0 && uuid !== NIL_UUID) return releaseAndRefuse(gc, 'INVALID_PARAMETERS', `no SP has UUID ${uuid}`);
  if (matching.length * descriptorSize > buffers.pageCount * FFA_PAGE_SIZE) return releaseAndRefuse(gc, 'NO_MEMORY', 'the descriptors do not fit the RX buffer');
  // A UUID query's descriptors have their UUIDs zeroed (ffa_get_sp_partinfo).
  const written = matching.map((p) => (uuid === NIL_UUID ? { ...p } : { ...p, uuid: NIL_UUID }));
  gc.hv.ctx.record({ event: 'rx-partition-info', vm: gc.vm.id, descriptorSize, partitions: written });
  const memory = rxWrite(gc.vm.id, { kind: 'partition-info', descriptorSize, partitions: written });
  const shownSize = guestVersion(gc) === FFA_VERSION_1_0 ? 0 : descriptorSize;
  return { kind: 'answer', answer: { regs: ffaSuccess32(0, written.length, shownSize), why: 'descriptors written to the guest\'s RX buffer, from the SP list cached at probe', memory } };
}

// ---------------------------------------------------------------- FFA_PARTITION_INFO_GET_REGS (§5.4, §5.6)

/**
 * The UUID information tag Xen hands out: ffa_partinfo_get_tag() is 1 without CONFIG_FFA_VM_TO_VM
 * ("SP list is static; tag only moves when VMs are added/removed"), which is not built here.
 */
export const PARTINFO_TAG = 1;

/**
 * ffa_partinfo.c ffa_handle_partition_info_get_regs (xen-devel "[PATCH v2 4/4] xen/arm: ffa: Add
 * cached GET_REGS support", 2026-03), over the SP list cached at probe, in Xen's order:
 * - a guest below v1.2 → NOT_SUPPORTED (FEATURES says the same, handle_features);
 * - start index > 0xFFFF − 4 → INVALID_PARAMETERS; at start index 0 the tag must be 0
 *   (INVALID_PARAMETERS), after it the tag must be Xen's current one (RETRY);
 * - a UUID no SP has → INVALID_PARAMETERS (ffa_get_sp_count); none at all, or a start index at or
 *   past the count → INVALID_PARAMETERS;
 * - FFA_SUCCESS_64 in all of x0..x17: x2 = 24 << 48 | tag << 32 | current << 16 | last, and at most
 *   5 descriptors, their UUID registers zero for a UUID query.
 * Not modelled: for a nil UUID Xen also lists the calling VM itself (ffa_get_vm_partinfo, "Add
 * caller VM information" for v1.2 guests, vm_count = 1 without VM-to-VM); this mediator's
 * PARTITION_INFO_GET does not list it either, and both answer from the same SP list.
 */
export function handlePartitionInfoGetRegs(gc: GuestCall): Outcome {
  if (guestVersion(gc) < FFA_VERSION_1_2) return refuse('NOT_SUPPORTED', 'FFA_PARTITION_INFO_GET_REGS needs a guest at v1.2');
  const check = enforce(ffaPartitionInfoGetRegs.decodeCall(gc.regs), 'xen');
  if (!check.ok) return refuse(check.error, check.why);
  const { uuid, startIndex, tag } = check.args;
  if (startIndex !== 0 && tag !== PARTINFO_TAG) return refuse('RETRY', `tag ${tag} is not the current one (${PARTINFO_TAG})`);
  const nil = uuid === NIL_UUID;
  const matching = gc.hv.firmware.partitions.filter((p) => nil || p.uuid === uuid.toLowerCase());
  if (!nil && matching.length === 0) return refuse('INVALID_PARAMETERS', `no SP has UUID ${uuid}`);
  if (matching.length === 0 || startIndex >= matching.length) {
    return refuse('INVALID_PARAMETERS', `start index ${startIndex} is not below the ${matching.length} partitions listed`);
  }
  const { currentIndex, window } = partitionInfoRegsWindow(matching, startIndex);
  const partitions = nil ? window : window.map((p) => ({ ...p, uuid: NIL_UUID }));
  const regs = ffaPartitionInfoGetRegs.success!.encode({ lastIndex: matching.length - 1, currentIndex, tag: PARTINFO_TAG, partitions });
  return answerAllRegisters(regs, `descriptors ${startIndex}..${currentIndex} of ${matching.length}, from the SP list cached at probe`);
}
