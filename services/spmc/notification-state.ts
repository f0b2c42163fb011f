/**
 * Notification state per receiver (docs/ffa-reference.md §3.1): separate 64-bit bitmaps for notifications
 * from SPs, from VMs and from the framework (SPM in the low 32 bits, hypervisor in the high 32:
 * Hafnium FFA_NOTIFICATION_SPM/HYP_BUFFER_FULL_MASK), each with pending and INFO_GET-retrieved
 * bits, global and per vCPU; the bindings per bit; and the NWd VMs' directory, whose shape follows
 * the vmBitmapLifecycle policy.
 */
import { HYPERVISOR_ID, isSecureId } from '../../shared/ffa/index.ts';
import type { PolicyValues } from './policies.ts';

export const NOTIFICATION_COUNT = 64; // Hafnium MAX_FFA_NOTIFICATIONS, Linux FFA_MAX_NOTIFICATIONS
const ALL_BITS = (1n << 64n) - 1n;
/** The framework bitmap's halves: SPM (w6) and hypervisor (w7) framework notifications. */
export const SPM_FRAMEWORK_MASK = 0xffff_ffffn;
export const HYP_FRAMEWORK_SHIFT = 32n;

/** Hafnium struct notifications_state: pending, and which of them INFO_GET already reported. */
export class BitState {
  pending = 0n;
  retrieved = 0n;

  /** GET: hand out and clear (Hafnium vm_notifications_state_get_pending). */
  take(mask = ALL_BITS): bigint {
    const taken = this.pending & mask;
    this.pending &= ~mask;
    this.retrieved &= ~mask;
    return taken;
  }
}

/** One sender class: global state plus per-vCPU states (created when a bit is set, dropped when empty). */
export class NotificationClass {
  readonly global = new BitState();
  readonly perVcpu = new Map<number, BitState>();

  /** Every pending bit, global or on any vCPU. */
  pendingAnywhere(): bigint {
    let bits = this.global.pending;
    for (const state of this.perVcpu.values()) bits |= state.pending;
    return bits;
  }

  setPending(bits: bigint, vcpu: number | null): void {
    if (vcpu === null) {
      this.global.pending |= bits;
      return;
    }
    const state = this.perVcpu.get(vcpu) ?? new BitState();
    state.pending |= bits;
    this.perVcpu.set(vcpu, state);
  }

  /** GET on `vcpu`: global bits plus that vCPU's own (docs/ffa-reference.md §3.1). */
  take(vcpu: number, mask = ALL_BITS): bigint {
    const state = this.perVcpu.get(vcpu);
    const bits = this.global.take(mask) | (state ? state.take(mask) : 0n);
    if (state && state.pending === 0n) this.perVcpu.delete(vcpu);
    return bits;
  }

  /** [state, vCPU or null for global], global first, then by vCPU (Hafnium's INFO_GET order). */
  states(): [BitState, number | null][] {
    const perVcpu = [...this.perVcpu.entries()].sort(([a], [b]) => a - b);
    return [[this.global, null], ...perVcpu.map(([vcpu, state]): [BitState, number] => [state, vcpu])];
  }

  clear(): void {
    this.global.take();
    this.perVcpu.clear();
  }
}

const UNBOUND = -1;

/** Hafnium struct notifications bindings_sender_id[] and bindings_per_vcpu; OP-TEE nvb->bound. */
export class BindingTable {
  private readonly senders: number[] = new Array<number>(NOTIFICATION_COUNT).fill(UNBOUND);
  perVcpu = 0n;

  bound(): bigint {
    return this.bitsWhere((sender) => sender !== UNBOUND);
  }

  boundTo(sender: number): bigint {
    return this.bitsWhere((bound) => bound === sender);
  }

  bind(bitmap: bigint, sender: number, perVcpu: boolean): void {
    this.forEachBit(bitmap, (bit) => {
      this.senders[bit] = sender;
    });
    this.perVcpu = perVcpu ? this.perVcpu | bitmap : this.perVcpu & ~bitmap;
  }

  unbind(bitmap: bigint): void {
    this.forEachBit(bitmap, (bit) => {
      this.senders[bit] = UNBOUND;
    });
    this.perVcpu &= ~bitmap;
  }

  clear(): void {
    this.unbind(ALL_BITS);
  }

  private bitsWhere(test: (sender: number) => boolean): bigint {
    return this.senders.reduce((bits, sender, bit) => (test(sender) ? bits | (1n << BigInt(bit)) : bits), 0n);
  }

  private forEachBit(bitmap: bigint, action: (bit: number) => void): void {
    for (let bit = 0; bit < NOTIFICATION_COUNT; bit++) if ((bitmap >> BigInt(bit)) & 1n) action(bit);
  }
}

export type SenderClass = 'sp' | 'vm';

/** The class a sender's notifications land in (Hafnium vm_get_notifications(is_from_vm)). */
export function senderClassOf(sender: number): SenderClass {
  return isSecureId(sender) ? 'sp' : 'vm';
}

/** One receiver: a NWd VM or an SP. */
export class Receiver {
  /** Hafnium notifications.enabled (BITMAP_CREATE or manifest); OP-TEE nvb->initialized. */
  bitmapCreated: boolean;
  /** vCPUs, for GET's and per-vCPU SET's vCPU checks (BITMAP_CREATE w2, the manifest, or the CPU count). */
  vcpuCount: number;
  readonly fromSp = new NotificationClass();
  readonly fromVm = new NotificationClass();
  /** Framework notifications: SPM in bits [31:0], hypervisor in [63:32]. */
  readonly framework = new NotificationClass();
  readonly bindings: Readonly<Record<SenderClass, BindingTable>> = { sp: new BindingTable(), vm: new BindingTable() };
  /** OP-TEE nvb->do_bottom_half_value: the client's async notification ID; null = -1 (not enabled). */
  asyncNotificationId: number | null = null;

  constructor(
    readonly id: number,
    readonly kind: 'vm' | 'sp',
    options: { bitmapCreated: boolean; vcpuCount: number },
  ) {
    this.bitmapCreated = options.bitmapCreated;
    this.vcpuCount = options.vcpuCount;
  }

  classOf(senderClass: SenderClass): NotificationClass {
    return senderClass === 'sp' ? this.fromSp : this.fromVm;
  }

  classes(): NotificationClass[] {
    return [this.framework, this.fromSp, this.fromVm];
  }

  anyPending(): boolean {
    return this.classes().some((c) => c.pendingAnywhere() !== 0n);
  }

  /** Hafnium vm_notifications_init on destroy: nothing pending, nothing bound. */
  reset(): void {
    for (const c of this.classes()) c.clear();
    this.bindings.sp.clear();
    this.bindings.vm.clear();
  }
}

/** Popcount of a 64-bit value. */
export function bitCount(bits: bigint): number {
  let count = 0;
  for (let rest = bits; rest !== 0n; rest &= rest - 1n) count++;
  return count;
}

export type GuestCreation = 'created' | 'out-of-memory' | 'invalid';
export type SlotAllocation = { kind: 'allocated'; receiver: Receiver } | { kind: 'no-memory' };

/**
 * The NWd VMs the SPMC keeps notification state for. Bounded by `slots`.
 * - allocate-on-create (Hafnium src/ffa/spmc/vm.c): VM 0 is the other-world VM, always present;
 *   other VMs take the first free of `slots` at BITMAP_CREATE and free it at BITMAP_DESTROY.
 * - guest-registry (OP-TEE virtualization.c): guests made by VM_CREATED, kept newest first
 *   (LIST_INSERT_HEAD, which is also INFO_GET's order); a duplicate ID makes a second guest that
 *   lookups then find first, as virt_guest_created does no duplicate check.
 * - vm0-only (OP-TEE without NS-virtualization): default_notif_vm_bitmap, for VM 0 alone.
 */
export class NwdVms {
  private readonly vm0: Receiver | null;
  private readonly slotTable: (Receiver | null)[];
  private readonly guests: Receiver[] = [];

  constructor(
    private readonly lifecycle: PolicyValues['vmBitmapLifecycle'],
    private readonly slots: number,
    cpus: number,
  ) {
    // Hafnium's other-world VM has MAX_CPUS vCPUs; OP-TEE ignores vCPU counts.
    this.vm0 = lifecycle === 'guest-registry' ? null : new Receiver(HYPERVISOR_ID, 'vm', { bitmapCreated: false, vcpuCount: cpus });
    this.slotTable = lifecycle === 'allocate-on-create' ? new Array<Receiver | null>(slots).fill(null) : [];
  }

  find(id: number): Receiver | undefined {
    if (this.vm0 && id === HYPERVISOR_ID) return this.vm0;
    if (this.lifecycle === 'allocate-on-create') return this.slotTable.find((r) => r?.id === id) ?? undefined;
    if (this.lifecycle === 'guest-registry') return this.guests.find((r) => r.id === id);
    return undefined;
  }

  /** Hafnium ffa_vm_nwd_alloc: the VM's slot if it has one, else the first free one. */
  allocate(id: number): SlotAllocation {
    const existing = this.find(id);
    if (existing) return { kind: 'allocated', receiver: existing };
    const free = this.slotTable.indexOf(null);
    if (free < 0) return { kind: 'no-memory' };
    const receiver = new Receiver(id, 'vm', { bitmapCreated: false, vcpuCount: 0 });
    this.slotTable[free] = receiver;
    return { kind: 'allocated', receiver };
  }

  /** Hafnium ffa_vm_nwd_free (VM 0 keeps its other-world VM). */
  release(receiver: Receiver): void {
    const index = this.slotTable.indexOf(receiver);
    if (index >= 0) this.slotTable[index] = null;
  }

  /** OP-TEE virt_guest_created: HYP_CLNT_ID (0) is refused; out of guest memory → OOM. */
  createGuest(id: number): GuestCreation {
    if (id === HYPERVISOR_ID) return 'invalid';
    if (this.guests.length >= this.slots) return 'out-of-memory';
    this.guests.unshift(new Receiver(id, 'vm', { bitmapCreated: false, vcpuCount: 0 }));
    return 'created';
  }

  /** OP-TEE virt_guest_destroyed: the guest and its notification state go away (unknown IDs are ignored). */
  destroyGuest(id: number): void {
    const index = this.guests.findIndex((r) => r.id === id);
    if (index >= 0) this.guests.splice(index, 1);
  }

  /** INFO_GET's order over NWd VMs: Hafnium ffa_vm_notifications_info_get (VM 0, then slots); OP-TEE's guest list. */
  inReportingOrder(): Receiver[] {
    const slots = this.slotTable.filter((r): r is Receiver => r !== null);
    return [...(this.vm0 ? [this.vm0] : []), ...slots, ...this.guests];
  }
}

/** Every receiver's notification state. */
export class NotificationState {
  readonly vms: NwdVms;
  private readonly sps: ReadonlyMap<number, Receiver>;

  constructor(policies: PolicyValues, slots: number, cpus: number, sps: readonly { id: number; notifications: boolean; vcpus: number }[]) {
    this.vms = new NwdVms(policies.vmBitmapLifecycle, slots, cpus);
    this.sps = new Map(sps.map((sp) => [sp.id, new Receiver(sp.id, 'sp', { bitmapCreated: sp.notifications, vcpuCount: sp.vcpus })]));
  }

  receiver(id: number): Receiver | undefined {
    return isSecureId(id) ? this.sps.get(id) : this.vms.find(id);
  }

  /** Hafnium api_ffa_notification_info_get: this world's partitions first, then the other world's VMs. */
  inReportingOrder(): Receiver[] {
    return [...this.sps.values(), ...this.vms.inReportingOrder()];
  }

  /** Hafnium all_notifications_state: pending bits in the system, and how many INFO_GET reported. */
  counts(): { pending: number; retrieved: number } {
    let pending = 0;
    let retrieved = 0;
    for (const receiver of this.inReportingOrder()) {
      for (const notificationClass of receiver.classes()) {
        for (const [state] of notificationClass.states()) {
          pending += bitCount(state.pending);
          retrieved += bitCount(state.pending & state.retrieved);
        }
      }
    }
    return { pending, retrieved };
  }
}
