/**
 * What every guest-call handler is given and what it gives back (Xen ffa.c ffa_handle_call and
 * the handlers of ffa_notif.c, ffa_msg.c, ffa_partinfo.c, ffa_rxtx.c). Deciding is the handlers'
 * job and is synchronous; an SMC to the firmware is an outcome, carried out by hypervisor.ts,
 * whose answer the handler's `finish` turns into the guest's registers.
 */
import { ffaError, ffaSuccess32, type BufferWrite, type FfaErrorName, type RegisterFile } from '../../shared/ffa/index.ts';
import type { ComponentContext } from '../../shared/runtime/component.ts';
import type { ValidHypervisorConfig } from './config.ts';
import type { FirmwareFacts, FirmwareResult } from './firmware.ts';
import type { GicPort } from './gic-port.ts';
import type { PolicyValues } from './policies.ts';
import type { Vm, VmTable } from './vm-table.ts';

/** The state handlers read and change. */
export interface HypervisorState {
  readonly ctx: ComponentContext;
  readonly config: ValidHypervisorConfig;
  readonly policies: PolicyValues;
  readonly firmware: FirmwareFacts;
  readonly vms: VmTable;
  readonly gic: GicPort;
}

/** One guest FF-A call, as a handler sees it. */
export interface GuestCall {
  readonly hv: HypervisorState;
  /** The calling VM, decided by the link the call arrived on. */
  readonly vm: Vm;
  readonly vcpu: number;
  /** The physical CPU the vCPU runs on (the hypervisor's own placement). */
  readonly cpu: number;
  readonly regs: RegisterFile;
  /** The guest's TX buffer as the call carries it (what FFA_MSG_SEND2 reads), or null. */
  readonly memory: BufferWrite | null;
}

/** How a handler's answer reads, with why, for the history. */
export interface Answer {
  readonly regs: RegisterFile;
  readonly why: string;
  /**
   * The answer writes x0..x17 (Xen set_user_reg for each of out_regs[18], as
   * ffa_handle_partition_info_get_regs does); otherwise x0..x7 only (ffa_set_regs), and the
   * guest keeps its own x8..x17.
   */
  readonly allRegisters?: boolean;
  /**
   * What the call wrote into the guest's RX buffer: Xen's own write (partition descriptors), or
   * the SPMC's, which reaches the guest with the return it passes on (buffer memory is shared,
   * Xen does not copy it: shared/ffa/buffer-content.ts).
   */
  readonly memory?: BufferWrite | null;
}

export type Outcome =
  /** Answered by the hypervisor itself. */
  | { readonly kind: 'answer'; readonly answer: Answer }
  /**
   * An SMC to the firmware, with `memory` in a TX buffer for it to read (Xen's own, or the
   * guest's); `then` decides from what came back: the guest's answer, or another SMC (Xen's
   * ffa_rx_acquire before it writes the guest's RX buffer, its ffa_rx_release on an error after).
   */
  | { readonly kind: 'forward'; readonly regs: RegisterFile; readonly memory: BufferWrite | null; readonly then: (result: FirmwareResult) => Outcome };

export function answer(regs: RegisterFile, why: string): Outcome {
  return { kind: 'answer', answer: { regs, why } };
}

/** An answer in all of x0..x17. */
export function answerAllRegisters(regs: RegisterFile, why: string): Outcome {
  return { kind: 'answer', answer: { regs, why, allRegisters: true } };
}

/** Xen ffa_set_regs_error: FFA_ERROR, w1 = 0, w2 = the code. */
export function refuse(code: FfaErrorName, why: string): Outcome {
  return answer(ffaError(code), why);
}

/** Xen ffa_set_regs_success(regs, w2, w3). */
export function succeed(why: string, w2 = 0, w3 = 0): Outcome {
  return answer(ffaSuccess32(0, w2, w3), why);
}

/** An SMC whose answer `finish` turns into the guest's. */
export function forward(regs: RegisterFile, finish: (result: FirmwareResult) => Answer, memory: BufferWrite | null = null): Outcome {
  return { kind: 'forward', regs, memory, then: (result) => ({ kind: 'answer', answer: finish(result) }) };
}

/** An SMC, then whatever `then` decides from its answer (another SMC included). */
export function forwardThen(regs: RegisterFile, then: (result: FirmwareResult) => Outcome, memory: BufferWrite | null = null): Outcome {
  return { kind: 'forward', regs, memory, then };
}

/** The guest's negotiated version; handlers run only after negotiation is final (dispatcher.ts). */
export function guestVersion(gc: GuestCall): number {
  const { version } = gc.vm;
  if (version.kind !== 'final') throw new Error(`bug: ${gc.vm.name} reached a handler with its version ${version.kind}`);
  return version.version;
}
