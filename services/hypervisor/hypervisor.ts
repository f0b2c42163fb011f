/**
 * The hypervisor (docs/design.md §2, the `hypervisor` row): Xen's FF-A mediator at EL2
 * (xen/arch/arm/tee/ffa*.c, docs/ffa-reference.md §5). It owns the VMs and their vCPUs, each VM's pending
 * flag, and the guests' FF-A conduit; it calls the SPMD, takes the SRI from the GIC and injects
 * virtual NPIs through it.
 *
 * Conventions with the other components:
 * - Guests call it on conduit 'hvc' (or 'smc': Xen traps both); the calling VM is decided by the
 *   link (`from`, the VM's guest component), never by the frame; a component standing for several
 *   VMs picks among its own with the call's endpoint (vm-table.ts resolveCaller). The registers
 *   are then checked against that VM's ID exactly as Xen does. A call from a component with no
 *   running VM, or any call in the raw profile, or a non-FF-A function ID, gets SMCCC
 *   NOT_SUPPORTED (x0 = -1), as from a domain without the mediator. A guest may call once it got
 *   `vcpu-online` for that vCPU.
 * - Its own SMCs go to config.spmd on conduit 'smc' with endpoint 0 and vcpu = cpu = the physical
 *   CPU of the vCPU it acts for (the SRI loop: the CPU that took the SRI; life cycle: CPU 0).
 * - Controllers (config.controllers) send life-cycle control messages (vm-lifecycle.ts), the query
 *   `hypervisor-status` (answered `hypervisor-status-result`; each VM with its component, vCPU
 *   count, and its registered guest's url and driver, null for others), `hypervisor-sync` (answered
 *   `hypervisor-sync-result` once the GIC has handled what the hypervisor sent it before), and,
 *   in the raw profile, relay SMCs
 *   on conduit 'relay': forwarded to the SPMD unchanged for any normal-world endpoint, like tftf.
 * - Guests that register (config.registration, registration.ts): `register` from a component that
 *   is not a controller, answered `register-result`; its VM is destroyed when its link drops
 *   (onLinkLost, the ws runtime's report of a closed link).
 * - GIC (services/gic): it subscribes to its CPUs' non-secure physical interrupts once the probe
 *   found the SRI, answers every delivery with ack then eoi, injects the NPI as a virtual raise,
 *   and reports vCPU placement with lifecycle messages (gic-port.ts).
 * - History records: see notifications.ts (sri-taken, info-get, info-get-loop-bound, vm-pending,
 *   npi-inject, npi-latched, npi-still-latched), vm-lifecycle.ts, setup-and-discovery.ts
 *   (fw-probe, fw-call), registration.ts (guest-registered, guest-link-lost, link-lost), and here
 *   guest-call, call-refused, irq-ignored.
 */
import { FFA_FIDS, ffaError, isRegisterFile, isSecureId, registers, w, type RegisterFile } from '../../shared/ffa/index.ts';
import type { Component, ComponentContext, ComponentFactory } from '../../shared/runtime/component.ts';
import { GicSyncBarrier } from '../../shared/runtime/gic-sync-barrier.ts';
import type { CallMessage, ControlMessage, InterruptMessage, Message } from '../../shared/protocol/messages.ts';
import { assertNever } from '../../shared/protocol/assert-never.ts';
import { isOneOf, knownControlOp, type ControlOp, type HypervisorStatus } from '../../shared/protocol/control.ts';
import { describeConfig, validateHypervisorConfig, type HypervisorConfig, type ValidHypervisorConfig } from './config.ts';
import { dispatchGuestCall, guestAbiOf } from './dispatcher.ts';
import { describeResult, describeReturn, failureCode, FirmwareFacts, FirmwareLink, type FirmwareResult } from './firmware.ts';
import { GicPort } from './gic-port.ts';
import type { Answer, GuestCall, HypervisorState, Outcome } from './guest-call.ts';
import { ScheduleReceiverHandler } from './notifications.ts';
import { PROFILES, type Profile } from './profiles.ts';
import { Registrations } from './registration.ts';
import { FirmwareProbe } from './setup-and-discovery.ts';
import { LIFECYCLE_OPS, Lifecycle, requestFromControl, type LifecycleOp } from './vm-lifecycle.ts';
import { VmTable, type Vm } from './vm-table.ts';

export type { HypervisorConfig } from './config.ts';

/** SMCCC_RET_NOT_SUPPORTED (-1 in x0): what Xen's vsmccc answers a function no handler took. */
const SMCCC_NOT_SUPPORTED: RegisterFile = registers(-1);

/** The first register a guest's own value survives in (Xen ffa_set_regs writes x0..x7 only). */
const FIRST_PRESERVED_REGISTER = 8;

/** x0..x7 from the answer, x8..x17 the guest's own; an answer that carries x8..x17 (DIRECT_RESP2, PARTITION_INFO_GET_REGS) keeps them. */
function inGuestRegisters(answer: RegisterFile, guest: RegisterFile, allRegisters: boolean): RegisterFile {
  if (allRegisters) return answer;
  return answer.map((value, index) => (index < FIRST_PRESERVED_REGISTER ? value : (guest[index] ?? 0n)));
}

/** What a controller may ask (a guest registers; the GIC answers the barrier). */
const CONTROLLER_OPS = ['hypervisor-status', 'hypervisor-sync', ...LIFECYCLE_OPS] as const satisfies readonly ControlOp[];

class Hypervisor implements Component {
  private readonly profile: Profile;
  private readonly state: HypervisorState;
  private readonly link: FirmwareLink;
  private readonly sri: ScheduleReceiverHandler;
  private readonly lifecycle: Lifecycle;
  private readonly registrations: Registrations;
  /** hypervisor-sync: answered once the GIC has handled every frame (NPIs) the hypervisor sent it before. */
  private readonly gicSync: GicSyncBarrier;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: ValidHypervisorConfig,
  ) {
    this.profile = PROFILES[config.profile];
    this.gicSync = new GicSyncBarrier(ctx, config.gic, 'hypervisor-sync');
    this.state = {
      ctx,
      config,
      policies: config.policies,
      firmware: new FirmwareFacts(),
      vms: new VmTable(config.maxVms),
      gic: new GicPort(ctx, config.gic),
    };
    this.link = new FirmwareLink(ctx, config.spmd, config.maxPendingGuestCalls, config.maxPendingGuestCallsPerVm);
    this.sri = new ScheduleReceiverHandler(this.state, this.link);
    this.lifecycle = new Lifecycle(this.state, this.link, this.profile.mediates);
    this.registrations = new Registrations(this.state, this.lifecycle);
  }

  onStart(): void {
    this.ctx.record({ event: 'hypervisor-config', ...describeConfig(this.config) });
    for (const vm of this.config.vms) this.lifecycle.submit({ op: 'vm-create', vm }, null);
    if (!this.profile.mediates) {
      this.state.firmware.state = 'not-probed';
      this.subscribeRawSri();
      this.lifecycle.open();
      return;
    }
    new FirmwareProbe(this.state, this.link, () => this.onProbed()).start();
  }

  /**
   * tftf at NS-EL2 (test_ffa_notifications.c schedule_receiver_interrupt_init) registers an SRI
   * handler whether or not it runs guests; a raw world has no probe, so the INTID is configured.
   */
  private subscribeRawSri(): void {
    const intid = this.config.rawSriIntid;
    const cpus = Array.from({ length: this.config.cpus }, (_, cpu) => cpu);
    for (const cpu of cpus) this.state.gic.subscribe(intid, cpu);
    this.ctx.record({ event: 'sri-subscribed', intid, cpus });
  }

  /** ffa_notif_init's request_irq (every CPU for an SGI, ffa_notif_init_interrupt), then VMs may be created. */
  private onProbed(): void {
    const { firmware } = this.state;
    const intid = firmware.sriIntid;
    if (firmware.notificationsEnabled && intid !== null) {
      const cpus = intid < 16 ? Array.from({ length: this.config.cpus }, (_, cpu) => cpu) : [0];
      for (const cpu of cpus) this.state.gic.subscribe(intid, cpu);
      this.ctx.record({ event: 'sri-subscribed', intid, cpus });
    }
    this.lifecycle.open();
  }

  onMessage(from: string, message: Message): void {
    switch (message.kind) {
      case 'call':
        return this.onCall(from, message);
      case 'irq':
        return this.onIrq(from, message);
      case 'control':
        return this.onControl(from, message);
      case 'protocol-error':
        this.ctx.record({ event: 'peer-protocol-error', from, code: message.code, reason: message.reason });
        return;
      case 'lifecycle':
      case 'return':
        this.ctx.record({ event: 'message-ignored', from, kind: message.kind });
        return;
    }
  }

  /** A link dropped (ws): a registered guest's VM goes (registration.ts); anything else is recorded. */
  onLinkLost(peer: string): void {
    this.registrations.onLinkLost(peer);
  }

  // ---------------------------------------------------------------- calls

  private onCall(from: string, call: CallMessage): void {
    if (!isRegisterFile(call.regs)) {
      this.ctx.record({ event: 'call-refused', from, reason: 'the registers are not x0..x17 as 64-bit values' });
      this.ctx.reply(from, call, ffaError('INVALID_PARAMETERS'));
      return;
    }
    if (call.conduit === 'relay') return this.onRelay(from, call);
    const caller = this.callerOf(from, call);
    if (typeof caller === 'string') {
      this.ctx.record({ event: 'call-refused', from, endpoint: call.endpoint, vcpu: call.vcpu, fid: w(call.regs, 0), reason: caller });
      this.ctx.reply(from, call, SMCCC_NOT_SUPPORTED);
      return;
    }
    const gc: GuestCall = { hv: this.state, vm: caller.vm, vcpu: call.vcpu, cpu: caller.pcpu, regs: call.regs, memory: call.memory };
    const abi = guestAbiOf(gc);
    if (abi === null) {
      this.ctx.record({ event: 'call-refused', from, vm: caller.vm.id, fid: w(call.regs, 0), reason: 'not an FF-A function' });
      this.ctx.reply(from, call, SMCCC_NOT_SUPPORTED);
      return;
    }
    this.carryOut(from, call, gc, abi, dispatchGuestCall(gc, abi));
  }

  /** The VM and the pCPU a guest call comes from, or why it is not taken. */
  private callerOf(from: string, call: CallMessage): { vm: Vm; pcpu: number } | string {
    if (!this.profile.mediates) return 'the raw profile has no FF-A mediator for guests';
    const resolution = this.state.vms.resolveCaller(from, call.endpoint);
    if (resolution.kind === 'unknown') return resolution.why;
    const { vm } = resolution;
    if (vm.state !== 'running') return `VM ${vm.id} is ${vm.state}`;
    const vcpu = vm.vcpu(call.vcpu);
    if (!vcpu) return `VM ${vm.id} has no vCPU ${call.vcpu}`;
    if (!vcpu.online) this.ctx.record({ event: 'call-from-offline-vcpu', vm: vm.id, vcpu: call.vcpu });
    return { vm, pcpu: vcpu.pcpu };
  }

  /** Answers the guest, or makes the outcome's SMC and carries on with what its answer decides (bounded: each handler chains at most three). */
  private carryOut(from: string, call: CallMessage, gc: GuestCall, abi: string, outcome: Outcome, by: 'hypervisor' | 'firmware' = 'hypervisor'): void {
    if (outcome.kind === 'answer') return this.answerGuest(from, call, gc, abi, by, outcome.answer);
    const refused = this.link.callForGuest(outcome.regs, gc.cpu, gc.vm.id, (result) => this.carryOut(from, call, gc, abi, withGuestMemory(outcome.then(result), result, gc), 'firmware'), outcome.memory);
    if (refused === null) return;
    const why =
      refused === 'vm'
        ? `${this.config.maxPendingGuestCallsPerVm} of VM ${gc.vm.id}'s calls already pending at the firmware (its own share)`
        : `${this.config.maxPendingGuestCalls} guest calls already pending at the firmware`;
    this.answerGuest(from, call, gc, abi, 'hypervisor', { regs: ffaError('BUSY'), why });
  }

  private answerGuest(from: string, call: CallMessage, gc: GuestCall, abi: string, by: 'hypervisor' | 'firmware', answer: Answer): void {
    const allRegisters = answer.regs.length === call.regs.length && (answer.allRegisters === true || w(answer.regs, 0) === FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP2);
    this.ctx.record({ event: 'guest-call', vm: gc.vm.id, vcpu: gc.vcpu, abi, by, result: describeReturn(answer.regs), why: answer.why });
    this.ctx.reply(from, call, inGuestRegisters(answer.regs, call.regs, allRegisters), answer.memory ?? null);
  }

  /** The raw profile's relay (tftf at NS-EL2): a controller's SMC, unchanged, for a normal-world endpoint. */
  private onRelay(from: string, call: CallMessage): void {
    const refusal = this.relayRefusal(from, call);
    if (refusal !== null) {
      this.ctx.record({ event: 'call-refused', from, conduit: 'relay', endpoint: call.endpoint, reason: refusal.why });
      this.ctx.reply(from, call, ffaError(refusal.code));
      return;
    }
    // tftf's buffers are the controller's: what its TX buffer holds goes with the SMC, and what
    // the SPMC wrote into its RX buffer comes back with the answer.
    const sent = this.link.relay(call.regs, call.memory, call.endpoint, call.vcpu, call.cpu, (result: FirmwareResult) => {
      this.ctx.record({ event: 'relay', from, endpoint: call.endpoint, fid: w(call.regs, 0), result: describeResult(result) });
      this.ctx.reply(from, call, result.ok ? result.regs : ffaError(failureCode(result.reason)), result.ok ? result.memory : null);
    });
    if (!sent) this.ctx.reply(from, call, ffaError('BUSY'));
  }

  private relayRefusal(from: string, call: CallMessage): { code: 'NOT_SUPPORTED' | 'INVALID_PARAMETERS'; why: string } | null {
    if (!this.profile.relay) return { code: 'NOT_SUPPORTED', why: `the ${this.config.profile} profile relays no SMCs` };
    if (!this.config.controllers.has(from)) return { code: 'NOT_SUPPORTED', why: `${from} is not a controller` };
    if (isSecureId(call.endpoint)) return { code: 'INVALID_PARAMETERS', why: 'the relay acts for normal-world IDs only' };
    if (call.cpu >= this.config.cpus) return { code: 'INVALID_PARAMETERS', why: `CPU ${call.cpu} does not exist` };
    return null;
  }

  // ---------------------------------------------------------------- interrupts

  /**
   * A physical delivery: acknowledge, handle (the SRI schedules the INFO_GET loop, as Xen's
   * notif_irq_handler schedules its tasklet), end. Anything else the GIC sends is recorded.
   */
  private onIrq(from: string, irq: InterruptMessage): void {
    const physical = irq.op === 'deliver' && irq.vm === -1 && irq.vcpu === -1;
    if (from !== this.config.gic || !physical) {
      this.ctx.record({ event: 'irq-ignored', from, op: irq.op, intid: irq.intid, cpu: irq.cpu, vm: irq.vm });
      return;
    }
    const { gic, firmware } = this.state;
    gic.acknowledge(irq.intid, irq.cpu);
    const isSri = this.profile.mediates && firmware.notificationsEnabled && irq.intid === firmware.sriIntid;
    // The raw profile's handler only counts (tftf's schedule_receiver_interrupt_handler sets a flag).
    const isRawSri = !this.profile.mediates && irq.intid === this.config.rawSriIntid;
    if (isRawSri) this.sri.onRawSri(irq.cpu);
    else if (!isSri) this.ctx.record({ event: 'irq-ignored', from, op: irq.op, intid: irq.intid, cpu: irq.cpu, vm: irq.vm });
    gic.endOfInterrupt(irq.intid, irq.cpu);
    if (isSri) this.sri.onSri(irq.cpu);
  }

  // ---------------------------------------------------------------- control

  private onControl(from: string, message: ControlMessage): void {
    const op = knownControlOp(message.op);
    if (from === this.config.gic && op === 'gic-synced') return this.gicSync.onGicSynced();
    if (op === 'register') return this.registrations.onRegister(from, message);
    if (!this.config.controllers.has(from)) {
      this.ctx.record({ event: 'control-refused', from, op: message.op, reason: 'not a controller' });
      return;
    }
    if (op === null || !isOneOf(CONTROLLER_OPS, op)) {
      this.ctx.record({ event: 'control-refused', from, op: message.op, reason: 'unknown op' });
      return;
    }
    switch (op) {
      case 'hypervisor-status':
        return this.ctx.send(from, { kind: 'control', op: 'hypervisor-status-result', data: this.status() });
      case 'hypervisor-sync':
        return this.gicSync.request(from);
      case 'vm-create':
      case 'vm-destroy':
      case 'vm-reboot':
      case 'vcpu-online':
      case 'vcpu-offline':
        return this.onLifecycleRequest(from, op, message.data);
      default:
        return assertNever(op, 'the hypervisor control switch');
    }
  }

  private onLifecycleRequest(from: string, op: LifecycleOp, data: unknown): void {
    const request = requestFromControl(op, data, this.state);
    if ('why' in request) {
      this.lifecycle.refuseUnreadable(op, from, request.why);
      return;
    }
    this.lifecycle.submit(request, from);
  }

  private status(): HypervisorStatus {
    const { firmware, vms } = this.state;
    return {
      firmware: firmware.state,
      notifications: firmware.notificationsEnabled,
      sriIntid: firmware.sriIntid,
      sriTaken: this.sri.sriTaken,
      sriLoopsCompleted: this.sri.loopsCompleted,
      sriLoopRunning: this.sri.running,
      lifecycleQueued: this.lifecycle.queued,
      lifecycleBusy: this.lifecycle.busy,
      pendingGuestCalls: this.link.pending,
      vms: vms.all().map((vm) => ({
        name: vm.name,
        id: vm.id,
        state: vm.state,
        securePending: vm.securePending,
        online: vm.vcpus.filter((vcpu) => vcpu.online).map((vcpu) => vcpu.index),
        // What an orchestrator needs to find and dial a registered guest; url and driver are null
        // for VMs from config or controllers.
        component: vm.component,
        vcpus: vm.vcpus.length,
        url: vm.advert?.url ?? null,
        driver: vm.advert?.driver ?? null,
        host: vm.advert?.host ?? null,
      })),
    };
  }
}

/**
 * What the SPMC wrote into the guest's own RX buffer during a forwarded call (an SP's message,
 * which a GET's return carries) reaches the guest with Xen's answer: the buffer is the guest's
 * memory, mapped at the SPMC, and Xen never copies it. A write into Xen's own buffer stays here.
 */
function withGuestMemory(outcome: Outcome, result: FirmwareResult, gc: GuestCall): Outcome {
  if (outcome.kind !== 'answer' || outcome.answer.memory !== undefined || !result.ok || result.memory === null) return outcome;
  const { memory } = result;
  return memory.buffer === 'rx' && memory.owner === gc.vm.id ? { kind: 'answer', answer: { ...outcome.answer, memory } } : outcome;
}

export const create: ComponentFactory<HypervisorConfig> = (ctx: ComponentContext, config: HypervisorConfig): Component =>
  new Hypervisor(ctx, validateHypervisorConfig(config));
