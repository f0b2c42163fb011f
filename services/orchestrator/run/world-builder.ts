/**
 * A scenario's world as components (docs/design.md §2): the GIC broker, the TF-A-like SPMD, the
 * SPMC with the scenario's partitions, the Xen-like hypervisor (or none: one bare-metal host
 * kernel at the SPMD), a guest component per VM, and the orchestrator that runs the steps. Both
 * sides of every duplicated fact come from the one scenario: the VM IDs at the hypervisor and at
 * the GIC. The SP list is the SPMC's alone: Xen and the guests read it from the descriptors the
 * SPMC (or Xen) writes into their RX buffers, or from PARTITION_INFO_GET_REGS.
 */
import { isSecureId } from '../../../shared/ffa/index.ts';
import type { ComponentSpec, WorldSpec } from '../../../shared/runtime/component.ts';
import type { GicConfig } from '../../gic/config.ts';
import type { GuestConfig } from '../../guest/config.ts';
import { CONFIG_LIMITS as HYPERVISOR_LIMITS, type HypervisorConfig } from '../../hypervisor/config.ts';
import { type MessagingMethod, type SpmcConfig } from '../../spmc/config.ts';
import { MAX_PENDING_FORWARDS_LIMIT, type SpmdConfig } from '../../spmd/config.ts';
import type { OrchestratorConfig } from '../config.ts';
import type { PartitionDescription, Scenario, VmDescription, WorldModel } from '../scenario/types.ts';
import { serviceTimeTable } from '../scenario/service-times.ts';
import { PROFILES as SPMC_PROFILES } from '../../spmc/profiles.ts';

export const COMPONENTS = { gic: 'gic', spmd: 'spmd', spmc: 'spmc', hypervisor: 'hypervisor', orchestrator: 'orchestrator' } as const;
const { gic: GIC, spmd: SPMD, spmc: SPMC, hypervisor: HYPERVISOR, orchestrator: ORCHESTRATOR } = COMPONENTS;

/** Names a VM may not take: the platform's own components. */
export const RESERVED_NAMES: readonly string[] = Object.values(COMPONENTS);

/**
 * The config each role's factory takes (its `create: ComponentFactory<Config>`), from the
 * service's config.ts: a world built with a config of another shape fails to compile.
 */
export interface ComponentConfigs {
  gic: GicConfig;
  spmd: SpmdConfig;
  spmc: SpmcConfig;
  hypervisor: HypervisorConfig;
  guest: GuestConfig;
  orchestrator: OrchestratorConfig;
}
export type WorldRole = keyof ComponentConfigs;

/** The module (relative to the project root) whose `create` builds each role's component. */
export const COMPONENT_MODULES: { readonly [Role in WorldRole]: string } = {
  gic: 'services/gic/gic.ts',
  spmd: 'services/spmd/spmd.ts',
  spmc: 'services/spmc/spmc.ts',
  hypervisor: 'services/hypervisor/hypervisor.ts',
  guest: 'services/guest/guest.ts',
  orchestrator: 'services/orchestrator/orchestrator.ts',
};

/** A component of role `role`, built by that role's module from a config of that role's shape. */
export function componentSpec<Role extends WorldRole>(role: Role, name: string, config: ComponentConfigs[Role]): ComponentSpec {
  return { name, role, module: COMPONENT_MODULES[role], config };
}

/** Default liveness bound of no-lost-notification (virtual time under sim, real time under ws). */
export const DEFAULT_LIVENESS_BOUND_NS = 500_000_000;

/** OP-TEE's SP takes VM_CREATED/DESTROYED only with NS-virtualization (the optee profile under Xen). */
function spMessaging(scenario: Scenario, sp: PartitionDescription): MessagingMethod[] {
  const virtualized = scenario.world.hypervisor.profile === 'xen' && scenario.world.spmc.profile === 'optee' && sp.behaviour === 'optee';
  return virtualized ? [...sp.messaging, 'vm-created', 'vm-destroyed'] : [...sp.messaging];
}

const bareMetal = (scenario: Scenario): boolean => scenario.world.hypervisor.profile === 'none';

function placementOf(vm: VmDescription, cpus: number): number[] {
  return vm.pcpus ?? Array.from({ length: vm.vcpus }, (_, index) => index % cpus);
}

function guestComponent(scenario: Scenario, vm: VmDescription): ComponentSpec {
  const { world } = scenario;
  const metal = bareMetal(scenario);
  const config: GuestConfig = {
    variant: vm.driver,
    vcpus: vm.vcpus,
    firmware: metal ? SPMD : HYPERVISOR,
    conduit: metal ? 'smc' : 'hvc',
    gic: GIC,
    opteeClient: vm.opteeClient,
    controllers: [ORCHESTRATOR],
    ...(metal ? { placement: placementOf(vm, world.cpus) } : { vmId: vm.id }),
    ...(Object.keys(vm.policies).length > 0 ? { policies: vm.policies } : {}),
  };
  return componentSpec('guest', vm.name, config);
}

function hypervisorComponent(scenario: Scenario): ComponentSpec {
  const { world } = scenario;
  const { sriIntid } = world.spmc.policies;
  const vms = world.vms
    .filter((vm) => vm.boot)
    .map((vm) => ({ name: vm.name, id: vm.id, vcpus: vm.vcpus, component: vm.name, ...(vm.pcpus ? { pcpus: vm.pcpus } : {}) }));
  const config: HypervisorConfig = {
    profile: world.hypervisor.profile,
    cpus: world.cpus,
    spmd: SPMD,
    gic: GIC,
    controllers: [ORCHESTRATOR],
    // Its VM table fits the world, as the SPMC's slots and the GIC's table do, and so does the
    // queue the VMs booted at start wait in (both default 64).
    maxVms: Math.max(64, vms.length),
    maxQueuedLifecycleOps: Math.max(64, vms.length),
    maxPendingGuestCalls: callsInFlight(scenario),
    vms,
    ...(Object.keys(world.hypervisor.policies).length > 0 ? { policies: world.hypervisor.policies } : {}),
    // tftf is built for its platform's SRI: a raw host takes the SPMC's when a scenario moves it.
    ...(world.hypervisor.profile === 'raw' && typeof sriIntid === 'number' ? { rawSriIntid: sriIntid } : {}),
  };
  return componentSpec('hypervisor', HYPERVISOR, config);
}

/**
 * The normal world's calls that may be in flight at once. On hardware a vCPU's SMC is synchronous,
 * so there is at most one per vCPU, plus the hypervisor's own INFO_GET loop on each pCPU. The
 * hypervisor's and the SPMD's defaults (256) suit a world of a few guests; a bigger world gets room
 * for each of its calls, as its VM tables do, so that a GET refused with BUSY is never the
 * simulation's own bound (Xen's ffa_handle_notification_get never answers BUSY).
 */
export function callsInFlightBound(vcpus: number, cpus: number): number {
  return Math.min(Math.max(256, vcpus + cpus), HYPERVISOR_LIMITS.pendingCallsMax, MAX_PENDING_FORWARDS_LIMIT);
}

function callsInFlight(scenario: Scenario): number {
  return callsInFlightBound(scenario.world.vms.reduce((sum, vm) => sum + vm.vcpus, 0), scenario.world.cpus);
}

function spmcComponent(scenario: Scenario): ComponentSpec {
  const { world } = scenario;
  const vmBitmapLifecycle = bareMetal(scenario) && world.spmc.profile === 'optee' ? { vmBitmapLifecycle: 'vm0-only' } : {};
  const config: SpmcConfig = {
    profile: world.spmc.profile,
    ffaVersion: world.spmc.ffaVersion,
    cpus: world.cpus,
    spmd: SPMD,
    relayFrom: [ORCHESTRATOR],
    gic: GIC,
    policies: { ...vmBitmapLifecycle, ...world.spmc.policies },
    // A scenario's slot count is the build's, and a world with more VMs than that gets NO_MEMORY
    // (Hafnium) or a refused guest (OP-TEE), as the real SPMC would. Unset: the profile's build
    // value (OP-TEE CFG_VIRT_GUEST_COUNT 2, Hafnium max_vms 16), raised to fit the world's own VMs,
    // so a world that names its VMs is built to hold them while a raw host that creates bitmaps for
    // VMs the world does not name still meets the real bound.
    vmSlots: world.spmc.vmSlots ?? Math.max(SPMC_PROFILES[world.spmc.profile].vmSlots, world.vms.length),
    partitions: world.spmc.partitions.map((sp) => ({
      id: sp.id,
      ...(sp.name ? { name: sp.name } : {}),
      ...(sp.uuid ? { uuid: sp.uuid } : {}),
      behaviour: sp.behaviour,
      vcpus: sp.vcpus,
      ffaVersion: sp.ffaVersion,
      notifications: sp.notifications,
      messaging: spMessaging(scenario, sp),
    })),
  };
  return componentSpec('spmc', SPMC, config);
}

function gicRights(scenario: Scenario): GicConfig['rights'] {
  const rights: NonNullable<GicConfig['rights']> = {
    [SPMC]: { raisePhysical: true, subscribePhysical: 'all', world: 'secure' },
    // The experimenter: spurious interrupts (fault steps) and configuration.
    [ORCHESTRATOR]: { raisePhysical: true, raiseVirtual: 'any', configure: true },
  };
  if (bareMetal(scenario)) {
    for (const vm of scenario.world.vms) rights[vm.name] = { subscribePhysical: 'all' };
    return rights;
  }
  rights[HYPERVISOR] = { raisePhysical: true, subscribePhysical: 'all', raiseVirtual: 'any', configure: true };
  for (const vm of scenario.world.vms) rights[vm.name] = { subscribeVirtual: [vm.id] };
  return rights;
}

function links(scenario: Scenario): [string, string][] {
  const metal = bareMetal(scenario);
  const firmware = metal ? SPMD : HYPERVISOR;
  return [
    ...scenario.world.vms.flatMap((vm): [string, string][] => [
      [vm.name, firmware],
      [vm.name, GIC],
      [ORCHESTRATOR, vm.name],
    ]),
    ...(metal ? [] : ([[HYPERVISOR, SPMD], [HYPERVISOR, GIC], [ORCHESTRATOR, HYPERVISOR]] as [string, string][])),
    [SPMD, SPMC],
    [SPMC, GIC],
    [ORCHESTRATOR, SPMC],
    [ORCHESTRATOR, GIC],
  ];
}

export function buildWorldSpec(scenario: Scenario, seed: number, orchestrator: OrchestratorConfig): WorldSpec {
  for (const vm of scenario.world.vms) {
    if (RESERVED_NAMES.includes(vm.name)) throw new Error(`bug: the loader let a VM be named ${vm.name}`);
  }
  const metal = bareMetal(scenario);
  const components: ComponentSpec[] = [
    ...scenario.world.vms.map((vm) => guestComponent(scenario, vm)),
    ...(metal ? [] : [hypervisorComponent(scenario)]),
    componentSpec('spmd', SPMD, { spmc: SPMC, secureSide: [SPMC], normalWorld: metal ? null : HYPERVISOR, maxPendingForwards: callsInFlight(scenario) }),
    spmcComponent(scenario),
    componentSpec('gic', GIC, { cpus: scenario.world.cpus, rights: gicRights(scenario), maxVms: Math.max(64, scenario.world.vms.length) }),
    componentSpec('orchestrator', ORCHESTRATOR, orchestrator),
  ];
  const table = serviceTimeTable(scenario.world.serviceTimes);
  const serviceTimes = table && { table, vcpuPlacement: Object.fromEntries(scenario.world.vms.map((vm) => [vm.name, placementOf(vm, scenario.world.cpus)])) };
  return { seed, components, links: links(scenario), finishers: [ORCHESTRATOR], orchestrator: ORCHESTRATOR, ...(serviceTimes ? { serviceTimes } : {}) };
}

/** What the checkers know of the world; the fault heal time is filled in from the history. */
export function worldModelOf(scenario: Scenario, livenessBoundNs = DEFAULT_LIVENESS_BOUND_NS): WorldModel {
  return {
    gic: GIC,
    spmd: SPMD,
    spmc: SPMC,
    hypervisor: bareMetal(scenario) ? null : HYPERVISOR,
    orchestrator: ORCHESTRATOR,
    guests: scenario.world.vms.map((vm) => ({ component: vm.name, vmId: vm.id, vcpus: vm.vcpus, driver: vm.driver })),
    spIds: scenario.world.spmc.partitions.map((sp) => sp.id).filter(isSecureId),
    spmcProfile: scenario.world.spmc.profile,
    hypervisorProfile: scenario.world.hypervisor.profile,
    lastFaultHealNs: null,
    livenessBoundNs,
  };
}
