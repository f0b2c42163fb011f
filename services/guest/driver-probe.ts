/**
 * ffa_init (drivers/firmware/arm_ffa/driver.c, docs/ffa-reference.md §4.1), on the boot vCPU, one call at a
 * time:
 *  1. FFA_VERSION(1.2): ffa_version_check, min(firmware, driver) as the version;
 *  2. FFA_ID_GET: drv_info->vm_id (0 on bare metal with TF-A, domid + 1 under Xen);
 *  3. FFA_FEATURES(FFA_RXTX_MAP_64) for the buffer size, then FFA_RXTX_MAP_64;
 *  4. ffa_drvinfo_flags_init: FEATURES(MEM_LEND_64) || FEATURES(MEM_SHARE_64), and
 *     FEATURES(DIRECT_REQ2) || FEATURES(DIRECT_RESP2) (C's || stops at the first success);
 *  5. ffa_notifications_setup (notifications.ts, per variant);
 *  6. ffa_setup_partitions: FEATURES(PARTITION_INFO_GET_REGS) picks the register or the RX buffer
 *     path; a count-only call, then the full one (+ FFA_RX_RELEASE on the RX path); a device per
 *     partition; ffa_setup_host_partition for the driver's own ID, with ffa_self_notif_handle as
 *     its schedule-receiver callback when notifications are enabled.
 * A failure of 1-3 ends the driver ("failed to register FFA RxTx buffers", …); a failure of 6
 * runs ffa_notifications_cleanup and ends it too ("failed to setup partitions"). That order is
 * probe-state.ts's, in one transition function; here is what each step calls.
 */
import {
  FFA_FIDS,
  FFA_VERSION_1_0,
  NIL_UUID,
  PARTITION_INFO_SIZE_V1_0,
  descriptorFromRegisters,
  ffaIdGet,
  ffaPartitionInfoGet,
  ffaPartitionInfoGetRegs,
  ffaRxtxMap64,
  ffaVersion,
  formatVersion,
  isValidVersion,
  makeVersion,
  PARTITION_INFO_REGS_PER_CALL,
  registers,
  unpackPartitionInfoRegsHeader,
  versionMajor,
  versionMinor,
  w,
  x,
  type PartitionInfo,
} from '../../shared/ffa/index.ts';
import { ERRNO, describeResult, errnoOf, type CallResult } from './conduit.ts';
import type { DriverState } from './driver-state.ts';
import { ProbeStep, STEP_OK, type StepOutcome } from './probe-state.ts';
import { cleanupNotifications, features, selfNotifHandle, setupNotifications } from './notifications.ts';

/** driver.c FFA_DRIVER_VERSION and FFA_MIN_VERSION. */
export const DRIVER_VERSION = makeVersion(1, 2);
const MIN_VERSION = FFA_VERSION_1_0;

/** FFA_PAGE_SIZE and the RXTX_MAP_MIN_BUFSZ choices. */
const FFA_PAGE_SIZE = 4096;
const BUFFER_SIZES: Readonly<Record<number, number>> = { 0: 4096, 1: 65536, 2: 16384 };
/** Where the driver's RX/TX buffers sit: symbolic addresses (their contents are kept as data), page aligned, distinct. */
const TX_ADDRESS = 0x4800_0000n;
const RX_ADDRESS = 0x4801_0000n;

/** One step of ffa_init: its calls, then how it ended. */
type StepRunner = (d: DriverState, cpu: number, done: (outcome: StepOutcome) => void) => void;

const fails = (why: string): StepOutcome => ({ ok: false, why });

/** What each step of ffa_init runs; the order between them is probe-state.ts probeTransition's. */
const STEPS: Readonly<Record<Exclude<ProbeStep, ProbeStep.Ready | ProbeStep.Failed>, StepRunner>> = {
  [ProbeStep.VersionCheck]: versionCheck,
  [ProbeStep.IdGet]: idGet,
  [ProbeStep.RxtxSetup]: rxtxSetup,
  [ProbeStep.DrvinfoFlags]: drvinfoFlagsInit,
  [ProbeStep.NotificationsSetup]: (d, cpu, done) => setupNotifications(d, cpu, () => done(STEP_OK)),
  [ProbeStep.SetupPartitions]: setupPartitions,
  [ProbeStep.NotificationsCleanup]: (d, cpu, done) => cleanupNotifications(d, cpu, () => done(STEP_OK)),
};

/** ffa_init; `finished(ok)` once the driver is up (true) or gave up (false, `probe-failed` recorded). */
export function ffaInit(d: DriverState, cpu: number, finished: (ok: boolean) => void): void {
  const run = (): void => {
    const { step, failure } = d.probe;
    if (step === ProbeStep.Ready) return finished(true);
    if (step === ProbeStep.Failed) {
      d.ctx.record({ event: 'probe-failed', why: failure });
      return finished(false);
    }
    STEPS[step](d, cpu, (outcome) => {
      d.advanceProbe(outcome);
      run();
    });
  };
  run();
}

// ---------------------------------------------------------------- 1. ffa_version_check

function versionCheck(d: DriverState, cpu: number, done: (outcome: StepOutcome) => void): void {
  const shown = (result: CallResult) => (result.kind === 'returned' && isValidVersion(w(result.regs, 0)) ? { result: formatVersion(w(result.regs, 0)) } : {});
  d.probeCall(cpu, ffaVersion.encodeCall({ version: DRIVER_VERSION }), { abi: 'FFA_VERSION', arg: formatVersion(DRIVER_VERSION) }, (result) => {
    if (result.kind === 'failed') return done(fails('FFA_VERSION did not return'));
    const version = w(result.regs, 0);
    if ((version | 0) === -1) {
      d.log({ level: 'info', text: 'FFA_VERSION returned not supported' });
      return done(fails('FFA_VERSION NOT_SUPPORTED'));
    }
    const shown = `v${versionMajor(version)}.${versionMinor(version)}`;
    if (versionMajor(version) > versionMajor(DRIVER_VERSION) || !isValidVersion(version)) {
      d.log({ level: 'err', text: `Incompatible ${shown}! Latest supported v${formatVersion(DRIVER_VERSION)}` });
      return done(fails(`incompatible firmware version ${shown}`));
    }
    if (version < MIN_VERSION) {
      d.log({ level: 'err', text: `Incompatible ${shown}! Earliest supported v${formatVersion(MIN_VERSION)}` });
      return done(fails(`incompatible firmware version ${shown}`));
    }
    d.log({ level: 'info', text: `Driver version ${formatVersion(DRIVER_VERSION)}` });
    d.log({ level: 'info', text: `Firmware version ${formatVersion(version)} found` });
    d.version = compatibleVersion(version);
    done(STEP_OK);
  }, shown);
}

/** ffa_compatible_version_find: the firmware's version unless it is newer than the driver's. */
function compatibleVersion(version: number): number {
  const newer = versionMajor(version) === versionMajor(DRIVER_VERSION) && versionMinor(version) > versionMinor(DRIVER_VERSION);
  return newer ? DRIVER_VERSION : version;
}

// ---------------------------------------------------------------- 2. ffa_id_get

function idGet(d: DriverState, cpu: number, done: (outcome: StepOutcome) => void): void {
  const shown = (result: CallResult) => ({ value: result.kind === 'returned' && errnoOf(result) === 0 ? w(result.regs, 2) & 0xffff : undefined });
  d.probeCall(cpu, ffaIdGet.encodeCall({}), { abi: 'FFA_ID_GET' }, (result) => {
    if (errnoOf(result) !== 0 || result.kind !== 'returned') {
      d.log({ level: 'err', text: 'failed to obtain VM id for self' });
      return done(fails(`FFA_ID_GET ${describeResult(result)}`));
    }
    d.vmId = w(result.regs, 2) & 0xffff;
    const expected = d.config.vmId;
    if (expected !== null && expected !== d.vmId) d.ctx.record({ event: 'vm-id-mismatch', expected, got: d.vmId });
    // A registered guest's VM was assigned to it at the GIC by the hypervisor (vm-assigned).
    if (d.gic.instance === 'virtual' && !d.config.registration) d.gic.subscribeVirtual(d.vmId);
    done(STEP_OK);
  }, shown);
}

// ---------------------------------------------------------------- 3. RX/TX buffers

function rxtxSetup(d: DriverState, cpu: number, done: (outcome: StepOutcome) => void): void {
  features(d, cpu, FFA_FIDS.FFA_RXTX_MAP_64, 'FFA_RXTX_MAP_64', (errno, properties) => {
    d.rxtxBufferSize = errno === 0 ? (BUFFER_SIZES[properties & 3] ?? 4096) : 4096;
    const pageCount = d.rxtxBufferSize / FFA_PAGE_SIZE;
    const regs = ffaRxtxMap64.encodeCall({ tx: TX_ADDRESS, rx: RX_ADDRESS, pageCount });
    d.probeCall(cpu, regs, { abi: 'FFA_RXTX_MAP_64', arg: `pages=${pageCount}` }, (result) => {
      if (errnoOf(result) !== 0) {
        d.log({ level: 'err', text: 'failed to register FFA RxTx buffers' });
        return done(fails(`FFA_RXTX_MAP_64 ${describeResult(result)}`));
      }
      done(STEP_OK);
    });
  });
}

// ---------------------------------------------------------------- 4. ffa_drvinfo_flags_init

function drvinfoFlagsInit(d: DriverState, cpu: number, done: (outcome: StepOutcome) => void): void {
  eitherSupported(d, cpu, ['FFA_MEM_LEND_64', 'FFA_MEM_SHARE_64'], (memOps) => {
    d.memOpsNative = memOps;
    eitherSupported(d, cpu, ['FFA_MSG_SEND_DIRECT_REQ2', 'FFA_MSG_SEND_DIRECT_RESP2'], (req2) => {
      d.directReq2Supported = req2;
      done(STEP_OK);
    });
  });
}

/** `!ffa_features(a) || !ffa_features(b)`: b is asked only when a is not supported. */
function eitherSupported(d: DriverState, cpu: number, abis: readonly [keyof typeof FFA_FIDS, keyof typeof FFA_FIDS], done: (supported: boolean) => void): void {
  const [first, second] = abis;
  features(d, cpu, FFA_FIDS[first], first, (errno) => {
    if (errno === 0) return done(true);
    features(d, cpu, FFA_FIDS[second], second, (secondErrno) => done(secondErrno === 0));
  });
}

// ---------------------------------------------------------------- 6. ffa_setup_partitions

type CountDone = (count: number, partitions: PartitionInfo[]) => void;

/** A failure logs "failed to setup partitions"; ffa_init then cleans the notifications up and ends. */
function setupPartitions(d: DriverState, cpu: number, done: (outcome: StepOutcome) => void): void {
  partitionProbe(d, cpu, (count, partitions) => {
    if (count <= 0) {
      d.log({ level: 'info', text: `ffa_setup_partitions: No partitions found, error ${count}` });
      d.log({ level: 'err', text: 'failed to setup partitions' });
      return done(fails(`ffa_setup_partitions ${-ERRNO.EINVAL}`));
    }
    for (const info of partitions) {
      if (!d.partitions.has(info.id)) d.partitions.set(info.id, { info, isHost: false, schedRecv: null });
    }
    const ownId = d.ownId;
    const hostCallback = !d.partitions.has(ownId) && d.notifications.enabled;
    if (!d.partitions.has(ownId)) {
      // ffa_setup_host_partition: a device for ourselves; our own notifications come through it.
      const host: PartitionInfo = { id: ownId, vcpus: 0, properties: 0, uuid: NIL_UUID };
      d.partitions.set(ownId, { info: host, isHost: true, schedRecv: hostCallback ? selfNotifHandle(d) : null });
    }
    d.ctx.record({ event: 'partitions', ids: partitions.map((p) => p.id), host: ownId, hostCallback });
    done(STEP_OK);
  });
}

/** ffa_partition_probe(uuid_null): the count first, then the descriptors. */
function partitionProbe(d: DriverState, cpu: number, done: CountDone): void {
  const probe = (get: typeof partitionInfoGet) =>
    get(d, cpu, true, (count) => {
      if (count <= 0) return done(count, []);
      get(d, cpu, false, done);
    });
  if (d.config.policies.partitionInfoRegs === 'never') return probe(partitionInfoGet);
  features(d, cpu, FFA_FIDS.FFA_PARTITION_INFO_GET_REGS, 'FFA_PARTITION_INFO_GET_REGS', (errno) => probe(errno === 0 ? partitionInfoGetRegs : partitionInfoGet));
}

/**
 * __ffa_partition_info_get: count only (v1.1+) or the descriptors into the RX buffer, read from
 * it, then FFA_RX_RELEASE unless it only counted.
 */
function partitionInfoGet(d: DriverState, cpu: number, countOnly: boolean, done: CountDone): void {
  const onlyCount = countOnly && d.version > FFA_VERSION_1_0;
  const regs = ffaPartitionInfoGet.encodeCall({ countOnly: onlyCount });
  const shown = (result: CallResult) => ({ value: result.kind === 'returned' && errnoOf(result) === 0 ? w(result.regs, 2) : undefined });
  d.probeCall(cpu, regs, { abi: 'FFA_PARTITION_INFO_GET', ...(onlyCount ? { arg: 'count-only' } : {}) }, (result) => {
    const errno = errnoOf(result);
    if (errno !== 0 || result.kind !== 'returned') return done(errno === 0 ? -ERRNO.EIO : errno, []);
    const count = w(result.regs, 2);
    const size = d.version > FFA_VERSION_1_0 ? w(result.regs, 3) : PARTITION_INFO_SIZE_V1_0;
    const partitions = countOnly ? [] : rxBufferPartitions(d, count, size);
    if (onlyCount) return done(count, partitions);
    d.probeCall(cpu, registers(FFA_FIDS.FFA_RX_RELEASE), { abi: 'FFA_RX_RELEASE' }, () => done(count, partitions));
  }, shown);
}

/**
 * `count` descriptors copied out of the RX buffer (the call's return carried them there,
 * DriverState.invoke). A buffer that holds fewer, or none, is recorded: Linux would copy whatever
 * bytes are there.
 */
function rxBufferPartitions(d: DriverState, count: number, size: number): PartitionInfo[] {
  const held = d.rxBuffer?.kind === 'partition-info' ? d.rxBuffer.partitions : [];
  if (held.length < count) d.ctx.record({ event: 'partition-list-mismatch', firmwareCount: count, inRxBuffer: held.map((p) => p.id), descriptorSize: size });
  return held.slice(0, count).map((p) => ({ ...p }));
}

/** Bound on the calls of one listing (Linux: until the last index arrives). */
const REGS_CALLS_MAX = 64;

/**
 * __ffa_partition_info_get_regs (driver.c): x1/x2 the UUID (nil here), x3 = start index | tag << 16.
 * From x2 of each return (partition-info-regs.ts): the count is LAST_INDEX + 1, taken from the
 * first return; a count-only call stops there. Otherwise it reads `current − start + 1`
 * descriptors from x3 (3 registers each: id | exec contexts << 16 | properties << 32, then the
 * UUID), keeps the tag for the next call, and goes on from current + 1 while current < count − 1.
 * Linux does not bound the descriptors of one return by 5; here they are, as x3..x17 hold 5.
 * Linux's next start is `prev_idx ? prev_idx + 1 : 0`, so a first return ending at index 0 with
 * more to come would start over at 0; no firmware returns fewer than min(5, remaining), so here
 * the next start is simply current + 1.
 */
function partitionInfoGetRegs(d: DriverState, cpu: number, countOnly: boolean, done: CountDone, found: PartitionInfo[] = [], start = 0, tag = 0, calls = 0, listed = 0): void {
  const regs = ffaPartitionInfoGetRegs.encodeCall({ startIndex: start, tag });
  const shown = (result: CallResult) => ({ value: result.kind === 'returned' && errnoOf(result) === 0 ? unpackPartitionInfoRegsHeader(x(result.regs, 2)).lastIndex + 1 : undefined });
  d.probeCall(cpu, regs, { abi: 'FFA_PARTITION_INFO_GET_REGS', arg: `start=${start}` }, (result) => {
    const errno = errnoOf(result);
    if (errno !== 0 || result.kind !== 'returned') return done(errno === 0 ? -ERRNO.EIO : errno, []);
    const header = unpackPartitionInfoRegsHeader(x(result.regs, 2));
    // `if (!count) count = PARTITION_COUNT(partition_info.a2);`
    const count = listed === 0 ? header.lastIndex + 1 : listed;
    if (countOnly) return done(count, []);
    const inThisCall = Math.max(0, Math.min(header.currentIndex - start + 1, PARTITION_INFO_REGS_PER_CALL));
    for (let slot = 0; slot < inThisCall; slot++) found.push(descriptorFromRegisters(result.regs, slot));
    if (header.currentIndex >= count - 1 || calls + 1 >= REGS_CALLS_MAX || inThisCall === 0) return done(count, found);
    partitionInfoGetRegs(d, cpu, false, done, found, header.currentIndex + 1, header.tag, calls + 1, count);
  }, shown);
}
