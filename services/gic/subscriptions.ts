/**
 * Who may see what, and who asked to. Rights come from config.rights, keyed by component name;
 * the sender's name is the one the runtime gives (`from`), never a field of a frame. A component
 * subscribes to targets: a physical CPU for one interrupt group (the hypervisor to its CPUs'
 * non-secure interrupts; only a secure component may ask for the secure group), or a VM's vCPU,
 * or every vCPU of a VM (a guest, its own). Each delivery fans out to the target's subscribers.
 * Besides config.rights, a component with the configure right (the hypervisor) may assign a VM to
 * a component at run time (vm-assigned, for a guest that registered): an assignment is a grant as
 * if the component's subscribeVirtual listed the VM, and lasts until the VM is destroyed.
 */
import type { InterruptGroup } from '../../shared/protocol/messages.ts';
import { NO_RIGHTS, type ValidRights } from './config.ts';
import { type Outcome, refuse } from './refusal.ts';

/** Subscribing to vCPU ALL_VCPUS of a VM subscribes to every vCPU it has or will have. */
export const ALL_VCPUS = -1;
/** Subscribing to CPU ALL_CPUS subscribes to every physical CPU. */
export const ALL_CPUS = -1;

function sortedNames(names: Iterable<string>): string[] {
  return [...names].sort();
}

export class Subscriptions {
  /** group → cpu → subscribers. */
  private readonly physical = new Map<InterruptGroup, Map<number, Set<string>>>([
    ['secure', new Map()],
    ['nonsecure', new Map()],
  ]);
  /** vm → vcpu (or ALL_VCPUS) → subscribers. */
  private readonly virtual = new Map<number, Map<number, Set<string>>>();
  /** vm → components assigned it at run time (vm-assigned). */
  private readonly assigned = new Map<number, Set<string>>();

  constructor(
    private readonly rightsByName: ReadonlyMap<string, ValidRights>,
    private readonly cpus: number,
  ) {}

  rightsOf(name: string): ValidRights {
    return this.rightsByName.get(name) ?? NO_RIGHTS;
  }

  /** The CPUs a physical subscription names (ALL_CPUS: every CPU). */
  cpusOf(cpu: number): number[] {
    return cpu === ALL_CPUS ? Array.from({ length: this.cpus }, (_, each) => each) : [cpu];
  }

  /** May `name` receive `group` interrupts at these CPUs? */
  checkPhysical(name: string, cpus: readonly number[], group: InterruptGroup): Outcome {
    const rights = this.rightsOf(name);
    if (group === 'secure' && rights.world !== 'secure') {
      return refuse('secure-group', `${name} is non-secure: secure-group interrupts are never delivered to it`);
    }
    const allowed = rights.subscribePhysical;
    const denied = allowed === 'all' ? undefined : cpus.find((cpu) => !allowed.has(cpu));
    if (denied !== undefined) return refuse('no-right', `${name} may not receive CPU ${denied}'s interrupts`);
    return null;
  }

  /** May `name` receive this VM's virtual interrupts? */
  checkVirtual(name: string, vm: number): Outcome {
    if (this.rightsOf(name).subscribeVirtual.has(vm) || this.assigned.get(vm)?.has(name) === true) return null;
    return refuse('no-right', `${name} may not receive VM ${vm}'s virtual interrupts`);
  }

  /** May `name` assign VMs to components (vm-assigned)? The configure right covers it. */
  mayAssign(name: string): boolean {
    return this.rightsOf(name).configure;
  }

  assign(name: string, vm: number): void {
    const names = this.assigned.get(vm) ?? new Set<string>();
    names.add(name);
    this.assigned.set(vm, names);
  }

  /** The VM is gone: its assignments end; returns who had one, in a fixed order. */
  unassignVm(vm: number): string[] {
    const names = sortedNames(this.assigned.get(vm) ?? []);
    this.assigned.delete(vm);
    return names;
  }

  mayRaiseVirtual(name: string, vm: number): boolean {
    const allowed = this.rightsOf(name).raiseVirtual;
    return allowed === 'any' || allowed.has(vm);
  }

  addPhysical(name: string, cpus: readonly number[], group: InterruptGroup): void {
    const byCpu = this.groupMap(group);
    for (const cpu of cpus) {
      const names = byCpu.get(cpu) ?? new Set<string>();
      names.add(name);
      byCpu.set(cpu, names);
    }
  }

  removePhysical(name: string, cpus: readonly number[], group: InterruptGroup): void {
    const byCpu = this.groupMap(group);
    for (const cpu of cpus) byCpu.get(cpu)?.delete(name);
  }

  addVirtual(name: string, vm: number, vcpu: number): void {
    const byVcpu = this.virtual.get(vm) ?? new Map<number, Set<string>>();
    const names = byVcpu.get(vcpu) ?? new Set<string>();
    names.add(name);
    byVcpu.set(vcpu, names);
    this.virtual.set(vm, byVcpu);
  }

  removeVirtual(name: string, vm: number, vcpu: number): void {
    this.virtual.get(vm)?.get(vcpu)?.delete(name);
  }

  /** Who receives `group` interrupts at `cpu`, in a fixed order. */
  physicalAudience(cpu: number, group: InterruptGroup): string[] {
    return sortedNames(this.groupMap(group).get(cpu) ?? []);
  }

  /** Who receives the virtual interrupts of this vCPU (its own subscribers and the VM-wide ones). */
  virtualAudience(vm: number, vcpu: number): string[] {
    const byVcpu = this.virtual.get(vm);
    if (!byVcpu) return [];
    return sortedNames(new Set([...(byVcpu.get(vcpu) ?? []), ...(byVcpu.get(ALL_VCPUS) ?? [])]));
  }

  private groupMap(group: InterruptGroup): Map<number, Set<string>> {
    const byCpu = this.physical.get(group);
    if (!byCpu) throw new Error(`gic: unknown interrupt group ${String(group)}`);
    return byCpu;
  }
}
