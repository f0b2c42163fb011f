/**
 * The VM table: Xen's domains with an FF-A context (struct ffa_ctx), bounded by config.maxVms.
 * Each VM has its FF-A ID (domid + 1), its guest component (the link its calls arrive on), its
 * vCPUs, the FF-A version its guest negotiated, its RX/TX buffer state and its pending flag.
 */
import type { Vcpu } from './vcpus.ts';

export type VmState =
  /** ffa_domain_init under way: VM_CREATED to the subscribed SPs, then BITMAP_CREATE. Not callable. */
  | 'creating'
  /** Created and unpaused: its online vCPUs run and call. */
  | 'running'
  /** ffa_domain_teardown under way: BITMAP_DESTROY, then VM_DESTROYED (retried). Not callable. */
  | 'destroying';

/**
 * The guest's FF-A version (Xen ffa.c ffa_negotiate_version): none until its first FFA_VERSION;
 * tentative while it only calls FFA_VERSION (it may probe several); final at its first other call.
 */
export type GuestVersion =
  | { readonly kind: 'none' }
  | { readonly kind: 'tentative'; readonly version: number }
  | { readonly kind: 'final'; readonly version: number };

/**
 * The guest's RX/TX buffer pair as Xen tracks it (ffa_rxtx.c: ctx->page_count, ctx->rx_is_free).
 * What the buffers hold lives on the guest's side: writes travel with the returns (rx-tx-buffers.ts).
 */
export interface GuestBuffers {
  readonly pageCount: number;
  /** rx_is_free: Xen may write the RX buffer; false once Xen wrote it, until the guest's FFA_RX_RELEASE. */
  rxFree: boolean;
}

/** What a registered guest told of itself (registration.ts), for an orchestrator to find and dial it. */
export interface GuestAdvert {
  readonly url: string | null;
  readonly driver: string | null;
  /** The machine it said it runs on (a label, not an address), or null. */
  readonly host: string | null;
}

export class Vm {
  state: VmState = 'creating';
  /** Set for a VM a guest registered for (its component gets the VM's virtual interrupts by vm-assigned); null otherwise. */
  advert: GuestAdvert | null = null;
  version: GuestVersion = { kind: 'none' };
  /** Xen ctx->notif.secure_pending: an SRI named this VM and the guest has not consumed it. */
  securePending = false;
  buffers: GuestBuffers | null = null;
  /** SPs to send VM_DESTROYED at teardown (Xen ctx->vm_destroy_bitmap). */
  destroyNotices: number[] = [];

  constructor(
    readonly name: string,
    readonly id: number,
    readonly component: string,
    readonly vcpus: readonly Vcpu[],
  ) {}

  /** Xen domid: FF-A ID - 1 (ffa_get_vm_id is domain_id + 1). */
  get domid(): number {
    return this.id - 1;
  }

  vcpu(index: number): Vcpu | undefined {
    return this.vcpus[index];
  }
}

/** Which VM a call on a component's link is from. */
export type CallerResolution =
  | { readonly kind: 'vm'; readonly vm: Vm }
  | { readonly kind: 'unknown'; readonly why: string };

export class VmTable {
  private readonly byId = new Map<number, Vm>();
  private readonly byName = new Map<string, Vm>();
  /** Each guest component's VMs, in ID order: every guest call looks its caller up here (a scan of every VM per call was quadratic in a 1,000-guest world). */
  private readonly byComponent = new Map<string, Vm[]>();

  constructor(readonly maxVms: number) {}

  get size(): number {
    return this.byId.size;
  }

  all(): Vm[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  find(id: number): Vm | undefined {
    return this.byId.get(id);
  }

  named(name: string): Vm | undefined {
    return this.byName.get(name);
  }

  add(vm: Vm): void {
    if (this.byId.size >= this.maxVms) throw new Error(`bug: VM table full (${this.maxVms}) when adding ${vm.name}`);
    if (this.byId.has(vm.id) || this.byName.has(vm.name)) throw new Error(`bug: VM ${vm.name} (${vm.id}) added twice`);
    this.byId.set(vm.id, vm);
    this.byName.set(vm.name, vm);
    this.byComponent.set(vm.component, [...(this.byComponent.get(vm.component) ?? []), vm].sort((a, b) => a.id - b.id));
  }

  remove(vm: Vm): void {
    this.byId.delete(vm.id);
    this.byName.delete(vm.name);
    const rest = (this.byComponent.get(vm.component) ?? []).filter((other) => other !== vm);
    if (rest.length > 0) this.byComponent.set(vm.component, rest);
    else this.byComponent.delete(vm.component);
  }

  /** The VMs whose guest component this is, in ID order. */
  ofComponent(component: string): Vm[] {
    return [...(this.byComponent.get(component) ?? [])];
  }

  /** The lowest FF-A ID not in use (domids are handed out from 0). */
  freeId(maxId: number): number | null {
    for (let id = 1; id <= maxId; id++) if (!this.byId.has(id)) return id;
    return null;
  }

  /**
   * The VM a call from `component` is made by. The link decides which VMs the caller may speak
   * for: the VMs whose guest component it is. A component standing for one VM needs nothing more;
   * one standing for several (a test driver) picks among its own with the call's endpoint field,
   * which can never name a VM of another component.
   */
  resolveCaller(component: string, endpoint: number): CallerResolution {
    const own = this.byComponent.get(component) ?? [];
    if (own.length === 0) return { kind: 'unknown', why: `no VM has ${component} as its guest component` };
    if (own.length === 1 && own[0]) return { kind: 'vm', vm: own[0] };
    const chosen = own.find((vm) => vm.id === endpoint);
    if (chosen) return { kind: 'vm', vm: chosen };
    return { kind: 'unknown', why: `${component} stands for VMs ${own.map((vm) => vm.id).join(', ')}, and the call names ${endpoint}` };
  }
}
