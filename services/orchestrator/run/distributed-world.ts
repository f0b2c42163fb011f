/**
 * A scenario's world as separate services (docker compose, or OS processes: scripts/service.ts):
 * the same components as world-builder.ts builds for a run, except that the guests are not named
 * in advance. Any number of guest services start, each links to the hypervisor and the GIC and
 * registers; the hypervisor creates its VM and gives it its FF-A ID (the simulation's stand-in
 * for the toolstack's `xl create`), and destroys it when the guest's link drops. An orchestrator
 * attaches later (attach.ts) and runs the scenario against the guests it finds registered.
 *
 * Who opens which link is fixed by role (the order compose starts them in: gic, spmc, spmd,
 * hypervisor, guests, orchestrator); each side knows the other's role token.
 */
import { parseDocument } from 'yaml';
import type { ComponentSpec } from '../../../shared/runtime/component.ts';
import { ScenarioError } from '../scenario/errors.ts';
import { readScenarioText } from '../scenario/reader/index.ts';
import { DEFAULT_VARIANT } from '../../guest/variants.ts';
import type { Scenario, VmDescription } from '../scenario/types.ts';
import { buildWorldSpec, callsInFlightBound, COMPONENTS } from './world-builder.ts';
import { CONFIG_DEFAULTS as HYPERVISOR_DEFAULTS } from '../../hypervisor/config.ts';

export type ServiceRole = 'gic' | 'spmd' | 'spmc' | 'hypervisor' | 'guest' | 'orchestrator';
export const SERVICE_ROLES: readonly ServiceRole[] = ['gic', 'spmd', 'spmc', 'hypervisor', 'guest', 'orchestrator'];
export type PlatformRole = Exclude<ServiceRole, 'guest' | 'orchestrator'>;
export const PLATFORM_ROLES: readonly PlatformRole[] = ['gic', 'spmd', 'spmc', 'hypervisor'];

/** The links each role opens (the orchestrator opens one to every service: attach.ts). */
export const DIALS: Readonly<Record<ServiceRole, readonly PlatformRole[]>> = {
  gic: [],
  spmc: ['gic'],
  spmd: ['spmc'],
  hypervisor: ['spmd', 'gic'],
  guest: ['hypervisor', 'gic'],
  orchestrator: PLATFORM_ROLES,
};

/** The roles that open links to `role`. */
export function dialledBy(role: ServiceRole): ServiceRole[] {
  const dialers = SERVICE_ROLES.filter((other) => (DIALS[other] as readonly string[]).includes(role));
  return role === 'guest' ? ['orchestrator'] : dialers;
}

export interface DistributedOptions {
  /** The most guests that may register (the VM table, the SPMC's VM slots, the GIC's VM table). */
  maxGuests: number;
}

/** A guest that registers, as its service describes itself. */
export interface GuestService {
  name: string;
  vcpus: number;
  driver: VmDescription['driver'];
  /** The URL the orchestrator opens its link to (ws://host:port). */
  advertiseUrl: string;
  /** The machine it runs on, told to the hypervisor for per-host figures; null: none told. */
  hostLabel: string | null;
}

/** The file, for errors about the world as a whole (no one line is at fault). */
function at(scenario: Scenario): { file: string; line: number; column: number } {
  return { file: scenario.file, line: 1, column: 1 };
}

function requireHypervisor(scenario: Scenario): void {
  if (scenario.world.hypervisor.profile === 'none') {
    throw new ScenarioError(at(scenario), 'world.hypervisor.profile: none (bare metal) cannot run as services: guests register with a hypervisor (use xen or raw)');
  }
}

/** The world's components with no VM yet, and the hypervisor creating VMs as guests register. */
function platformSpecs(scenario: Scenario, options: DistributedOptions): ComponentSpec[] {
  requireHypervisor(scenario);
  const empty: Scenario = { ...scenario, world: { ...scenario.world, vms: [] } };
  const { components } = buildWorldSpec(empty, 0, placeholderOrchestrator());
  const room = Math.max(options.maxGuests, 1);
  // A guest that registers says its vCPUs then, up to the hypervisor's maxVcpusPerVm: room for a
  // call from every vCPU the VM table could hold (world-builder.ts callsInFlightBound).
  const calls = callsInFlightBound(room * HYPERVISOR_DEFAULTS.maxVcpusPerVm, scenario.world.cpus);
  return components.map((spec) => {
    const config = spec.config as Record<string, unknown>;
    switch (spec.name) {
      case COMPONENTS.hypervisor:
        return { ...spec, config: { ...config, registration: true, maxVms: Math.max(64, room), maxQueuedLifecycleOps: Math.max(64, room), maxPendingGuestCalls: calls } };
      case COMPONENTS.spmd:
        return { ...spec, config: { ...config, maxPendingForwards: calls } };
      case COMPONENTS.spmc:
        // Guests register as they come, up to `room`: the deployment builds its SPMC with a slot for
        // each (OP-TEE's CFG_VIRT_GUEST_COUNT, Hafnium's max_vms), and a scenario's own slot count
        // (written for its own named VMs) only ever adds to that.
        return { ...spec, config: { ...config, vmSlots: Math.max(scenario.world.spmc.vmSlots ?? 0, room) } };
      case COMPONENTS.gic:
        return { ...spec, config: { ...config, maxVms: Math.max(64, room) } };
      default:
        return spec;
    }
  });
}

/** Only its name is used: the orchestrator's real config comes from the guests it finds (attach.ts). */
function placeholderOrchestrator(): Parameters<typeof buildWorldSpec>[2] {
  return { runtime: 'ws', cpus: 1, steps: [], timedFaults: [], bootedGuests: [], vms: [], sps: [], hypervisor: true, swarms: [] };
}

export function platformComponent(scenario: Scenario, role: PlatformRole, options: DistributedOptions): ComponentSpec {
  const spec = platformSpecs(scenario, options).find((s) => s.name === COMPONENTS[role]);
  if (!spec) throw new Error(`bug: the world has no ${role}`);
  return spec;
}

/** A guest service's component: the scenario's first VM is the template for what it does not say. */
export function registeringGuest(scenario: Scenario, guest: GuestService): ComponentSpec {
  requireHypervisor(scenario);
  const template = scenario.world.vms[0];
  if (!template) throw new ScenarioError(at(scenario), 'world.vms is empty: a guest service takes its settings from the first VM');
  const vm: VmDescription = { ...template, name: guest.name, id: 1, vcpus: guest.vcpus, driver: guest.driver, pcpus: null, boot: true };
  const world = { ...scenario.world, vms: [vm] };
  const { components } = buildWorldSpec({ ...scenario, world }, 0, placeholderOrchestrator());
  const spec = components.find((c) => c.name === guest.name);
  if (!spec) throw new Error(`bug: no guest component ${guest.name}`);
  const { vmId: _vmId, ...config } = spec.config as Record<string, unknown>;
  const host = guest.hostLabel === null ? {} : { hostLabel: guest.hostLabel };
  return { ...spec, config: { ...config, registration: true, advertiseUrl: guest.advertiseUrl, ...host } };
}

/** A VM the hypervisor created for a registered guest (its hypervisor-status answer). */
export interface RegisteredGuest {
  name: string;
  id: number;
  vcpus: number;
  driver: string | null;
  url: string | null;
  /** The machine it said it runs on (FFA_HOST_LABEL), or null. */
  host: string | null;
}

/**
 * The scenario as it runs against a world of services: its `world.vms` replaced by the guests
 * that registered, loaded again, so `receivers: all` means them and a step that names a VM the
 * world does not have is refused as any invalid scenario is.
 */
export function attachedScenario(scenario: Scenario, text: string, guests: readonly RegisteredGuest[]): Scenario {
  requireHypervisor(scenario);
  const template = scenario.world.vms[0];
  const document = parseDocument(text);
  const vms = guests.map((g) => ({
    name: g.name,
    id: g.id,
    vcpus: g.vcpus,
    driver: g.driver ?? template?.driver ?? DEFAULT_VARIANT,
    ...(template && !template.opteeClient ? { opteeClient: false } : {}),
  }));
  document.setIn(['world', 'vms'], vms);
  return readScenarioText(document.toString(), `${scenario.file} (its vms: the ${guests.length} registered guests)`);
}
