/**
 * The endpoints a scenario may name (docs/scenarios.md "Endpoints"), resolved against its world:
 * VMs (or the bare-metal host), partitions by name or ID, and the hypervisor; and the components
 * that speak for them, for faults.
 */
import { closest } from '../../../../shared/config/zod-kit.ts';
import type { ScenarioSource, ValuePath } from '../errors.ts';
import type { Endpoint, WorldDescription } from '../types.ts';
import { hex } from './values.ts';

const MAX_NAMES_SHOWN = 12;

const KIND_WORDING: Readonly<Record<Endpoint['kind'], string>> = { vm: 'a VM', host: 'the host', sp: 'a partition', hypervisor: 'the hypervisor' };

/** What a step may name, resolved against the world (docs/scenarios.md "Endpoints"). */
export class Resolver {
  private readonly byName = new Map<string, Endpoint>();
  private readonly byId = new Map<number, Endpoint>();
  private readonly vcpusOf = new Map<Endpoint, number>();
  readonly bareMetal: boolean;

  constructor(
    readonly world: WorldDescription,
    readonly source: ScenarioSource,
  ) {
    this.bareMetal = world.hypervisor.profile === 'none';
    if (!this.bareMetal) this.add({ kind: 'hypervisor', name: 'hypervisor', id: 0 }, world.cpus);
    for (const vm of world.vms) this.add(vm.name === 'host' && this.bareMetal ? { kind: 'host', name: 'host', id: 0 } : { kind: 'vm', name: vm.name, id: vm.id }, vm.vcpus);
    for (const sp of world.spmc.partitions) this.add({ kind: 'sp', name: sp.name ?? hex(sp.id), id: sp.id }, sp.vcpus, sp.name !== null);
  }

  private add(endpoint: Endpoint, vcpus: number, named = true): void {
    if (named) this.byName.set(endpoint.name, endpoint);
    this.byId.set(endpoint.id, endpoint);
    this.vcpusOf.set(endpoint, vcpus);
  }

  /** The endpoint a step names; one that is not in the world makes the scenario invalid. */
  endpoint(ref: string | number, path: ValuePath): Endpoint {
    const found = typeof ref === 'number' ? this.byId.get(ref) : this.byName.get(ref);
    if (found !== undefined) return found;
    if (ref === 'hypervisor') throw this.source.error(path, 'there is no hypervisor under hypervisor: none (bare metal): the host calls the SPMD itself, so write host');
    if (ref === 'host') throw this.source.error(path, `'host' is the bare-metal kernel, which exists only under hypervisor: none; this world's VMs are ${this.vmNames().join(', ')}`);
    const guess = typeof ref === 'string' ? closest(ref, [...this.byName.keys()]) : null;
    const hint = guess === null ? '' : `did you mean ${guess}? `;
    throw this.source.error(path, `unknown endpoint ${typeof ref === 'number' ? hex(ref) : `'${ref}'`}: ${hint}this world has ${this.known()}`);
  }

  /** The endpoint a step names, or null when the world has none (its refusal is endpoint()'s). */
  find(ref: string | number): Endpoint | null {
    return (typeof ref === 'number' ? this.byId.get(ref) : this.byName.get(ref)) ?? null;
  }

  endpointOfKind(ref: string | number, path: ValuePath, kinds: readonly Endpoint['kind'][], what: string): Endpoint {
    const endpoint = this.endpoint(ref, path);
    if (!kinds.includes(endpoint.kind)) throw this.source.error(path, `must be ${what}; ${endpoint.name} is ${KIND_WORDING[endpoint.kind]}`);
    return endpoint;
  }

  /** An ID for a call's argument: a name is resolved, a number is taken as is (tests call with IDs that do not exist). */
  argumentId(ref: unknown, path: ValuePath): number {
    if (typeof ref === 'number') return ref;
    if (ref === 'hypervisor' || ref === 'host') return 0;
    if (typeof ref === 'string') return this.endpoint(ref, path).id;
    throw this.source.error(path, `must be an endpoint name or a 16-bit ID, got ${this.source.written(path, ref)}`);
  }

  vcpus(endpoint: Endpoint): number {
    return this.vcpusOf.get(endpoint) ?? 1;
  }

  /** A vCPU of the endpoint: below its vCPU count (for the hypervisor, its physical CPUs). */
  checkVcpu(endpoint: Endpoint, vcpu: number, path: ValuePath): void {
    const count = this.vcpus(endpoint);
    const unit = endpoint.kind === 'hypervisor' ? 'CPU' : 'vCPU';
    if (vcpu >= count) throw this.source.error(path, `must be below ${count}: ${endpoint.name} has ${count} ${unit}${count === 1 ? '' : 's'} (0..${count - 1})`);
  }

  /** The component that speaks for a name (world-builder.ts names them): an SP's is the SPMC. */
  component(ref: string | number, path: ValuePath): string {
    if (ref === 'gic' || ref === 'spmd' || ref === 'spmc') return ref;
    const endpoint = this.endpoint(ref, path);
    return endpoint.kind === 'sp' ? 'spmc' : endpoint.name;
  }

  vmNames(): string[] {
    return this.world.vms.map((vm) => vm.name);
  }

  spIds(): number[] {
    return this.world.spmc.partitions.map((sp) => sp.id);
  }

  private known(): string {
    const names = [...this.byId.values()].map((e) => (e.kind === 'sp' ? `${e.name === hex(e.id) ? '' : `${e.name} `}(${hex(e.id)})`.trim() : e.name));
    const shown = names.slice(0, MAX_NAMES_SHOWN).join(', ');
    return names.length > MAX_NAMES_SHOWN ? `${shown} and ${names.length - MAX_NAMES_SHOWN} more` : shown;
  }
}
