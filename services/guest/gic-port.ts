/**
 * The guest's side of the GIC broker (services/gic dispatcher.ts protocol). The kernel owns its
 * CPU interfaces, so it subscribes once, for every interrupt of its own targets:
 * - virtual (under a hypervisor): every vCPU of its VM, {vm: own FF-A ID, vcpu: -1, cpu: -1};
 * - physical (bare metal): the non-secure group of every CPU, {cpu: -1, vm: -1, vcpu: -1}; a CPU
 *   going offline is unsubscribed (it takes no interrupts) and subscribed again when it is back,
 *   so what was raised meanwhile stays pending at the GIC and is delivered then.
 * Each delivery is answered with the same frame as `ack`, then `eoi` (Linux's GICv3 driver:
 * read ICC_IAR1, run the handler, write ICC_EOIR1; the handlers only queue work).
 */
import type { ComponentContext } from '../../shared/runtime/component.ts';
import type { InterruptMessage } from '../../shared/protocol/messages.ts';

export type InterruptInstance = 'virtual' | 'physical';

/** Whether the guest's interrupts are subscribed at the GIC, and for which VM ID. */
type Subscription = { readonly kind: 'none' } | { readonly kind: 'virtual'; readonly vm: number } | { readonly kind: 'physical' };

export class GuestGicPort {
  private subscription: Subscription = { kind: 'none' };
  /** gic-sync round trips in flight, by token. */
  private readonly syncs = new Map<number, () => void>();
  private nextSyncToken = 1;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly gic: string | null,
    readonly instance: InterruptInstance,
  ) {}

  get subscribed(): boolean {
    return this.subscription.kind !== 'none';
  }

  /** Physical: every CPU's non-secure interrupts. */
  subscribePhysical(): void {
    if (this.subscription.kind !== 'none') return;
    this.subscription = { kind: 'physical' };
    this.toGic({ kind: 'irq', op: 'subscribe', intid: 0, group: 'nonsecure', cpu: -1, vm: -1, vcpu: -1 });
  }

  /** Virtual: every vCPU of VM `vm` (needs subscribeVirtual rights for it at the GIC). */
  subscribeVirtual(vm: number): void {
    if (this.subscription.kind !== 'none') return;
    this.subscription = { kind: 'virtual', vm };
    this.toGic({ kind: 'irq', op: 'subscribe', intid: 0, group: 'nonsecure', cpu: -1, vm, vcpu: -1 });
  }

  /** Bare metal CPU hotplug: the CPU interface of `cpu` stops or starts taking interrupts. */
  setPhysicalCpu(cpu: number, online: boolean): void {
    if (this.subscription.kind !== 'physical') return;
    this.toGic({ kind: 'irq', op: online ? 'subscribe' : 'unsubscribe', intid: 0, group: 'nonsecure', cpu, vm: -1, vcpu: -1 });
  }

  acknowledge(frame: InterruptMessage): void {
    this.toGic({ ...frame, op: 'ack' });
  }

  endOfInterrupt(frame: InterruptMessage): void {
    this.toGic({ ...frame, op: 'eoi' });
  }

  /**
   * A gic-sync round trip: `then` runs once the GIC has handled everything sent before it (the
   * broker answers gic-synced in order on the same link). Without a GIC it runs at once.
   */
  sync(then: () => void): void {
    if (this.gic === null) return then();
    const token = this.nextSyncToken++;
    this.syncs.set(token, then);
    this.ctx.send(this.gic, { kind: 'control', op: 'gic-sync', data: token });
  }

  /** The GIC's gic-synced; false when it answers no sync of ours. */
  onSynced(data: unknown): boolean {
    const then = typeof data === 'number' ? this.syncs.get(data) : undefined;
    if (!then || typeof data !== 'number') return false;
    this.syncs.delete(data);
    then();
    return true;
  }

  private toGic(frame: InterruptMessage): void {
    if (this.gic !== null) this.ctx.send(this.gic, frame);
  }
}
