/**
 * The notification family of drivers/firmware/arm_ffa/driver.c (docs/ffa-reference.md §4.2, §4.3), per variant
 * (variants.ts):
 * - setup: ffa_notifications_setup (FEATURES(BITMAP_CREATE), BITMAP_CREATE, ffa_irq_map of the
 *   SRI and/or NPI, ffa_init_pcpu_irq) and ffa_notifications_cleanup;
 * - the interrupt handlers, which only queue work: ffa_sched_recv_irq_handler →
 *   sched_recv_irq_work (ffa_notification_info_get), notif_pend_irq_handler → notif_pcpu_work on
 *   this CPU (FFA_NOTIFICATION_GET);
 * - ffa_notification_info_get: INFO_GET_64 while "more pending" (bounded), each list parsed as
 *   Linux parses it (with the `max_ids - 1` quirk as a policy), each ID handed to its partition's
 *   schedule-receiver callback (__do_sched_recv_cb);
 * - ffa_self_notif_handle and notif_get_and_handle: GET on a vCPU, then the callbacks per bit in
 *   Linux's order: SPM framework, hypervisor framework, VM, SP.
 */
import {
  FEATURE_IDS,
  FFA_ERROR_CODES,
  FFA_FIDS,
  GET_FLAGS,
  ffaFeatures,
  hex,
  infoGetIdAt,
  infoGetListCount,
  infoGetListSize,
  infoGetMaxIds,
  infoGetMaxLists,
  infoGetMorePending,
  MESSAGE_HEADER_SIZE_V1_2,
  notificationBitmapCreate,
  notificationBitmapDestroy,
  notificationGet,
  registers,
  w,
  x,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import { describeResult, ERRNO, errnoName, errnoOf, ffaErrorCode, type CallResult } from './conduit.ts';
import type { DriverState, NotifyType, SchedRecvCallback } from './driver-state.ts';
import { WorkStruct } from './vcpus.ts';

type Done = () => void;

// ---------------------------------------------------------------- FFA_FEATURES

/** driver.c ffa_features: FFA_ERROR → errno; anything else is success with w2/w3 as properties. */
export function features(d: DriverState, cpu: number, id: number, arg: string, done: (errno: number, w2: number, w3: number) => void): void {
  const shownValue = (result: CallResult) => ({ value: result.kind === 'returned' && ffaErrorCode(result) === null ? w(result.regs, 2) : undefined });
  d.probeCall(cpu, ffaFeatures.encodeCall({ id }), { abi: 'FFA_FEATURES', arg }, (result) => {
    const errno = errnoOf(result);
    if (errno !== 0 || result.kind !== 'returned') return done(errno === 0 ? -ERRNO.EIO : errno, 0, 0);
    done(0, w(result.regs, 2), w(result.regs, 3));
  }, shownValue);
}

// ---------------------------------------------------------------- ffa_notifications_setup (§4.2)

export function setupNotifications(d: DriverState, cpu: number, done: Done): void {
  features(d, cpu, FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, 'FFA_NOTIFICATION_BITMAP_CREATE', (errno) => {
    if (errno === 0) return createBitmap(d, cpu, done);
    if (d.variant.bitmapCreateUnsupported === 'abort-notifications') {
      const line = d.variant.logs.bitmapCreateUnsupported;
      if (line) d.log(line);
      return disabled(d, `FFA_FEATURES(FFA_NOTIFICATION_BITMAP_CREATE) ${errnoAsFfa(errno)}`, done);
    }
    // 2b9c66d1abac: "not aborting notification setup just because we have a hypervisor that
    // handles the FFA_NOTIFICATION_BITMAP_CREATE call" (Jens Wiklander, §4.6).
    mapInterrupts(d, cpu, done);
  });
}

/** ffa_notification_bitmap_create: a1 = drv_info->vm_id, a2 = nr_cpu_ids. A failure aborts setup. */
function createBitmap(d: DriverState, cpu: number, done: Done): void {
  const regs = notificationBitmapCreate.encodeCall({ vm: d.ownId, vcpus: d.config.vcpus });
  const arg = `vm=${d.ownId},vcpus=${d.config.vcpus}`;
  d.probeCall(cpu, regs, { abi: 'FFA_NOTIFICATION_BITMAP_CREATE', arg }, (result) => {
    const errno = errnoOf(result);
    if (errno !== 0) {
      d.log(d.variant.logs.bitmapCreateFailed(errno));
      return disabled(d, `FFA_NOTIFICATION_BITMAP_CREATE ${describeResult(result)}`, done);
    }
    d.notifications.bitmapCreated = true;
    mapInterrupts(d, cpu, done);
  });
}

/** FF-A error name for an errno that came from one (for the disabled reason). */
function errnoAsFfa(errno: number): string {
  const names: Record<number, string> = {
    [-ERRNO.EOPNOTSUPP]: 'NOT_SUPPORTED',
    [-ERRNO.EINVAL]: 'INVALID_PARAMETERS',
    [-ERRNO.EACCES]: 'DENIED',
    [-ERRNO.ENOMEM]: 'NO_MEMORY',
    [-ERRNO.EBUSY]: 'BUSY',
  };
  return names[errno] ?? errnoName(errno);
}

type Feature = 'SRI' | 'NPI';

const FEATURE_TEXT: Record<Feature, string> = { SRI: 'Schedule Receiver Interrupt', NPI: 'Notification Pending Interrupt' };

/** ffa_irq_map: the INTID from FFA_FEATURES (logged unless -EOPNOTSUPP), or the errno. */
function irqMap(d: DriverState, cpu: number, feature: Feature, done: (intid: number | null, errno: number) => void): void {
  features(d, cpu, FEATURE_IDS[feature], feature, (errno, intid) => {
    if (errno === 0) return done(intid, 0);
    if (errno !== -ERRNO.EOPNOTSUPP) d.log({ level: 'err', text: `Failed to retrieve FF-A ${FEATURE_TEXT[feature]} ${FEATURE_IDS[feature]}` });
    done(null, errno);
  });
}

function mapInterrupts(d: DriverState, cpu: number, done: Done): void {
  const finish = (sri: number | null, npi: number | null, errno: number) => requestInterrupts(d, cpu, sri, npi, errno, done);
  switch (d.variant.interruptMapping) {
    case 'sri-and-npi':
      return irqMap(d, cpu, 'SRI', (sri) => irqMap(d, cpu, 'NPI', (npi, errno) => finish(sri, npi, errno)));
    case 'sri-only':
      return irqMap(d, cpu, 'SRI', (sri, errno) => finish(sri, null, errno));
    case 'first-of-sri-npi':
      return firstNotificationInterrupt(d, cpu, finish);
  }
}

/** The v1 patch's ffa_get_notif_intid: SRI if offered, else NPI; one interrupt either way. */
function firstNotificationInterrupt(d: DriverState, cpu: number, finish: (sri: number | null, npi: number | null, errno: number) => void): void {
  features(d, cpu, FEATURE_IDS.SRI, 'SRI', (sriErrno, sri) => {
    if (sriErrno === 0) return finish(sri, null, 0);
    features(d, cpu, FEATURE_IDS.NPI, 'NPI', (npiErrno, npi) => {
      if (npiErrno === 0) return finish(null, npi, 0);
      d.log({ level: 'err', text: 'Failed to retrieve one of scheduler Rx or notif pending interrupts' });
      finish(null, null, npiErrno);
    });
  });
}

/** ffa_init_pcpu_irq: request_percpu_irq for each mapped interrupt, the work items, then enabled. */
function requestInterrupts(d: DriverState, cpu: number, sri: number | null, npi: number | null, errno: number, done: Done): void {
  if (sri === null && npi === null) return failSetup(d, cpu, errno, 'no SRI or NPI offered', done);
  if (sri !== null && sri === npi) {
    // irq_create_of_mapping gives the same virq; the second request_percpu_irq is -EBUSY.
    d.log({ level: 'err', text: `Error registering percpu NPI nIRQ ${npi} : ${-ERRNO.EBUSY}` });
    return failSetup(d, cpu, -ERRNO.EBUSY, `SRI and NPI share INTID ${sri}`, done);
  }
  const n = d.notifications;
  n.sriIntid = sri;
  n.npiIntid = npi;
  d.schedRecvWork = new WorkStruct('sched_recv_irq_work', d.vcpus, (vcpu, finished) => infoGetLoop(d, vcpu, 1, finished));
  d.notifPcpuWork = new WorkStruct('notif_pcpu_work', d.vcpus, (vcpu, finished) => getAndHandle(d, vcpu, finished));
  n.enabled = true;
  d.ctx.record({ event: 'notifications-enabled', sri, npi, bitmapCreated: n.bitmapCreated });
  done();
}

function failSetup(d: DriverState, cpu: number, errno: number, reason: string, done: Done): void {
  d.log({ level: 'info', text: `Notification setup failed ${errno}, not enabled` });
  cleanupNotifications(d, cpu, () => disabled(d, reason, done));
}

function disabled(d: DriverState, reason: string, done: Done): void {
  d.ctx.record({ event: 'notifications-disabled', reason });
  done();
}

/** ffa_notifications_cleanup: free the IRQs, BITMAP_DESTROY if we created it, disabled. */
export function cleanupNotifications(d: DriverState, cpu: number, done: Done): void {
  const n = d.notifications;
  n.sriIntid = null;
  n.npiIntid = null;
  n.enabled = false;
  d.schedRecvWork = null;
  d.notifPcpuWork = null;
  if (!n.bitmapCreated) return done();
  const regs = notificationBitmapDestroy.encodeCall({ vm: d.ownId });
  d.probeCall(cpu, regs, { abi: 'FFA_NOTIFICATION_BITMAP_DESTROY', arg: `vm=${d.ownId}` }, () => {
    n.bitmapCreated = false;
    done();
  });
}

// ---------------------------------------------------------------- the handlers (§4.3)

export type InterruptKind = 'sri' | 'npi';

/**
 * A requested interrupt taken on `vcpu` (acknowledged already; EOI follows): queue its work.
 * ffa_sched_recv_irq_handler: queue_work(notif_pcpu_wq, …) runs it on this CPU;
 * notif_pend_irq_handler: queue_work_on(smp_processor_id(), …). False when it is not ours.
 */
export function takeInterrupt(d: DriverState, intid: number, vcpu: number): boolean {
  const n = d.notifications;
  const kind: InterruptKind | null = intid === n.sriIntid ? 'sri' : intid === n.npiIntid ? 'npi' : null;
  if (kind === null) return false;
  d.ctx.record({ event: 'irq-handled', intid, kind, vcpu });
  const action = kind === 'sri' ? d.variant.sriAction : d.variant.npiAction;
  const work = action === 'info-get-loop' ? d.schedRecvWork : d.notifPcpuWork;
  if (!work) throw new Error(`bug: INTID ${intid} requested without its work item`);
  if (!work.queueOn(vcpu)) d.ctx.record({ event: 'work-already-pending', work: work.name, vcpu });
  return true;
}

// ---------------------------------------------------------------- ffa_notification_info_get

/** One ID a list names, as __do_sched_recv_cb gets it. */
export interface SchedRecvEntry {
  readonly partition: number;
  readonly vcpu: number;
  readonly perVcpu: boolean;
}

export interface ParsedInfoGet {
  readonly morePending: boolean;
  /** Every list the registers hold (for the record). */
  readonly lists: { id: number; vcpus: number[] }[];
  /** What Linux processed, in order. */
  readonly entries: SchedRecvEntry[];
  /** IDs the `max_ids - 1` quirk left unprocessed. */
  readonly idsSkipped: number;
}

/**
 * `(u16 *)&ret.a3`: Linux reads the IDs as a u16 array over the 64-bit a3..a7, 4 per register,
 * whichever call answered.
 */
const idSlot = (regs: RegisterFile, slot: number): number => infoGetIdAt(regs, slot, 64);

/**
 * ffa_notification_info_get's parse of one return, including the quirk: with `maxIdsQuirk` it
 * breaks once `ids_processed >= max_ids - 1`, so the last ID of a full response is never processed.
 * max_ids and the list sizes it reads (ids_count[], ID_LIST_MASK_64/_32) follow the answer's width.
 */
export function parseInfoGet(regs: RegisterFile, maxIdsQuirk: boolean): ParsedInfoGet {
  const a2 = x(regs, 2);
  const width = w(regs, 0) === FFA_FIDS.FFA_SUCCESS_64 ? 64 : 32;
  const maxIds = infoGetMaxIds(width);
  const listsCount = infoGetListCount(a2);
  const idsInList = (list: number) => (list < infoGetMaxLists(width) ? infoGetListSize(a2, list) + 1 : 1);
  const limit = maxIdsQuirk ? maxIds - 1 : maxIds;
  const entries: SchedRecvEntry[] = [];
  let idsProcessed = 0;
  for (let list = 0; list < listsCount; list++) {
    if (idsProcessed >= limit) break;
    const partition = idSlot(regs, idsProcessed++);
    const count = idsInList(list);
    if (count === 1) {
      entries.push({ partition, vcpu: 0, perVcpu: false }); // global notification
      continue;
    }
    for (let index = 1; index < count; index++) {
      if (idsProcessed >= limit) break;
      entries.push({ partition, vcpu: idSlot(regs, idsProcessed++), perVcpu: true });
    }
  }
  const lists = allLists(regs, listsCount, maxIds, idsInList);
  const idsListed = lists.reduce((sum, list) => sum + 1 + list.vcpus.length, 0);
  return { morePending: infoGetMorePending(a2), lists, entries, idsSkipped: idsListed - idsProcessed };
}

/** Every list the return holds, for the record (bounded by the ID slots). */
function allLists(regs: RegisterFile, listsCount: number, maxIds: number, idsInList: (list: number) => number): { id: number; vcpus: number[] }[] {
  const lists: { id: number; vcpus: number[] }[] = [];
  let slot = 0;
  for (let list = 0; list < listsCount && slot < maxIds; list++) {
    const count = Math.min(idsInList(list), maxIds - slot);
    lists.push({ id: idSlot(regs, slot), vcpus: Array.from({ length: count - 1 }, (_, index) => idSlot(regs, slot + 1 + index)) });
    slot += count;
  }
  return lists;
}

function isInfoGetSuccess(regs: RegisterFile): boolean {
  const a0 = x(regs, 0);
  return a0 === BigInt(FFA_FIDS.FFA_SUCCESS_64) || a0 === BigInt(FFA_FIDS.FFA_SUCCESS_32);
}

/** ffa_notification_info_get: `do { INFO_GET_64 … } while (more pending)`, bounded by policy. */
export function infoGetLoop(d: DriverState, cpu: number, iteration: number, done: Done): void {
  d.invoke(cpu, registers(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64), (result) => {
    if (result.kind === 'failed' || !isInfoGetSuccess(result.regs)) {
      d.ctx.record({ event: 'info-get', vcpu: cpu, iteration, result: describeResult(result) });
      // "Notification Info fetch failed" unless NO_DATA, the normal end of the loop.
      const code = ffaErrorCode(result);
      if (result.kind === 'returned' && code !== FFA_ERROR_CODES.NO_DATA) {
        d.log({ level: 'err', text: `Notification Info fetch failed: ${hex(x(result.regs, 0))} (${hex(x(result.regs, 2))})` });
      }
      return done();
    }
    const parsed = parseInfoGet(result.regs, d.config.policies.maxIdsQuirk);
    d.ctx.record({ event: 'info-get', vcpu: cpu, iteration, result: 'SUCCESS', morePending: parsed.morePending, lists: parsed.lists, idsSkipped: parsed.idsSkipped });
    dispatchEntries(d, cpu, parsed.entries, 0, () => {
      if (!parsed.morePending) return done();
      if (iteration >= d.config.policies.infoGetLoopBound) {
        d.ctx.record({ event: 'info-get-loop-bound', vcpu: cpu, iterations: iteration });
        return done();
      }
      infoGetLoop(d, cpu, iteration + 1, done);
    });
  });
}

function dispatchEntries(d: DriverState, cpu: number, entries: readonly SchedRecvEntry[], index: number, done: Done): void {
  const entry = entries[index];
  if (!entry) return done();
  doSchedRecvCallback(d, entry, cpu, () => dispatchEntries(d, cpu, entries, index + 1, done));
}

/** __do_sched_recv_cb: the partition's callback, or "Invalid partition ID". */
function doSchedRecvCallback(d: DriverState, entry: SchedRecvEntry, cpu: number, done: Done): void {
  const partition = d.partitions.get(entry.partition);
  if (!partition) {
    d.log({ level: 'err', text: `__do_sched_recv_cb: Invalid partition ID ${hex(entry.partition)}` });
    d.ctx.record({ event: 'sched-recv-invalid-partition', partition: entry.partition, vcpu: cpu });
    return done();
  }
  if (!partition.schedRecv) return done();
  partition.schedRecv(entry.vcpu, entry.perVcpu, cpu, done);
}

// ---------------------------------------------------------------- ffa_self_notif_handle, notif_get_and_handle

/** The host partition's schedule-receiver callback (ffa_setup_host_partition). */
export function selfNotifHandle(d: DriverState): SchedRecvCallback {
  return (vcpu, perVcpu, cpu, done) => {
    if (!perVcpu) return getAndHandle(d, cpu, done);
    if (!d.vcpus.has(vcpu)) {
      d.ctx.record({ event: 'ipi-lost', vcpu, work: 'notif_get_and_handle', reason: 'no such vCPU' });
      return done();
    }
    if (d.variant.perVcpuDispatch === 'ipi') {
      // smp_call_function_single(vcpu, notif_get_and_handle, info, 0): on this CPU it runs at once;
      // on another it is an IPI, not waited for.
      if (vcpu === cpu) return getAndHandle(d, cpu, done);
      d.vcpus.enqueue(vcpu, { name: 'notif_get_and_handle (IPI)', kind: 'ipi', run: (target, finished) => getAndHandle(d, target, finished) });
    } else if (d.notifPcpuWork && !d.notifPcpuWork.queueOn(vcpu)) {
      d.ctx.record({ event: 'work-already-pending', work: d.notifPcpuWork.name, vcpu });
    }
    done();
  };
}

const SECURE_BITMAPS = GET_FLAGS.sp | GET_FLAGS.spm;
const ALL_BITMAPS = GET_FLAGS.sp | GET_FLAGS.vm | GET_FLAGS.spm | GET_FLAGS.hyp;

function getFlags(d: DriverState): number {
  if (d.variant.getFlags === 'secure-only') return SECURE_BITMAPS;
  return d.ownId === 0 ? SECURE_BITMAPS : ALL_BITMAPS; // "Non secure physical instance"
}

/** driver.c ffa_notification_get's errno: FFA_ERROR → mapped, anything but FFA_SUCCESS_32 → -EINVAL. */
function strictErrno(result: CallResult): number {
  const errno = errnoOf(result);
  if (errno !== 0) return errno;
  return result.kind === 'returned' && x(result.regs, 0) === BigInt(FFA_FIDS.FFA_SUCCESS_32) ? 0 : -ERRNO.EINVAL;
}


/** notif_get_and_handle on vCPU `cpu`: GET (w1 = cpu << 16 | vm_id), then the callbacks. */
export function getAndHandle(d: DriverState, cpu: number, done: Done): void {
  const flags = getFlags(d);
  d.invoke(cpu, notificationGet.encodeCall({ receiver: d.ownId, vcpu: cpu, flags }), (result) => {
    const errno = strictErrno(result);
    if (errno !== 0 || result.kind !== 'returned') {
      d.ctx.record({ event: 'notification-get', vcpu: cpu, result: describeResult(result) });
      d.log({ level: 'err', text: `Failed to retrieve notifications with ${errno}!` });
      return done();
    }
    const { regs } = result;
    const wants = (flag: number) => (flags & flag) !== 0;
    const sp = wants(GET_FLAGS.sp) ? (BigInt(w(regs, 3)) << 32n) | BigInt(w(regs, 2)) : 0n;
    const vm = wants(GET_FLAGS.vm) ? (BigInt(w(regs, 5)) << 32n) | BigInt(w(regs, 4)) : 0n;
    const spm = wants(GET_FLAGS.spm) ? BigInt(w(regs, 6)) : 0n;
    const hyp = wants(GET_FLAGS.hyp) ? BigInt(w(regs, 7)) : 0n;
    d.ctx.record({ event: 'notification-get', vcpu: cpu, result: 'SUCCESS', sp: hex(sp), vm: hex(vm), spm: hex(spm), hyp: hex(hyp) });
    handleFrameworkNotifications(d, cpu, spm, 'spm', () =>
      handleFrameworkNotifications(d, cpu, hyp, 'hyp', () => {
        handleCallbacks(d, cpu, vm, 'vm');
        handleCallbacks(d, cpu, sp, 'sp');
        done();
      }),
    );
  });
}

/**
 * handle_fwk_notif_callbacks' min_offset, offsetof(struct ffa_indirect_msg_hdr, uuid): 24 since
 * Linux has reserved2 (v6.16); a payload starts there or after the whole 40-byte header.
 */
const MESSAGE_MIN_OFFSET = 24;

/**
 * handle_fwk_notif_callbacks: only RX-buffer-full (bit 0) exists. Linux reads the message header
 * from its RX buffer (drv_info->rx_buffer; here what the GET's return carried into it), checks
 * its offset and size ("invalid framework notification message" otherwise), calls FFA_RX_RELEASE
 * (its result unchecked) and then the framework callback registered for the sender and UUID the
 * header names. No client driver here registers one (fwk_notify_request), so the message is
 * recorded as read and goes no further.
 */
function handleFrameworkNotifications(d: DriverState, cpu: number, bitmap: bigint, which: 'spm' | 'hyp', done: Done): void {
  if ((bitmap & 1n) === 0n) return done();
  const message = d.rxBuffer?.kind === 'message' ? d.rxBuffer : null;
  const invalid = message === null ? 'no message in the RX buffer' : messageProblem(message.offset, message.size, d.rxtxBufferSize);
  if (invalid !== null) d.log({ level: 'err', text: 'invalid framework notification message' });
  d.invoke(cpu, registers(FFA_FIDS.FFA_RX_RELEASE), (result) => {
    const release = describeResult(result);
    if (invalid !== null || message === null) {
      d.ctx.record({ event: 'notification-dropped', id: 0, type: 'fwk', bitmap: which, vcpu: cpu, reason: `${invalid ?? ''} (RX_RELEASE ${release})` });
      return done();
    }
    d.ctx.record({ event: 'framework-message', bitmap: which, vcpu: cpu, sender: message.sender, receiver: message.receiver, uuid: message.uuid, size: message.size, release });
    done();
  });
}

/** The header checks of handle_fwk_notif_callbacks (driver.c, "firmware: arm_ffa: validate framework notification message"). */
function messageProblem(offset: number, size: number, bufferSize: number): string | null {
  if (size === 0) return 'a zero-length message';
  if (offset !== MESSAGE_MIN_OFFSET && offset < MESSAGE_HEADER_SIZE_V1_2) return `offset ${offset} inside the header`;
  if (offset > bufferSize || size > bufferSize - offset) return `offset ${offset} and size ${size} beyond the ${bufferSize}-byte buffer`;
  return null;
}

/** handle_notif_callbacks: each set bit, lowest first, to the callback registered for (id, type). */
function handleCallbacks(d: DriverState, cpu: number, bitmap: bigint, type: NotifyType): void {
  for (let id = 0; id < 64 && bitmap >> BigInt(id) !== 0n; id++) {
    if (((bitmap >> BigInt(id)) & 1n) === 0n) continue;
    const entry = d.notifier(id, type);
    if (!entry) {
      d.ctx.record({ event: 'notification-dropped', id, type, vcpu: cpu, reason: 'no callback registered' });
      continue;
    }
    d.announce({ event: 'notification-callback', id, type, vcpu: cpu, sender: entry.device });
    entry.callback(id, cpu);
  }
}
