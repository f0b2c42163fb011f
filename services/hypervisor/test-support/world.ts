/**
 * Worlds for the hypervisor's tests: scripted actors (test-support/actor.ts) → hypervisor →
 * the TF-A-like SPMD (services/spmd) → the real SPMC (services/spmc, profile optee or hafnium),
 * with the GIC broker (services/gic) between the SPMC's SRI, the hypervisor and the guests'
 * virtual interrupts. Each actor is a controller of the hypervisor, a relayFrom component of the
 * SPMC (so it can make SPs set notifications), and at the GIC may configure interrupts and
 * receive its own VMs' virtual interrupts. Everything goes through the runtime; the tests read
 * the history.
 */
import assert from 'node:assert/strict';
import { OPTEE_SP_ID, OPTEE_UUID } from '../../../shared/ffa/index.ts';
import type { ComponentSpec, WorldSpec } from '../../../shared/runtime/component.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { FaultRule } from '../../../shared/runtime/interceptor.ts';
import type { BufferWrite, RegisterFile } from '../../../shared/protocol/messages.ts';
import { type RuntimeName, runWorldInMemory } from '../../../shared/runtime/run-world.ts';
import type { HypervisorConfig, VmConfig } from '../config.ts';

/** How an SP says which messages it takes, in the SPMC config's words (the config is plain data). */
type MessagingMethod = 'direct' | 'indirect' | 'vm-created' | 'vm-destroyed';
import type { ActorConfig, ActorStep } from './actor.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';
import { controlRequest, type ControlData } from '../../../shared/protocol/control.ts';

export const HYPERVISOR = 'hypervisor';
export const GIC = 'gic';
export const SPMC = 'spmc';
const ACTOR_MODULE = 'services/hypervisor/test-support/actor.ts';

/** OP-TEE's SP under Xen with NS-virtualization: told of VM creation and destruction (VM_CREATED/DESTROYED). */
export const OPTEE_VIRTUALIZED: SpDescription = {
  id: OPTEE_SP_ID,
  name: 'optee',
  behaviour: 'optee',
  vcpus: 4,
  uuid: OPTEE_UUID,
  notifications: false,
  messaging: ['direct', 'vm-created', 'vm-destroyed'],
};

/** One SP of the SPMC's partition table (the hypervisor learns it from the SPMC at probe). */
export interface SpDescription {
  id: number;
  name: string;
  behaviour: 'raw' | 'optee' | 'echo' | 'notifier';
  vcpus: number;
  uuid: string;
  notifications: boolean;
  messaging: MessagingMethod[];
}

export interface HypervisorWorld {
  spmcProfile: 'optee' | 'hafnium';
  cpus?: number;
  /** NWd VM slots at the SPMC (default: the profile's, OP-TEE 2, Hafnium 16). */
  vmSlots?: number;
  partitions: SpDescription[];
  /** Over the defaults below (spmd, gic, cpus, controllers). */
  hypervisor?: HypervisorConfig;
  actors: Record<string, ActorConfig>;
  /** The VM IDs each actor may receive virtual interrupts of (GIC rights). */
  guestVms?: Record<string, number[]>;
  /** When false, the SPMC raises no SRI at the GIC (it only records it). */
  spmcRaisesSri?: boolean;
  faults?: FaultRule[];
}

function spmcPartition(sp: SpDescription): Record<string, unknown> {
  const { id, name, behaviour, vcpus, uuid, notifications, messaging } = sp;
  return { id, name, behaviour, vcpus, uuid, notifications, messaging };
}

function gicRights(world: HypervisorWorld, actors: string[]): Record<string, unknown> {
  const rights: Record<string, unknown> = {
    [SPMC]: { raisePhysical: true, subscribePhysical: 'all', world: 'secure' },
    [HYPERVISOR]: { raisePhysical: true, subscribePhysical: 'all', raiseVirtual: 'any', configure: true },
  };
  for (const actor of actors) rights[actor] = { configure: true, raisePhysical: true, subscribeVirtual: world.guestVms?.[actor] ?? [] };
  return rights;
}

export function hypervisorWorldSpec(world: HypervisorWorld): WorldSpec {
  const cpus = world.cpus ?? 4;
  const actors = Object.keys(world.actors);
  const hypervisorConfig: HypervisorConfig = {
    cpus,
    spmd: 'spmd',
    gic: GIC,
    controllers: actors,
    ...world.hypervisor,
  };
  const spmcConfig = {
    profile: world.spmcProfile,
    cpus,
    spmd: 'spmd',
    relayFrom: actors,
    gic: world.spmcRaisesSri === false ? null : GIC,
    partitions: world.partitions.map(spmcPartition),
    ...(world.vmSlots === undefined ? {} : { vmSlots: world.vmSlots }),
  };
  const components: ComponentSpec[] = [
    { name: HYPERVISOR, role: 'hypervisor', module: 'services/hypervisor/hypervisor.ts', config: hypervisorConfig },
    { name: 'spmd', role: 'spmd', module: 'services/spmd/spmd.ts', config: { spmc: SPMC, secureSide: [SPMC], normalWorld: HYPERVISOR } },
    { name: SPMC, role: 'spmc', module: 'services/spmc/spmc.ts', config: spmcConfig },
    { name: GIC, role: 'gic', module: 'services/gic/gic.ts', config: { cpus, rights: gicRights(world, actors), maxVms: 64 } },
    ...actors.map((name): ComponentSpec => ({ name, role: 'test', module: ACTOR_MODULE, config: world.actors[name] })),
  ];
  const links: [string, string][] = [
    [HYPERVISOR, 'spmd'],
    ['spmd', SPMC],
    [HYPERVISOR, GIC],
    [SPMC, GIC],
    ...actors.flatMap((name): [string, string][] => [
      [name, HYPERVISOR],
      [name, SPMC],
      [name, GIC],
    ]),
  ];
  return { seed: 7, components, links, finishers: actors };
}

/** Bound on one test world (wall time under ws, virtual time under sim). */
const WORLD_TIMEOUT_MS = 60_000;

/** Runs the world; every actor must finish and no await may time out. */
export async function runHypervisorWorld(world: HypervisorWorld, runtime: RuntimeName): Promise<HistoryEntry[]> {
  const { result, entries } = await runWorldInMemory(hypervisorWorldSpec(world), {
    runtime,
    timeoutMs: WORLD_TIMEOUT_MS,
    ...(world.faults ? { faults: world.faults } : {}),
  });
  assert.equal(result.ended, 'done', `the world ended ${result.ended}`);
  for (const actor of Object.keys(world.actors)) {
    assert.deepEqual(records(entries, actor, 'actor-timeout'), [], `${actor} timed out waiting`);
  }
  return entries;
}

// ---------------------------------------------------------------- steps

/** A guest's HVC call to the hypervisor, as VM `vm` on its vCPU `vcpu`. */
export function hvc(label: string, vm: number, regs: RegisterFile, vcpu = 0): ActorStep {
  return { do: 'call', label, to: HYPERVISOR, conduit: 'hvc', endpoint: vm, vcpu, cpu: 0, regs };
}

/** A controller's vm-create, awaiting its result. */
export function createVm(vm: VmConfig, label = `create ${vm.name}`): ActorStep {
  return { do: 'control', label, to: HYPERVISOR, op: 'vm-create', data: vm, awaitOp: 'vm-create-result' };
}

export function lifecycleOp<Op extends 'vm-destroy' | 'vm-reboot' | 'vcpu-online' | 'vcpu-offline'>(op: Op, data: ControlData<Op>, label: string): ActorStep {
  return { do: 'control', label, to: HYPERVISOR, ...controlRequest(op, data), awaitOp: `${op}-result` };
}

/** Subscribe the actor to every vCPU's virtual interrupts of a VM it stands for. */
export function subscribeVirtual(vm: number): ActorStep {
  return { do: 'irq', to: GIC, frame: { op: 'subscribe', intid: 8, group: 'nonsecure', cpu: -1, vm, vcpu: -1 } };
}

/** Enable or disable an SGI at the GIC on every CPU (the tests hold the SRI back while they set up). */
export function configureIntid(intid: number, enabled: boolean): ActorStep {
  return { do: 'control', label: `intid ${intid} ${enabled ? 'on' : 'off'}`, to: GIC, op: 'gic-configure', data: { intid, enabled } };
}

/** Wait until the hypervisor has finished at least `loops` SRI loops and is not running one. */
export function awaitSriLoops(loops: number, label = `${loops} SRI loops`): ActorStep {
  return {
    do: 'poll',
    label,
    to: HYPERVISOR,
    op: 'hypervisor-status',
    resultOp: 'hypervisor-status-result',
    untilAtLeast: { sriLoopsCompleted: loops },
    untilEquals: { sriLoopRunning: false },
    everyNs: 1_000_000,
    maxPolls: 20_000,
  };
}

/** Wait until the GIC has handled every frame the hypervisor sent it so far (its injections). */
/**
 * Every SRI the SPMC raised so far has reached the GIC (services/spmc spmc-sync): before the test
 * enables the SRI on its own link, or a raise still on its way arrives after the delivery and is
 * delivered again (a second INFO_GET loop).
 */
export function syncSpmcWithGic(label = 'the SRIs reached the GIC'): ActorStep {
  return { do: 'control', label, to: SPMC, op: 'spmc-sync', data: null, awaitOp: 'spmc-sync-result' };
}

/**
 * The hypervisor's GIC barrier: answered once the GIC has handled everything the hypervisor sent it
 * before, on their FIFO link. A lifecycle answer says only that its placement messages were sent,
 * so a test that reads the GIC's records after one ends with this.
 */
export function syncHypervisorWithGic(label = 'hypervisor synced with the GIC'): ActorStep {
  return { do: 'control', label, to: HYPERVISOR, op: 'hypervisor-sync', data: null, awaitOp: 'hypervisor-sync-result' };
}

// ---------------------------------------------------------------- reading the history

/** A component's semantic records of one kind, in order. */
export function records(entries: readonly HistoryEntry[], component: string, event: RecordEvent): Record<string, unknown>[] {
  return entries.flatMap((entry) => {
    const recorded = entry.event;
    return recorded.type === 'record' && recorded.component === component && recorded.data['event'] === event ? [recorded.data] : [];
  });
}

/** Every record of a component, in order (to check the order of its own events). */
export function allRecords(entries: readonly HistoryEntry[], component: string): Record<string, unknown>[] {
  return entries.flatMap((entry) => (entry.event.type === 'record' && entry.event.component === component ? [entry.event.data] : []));
}

/** An actor's call results by label; each label must be used once. */
export function resultsOf(entries: readonly HistoryEntry[], actor: string): Map<string, RegisterFile> {
  const byLabel = new Map<string, RegisterFile>();
  for (const result of records(entries, actor, 'actor-result')) {
    const label = String(result['label']);
    assert.ok(!byLabel.has(label), `label ${label} is used twice`);
    assert.equal(result['ok'], true, `${label} failed: ${String(result['reason'])}`);
    byLabel.set(label, result['regs'] as RegisterFile);
  }
  return byLabel;
}

/** What each labelled call of an actor wrote into an RX buffer on its side (null: nothing). */
export function memoryOf(entries: readonly HistoryEntry[], actor: string): Map<string, BufferWrite | null> {
  return new Map(records(entries, actor, 'actor-result').map((r) => [String(r['label']), (r['memory'] ?? null) as BufferWrite | null]));
}

/** Calls delivered to a component from another, with the buffer memory each carried. */
export function callsWithMemory(entries: readonly HistoryEntry[], from: string, to: string): { regs: RegisterFile; memory: BufferWrite | null }[] {
  return entries.flatMap((entry) => {
    const { event } = entry;
    return event.type === 'deliver' && event.from === from && event.to === to && event.message.kind === 'call' ? [{ regs: event.message.regs, memory: event.message.memory }] : [];
  });
}

/** The registers of one labelled call. */
export function returned(results: Map<string, RegisterFile>, label: string): RegisterFile {
  const regs = results.get(label);
  assert.ok(regs, `no result for ${label}`);
  return regs;
}

/** The data of an actor's awaited control answers, by label. */
export function controlAnswers(entries: readonly HistoryEntry[], actor: string): Map<string, Record<string, unknown>> {
  return new Map(records(entries, actor, 'actor-control').map((r) => [String(r['label']), r['data'] as Record<string, unknown>]));
}

/** Calls delivered to a component from another, in order (what actually crossed a link). */
export function callsDelivered(entries: readonly HistoryEntry[], from: string, to: string): RegisterFile[] {
  return entries.flatMap((entry) => {
    const { event } = entry;
    return event.type === 'deliver' && event.from === from && event.to === to && event.message.kind === 'call' ? [event.message.regs] : [];
  });
}
