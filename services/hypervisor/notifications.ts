/**
 * The notification family (docs/ffa-reference.md §5.3, §5.4; Xen ffa_notif.c):
 * - guest calls: BIND/UNBIND/SET forwarded only with a secure peer, GET masked to the secure
 *   bitmaps with Xen's secure_pending clearing rule, INFO_GET answered from the VM's pending flag
 *   (or passed through, per policy); BITMAP_CREATE/DESTROY have no case (dispatcher.ts);
 * - the SRI path: the physical SRI → INFO_GET_64 while "more pending" (bounded) → each listed VM
 *   marked pending and the virtual NPI injected into its first online vCPU.
 */
import {
  FFA_FIDS,
  GET_FLAGS,
  ffaError,
  ffaSuccess32,
  ffaSuccess64,
  infoGetIdAt,
  infoGetListCount,
  infoGetListSize,
  infoGetMaxIds,
  infoGetMorePending,
  isSecureId,
  isSmc64,
  packNotificationInfo,
  registers,
  w,
  x,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import { codeName, describeResult, returnCode, type FirmwareLink, type FirmwareResult } from './firmware.ts';
import { answer, forward, refuse, type Answer, type GuestCall, type HypervisorState, type Outcome } from './guest-call.ts';
import { firstOnlineVcpu, type Vcpu } from './vcpus.ts';
import type { Vm } from './vm-table.ts';

const SECURE_BITMAPS = GET_FLAGS.sp | GET_FLAGS.spm;

/** ffa_simple_call(fid, a1, a2, a3, a4): x5..x17 zero. */
function simpleCall(fid: number, a1: number, a2: number, a3: number, a4: number): RegisterFile {
  return registers(fid, a1, a2, a3, a4);
}

/** What the guest gets back from an ffa_simple_call: success with w1..w7 zero, or the error. */
function simpleFinish(abi: string): (result: FirmwareResult) => Answer {
  return (result) => {
    const code = returnCode(result);
    return code === 0
      ? { regs: ffaSuccess32(), why: `${abi} forwarded: ${describeResult(result)}` }
      : { regs: ffaError(code), why: `${abi} forwarded: ${codeName(code)}` };
  };
}

// ---------------------------------------------------------------- BIND / UNBIND / SET (§5.4)

/** ffa_handle_notification_bind: receiver self, flags 0 (global only), a secure sender. */
export function handleBind(gc: GuestCall): Outcome {
  const srcDst = w(gc.regs, 1);
  const flags = w(gc.regs, 2);
  if ((srcDst & 0xffff) !== gc.vm.id) return refuse('INVALID_PARAMETERS', 'the receiver (w1[15:0]) must be the caller');
  if (flags !== 0) return refuse('DENIED', 'only global notifications are supported');
  if (!isSecureId(srcDst >>> 16) || !gc.hv.firmware.notificationsEnabled) {
    return refuse('NOT_SUPPORTED', 'only SP senders, and only with firmware notifications');
  }
  return forward(simpleCall(FFA_FIDS.FFA_NOTIFICATION_BIND, srcDst, flags, w(gc.regs, 3), w(gc.regs, 4)), simpleFinish('BIND'));
}

/** ffa_handle_notification_unbind: receiver self, a secure sender; forwarded with w2 = 0. */
export function handleUnbind(gc: GuestCall): Outcome {
  const srcDst = w(gc.regs, 1);
  if ((srcDst & 0xffff) !== gc.vm.id) return refuse('INVALID_PARAMETERS', 'the receiver (w1[15:0]) must be the caller');
  if (!isSecureId(srcDst >>> 16) || !gc.hv.firmware.notificationsEnabled) {
    return refuse('NOT_SUPPORTED', 'only SP senders, and only with firmware notifications');
  }
  return forward(simpleCall(FFA_FIDS.FFA_NOTIFICATION_UNBIND, srcDst, 0, w(gc.regs, 3), w(gc.regs, 4)), simpleFinish('UNBIND'));
}

/** ffa_handle_notification_set: sender self, a secure receiver; the flags go as they came. */
export function handleSet(gc: GuestCall): Outcome {
  const srcDst = w(gc.regs, 1);
  if (srcDst >>> 16 !== gc.vm.id) return refuse('INVALID_PARAMETERS', 'the sender (w1[31:16]) must be the caller');
  if (!isSecureId(srcDst & 0xffff) || !gc.hv.firmware.notificationsEnabled) {
    return refuse('NOT_SUPPORTED', 'only SP receivers (no VM-to-VM notifications), and only with firmware notifications');
  }
  return forward(simpleCall(FFA_FIDS.FFA_NOTIFICATION_SET, srcDst, w(gc.regs, 2), w(gc.regs, 3), w(gc.regs, 4)), simpleFinish('SET'));
}

// ---------------------------------------------------------------- GET (§5.4)

/** The securePendingClear policy: Xen clears only when both secure bitmaps are asked for. */
function clearsSecurePending(gc: GuestCall, flags: number): boolean {
  const sp = (flags & GET_FLAGS.sp) !== 0;
  const spm = (flags & GET_FLAGS.spm) !== 0;
  return gc.hv.policies.securePendingClear === 'sp-and-spm' ? sp && spm : sp || spm;
}

/**
 * ffa_handle_notification_get: only the SP and SPM bitmaps exist here (no VM-to-VM), so GET is
 * forwarded with the flags masked to them, and only those bitmaps come back; an SPMC error is
 * the guest's answer.
 */
export function handleGet(gc: GuestCall): Outcome {
  if (!gc.hv.firmware.notificationsEnabled) return refuse('NOT_SUPPORTED', 'firmware notifications are not enabled');
  const receiverInfo = w(gc.regs, 1);
  const flags = w(gc.regs, 2);
  if ((receiverInfo & 0xffff) !== gc.vm.id) return refuse('INVALID_PARAMETERS', 'the receiver (w1[15:0]) must be the caller');
  if ((flags & SECURE_BITMAPS) === 0) return answer(ffaSuccess32(), 'no secure bitmap asked for: nothing to forward');
  if (clearsSecurePending(gc, flags)) gc.vm.securePending = false;
  const regs = registers(FFA_FIDS.FFA_NOTIFICATION_GET, receiverInfo, flags & SECURE_BITMAPS);
  return forward(regs, (result) => getAnswer(result, flags));
}

function getAnswer(result: FirmwareResult, flags: number): Answer {
  const code = returnCode(result);
  if (code !== 0 || !result.ok) return { regs: ffaError(code), why: `GET forwarded: ${codeName(code)}` };
  const sp = (flags & GET_FLAGS.sp) !== 0;
  const spm = (flags & GET_FLAGS.spm) !== 0;
  const regs = ffaSuccess32(0, sp ? w(result.regs, 2) : 0, sp ? w(result.regs, 3) : 0, 0, 0, spm ? w(result.regs, 6) : 0, 0);
  return { regs, why: 'GET forwarded with SP|SPM only; VM and hypervisor bitmaps are 0' };
}

// ---------------------------------------------------------------- INFO_GET (§5.4)

/**
 * ffa_handle_notification_info_get: test-and-clear the VM's pending flag; one list naming the
 * caller itself, or NO_DATA. Under the passthrough policy the call goes to the SPMC unchanged.
 */
export function handleInfoGet(gc: GuestCall, width: 32 | 64): Outcome {
  if (gc.hv.policies.guestInfoGet === 'passthrough') {
    // Whatever the firmware supports: the SPMC answers (NOT_SUPPORTED, NO_DATA, or every VM it has pending).
    gc.hv.ctx.record({ event: 'info-get-passthrough', vm: gc.vm.id, vcpu: gc.vcpu, width });
    return forward(gc.regs, (result) => ({
      regs: result.ok ? result.regs : ffaError(returnCode(result)),
      why: `INFO_GET passed through to the SPMC: ${describeResult(result)}`,
    }));
  }
  if (!gc.hv.firmware.notificationsEnabled) return refuse('NOT_SUPPORTED', 'firmware notifications are not enabled');
  const pending = gc.vm.securePending;
  gc.vm.securePending = false;
  if (!pending) return refuse('NO_DATA', 'no pending global notification for this VM');
  const [x2, x3] = packNotificationInfo({ morePending: false, lists: [{ id: gc.vm.id, vcpus: [] }] }, 64);
  const wide = width === 64 || gc.hv.policies.infoGet32Answer === 'success-64';
  return answer(wide ? ffaSuccess64(0, x2, x3) : ffaSuccess32(0, x2, x3), 'the caller\'s own pending flag, cleared');
}

// ---------------------------------------------------------------- the SRI path (§5.3)

type ParsedInfo = { readonly ok: true; readonly ids: number[]; readonly morePending: boolean } | { readonly ok: false; readonly why: string };

/**
 * notif_sri_action's walk of an INFO_GET return: the first ID of each list (vCPU IDs skipped),
 * 4 IDs per register for SMC64 answers and 2 for SMC32 (get_id_from_resp). Xen judges nothing
 * else of the return (reserved bits, padding), so neither does this; the layout is shared/ffa's.
 */
export function parseInfoGetReturn(regs: RegisterFile): ParsedInfo {
  const x2 = x(regs, 2);
  const width = isSmc64(w(regs, 0)) ? 64 : 32;
  const ids: number[] = [];
  const listCount = infoGetListCount(x2);
  let position = 0;
  for (let list = 0; list < listCount; list++) {
    if (position >= infoGetMaxIds(width)) return { ok: false, why: `list ${list} starts past the last ID register` };
    ids.push(infoGetIdAt(regs, position, width));
    position += infoGetListSize(x2, list) + 1;
  }
  return { ok: true, ids, morePending: infoGetMorePending(x2) };
}

/** The loop of one SRI (Xen's tasklet): idle, or running on a CPU. */
type LoopState = { readonly kind: 'idle' } | { readonly kind: 'running'; readonly cpu: number };

/**
 * Xen notif_irq_handler → tasklet_schedule(&notif_sri_tasklet) → notif_sri_action. One tasklet:
 * an SRI taken while the loop runs schedules one more run after it (tasklet_schedule on a running
 * tasklet), never a second loop in parallel.
 */
export class ScheduleReceiverHandler {
  private loop: LoopState = { kind: 'idle' };
  private rerunOnCpu: number | null = null;
  sriTaken = 0;
  loopsCompleted = 0;

  constructor(
    private readonly hv: HypervisorState,
    private readonly link: FirmwareLink,
  ) {}

  get running(): boolean {
    return this.loop.kind === 'running';
  }

  onSri(cpu: number): void {
    this.sriTaken++;
    this.hv.ctx.record({ event: 'sri-taken', cpu });
    if (this.loop.kind === 'running') {
      this.rerunOnCpu = cpu;
      return;
    }
    this.startLoop(cpu);
  }

  /** The raw profile: taken and counted, nothing else (no INFO_GET loop: raw makes no FF-A calls). */
  onRawSri(cpu: number): void {
    this.sriTaken++;
    this.hv.ctx.record({ event: 'sri-taken', cpu, profile: 'raw' });
  }

  private startLoop(cpu: number): void {
    this.loop = { kind: 'running', cpu };
    this.iterate(cpu, 1);
  }

  private iterate(cpu: number, iteration: number): void {
    this.link.call(registers(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64), cpu, (result) => {
      const more = this.onInfoGetReturn(result, cpu, iteration);
      if (!more) return this.endLoop();
      if (iteration >= this.hv.policies.infoGetLoopBound) {
        this.hv.ctx.record({ event: 'info-get-loop-bound', iterations: iteration, cpu });
        return this.endLoop();
      }
      this.iterate(cpu, iteration + 1);
    });
  }

  /** One INFO_GET_64 answer; true when "more pending" asks for another call. */
  private onInfoGetReturn(result: FirmwareResult, cpu: number, iteration: number): boolean {
    const code = returnCode(result);
    if (code !== 0 || !result.ok) {
      // NO_DATA is the normal end ("silent return"); Xen logs any other error.
      this.hv.ctx.record({ event: 'info-get', iteration, cpu, result: codeName(code), morePending: false, ids: [] });
      return false;
    }
    const parsed = parseInfoGetReturn(result.regs);
    if (!parsed.ok) {
      this.hv.ctx.record({ event: 'info-get', iteration, cpu, result: 'malformed', why: parsed.why, morePending: false, ids: [] });
      return false;
    }
    this.hv.ctx.record({ event: 'info-get', iteration, cpu, result: 'OK', morePending: parsed.morePending, ids: parsed.ids });
    for (const id of parsed.ids) markPending(this.hv, id);
    return parsed.morePending;
  }

  private endLoop(): void {
    this.loop = { kind: 'idle' };
    this.loopsCompleted++;
    const rerun = this.rerunOnCpu;
    this.rerunOnCpu = null;
    if (rerun !== null) this.startLoop(rerun);
  }
}

/**
 * Xen notif_vm_pend_intr: ID 0 (Xen itself) and IDs with no domain (SPs: Xen is never their
 * secondary scheduler; VMs destroyed since) are dropped; otherwise secure_pending is set and the
 * NPI injected per the npiTargetVcpu policy, or left latched when no vCPU is online.
 */
function markPending(hv: HypervisorState, id: number): void {
  const vm = hv.vms.find(id);
  if (id === 0 || vm === undefined || vm.state === 'destroying') {
    hv.ctx.record({ event: 'info-get-id-ignored', id, why: id === 0 ? 'notifications for the hypervisor itself' : 'no such VM' });
    return;
  }
  vm.securePending = true;
  hv.ctx.record({ event: 'vm-pending', vm: vm.id });
  const target = hv.policies.npiTargetVcpu === 'vcpu0' ? vm.vcpu(0) : firstOnlineVcpu(vm.vcpus);
  if (target === undefined) {
    hv.ctx.record({ event: 'npi-latched', vm: vm.id });
    return;
  }
  injectNpi(hv, vm, target, 'sri');
}

function injectNpi(hv: HypervisorState, vm: Vm, vcpu: Vcpu, cause: 'sri' | 'vcpu-online'): void {
  hv.ctx.record({ event: 'npi-inject', vm: vm.id, vcpu: vcpu.index, pcpu: vcpu.pcpu, online: vcpu.online, intid: hv.policies.guestNpiIntid, cause });
  hv.gic.injectVirtual(vm.id, vcpu.index, hv.policies.guestNpiIntid);
}

/**
 * A vCPU came online. Xen (§5.3) does nothing about a latched secure_pending: the notification
 * waits for the next SRI naming the VM or the guest's own call. The reinject policy injects here.
 */
export function onVcpuOnline(hv: HypervisorState, vm: Vm, vcpu: Vcpu): void {
  if (!vm.securePending) return;
  if (hv.policies.latchedNpiOnVcpuOnline === 'reinject') {
    injectNpi(hv, vm, vcpu, 'vcpu-online');
    return;
  }
  hv.ctx.record({ event: 'npi-still-latched', vm: vm.id, vcpu: vcpu.index });
}
