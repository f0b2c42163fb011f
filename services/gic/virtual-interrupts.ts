/**
 * Virtual interrupts: injected into a VM's vCPU by a component with raiseVirtual rights for that
 * VM (the hypervisor: Xen's vgic_inject_irq, docs/ffa-reference.md §5.3), delivered to the VM's subscribers
 * (the guest) wherever the vCPU runs, and held while it is offline. Placement comes from lifecycle
 * messages sent by the same components: vcpu-online [vm, vcpu, pcpu], vcpu-offline [vm, vcpu],
 * vm-destroyed [vm]. A component with the configure right may assign a VM to a component
 * (vm-assigned, subject = the component, [vm]): the component may then receive the VM's virtual
 * interrupts and is subscribed to all its vCPUs, until vm-destroyed drops both.
 */
import type { InterruptMessage } from '../../shared/protocol/messages.ts';
import { LIMITS } from './config.ts';
import {
  acknowledgeSlot,
  keptOf,
  assertSlotInvariants,
  endSlot,
  forgetRecipient,
  holdReasonOf,
  type HoldReason,
  type InterruptSlot,
  isDelivered,
  isHeld,
  selectDeliveries,
  type TargetView,
  withdrawSlot,
} from './interrupt-state.ts';
import { SPI_LAST_ARCHITECTURAL } from './intids.ts';
import type { Outlet } from './outlet.ts';
import { type Outcome, refuse } from './refusal.ts';
import { ALL_VCPUS, type Subscriptions } from './subscriptions.ts';
import type { VirtualCpuInterface, VirtualInterfaces } from './virtual-interface.ts';

/** A virtual interrupt frame's fields, as the dispatcher hands them over. */
export interface VirtualRequest {
  readonly intid: number;
  readonly vm: number;
  readonly vcpu: number;
}

/** Virtual interrupts of VMs are non-secure (VMs are normal-world endpoints). */
export const VIRTUAL_GROUP = 'nonsecure';

export class VirtualInterrupts {
  constructor(
    private readonly interfaces: VirtualInterfaces,
    private readonly subscriptions: Subscriptions,
    private readonly virtualPriority: number,
    private readonly cpus: number,
    private readonly out: Outlet,
  ) {}

  raise(from: string, request: VirtualRequest): Outcome {
    const refusal = this.checkRaiseRights(from, request.vm) ?? this.checkIntid(request.intid) ?? this.checkVcpu(request.vm, request.vcpu);
    if (refusal) return refusal;
    const target = this.interfaces.obtain(request.vm, request.vcpu);
    if (!target) return this.tooManyVms(request.vm);
    const result = target.raise(request.intid, from);
    const base = { intid: request.intid, vm: request.vm, vcpu: request.vcpu, from };
    switch (result) {
      case 'queue-full':
        return refuse('held-queue-full', `VM ${request.vm} vCPU ${request.vcpu}: every list register and the held queue are in use`);
      case 'merged':
      case 'queue-merged':
        this.out.record({ event: 'gic-merge', ...base, state: this.stateOf(target, request.intid), delivered: this.isDeliveredAt(target, request.intid), ...keptOf(target.slot(request.intid)) });
        return null;
      case 'queued':
        this.out.record({ event: 'gic-raise', ...base, state: 'pending' });
        this.out.record({ event: 'gic-hold', ...base, reason: 'list-registers-full' satisfies HoldReason });
        return null;
      case 'pending':
      case 'active+pending':
        this.out.record({ event: 'gic-raise', ...base, state: result });
        this.deliverOn(target);
        this.recordHoldIfHeld(target, request.intid, from);
        return null;
    }
  }

  acknowledge(from: string, request: VirtualRequest): Outcome {
    const target = this.interfaces.find(request.vm, request.vcpu);
    const slot = target?.slot(request.intid);
    if (!target || !slot) return refuse('not-delivered', `virtual INTID ${request.intid} is not pending at VM ${request.vm} vCPU ${request.vcpu}`);
    const result = acknowledgeSlot(slot, from);
    if (!result.ok) return refuse('not-delivered', `virtual INTID ${request.intid} at VM ${request.vm} vCPU ${request.vcpu} is ${slot.state} and not delivered to ${from}`);
    this.out.record({ event: 'gic-ack', intid: request.intid, vm: request.vm, vcpu: request.vcpu, from, state: slot.state });
    this.deliverOn(target);
    return null;
  }

  end(from: string, request: VirtualRequest): Outcome {
    const target = this.interfaces.find(request.vm, request.vcpu);
    const slot = target?.slot(request.intid);
    if (!target || !slot) return refuse('not-active', `virtual INTID ${request.intid} is not active at VM ${request.vm} vCPU ${request.vcpu}`);
    const result = endSlot(slot, from);
    if (!result.ok) return refuse(result.reason, `EOI of virtual INTID ${request.intid} at VM ${request.vm} vCPU ${request.vcpu} (${slot.state}) by ${from}`);
    this.out.record({ event: 'gic-eoi', intid: request.intid, vm: request.vm, vcpu: request.vcpu, from, state: result.next });
    for (const moved of target.refill()) {
      this.out.record({ event: 'gic-release', intid: moved.intid, vm: target.vm, vcpu: target.vcpu, from: moved.raisedBy, reason: 'list-register-free' });
    }
    this.deliverOn(target);
    return null;
  }

  subscribe(from: string, vm: number, vcpu: number): Outcome {
    const refusal = this.checkVm(vm) ?? this.checkSubscribedVcpu(vm, vcpu) ?? this.subscriptions.checkVirtual(from, vm);
    if (refusal) return refusal;
    this.subscriptions.addVirtual(from, vm, vcpu);
    this.out.record({ event: 'gic-subscribe', vm, vcpu, from });
    for (const target of this.interfacesAddressed(vm, vcpu)) this.deliverOn(target);
    return null;
  }

  unsubscribe(from: string, vm: number, vcpu: number): Outcome {
    const refusal = this.checkVm(vm) ?? this.checkSubscribedVcpu(vm, vcpu);
    if (refusal) return refusal;
    this.subscriptions.removeVirtual(from, vm, vcpu);
    this.out.record({ event: 'gic-unsubscribe', vm, vcpu, from });
    for (const target of this.interfacesAddressed(vm, vcpu)) {
      const audience = this.subscriptions.virtualAudience(target.vm, target.vcpu);
      for (const slot of target.slots()) {
        // Still subscribed through the VM-wide (or the per-vCPU) subscription: keep it.
        if (audience.includes(from)) continue;
        if (forgetRecipient(slot, from)) this.recordWithdraw(target, slot, 'unsubscribed');
      }
      this.deliverOn(target);
    }
    return null;
  }

  /** vcpu-online [vm, vcpu, pcpu]: the vCPU runs on pcpu (from offline, or moved while online). */
  online(from: string, vm: number, vcpu: number, pcpu: number): Outcome {
    const refusal = this.checkRaiseRights(from, vm) ?? this.checkVcpu(vm, vcpu) ?? this.checkPcpu(pcpu);
    if (refusal) return refusal;
    const target = this.interfaces.obtain(vm, vcpu);
    if (!target) return this.tooManyVms(vm);
    const wasOnline = target.online;
    const previousCpu = target.pcpu;
    target.online = true;
    target.pcpu = pcpu;
    this.out.record({ event: 'gic-vcpu-online', vm, vcpu, pcpu, from, previousCpu: wasOnline ? previousCpu : null });
    if (!wasOnline) {
      for (const slot of target.slots().filter(isHeld)) {
        this.out.record({ event: 'gic-release', intid: slot.intid, vm, vcpu, from: slot.raisedBy, reason: 'vcpu-online' });
      }
    }
    this.deliverOn(target);
    return null;
  }

  /** vcpu-offline [vm, vcpu]: delivered-but-unacknowledged interrupts are withdrawn and held with the vCPU. */
  offline(from: string, vm: number, vcpu: number): Outcome {
    const refusal = this.checkRaiseRights(from, vm) ?? this.checkVcpu(vm, vcpu);
    if (refusal) return refusal;
    const target = this.interfaces.obtain(vm, vcpu);
    if (!target) return this.tooManyVms(vm);
    target.online = false;
    this.out.record({ event: 'gic-vcpu-offline', vm, vcpu, pcpu: target.pcpu, from });
    for (const slot of target.slots()) {
      if (withdrawSlot(slot)) this.recordWithdraw(target, slot, 'vcpu-offline');
    }
    return null;
  }

  /**
   * vm-assigned [vm] with subject `component`: a registered guest's VM (services/hypervisor
   * registration.ts) whose component no config names. Granted and subscribed at once, so an
   * interrupt raised for a vCPU as soon as it is online reaches the guest.
   */
  assign(from: string, component: string, vm: number): Outcome {
    if (!this.subscriptions.mayAssign(from)) return refuse('no-right', `${from} may not assign VMs to components (no configure right)`);
    const refusal = this.checkVm(vm);
    if (refusal) return refusal;
    this.subscriptions.assign(component, vm);
    this.subscriptions.addVirtual(component, vm, ALL_VCPUS);
    this.out.record({ event: 'gic-vm-assigned', vm, to: component, from });
    for (const target of this.interfacesAddressed(vm, ALL_VCPUS)) this.deliverOn(target);
    return null;
  }

  /**
   * vm-destroyed [vm]: the VM's virtual interrupt state is dropped. Subscriptions from the rights
   * stay, for a reboot; an assignment and its subscription end (a reboot assigns again).
   */
  destroyed(from: string, vm: number): Outcome {
    const refusal = this.checkRaiseRights(from, vm) ?? this.checkVm(vm);
    if (refusal) return refusal;
    const dropped = this.interfaces.destroy(vm);
    this.out.record({ event: 'gic-vm-destroyed', vm, dropped, from });
    for (const component of this.subscriptions.unassignVm(vm)) {
      // A component whose rights list the VM keeps its subscription, as any such one does.
      if (this.subscriptions.checkVirtual(component, vm) !== null) this.subscriptions.removeVirtual(component, vm, ALL_VCPUS);
      this.out.record({ event: 'gic-vm-unassigned', vm, to: component, from });
    }
    return null;
  }

  /** The delivery pass of one vCPU's virtual CPU interface: nothing while it is offline. */
  private deliverOn(target: VirtualCpuInterface): void {
    if (target.online) {
      for (const view of selectDeliveries(this.viewsOf(target))) this.deliver(target, view.slot);
    }
    for (const slot of target.slots()) assertSlotInvariants(slot, `VM ${target.vm} vCPU ${target.vcpu}`);
    target.assertInvariants();
  }

  private deliver(target: VirtualCpuInterface, slot: InterruptSlot): void {
    const audience = this.subscriptions.virtualAudience(target.vm, target.vcpu);
    slot.deliveredTo = audience;
    slot.cpu = target.pcpu;
    const frame: InterruptMessage = { kind: 'irq', op: 'deliver', intid: slot.intid, group: VIRTUAL_GROUP, cpu: -1, vm: target.vm, vcpu: target.vcpu };
    for (const to of audience) {
      this.out.record({
        event: 'gic-deliver',
        intid: slot.intid,
        vm: target.vm,
        vcpu: target.vcpu,
        pcpu: target.pcpu,
        group: VIRTUAL_GROUP,
        from: slot.raisedBy,
        to,
        merges: slot.merges,
      });
      this.out.send(to, frame);
    }
  }

  private viewsOf(target: VirtualCpuInterface): TargetView[] {
    const hasAudience = this.subscriptions.virtualAudience(target.vm, target.vcpu).length > 0;
    return target.slots().map((slot) => ({ slot, priority: this.virtualPriority, enabled: true, hasAudience }));
  }

  private recordHoldIfHeld(target: VirtualCpuInterface, intid: number, from: string): void {
    const view = this.viewsOf(target).find((each) => each.slot.intid === intid);
    if (!view || !isHeld(view.slot)) return;
    const reason: HoldReason = target.online ? holdReasonOf(view) : 'vcpu-offline';
    this.out.record({ event: 'gic-hold', intid, vm: target.vm, vcpu: target.vcpu, from, reason });
  }

  private recordWithdraw(target: VirtualCpuInterface, slot: InterruptSlot, reason: string): void {
    this.out.record({ event: 'gic-withdraw', intid: slot.intid, vm: target.vm, vcpu: target.vcpu, reason });
  }

  private stateOf(target: VirtualCpuInterface, intid: number): string {
    return target.slot(intid)?.state ?? 'queued';
  }

  private isDeliveredAt(target: VirtualCpuInterface, intid: number): boolean {
    const slot = target.slot(intid);
    return slot !== undefined && isDelivered(slot);
  }

  private interfacesAddressed(vm: number, vcpu: number): VirtualCpuInterface[] {
    const all = this.interfaces.vcpusOf(vm);
    return vcpu === ALL_VCPUS ? all : all.filter((each) => each.vcpu === vcpu);
  }

  private checkRaiseRights(from: string, vm: number): Outcome {
    return this.subscriptions.mayRaiseVirtual(from, vm) ? null : refuse('no-right', `${from} may not inject into or place VM ${vm}`);
  }

  private checkIntid(intid: number): Outcome {
    if (Number.isInteger(intid) && intid >= 0 && intid <= SPI_LAST_ARCHITECTURAL) return null;
    return refuse('invalid-field', `virtual INTID ${intid} is outside 0..${SPI_LAST_ARCHITECTURAL}`);
  }

  private checkVm(vm: number): Outcome {
    if (Number.isInteger(vm) && vm >= LIMITS.vmIdMin && vm <= LIMITS.vmIdMax) return null;
    return refuse('invalid-field', `VM ID ${vm} is outside ${LIMITS.vmIdMin}..${LIMITS.vmIdMax}`);
  }

  private checkVcpu(vm: number, vcpu: number): Outcome {
    const vmRefusal = this.checkVm(vm);
    if (vmRefusal) return vmRefusal;
    if (Number.isInteger(vcpu) && vcpu >= 0 && vcpu < this.interfaces.maxVcpusPerVm) return null;
    return refuse('invalid-field', `vCPU ${vcpu} is outside 0..${this.interfaces.maxVcpusPerVm - 1}`);
  }

  private checkSubscribedVcpu(vm: number, vcpu: number): Outcome {
    return vcpu === ALL_VCPUS ? null : this.checkVcpu(vm, vcpu);
  }

  private checkPcpu(pcpu: number): Outcome {
    if (Number.isInteger(pcpu) && pcpu >= 0 && pcpu < this.cpus) return null;
    return refuse('invalid-field', `physical CPU ${pcpu} does not exist (${this.cpus} CPUs)`);
  }

  private tooManyVms(vm: number): Outcome {
    return refuse('too-many-vms', `VM ${vm} would exceed ${this.interfaces.maxVms} VMs with virtual interrupt state`);
  }
}
