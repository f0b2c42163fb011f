/** The orchestrator's configuration: the scenario as the runner resolved it (run/runner.ts orchestratorConfig). */
import type { FaultSpec, SpBehaviour, Step, TimedFault } from './scenario/types.ts';
import type { ControlData } from '../../shared/protocol/control.ts';

export interface OrchestratorConfig {
  runtime: 'sim' | 'ws';
  cpus: number;
  steps: Step[];
  timedFaults: TimedFault[];
  /** Guests that boot with the world: the steps start once each has finished its probe. */
  bootedGuests: string[];
  /** Every VM, for `{ vm: create }` (the hypervisor is told its shape) and workloads. */
  vms: { name: string; id: number; vcpus: number; pcpus: number[] | null }[];
  /** Every SP with its behaviour, for workloads. */
  sps: { id: number; behaviour: SpBehaviour }[];
  /** Whether a hypervisor runs the VMs (a guest's crash is then its VM's destruction). */
  hypervisor: boolean;
  /** Each swarm's concrete faults, drawn from the seed by the runner (swarm.ts), by where it is. */
  swarms: { where: string; faults: FaultSpec[] }[];
}

/** The hypervisor's life-cycle request for a VM: a create carries the VM's whole shape, the others its name. */
export function vmCreateRequest(config: OrchestratorConfig, name: string): ControlData<'vm-create'> {
  const vm = config.vms.find((v) => v.name === name);
  if (!vm) throw new Error(`bug: the loader let an unknown VM ${name} through`);
  return { name: vm.name, id: vm.id, vcpus: vm.vcpus, component: vm.name, ...(vm.pcpus ? { pcpus: vm.pcpus } : {}) };
}
