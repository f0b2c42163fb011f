/**
 * The SPMC component (docs/design.md §2): an S-EL1 SPMC in OP-TEE's image with a Hafnium-like
 * profile, owning the notification state of every VM and SP, the partition table, the RX/TX
 * buffers and the SP behaviours. It answers:
 * - calls from the SPMD link (config.spmd): the normal world, one physical instance;
 * - calls on conduit 'relay' from a config.relayFrom component: calls made by the SP whose ID is
 *   in the call's `endpoint` (INVALID_PARAMETERS when that is not one of its SPs);
 * - control messages from a relayFrom component (workloads driving SP behaviours), and its
 *   `spmc-sync` barrier (answered once the GIC has handled every SRI raised before it).
 * Who calls is decided by the link (the `from` component), never by a frame field; calls from
 * anyone else get FFA_ERROR NOT_SUPPORTED and a `call-refused` record.
 */
import {
  FFA_VERSION_1_0,
  ffaError,
  hex,
  isRegisterFile,
  type BufferWrite,
  type FfaErrorName,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import type { Component, ComponentContext, ComponentFactory } from '../../shared/runtime/component.ts';
import { GicSyncBarrier } from '../../shared/runtime/gic-sync-barrier.ts';
import type { CallMessage, Message } from '../../shared/protocol/messages.ts';
import { knownControlOp } from '../../shared/protocol/control.ts';
import type { HeldCall, Origin, SpmcState } from './call-context.ts';
import { describeConfig, resolveSpmcConfig, type ResolvedSpmcConfig, type SpmcConfig } from './config.ts';
import { dispatch } from './dispatcher.ts';
import { NotificationState } from './notification-state.ts';
import { PartitionTable } from './partitions.ts';
import type { PolicyValues } from './policies.ts';
import { Mailboxes } from './rx-buffers.ts';
import { ScheduleReceiverInterrupt } from './schedule-receiver-interrupt.ts';
import { handleControl } from './sp-behaviours.ts';

export type { SpmcConfig } from './config.ts';

type OriginResolution = { readonly ok: true; readonly origin: Origin } | { readonly ok: false; readonly error: FfaErrorName; readonly reason: string };

class Spmc implements SpmcState {
  readonly policies: PolicyValues;
  readonly partitions: PartitionTable;
  readonly notifications: NotificationState;
  readonly mailboxes: Mailboxes;
  readonly sri: ScheduleReceiverInterrupt;
  nwdVersion: number;
  /** spmc-sync: answered once the GIC has handled every frame (SRIs) the SPMC sent it before. */
  private readonly gicSync: GicSyncBarrier;

  constructor(
    readonly ctx: ComponentContext,
    readonly config: ResolvedSpmcConfig,
  ) {
    this.policies = config.policies;
    this.partitions = new PartitionTable(config.partitions);
    // One pair per SP, VM 0's, and one per VM slot (a VM's forwarded buffers take its slot).
    this.mailboxes = new Mailboxes(config.partitions.length + 1 + config.vmSlots);
    this.notifications = new NotificationState(config.policies, config.vmSlots, config.cpus, config.partitions);
    this.sri = new ScheduleReceiverInterrupt(ctx, config.gic, config.policies.sriIntid, config.cpus);
    this.gicSync = new GicSyncBarrier(ctx, config.gic, 'spmc-sync');
    this.nwdVersion = config.policies.nwdVersionBeforeNegotiation === '1.0' ? FFA_VERSION_1_0 : config.ffaVersion;
  }

  onMessage(from: string, message: Message): void {
    switch (message.kind) {
      case 'call':
        return this.onCall(from, message);
      case 'control': {
        const op = knownControlOp(message.op);
        if (from === this.config.gic && op === 'gic-synced') return this.gicSync.onGicSynced();
        if (op === this.gicSync.op && this.config.relayFrom.includes(from)) return this.gicSync.request(from);
        return handleControl(this, from, message);
      }
      case 'irq':
      case 'lifecycle':
      case 'protocol-error':
      case 'return':
        this.ctx.record({ event: 'message-ignored', from, kind: message.kind });
        return;
    }
  }

  complete(held: HeldCall, regs: RegisterFile, memory: BufferWrite | null = null): void {
    // A return to the normal world on that CPU is when a delayed SRI goes out (Hafnium handler.c).
    if (returnsToNormalWorld(held)) this.sri.onReturnToNormalWorld(held.call.cpu);
    this.ctx.reply(held.from, held.call, regs, memory);
  }

  private onCall(from: string, received: CallMessage): void {
    const resolution = this.originOf(from, received);
    if (!resolution.ok) {
      this.ctx.record({ event: 'call-refused', from, conduit: received.conduit, endpoint: received.endpoint, reason: resolution.reason });
      this.ctx.reply(from, received, ffaError(resolution.error));
      return;
    }
    const { origin } = resolution;
    const invalid = this.malformed(received);
    if (invalid) {
      this.ctx.record({ event: 'call-malformed', from, reason: invalid });
      this.complete({ from, call: received, origin }, ffaError('INVALID_PARAMETERS'));
      return;
    }
    const call = onRunningCpu(origin, received);
    const answer = dispatch({ spmc: this, origin, from, call, regs: call.regs });
    if (answer.kind === 'reply') this.complete({ from, call, origin }, answer.regs, answer.memory);
  }

  private originOf(from: string, call: CallMessage): OriginResolution {
    if (call.conduit === 'relay') {
      if (!this.config.relayFrom.includes(from)) return { ok: false, error: 'NOT_SUPPORTED', reason: `${from} may not relay SP calls` };
      const partition = this.partitions.find(call.endpoint);
      if (!partition) return { ok: false, error: 'INVALID_PARAMETERS', reason: `relayed endpoint ${hex(call.endpoint)} is not an SP of this SPMC` };
      if (!Number.isInteger(call.vcpu) || call.vcpu < 0 || call.vcpu >= partition.vcpus.length) {
        return { ok: false, error: 'INVALID_PARAMETERS', reason: `SP ${hex(partition.id)} has no vCPU ${call.vcpu}` };
      }
      return { ok: true, origin: { kind: 'sp', partition } };
    }
    if (from === this.config.spmd) return { ok: true, origin: { kind: 'nwd' } };
    return { ok: false, error: 'NOT_SUPPORTED', reason: `${from} is neither the SPMD nor a relay` };
  }

  /** What no real firmware could be handed: a register file that is not one, a CPU that does not exist. */
  private malformed(call: CallMessage): string | null {
    if (!isRegisterFile(call.regs)) return 'the registers are not x0..x17 as 64-bit values';
    if (!Number.isInteger(call.cpu) || call.cpu < 0 || call.cpu >= this.config.cpus) return `CPU ${call.cpu} does not exist`;
    return null;
  }
}

/**
 * Whether answering `held` hands its CPU back to the normal world, which is when Hafnium sends a
 * delayed SRI (src/arch/aarch64/hypervisor/handler.c: after an FF-A call whose next vCPU is the
 * other world's, ffa_notifications_sri_trigger_if_delayed). A normal-world call returns there. An
 * SP's relayed call stands for a run of the SP that the normal world gave it: the call ends, the
 * SP's vCPU is waiting again, and the CPU goes back to the normal world; but while the vCPU is in
 * a request (the response is that return) or waits for the answer to its own, the SP runs on
 * (docs/scenarios.md "How a scenario runs"). OP-TEE's SPMC never delays an SRI (sriTiming).
 */
function returnsToNormalWorld(held: HeldCall): boolean {
  if (held.origin.kind === 'nwd') return true;
  return held.origin.partition.vcpus[held.call.vcpu]?.isWaiting ?? true;
}

/**
 * An SP's relayed call runs where its vCPU runs: in a request, on the CPU the request came on
 * (Hafnium runs a UP SP's one vCPU on whichever CPU the request arrives, api_ffa_msg_send_direct_req).
 */
function onRunningCpu(origin: Origin, call: CallMessage): CallMessage {
  if (origin.kind !== 'sp') return call;
  const request = origin.partition.vcpus[call.vcpu]?.handling;
  return request && request.caller.call.cpu !== call.cpu ? { ...call, cpu: request.caller.call.cpu } : call;
}

export const create: ComponentFactory<SpmcConfig> = (ctx: ComponentContext, rawConfig: SpmcConfig): Component => {
  const config = resolveSpmcConfig(rawConfig);
  const spmc = new Spmc(ctx, config);
  return {
    onStart: () => ctx.record({ event: 'spmc-config', ...describeConfig(config) }),
    onMessage: (from, message) => spmc.onMessage(from, message),
  };
};
