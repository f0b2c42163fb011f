/**
 * The virtual CPU interface of each VM vCPU (GICv3 ICH_LR<n>_EL2, IHI 0069 §11.2): a bounded set of
 * list registers, each holding one virtual interrupt that is pending, active or both, plus a bounded
 * queue for interrupts raised while every list register is in use (what a hypervisor keeps in
 * software: Xen's vgic `lr_pending`), and where the vCPU runs: online on a physical CPU, or
 * offline, in which case its interrupts are held until it comes back (docs/ffa-reference.md §5.3: Xen injects
 * into an online vCPU; what a vCPU had pending stays with it while it is off).
 */
import {
  type InterruptSlot,
  InterruptState,
  inactiveSlot,
  raiseSlot,
  type RaiseResult,
} from './interrupt-state.ts';

/** A raise that found no free list register. */
export interface HeldInterrupt {
  readonly intid: number;
  raisedBy: string;
  merges: number;
}

/** What a raise did at a vCPU: a list-register transition, or the overflow queue's. */
export type VirtualRaiseResult = RaiseResult | 'queued' | 'queue-merged' | 'queue-full';

export class VirtualCpuInterface {
  online = false;
  /** The physical CPU the vCPU runs on while online (the last one while offline); null before it ever ran. */
  pcpu: number | null = null;
  /** Occupied list registers (a free one holds nothing); at most `listRegisters`. */
  private readonly lrs: InterruptSlot[] = [];
  /** Raised while every list register was in use, oldest first; at most `heldQueueMax`. */
  private readonly queue: HeldInterrupt[] = [];

  constructor(
    readonly vm: number,
    readonly vcpu: number,
    private readonly listRegisters: number,
    private readonly heldQueueMax: number,
  ) {}

  slots(): readonly InterruptSlot[] {
    return this.lrs;
  }

  queued(): readonly HeldInterrupt[] {
    return this.queue;
  }

  slot(intid: number): InterruptSlot | undefined {
    return this.lrs.find((slot) => slot.intid === intid);
  }

  raise(intid: number, from: string): VirtualRaiseResult {
    const existing = this.slot(intid);
    if (existing) return raiseSlot(existing, from);
    const waiting = this.queue.find((held) => held.intid === intid);
    if (waiting) {
      waiting.raisedBy = from;
      waiting.merges++;
      return 'queue-merged';
    }
    if (this.lrs.length < this.listRegisters) {
      const slot = inactiveSlot(intid);
      this.lrs.push(slot);
      return raiseSlot(slot, from);
    }
    if (this.queue.length >= this.heldQueueMax) return 'queue-full';
    this.queue.push({ intid, raisedBy: from, merges: 0 });
    return 'queued';
  }

  /**
   * Frees the list registers of interrupts that became inactive and moves queued interrupts into
   * them, oldest first (pending, as raised). Returns the ones moved.
   */
  refill(): HeldInterrupt[] {
    for (let index = this.lrs.length - 1; index >= 0; index--) {
      if (this.lrs[index]?.state === InterruptState.Inactive) this.lrs.splice(index, 1);
    }
    const moved: HeldInterrupt[] = [];
    while (this.lrs.length < this.listRegisters && this.queue.length > 0) {
      const held = this.queue.shift();
      if (!held) break;
      const slot = inactiveSlot(held.intid);
      raiseSlot(slot, held.raisedBy);
      slot.merges = held.merges;
      this.lrs.push(slot);
      moved.push(held);
    }
    return moved;
  }

  /** Interrupts this vCPU holds that are not inactive (list registers and queue). */
  outstanding(): number {
    return this.lrs.filter((slot) => slot.state !== InterruptState.Inactive).length + this.queue.length;
  }

  assertInvariants(): void {
    if (this.lrs.length > this.listRegisters || this.queue.length > this.heldQueueMax) {
      throw new Error(`gic invariant broken at VM ${this.vm} vCPU ${this.vcpu}: ${this.lrs.length} LRs, ${this.queue.length} queued`);
    }
    if (this.queue.length > 0 && this.lrs.length < this.listRegisters) {
      throw new Error(`gic invariant broken at VM ${this.vm} vCPU ${this.vcpu}: interrupts queued beside a free list register`);
    }
  }
}

/** Every VM's vCPU interfaces, bounded by config.maxVms and config.maxVcpusPerVm. */
export class VirtualInterfaces {
  private readonly vms = new Map<number, Map<number, VirtualCpuInterface>>();

  constructor(
    readonly maxVms: number,
    readonly maxVcpusPerVm: number,
    private readonly listRegisters: number,
    private readonly heldQueueMax: number,
  ) {}

  find(vm: number, vcpu: number): VirtualCpuInterface | undefined {
    return this.vms.get(vm)?.get(vcpu);
  }

  /** The vCPU's interface, created offline on first use; undefined when that would exceed maxVms. */
  obtain(vm: number, vcpu: number): VirtualCpuInterface | undefined {
    let vcpus = this.vms.get(vm);
    if (!vcpus) {
      if (this.vms.size >= this.maxVms) return undefined;
      vcpus = new Map();
      this.vms.set(vm, vcpus);
    }
    let vcpuInterface = vcpus.get(vcpu);
    if (!vcpuInterface) {
      vcpuInterface = new VirtualCpuInterface(vm, vcpu, this.listRegisters, this.heldQueueMax);
      vcpus.set(vcpu, vcpuInterface);
    }
    return vcpuInterface;
  }

  /** A VM's vCPU interfaces, by vCPU index. */
  vcpusOf(vm: number): VirtualCpuInterface[] {
    return [...(this.vms.get(vm)?.values() ?? [])].sort((a, b) => a.vcpu - b.vcpu);
  }

  /** Forget a VM; returns how many interrupts it still held. */
  destroy(vm: number): number {
    const dropped = this.vcpusOf(vm).reduce((sum, vcpu) => sum + vcpu.outstanding(), 0);
    this.vms.delete(vm);
    return dropped;
  }
}
