/**
 * The notification family (docs/ffa-reference.md §2.1–§2.6, §3): BITMAP_CREATE/DESTROY, BIND/UNBIND, SET,
 * GET, INFO_GET_32/64, and the SPMC-internal sets (an SP behaviour's SET, OP-TEE's
 * notif_send_async). Each rule cites where it comes from; which rule applies is the policies'.
 */
import {
  FFA_VERSION_1_1,
  FRAMEWORK_NOTIFICATIONS,
  GET_FLAGS,
  hex,
  isSecureId,
  notificationBind,
  notificationBitmapCreate,
  notificationBitmapDestroy,
  notificationGet,
  notificationInfoGet32,
  notificationInfoGet64,
  notificationSet,
  notificationUnbind,
  BIND_FLAGS,
  SET_FLAGS,
  NOTIFICATION_RULES,
  ffaSuccess32,
  rxWrite,
  type BufferWrite,
  type InfoGetWidth,
  type Violation,
} from '../../shared/ffa/index.ts';
import {
  answerRefusal,
  checkRegisters,
  reply,
  refuse,
  refusal,
  type Answer,
  type CallContext,
  type Origin,
  type Refusal,
  type SpmcState,
} from './call-context.ts';
import { CONFIG_LIMITS, SPMD_LOGICAL_PARTITION_IDS } from './config.ts';
import { collectNotificationInfo } from './info-get.ts';
import { HYP_FRAMEWORK_SHIFT, SPM_FRAMEWORK_MASK, senderClassOf, type Receiver } from './notification-state.ts';

const SUCCESS = (): Answer => reply(ffaSuccess32());

function isSpmdLogicalPartition(id: number): boolean {
  return id >= SPMD_LOGICAL_PARTITION_IDS.first && id <= SPMD_LOGICAL_PARTITION_IDS.last;
}

function receiverVersion(spmc: SpmcState, receiver: Receiver): number {
  return receiver.kind === 'sp' ? (spmc.partitions.find(receiver.id)?.version ?? spmc.config.ffaVersion) : spmc.nwdVersion;
}

/** Hafnium (plat_ffa_is_notifications_bitmap_access_valid) and OP-TEE: the NWd only. */
function refuseSecureCaller(cc: CallContext, abi: string): Answer | null {
  return cc.origin.kind === 'sp' ? refuse(cc, 'NOT_SUPPORTED', `${abi} is for the hypervisor or NS kernel only`) : null;
}

// ---------------------------------------------------------------- BITMAP_CREATE / DESTROY (§2.1, §2.2)

export function handleBitmapCreate(cc: CallContext): Answer {
  const refused = refuseSecureCaller(cc, 'FFA_NOTIFICATION_BITMAP_CREATE');
  if (refused) return refused;
  const check = checkRegisters(cc.spmc, notificationBitmapCreate.decodeCall(cc.regs));
  if (!check.ok) return refuse(cc, check.error, check.why);
  const { vm, vcpus } = check.args;
  const outcome = cc.spmc.policies.vmBitmapLifecycle === 'allocate-on-create' ? createInSlot(cc.spmc, vm, vcpus) : createForGuest(cc.spmc, vm);
  return outcome ? answerRefusal(cc, outcome) : SUCCESS();
}

/** Hafnium src/ffa/spmc/notifications.c plat_ffa_notifications_bitmap_create. */
function createInSlot(spmc: SpmcState, vm: number, vcpus: number): Refusal | null {
  if (isSecureId(vm)) return refusal('INVALID_PARAMETERS', `${hex(vm)} is not a VM ID`);
  const allocation = spmc.notifications.vms.allocate(vm);
  if (allocation.kind === 'no-memory') return refusal('NO_MEMORY', `no free NWd VM slot for VM ${vm}`);
  const { receiver } = allocation;
  if (receiver.bitmapCreated) return refusal('DENIED', `notification bitmap of VM ${vm} already created`);
  receiver.bitmapCreated = true;
  // The other-world VM (ID 0) keeps its MAX_CPUS vCPUs; a slot takes w2, an ffa_vcpu_count_t (u16).
  if (vm !== 0) receiver.vcpuCount = vcpus & 0xffff;
  return null;
}

/** OP-TEE thread_spmc.c handle_notification_bitmap_create: the guest must exist (get_notif_vm_bitmap). */
function createForGuest(spmc: SpmcState, vm: number): Refusal | null {
  const receiver = spmc.notifications.vms.find(vm);
  if (!receiver) return refusal('INVALID_PARAMETERS', `no notification bitmap for VM ${vm} (unknown guest)`);
  if (receiver.bitmapCreated) return refusal('DENIED', `notification bitmap of VM ${vm} already created`);
  receiver.bitmapCreated = true;
  receiver.asyncNotificationId = null; // nvb->do_bottom_half_value = -1
  return null;
}

export function handleBitmapDestroy(cc: CallContext): Answer {
  const refused = refuseSecureCaller(cc, 'FFA_NOTIFICATION_BITMAP_DESTROY');
  if (refused) return refused;
  const check = checkRegisters(cc.spmc, notificationBitmapDestroy.decodeCall(cc.regs));
  if (!check.ok) return refuse(cc, check.error, check.why);
  const { vm } = check.args;
  const outcome = cc.spmc.policies.vmBitmapLifecycle === 'allocate-on-create' ? destroyInSlot(cc.spmc, vm) : destroyForGuest(cc.spmc, vm);
  return outcome ? answerRefusal(cc, outcome) : SUCCESS();
}

function destroyDeniedBy(spmc: SpmcState, receiver: Receiver): string | null {
  if (receiver.anyPending()) return `VM ${receiver.id} has notifications pending`;
  const bound = receiver.bindings.sp.bound() | receiver.bindings.vm.bound();
  if (spmc.policies.bitmapDestroyDeniedWhen === 'pending-or-bound' && bound !== 0n) return `VM ${receiver.id} has notifications bound`;
  return null;
}

/** Hafnium plat_ffa_notifications_bitmap_destroy. */
function destroyInSlot(spmc: SpmcState, vm: number): Refusal | null {
  if (isSecureId(vm)) return refusal('INVALID_PARAMETERS', `${hex(vm)} is not a VM ID`);
  const receiver = spmc.notifications.vms.find(vm);
  if (!receiver) return refusal('DENIED', `bitmap not created for VM ${vm}`);
  if (!receiver.bitmapCreated) return refusal('DENIED', `notifications disabled for VM ${vm}`);
  const denied = destroyDeniedBy(spmc, receiver);
  if (denied) return refusal('DENIED', denied);
  receiver.bitmapCreated = false;
  receiver.reset();
  // ffa_vm_nwd_free: the slot stays while the VM's RX/TX buffers are mapped here (buffer-ownership.ts).
  if (!spmc.mailboxes.get(vm)) spmc.notifications.vms.release(receiver);
  return null;
}

/** OP-TEE handle_notification_bitmap_destroy: DENIED if pending or bound, then memset(nvb, 0). */
function destroyForGuest(spmc: SpmcState, vm: number): Refusal | null {
  const receiver = spmc.notifications.vms.find(vm);
  if (!receiver) return refusal('INVALID_PARAMETERS', `no notification bitmap for VM ${vm} (unknown guest)`);
  const denied = destroyDeniedBy(spmc, receiver);
  if (denied) return refusal('DENIED', denied);
  receiver.bitmapCreated = false;
  receiver.reset();
  receiver.asyncNotificationId = 0; // memset: do_bottom_half_value becomes 0, not -1
  return null;
}

// ---------------------------------------------------------------- BIND / UNBIND (§2.3, §3.2)

type BindingUpdate = 'bind' | 'unbind';

interface BindingRequest {
  readonly op: BindingUpdate;
  readonly sender: number;
  readonly receiver: number;
  readonly perVcpu: boolean;
  readonly bitmap: bigint;
}

export function handleBind(cc: CallContext): Answer {
  return updateBindings(cc, 'bind');
}

export function handleUnbind(cc: CallContext): Answer {
  return updateBindings(cc, 'unbind');
}

function refuseSpWithoutNotificationCalls(cc: CallContext, abi: string): Answer | null {
  if (cc.origin.kind === 'sp' && cc.spmc.policies.spNotificationCalls === 'not-supported') {
    return refuse(cc, 'NOT_SUPPORTED', `${abi}: SPs have no notification state here (OP-TEE keeps it per VM only)`);
  }
  return null;
}

/** OP-TEE tests a5..a7 before a2; Hafnium has no w5..w7 rule, so its flags check comes first. */
function decodeBindingRequest(cc: CallContext, op: BindingUpdate): BindingRequest | Refusal {
  const R = NOTIFICATION_RULES;
  if (op === 'bind') {
    const check = checkRegisters(cc.spmc, notificationBind.decodeCall(cc.regs), [R.bindW5toW7.rule]);
    if (!check.ok) return refusal(check.error, check.why);
    return { op, ...check.args, perVcpu: (check.args.flags & BIND_FLAGS.perVcpu) !== 0 };
  }
  const check = checkRegisters(cc.spmc, notificationUnbind.decodeCall(cc.regs), [R.unbindW2.rule, R.unbindW5toW7.rule]);
  if (!check.ok) return refusal(check.error, check.why);
  return { op, ...check.args, perVcpu: false };
}

function updateBindings(cc: CallContext, op: BindingUpdate): Answer {
  const refused = refuseSpWithoutNotificationCalls(cc, op === 'bind' ? 'FFA_NOTIFICATION_BIND' : 'FFA_NOTIFICATION_UNBIND');
  if (refused) return refused;
  const request = decodeBindingRequest(cc, op);
  if ('error' in request) return answerRefusal(cc, request);
  if (request.perVcpu && cc.spmc.policies.perVcpuNotifications === 'unsupported') {
    return refuse(cc, cc.spmc.policies.perVcpuRejection, 'per-vCPU notifications are not supported (global only)');
  }
  const outcome = cc.spmc.policies.bindingModel === 'bound-bitmap' ? updateBoundBitmap(cc.spmc, request) : updateSenderPerBit(cc.spmc, cc.origin, request);
  return outcome ? answerRefusal(cc, outcome) : SUCCESS();
}

/** OP-TEE handle_notification_bind/unbind: one bound mask per VM, the sender neither checked nor recorded. */
function updateBoundBitmap(spmc: SpmcState, request: BindingRequest): Refusal | null {
  const receiver = spmc.notifications.vms.find(request.receiver);
  if (!receiver) return refusal('INVALID_PARAMETERS', `no notification bitmap for VM ${hex(request.receiver)}`);
  const table = receiver.bindings.sp;
  if (request.op === 'bind') {
    if ((table.bound() & request.bitmap) !== 0n) return refusal('DENIED', 'a notification in the bitmap is already bound');
    table.bind(request.bitmap, request.sender, request.perVcpu);
    return null;
  }
  if ((receiver.fromSp.pendingAnywhere() & request.bitmap) !== 0n) return refusal('DENIED', 'a notification in the bitmap is pending');
  table.unbind(request.bitmap);
  return null;
}

/** Hafnium plat_ffa_is_notifications_bind_valid. */
function bindCallerRefusal(origin: Origin, sender: number, receiver: number): Refusal | null {
  if (isSpmdLogicalPartition(sender) || isSpmdLogicalPartition(receiver)) return refusal('INVALID_PARAMETERS', 'SPMD logical partitions may not bind');
  if (sender === receiver) return refusal('INVALID_PARAMETERS', 'sender and receiver are the same endpoint');
  if (origin.kind === 'sp') {
    return receiver === origin.partition.id ? null : refusal('INVALID_PARAMETERS', 'an SP may only bind its own notifications');
  }
  if (!isSecureId(sender) || isSecureId(receiver)) return refusal('INVALID_PARAMETERS', 'the NWd must name a VM receiver and an SP sender');
  return null;
}

/** Hafnium api_ffa_notification_update_bindings (docs/ffa-reference.md §3.2). */
function updateSenderPerBit(spmc: SpmcState, origin: Origin, request: BindingRequest): Refusal | null {
  const invalidCaller = bindCallerRefusal(origin, request.sender, request.receiver);
  if (invalidCaller) return invalidCaller;
  if (request.bitmap === 0n) return refusal('INVALID_PARAMETERS', 'no notifications specified');
  const receiver = spmc.notifications.receiver(request.receiver);
  if (!receiver) return refusal('INVALID_PARAMETERS', `receiver ${hex(request.receiver)} does not exist`);
  if (spmc.policies.versionGate === 'receiver-at-least-1.1' && receiverVersion(spmc, receiver) < FFA_VERSION_1_1) {
    return refusal('NOT_SUPPORTED', 'the receiver\'s FF-A version does not allow notifications (< 1.1)');
  }
  if (!receiver.bitmapCreated) return refusal('NOT_SUPPORTED', 'the receiver\'s notifications are not enabled');
  if (request.op === 'bind' && isSecureId(request.sender) && !spmc.partitions.find(request.sender)) {
    return refusal('INVALID_PARAMETERS', `sender SP ${hex(request.sender)} does not exist`);
  }
  const senderClass = senderClassOf(request.sender);
  const table = receiver.bindings[senderClass];
  if (request.op === 'bind' && (table.bound() & request.bitmap) !== 0n) return refusal('DENIED', 'a notification in the bitmap is already bound');
  if (request.op === 'unbind' && (table.boundTo(request.sender) & request.bitmap) !== request.bitmap) {
    return refusal('DENIED', 'a notification in the bitmap is not bound to this sender');
  }
  if ((receiver.classOf(senderClass).pendingAnywhere() & request.bitmap) !== 0n) return refusal('DENIED', 'a notification in the bitmap is pending');
  if (request.op === 'bind') table.bind(request.bitmap, request.sender, request.perVcpu);
  else table.unbind(request.bitmap);
  return null;
}

// ---------------------------------------------------------------- SET (§2.4, §3.3)

export interface SetRequest {
  readonly origin: Origin;
  readonly sender: number;
  readonly receiver: number;
  /** w2[15:0]. */
  readonly flags: number;
  /** w2[31:16]: the receiver's vCPU for a per-vCPU notification. */
  readonly vcpu: number;
  readonly bitmap: bigint;
  /** The CPU the setting call runs on: where the SRI goes. */
  readonly cpu: number;
  /** Reserved-bit violations found decoding the registers (none for internal requests). */
  readonly violations: readonly Violation[];
}

export function handleSet(cc: CallContext): Answer {
  const { spmc, origin } = cc;
  if (origin.kind === 'nwd' && spmc.policies.nwdSet === 'not-dispatched') {
    return refuse(cc, 'NOT_SUPPORTED', 'FFA_NOTIFICATION_SET is not dispatched (OP-TEE thread_spmc_msg_recv has no case for it)');
  }
  const decoded = notificationSet.decodeCall(cc.regs);
  const request: SetRequest = { origin, ...decoded.args, cpu: cc.call.cpu, violations: decoded.violations };
  const outcome = setNotifications(spmc, request);
  return outcome ? answerRefusal(cc, outcome) : SUCCESS();
}

/** An SP's SET, by the FF-A ABI or OP-TEE's internal path as the spSet policy says. */
export function setNotifications(spmc: SpmcState, request: SetRequest): Refusal | null {
  if (request.origin.kind === 'sp' && spmc.policies.spSet === 'internal-send') return sendInternally(spmc, request);
  return setByAbi(spmc, request);
}

/**
 * OP-TEE notif_send_async (CFG_CORE_SEL1_SPMC): OR the bits into the VM's pending bitmap with no
 * binding check, and raise the SRI on this CPU at once. Only VMs have a bitmap
 * (get_notif_vm_bitmap); OP-TEE itself is the only sender, so the sender must be the caller.
 */
function sendInternally(spmc: SpmcState, request: SetRequest): Refusal | null {
  if (request.origin.kind === 'sp' && request.sender !== request.origin.partition.id) {
    return refusal('INVALID_PARAMETERS', 'an SP may only set notifications as itself');
  }
  const receiver = spmc.notifications.vms.find(request.receiver);
  if (!receiver) return refusal('INVALID_PARAMETERS', `no notification bitmap for VM ${hex(request.receiver)}`);
  receiver.fromSp.setPending(request.bitmap, null);
  spmc.sri.raiseNow(request.cpu);
  return null;
}

/** Hafnium ffa_notifications_is_set_valid. */
function setCallerRefusal(request: SetRequest): Refusal | null {
  const { origin, sender, receiver } = request;
  if (isSpmdLogicalPartition(sender) || isSpmdLogicalPartition(receiver)) return refusal('INVALID_PARAMETERS', 'SPMD logical partitions may not set notifications');
  if (sender === receiver) return refusal('INVALID_PARAMETERS', 'sender can\'t target itself');
  if (origin.kind === 'sp') return sender === origin.partition.id ? null : refusal('INVALID_PARAMETERS', 'an SP caller must be the sender');
  if (isSecureId(sender) || !isSecureId(receiver)) return refusal('INVALID_PARAMETERS', 'from the NWd the sender must be a VM and the receiver an SP');
  return null;
}

/** Flags of SET (docs/ffa-reference.md §2.4 and §3.3, Hafnium). */
function setFlagsRefusal(spmc: SpmcState, request: SetRequest): Refusal | null {
  const check = checkRegisters(spmc, { args: request, violations: request.violations });
  if (!check.ok) return refusal(check.error, check.why);
  if ((request.flags & SET_FLAGS.perVcpu) !== 0 && spmc.policies.perVcpuNotifications === 'unsupported') {
    return refusal(spmc.policies.perVcpuRejection, 'per-vCPU notifications are not supported (global only)');
  }
  if ((request.flags & SET_FLAGS.delaySri) !== 0 && request.origin.kind === 'nwd') {
    return refusal('INVALID_PARAMETERS', 'the delay-SRI flag is meaningful only for an SP sender');
  }
  return null;
}

/** Hafnium api_ffa_notification_set. */
function setByAbi(spmc: SpmcState, request: SetRequest): Refusal | null {
  const invalid = setCallerRefusal(request) ?? setFlagsRefusal(spmc, request);
  if (invalid) return invalid;
  if (request.bitmap === 0n) return refusal('INVALID_PARAMETERS', 'no notifications specified');
  const receiver = spmc.notifications.receiver(request.receiver);
  if (!receiver) return refusal('INVALID_PARAMETERS', `receiver ${hex(request.receiver)} is not valid`);
  if (!receiver.bitmapCreated) return refusal('DENIED', 'the receiver\'s notifications are not enabled');
  const senderClass = senderClassOf(request.sender);
  const table = receiver.bindings[senderClass];
  if ((table.boundTo(request.sender) & request.bitmap) !== request.bitmap) return refusal('DENIED', 'notifications not bound to this sender');
  const perVcpu = (request.flags & SET_FLAGS.perVcpu) !== 0;
  const mismatch = perVcpuMismatch(table.perVcpu & request.bitmap, request.bitmap, perVcpu);
  if (mismatch) return mismatch;
  if (perVcpu && request.vcpu >= receiver.vcpuCount) return refusal('INVALID_PARAMETERS', `vCPU ${request.vcpu} is not below the receiver's ${receiver.vcpuCount}`);
  // Hafnium keeps per-vCPU state for MAX_CPUS vCPUs whatever BITMAP_CREATE's w2 said; so does this table.
  if (perVcpu && request.vcpu >= CONFIG_LIMITS.cpusMax) return refusal('INVALID_PARAMETERS', `vCPU ${request.vcpu} is beyond the per-vCPU state kept (${CONFIG_LIMITS.cpusMax})`);
  receiver.classOf(senderClass).setPending(request.bitmap, perVcpu ? request.vcpu : null);
  signalScheduleReceiver(spmc, request.cpu, (request.flags & SET_FLAGS.delaySri) !== 0);
  return null;
}

/** Hafnium 89c22131 "fix: per-vCPU/global bind/set mismatch": each bit is set as it was bound. */
function perVcpuMismatch(boundPerVcpu: bigint, bitmap: bigint, perVcpu: boolean): Refusal | null {
  const matches = perVcpu ? boundPerVcpu === bitmap : boundPerVcpu === 0n;
  return matches ? null : refusal('INVALID_PARAMETERS', 'per-vCPU/global mismatch between bind and set');
}

/** Raise the SRI now, or (Hafnium, DELAY_SRI) at the next return to the NWd on that CPU. */
export function signalScheduleReceiver(spmc: SpmcState, cpu: number, delayRequested: boolean): void {
  if (delayRequested && spmc.policies.sriTiming === 'honour-delay-flag') spmc.sri.delay(cpu);
  else spmc.sri.raiseNow(cpu);
}

// ---------------------------------------------------------------- GET (§2.5, §3.4)

export function handleGet(cc: CallContext): Answer {
  const refused = refuseSpWithoutNotificationCalls(cc, 'FFA_NOTIFICATION_GET');
  if (refused) return refused;
  const check = checkRegisters(cc.spmc, notificationGet.decodeCall(cc.regs));
  if (!check.ok) return refuse(cc, check.error, check.why);
  const { receiver, vcpu, flags } = check.args;
  if (cc.spmc.policies.getFlagHandling === 'sp-only') return getSpBitmapOnly(cc, receiver, vcpu, flags);
  return getRequestedBitmaps(cc, receiver, vcpu, flags);
}

function vcpuRefusal(spmc: SpmcState, receiver: Receiver, vcpu: number): Refusal | null {
  if (spmc.policies.getVcpuValidation === 'below-vcpu-count' && vcpu >= receiver.vcpuCount) {
    return refusal('INVALID_PARAMETERS', `vCPU ${vcpu} is not below the receiver's ${receiver.vcpuCount}`);
  }
  return null;
}

/** OP-TEE handle_notification_get: only flag bit 0 counts; w4..w7 are always 0. */
function getSpBitmapOnly(cc: CallContext, receiverId: number, vcpu: number, flags: number): Answer {
  if ((flags & GET_FLAGS.sp) === 0) return reply(notificationGet.success!.encode({}));
  const receiver = cc.spmc.notifications.vms.find(receiverId);
  if (!receiver) return refuse(cc, 'INVALID_PARAMETERS', `no notification bitmap for VM ${hex(receiverId)}`);
  const badVcpu = vcpuRefusal(cc.spmc, receiver, vcpu);
  if (badVcpu) return answerRefusal(cc, badVcpu);
  return reply(notificationGet.success!.encode({ spBitmap: receiver.fromSp.take(vcpu) }));
}

/** Hafnium plat_ffa_is_notification_get_valid. */
function getCallerRefusal(origin: Origin, receiverId: number, flags: number): Refusal | null {
  const callerIsReceiver = origin.kind === 'sp' && origin.partition.id === receiverId && !isSpmdLogicalPartition(receiverId);
  const nwdForVm = origin.kind === 'nwd' && !isSecureId(receiverId);
  if (!callerIsReceiver && !nwdForVm) return refusal('INVALID_PARAMETERS', 'an SP gets its own notifications; the NWd gets a VM\'s');
  if (!isSecureId(receiverId) && (flags & (GET_FLAGS.vm | GET_FLAGS.hyp)) !== 0) {
    return refusal('INVALID_PARAMETERS', 'VM and hypervisor bitmaps of a VM are the hypervisor\'s to manage');
  }
  return null;
}

/** Hafnium api_ffa_notification_get: each requested bitmap is returned and cleared. */
function getRequestedBitmaps(cc: CallContext, receiverId: number, vcpu: number, flags: number): Answer {
  const invalid = getCallerRefusal(cc.origin, receiverId, flags);
  if (invalid) return answerRefusal(cc, invalid);
  const receiver = cc.spmc.notifications.receiver(receiverId);
  if (!receiver) return refuse(cc, 'INVALID_PARAMETERS', `receiver ${hex(receiverId)} does not exist`);
  const badVcpu = vcpuRefusal(cc.spmc, receiver, vcpu);
  if (badVcpu) return answerRefusal(cc, badVcpu);
  const wants = (flag: number): boolean => (flags & flag) !== 0;
  const hypMask = SPM_FRAMEWORK_MASK << HYP_FRAMEWORK_SHIFT;
  const spmBitmap = wants(GET_FLAGS.spm) ? receiver.framework.take(vcpu, SPM_FRAMEWORK_MASK) : 0n;
  const hypBitmap = wants(GET_FLAGS.hyp) ? receiver.framework.take(vcpu, hypMask) >> HYP_FRAMEWORK_SHIFT : 0n;
  const regs = notificationGet.success!.encode({
    spBitmap: wants(GET_FLAGS.sp) ? receiver.fromSp.take(vcpu) : 0n,
    vmBitmap: wants(GET_FLAGS.vm) ? receiver.fromVm.take(vcpu) : 0n,
    spmBitmap,
    hypBitmap,
  });
  return reply(regs, ((spmBitmap | hypBitmap) & FRAMEWORK_NOTIFICATIONS.rxBufferFull) !== 0n ? rxBufferOf(cc.spmc, receiverId) : null);
}

/**
 * The receiver's RX buffer, as a GET that reports its RX-buffer-full notification carries it to
 * the receiver's side: the message was written into memory the receiver shares, and this GET is
 * the first call after which it reads it (Linux handle_fwk_notif_callbacks).
 */
function rxBufferOf(spmc: SpmcState, owner: number): BufferWrite | null {
  const mailbox = spmc.mailboxes.get(owner);
  return mailbox?.state === 'full' && mailbox.content !== null ? rxWrite(owner, mailbox.content) : null;
}

// ---------------------------------------------------------------- INFO_GET (§2.6, §3.5)

export function handleInfoGet(cc: CallContext, width: InfoGetWidth): Answer {
  if (cc.origin.kind === 'sp') return refuse(cc, 'NOT_SUPPORTED', 'only the receivers\' scheduler (the NWd) may call INFO_GET');
  if (width === 32 && cc.spmc.policies.infoGetConventions === 'smc64-only') {
    return refuse(cc, 'NOT_SUPPORTED', 'FFA_NOTIFICATION_INFO_GET_32 is not decoded (Hafnium handler.c knows only _64)');
  }
  const codec = width === 64 ? notificationInfoGet64 : notificationInfoGet32;
  const check = checkRegisters(cc.spmc, codec.decodeCall(cc.regs));
  if (!check.ok) return refuse(cc, check.error, check.why);
  const report = collectNotificationInfo(cc.spmc.notifications, cc.spmc.policies, width);
  if (report.lists.length === 0) return refuse(cc, 'NO_DATA', 'no pending notification to report');
  return reply(codec.success!.encode(report));
}

// ---------------------------------------------------------------- framework notifications (§3.8)

/** After a successful FFA_MSG_SEND2: RX buffer full, SPM bit for an SP sender, hypervisor bit for a VM's. */
export function setRxBufferFull(receiver: Receiver, sender: number): void {
  const bit = isSecureId(sender) ? FRAMEWORK_NOTIFICATIONS.rxBufferFull : FRAMEWORK_NOTIFICATIONS.rxBufferFull << HYP_FRAMEWORK_SHIFT;
  receiver.framework.setPending(bit, null);
}
