/**
 * The hypervisor's side of the SMC conduit: what it learnt about the firmware at probe (Xen
 * ffa.c ffa_fw_version, ffa_fw_abi_supported; ffa_notif.c fw_notif_enabled, notif_sri_irq;
 * ffa_partinfo.c subscr_vm_created/destroyed), and how it calls the SPMD.
 *
 * Every SMC goes to config.spmd on conduit 'smc' with endpoint 0 (the hypervisor itself: Xen never
 * rewrites IDs in registers) and vcpu = cpu = the physical CPU the hypervisor runs on for it: the
 * CPU of the vCPU it acts for, or the CPU that took the SRI.
 */
import {
  abiNameOf,
  decodeResult,
  FFA_ERROR_CODES,
  FFA_FIDS,
  type FfaAbiName,
  type FfaErrorName,
  hex,
  type BufferWrite,
  type PartitionInfo,
  PARTITION_PROPERTIES,
  type RegisterFile,
  errorName,
  w,
  x,
} from '../../shared/ffa/index.ts';
import type { CallFailure, ComponentContext } from '../../shared/runtime/component.ts';

/** An SMC's result: the registers and what the firmware wrote into an RX buffer (null: nothing), or why it never returned. */
export type FirmwareResult = { readonly ok: true; readonly regs: RegisterFile; readonly memory: BufferWrite | null } | { readonly ok: false; readonly reason: CallFailure };

/** Where the probe is (Xen: ffa_probe at boot, before any domain exists). */
export type FirmwareState =
  /** The probe's SMCs are under way; life-cycle requests wait. */
  | 'probing'
  /** ffa_fw_version set: the firmware is usable (notifications maybe not). */
  | 'ready'
  /** No usable firmware (Xen err_no_fw: ffa_fw_version = 0): every VM is refused (-ENODEV). */
  | 'absent'
  /** The raw profile: the hypervisor makes no SMC of its own. */
  | 'not-probed';

/** What the probe found. */
export class FirmwareFacts {
  state: FirmwareState = 'probing';
  /** The FF-A version used with the SPMC: min(the firmware's, 1.2); null when absent. */
  version: number | null = null;
  readonly supported = new Set<FfaAbiName>();
  /** fw_notif_enabled: BITMAP_CREATE, BITMAP_DESTROY, GET and INFO_GET_64 all supported and FEATURES(SRI) succeeded. */
  notificationsEnabled = false;
  /** The physical SRI's INTID (FEATURES(SRI) w2), when notifications are enabled. */
  sriIntid: number | null = null;
  /** The SP list (config.partitions, checked against PARTITION_INFO_GET's count). */
  partitions: readonly PartitionInfo[] = [];

  supports(abi: FfaAbiName): boolean {
    return this.supported.has(abi);
  }

  /** ffa_partinfo.c init_subscribers: SPs with FFA_PART_PROP_NOTIF_CREATED, in list order. */
  vmCreatedSubscribers(): number[] {
    return this.partitions.filter((p) => (p.properties & PARTITION_PROPERTIES.vmCreatedMessage) !== 0).map((p) => p.id);
  }

  /** SPs with FFA_PART_PROP_NOTIF_DESTROYED, in list order. */
  vmDestroyedSubscribers(): number[] {
    return this.partitions.filter((p) => (p.properties & PARTITION_PROPERTIES.vmDestroyedMessage) !== 0).map((p) => p.id);
  }
}

/** How an infrastructure failure of an SMC is answered (a model convention, as the SPMD's). */
const FAILURE_CODES: Readonly<Record<CallFailure, FfaErrorName>> = {
  busy: 'BUSY',
  unreachable: 'NOT_SUPPORTED',
  timeout: 'ABORTED',
};

export function failureCode(reason: CallFailure): FfaErrorName {
  return FAILURE_CODES[reason];
}

/**
 * Xen ffa_private.h ffa_get_ret_code: 0 for FFA_SUCCESS_32/64, w2 for FFA_ERROR (NOT_SUPPORTED
 * when w2 is 0), NOT_SUPPORTED for anything else. An SMC that never returned counts as its
 * failure code.
 */
export function returnCode(result: FirmwareResult): number {
  if (!result.ok) return FFA_ERROR_CODES[failureCode(result.reason)];
  const decoded = decodeResult(result.regs);
  if (decoded.kind === 'success') return 0;
  if (decoded.kind === 'error' && w(result.regs, 0) === FFA_FIDS.FFA_ERROR) return decoded.code === 0 ? FFA_ERROR_CODES.NOT_SUPPORTED : decoded.code;
  return FFA_ERROR_CODES.NOT_SUPPORTED;
}

/** A return code as the history shows it: 'OK', an error name, or the number. */
export function codeName(code: number): string {
  if (code === 0) return 'OK';
  return errorName(code) ?? String(code);
}

/** A returned register file as the history shows it: "FFA_SUCCESS_32", "FFA_ERROR(DENIED)", "0x10002". */
export function describeReturn(regs: RegisterFile): string {
  const decoded = decodeResult(regs);
  if (decoded.kind === 'error') return `FFA_ERROR(${decoded.name ?? decoded.code})`;
  const name = abiNameOf(w(regs, 0));
  if (name !== null && x(regs, 0) <= 0xffff_ffffn) return name;
  return hex(x(regs, 0));
}

export function describeResult(result: FirmwareResult): string {
  return result.ok ? describeReturn(result.regs) : `failed(${result.reason})`;
}

/**
 * SMCs in flight per physical CPU. A real CPU runs one SMC at a time, so a burst of guests' calls
 * on one pCPU waits its turn rather than failing; here up to this many overlap (the runtime's
 * bound per endpoint and vCPU, component-host.ts), and the rest wait in FIFO order, so a guest
 * never sees a BUSY that real Xen would not give.
 */
const SMCS_IN_FLIGHT_PER_CPU = 8;

interface WaitingSmc {
  readonly send: (done: () => void) => void;
}

/** Why a guest's SMC was not made: the bound it met. */
export type GuestCallRefusal = 'world' | 'vm';

/** The hypervisor's SMCs to the SPMD. */
export class FirmwareLink {
  private pendingGuestCalls = 0;
  /** Guest calls pending at the firmware, per VM: one VM's flood meets its own bound, not the others'. */
  private readonly pendingPerVm = new Map<number, number>();
  private readonly inFlight = new Map<number, number>();
  private readonly waiting = new Map<number, WaitingSmc[]>();

  constructor(
    private readonly ctx: ComponentContext,
    private readonly spmd: string,
    private readonly maxPendingGuestCalls: number,
    private readonly maxPendingGuestCallsPerVm: number,
  ) {}

  /**
   * An SMC the hypervisor makes for itself (probe, life cycle, the SRI loop). These are serialised
   * by their owners (one life-cycle operation and one SRI loop at a time), so they need no bound.
   */
  /** `memory`: what the SMC's caller put in a TX buffer for the SPMC to read (Xen's own, or a guest's). */
  call(regs: RegisterFile, cpu: number, onResult: (result: FirmwareResult) => void, memory: BufferWrite | null = null): void {
    this.onCpu(cpu, (done) => this.smc(regs, memory, 0, cpu, cpu, (result) => {
      done();
      onResult(result);
    }));
  }

  /**
   * An SMC on VM `vm`'s behalf; the bound it met (and no call) when config.maxPendingGuestCallsPerVm
   * of that VM's, or config.maxPendingGuestCalls in all, are pending; null when made.
   */
  callForGuest(regs: RegisterFile, cpu: number, vm: number, onResult: (result: FirmwareResult) => void, memory: BufferWrite | null = null): GuestCallRefusal | null {
    const own = this.pendingPerVm.get(vm) ?? 0;
    if (own >= this.maxPendingGuestCallsPerVm) return 'vm';
    if (this.pendingGuestCalls >= this.maxPendingGuestCalls) return 'world';
    this.pendingGuestCalls++;
    this.pendingPerVm.set(vm, own + 1);
    this.call(regs, cpu, (result) => {
      this.pendingGuestCalls--;
      const left = (this.pendingPerVm.get(vm) ?? 1) - 1;
      if (left > 0) this.pendingPerVm.set(vm, left);
      else this.pendingPerVm.delete(vm);
      onResult(result);
    }, memory);
    return null;
  }

  /** A controller's relayed SMC (raw profile): forwarded as it came, acting for `endpoint`. */
  relay(regs: RegisterFile, memory: BufferWrite | null, endpoint: number, vcpu: number, cpu: number, onResult: (result: FirmwareResult) => void): boolean {
    if (this.pendingGuestCalls >= this.maxPendingGuestCalls) return false;
    this.pendingGuestCalls++;
    this.smc(regs, memory, endpoint, vcpu, cpu, (result) => {
      this.pendingGuestCalls--;
      onResult(result);
    });
    return true;
  }

  private smc(regs: RegisterFile, memory: BufferWrite | null, endpoint: number, vcpu: number, cpu: number, onResult: (result: FirmwareResult) => void): void {
    this.ctx.call(this.spmd, { conduit: 'smc', endpoint, vcpu, cpu, regs, memory }, (outcome) => {
      onResult(outcome.ok ? { ok: true, regs: outcome.regs, memory: outcome.memory } : { ok: false, reason: outcome.reason });
    });
  }

  /** Runs `send` when the CPU has room; `done` frees the room for the next waiting SMC. */
  private onCpu(cpu: number, send: (done: () => void) => void): void {
    const busy = this.inFlight.get(cpu) ?? 0;
    if (busy >= SMCS_IN_FLIGHT_PER_CPU) {
      const queue = this.waiting.get(cpu) ?? [];
      queue.push({ send });
      this.waiting.set(cpu, queue);
      return;
    }
    this.inFlight.set(cpu, busy + 1);
    send(() => this.release(cpu));
  }

  private release(cpu: number): void {
    this.inFlight.set(cpu, (this.inFlight.get(cpu) ?? 1) - 1);
    const next = this.waiting.get(cpu)?.shift();
    if (next) this.onCpu(cpu, next.send);
  }

  get pending(): number {
    return this.pendingGuestCalls;
  }
}
