/**
 * What the hypervisor tells the GIC broker (services/gic dispatcher.ts protocol) and its guests:
 * - physical: subscribe to a CPU's non-secure interrupts (Xen request_irq of the SRI), and answer
 *   every delivery with ack then eoi;
 * - virtual: raise a virtual INTID at a VM's vCPU (Xen vgic_inject_irq);
 * - placement: lifecycle subject 'vm' vcpu-online/vcpu-offline [vm, vcpu, pcpu], vm-destroyed [vm];
 * - assignment: lifecycle vm-assigned [vm] with the guest component as subject, for a registered
 *   guest (registration.ts): that component receives the VM's virtual interrupts (the GIC drops the
 *   grant with vm-destroyed);
 * - guests: the same lifecycle events with the VM's name as subject, plus vm-rebooted [vm].
 * With no GIC in the world (config.gic null) the GIC frames are not sent; callers record anyway.
 */
import type { ComponentContext } from '../../shared/runtime/component.ts';
import type { InterruptMessage, LifecycleMessage } from '../../shared/protocol/messages.ts';
import type { Vm } from './vm-table.ts';

/** Physical frames name the CPU and carry vm = vcpu = -1 (messages.ts). */
function physical(op: InterruptMessage['op'], intid: number, cpu: number): InterruptMessage {
  return { kind: 'irq', op, intid, group: 'nonsecure', cpu, vm: -1, vcpu: -1 };
}

export type GuestLifecycleEvent = 'vcpu-online' | 'vcpu-offline' | 'vm-destroyed' | 'vm-rebooted';

export class GicPort {
  constructor(
    private readonly ctx: ComponentContext,
    private readonly gic: string | null,
  ) {}

  subscribe(intid: number, cpu: number): void {
    this.toGic(physical('subscribe', intid, cpu));
  }

  /** Xen's IRQ path: the CPU interface acknowledges, the handler runs, then EOI. */
  acknowledge(intid: number, cpu: number): void {
    this.toGic(physical('ack', intid, cpu));
  }

  endOfInterrupt(intid: number, cpu: number): void {
    this.toGic(physical('eoi', intid, cpu));
  }

  /** Xen vgic_inject_irq(d, v, intid, true): virtual frames carry cpu = -1. */
  injectVirtual(vmId: number, vcpu: number, intid: number): void {
    this.toGic({ kind: 'irq', op: 'raise', intid, group: 'nonsecure', cpu: -1, vm: vmId, vcpu });
  }

  /**
   * A registered guest's component receives its VM's virtual interrupts. Xen routes a domain's
   * virtual interrupts to it by construction (the vGIC is per domain); the broker needs telling
   * which component the domain is, since no config names it.
   */
  vmAssigned(vm: Vm): void {
    this.toGic({ kind: 'lifecycle', event: 'vm-assigned', subject: vm.component, args: [vm.id] });
  }

  vcpuOnline(vm: Vm, vcpu: number, pcpu: number): void {
    this.toGic(placement('vcpu-online', [vm.id, vcpu, pcpu]));
    this.toGuest(vm, 'vcpu-online', [vm.id, vcpu, pcpu]);
  }

  vcpuOffline(vm: Vm, vcpu: number, pcpu: number): void {
    this.toGic(placement('vcpu-offline', [vm.id, vcpu, pcpu]));
    this.toGuest(vm, 'vcpu-offline', [vm.id, vcpu, pcpu]);
  }

  /** The VM's virtual interrupt state goes; the guest is told unless it is being rebooted. */
  vmDestroyed(vm: Vm, tellGuest: boolean): void {
    this.toGic(placement('vm-destroyed', [vm.id]));
    if (tellGuest) this.toGuest(vm, 'vm-destroyed', [vm.id]);
  }

  vmRebooted(vm: Vm): void {
    this.toGuest(vm, 'vm-rebooted', [vm.id]);
  }

  private toGuest(vm: Vm, event: GuestLifecycleEvent, args: number[]): void {
    const message: LifecycleMessage = { kind: 'lifecycle', event, subject: vm.name, args };
    this.ctx.send(vm.component, message);
  }

  private toGic(message: InterruptMessage | LifecycleMessage): void {
    if (this.gic !== null) this.ctx.send(this.gic, message);
  }
}

function placement(event: 'vcpu-online' | 'vcpu-offline' | 'vm-destroyed', args: number[]): LifecycleMessage {
  return { kind: 'lifecycle', event, subject: 'vm', args };
}
