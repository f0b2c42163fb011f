/**
 * Worlds for the guest's tests, built from the real components: guests (services/guest) → the
 * Xen-like hypervisor (services/hypervisor) or, bare metal, straight → the TF-A-like SPMD
 * (services/spmd) → the SPMC (services/spmc, OP-TEE-like or Hafnium-like) with OP-TEE's SP
 * 0x8001 (and, when asked, a notifier SP 0x8002), and the GIC broker (services/gic) carrying the
 * SRI and the virtual NPIs. A scenario actor (scenario-actor.ts) waits for the guests' milestones
 * and makes the SPs send; it is every guest's observer and controller, a relayFrom component of
 * the SPMC and a controller of the hypervisor.
 */
import assert from 'node:assert/strict';
import { decodeResult, OPTEE_SP_ID, OPTEE_UUID } from '../../../shared/ffa/index.ts';
import type { ComponentSpec, WorldSpec } from '../../../shared/runtime/component.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { type RuntimeName, runWorldInMemory } from '../../../shared/runtime/run-world.ts';
import type { GuestConfig, GuestPolicies } from '../config.ts';

export type { GuestPolicies } from '../config.ts';
import type { VariantName } from '../variants.ts';
import type { ActorStep, ScenarioActorConfig } from './scenario-actor.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';
import { controlRequest, type ControlData } from '../../../shared/protocol/control.ts';
import type { DriverControlOp } from '../controls.ts';

export const ACTOR = 'actor';
export const HYPERVISOR = 'hypervisor';
export const SPMC = 'spmc';
export const GIC = 'gic';
/** The bare-metal host kernel's component name. */
export const HOST = 'host';
/** A second SP that sets notifications when the actor asks (services/spmc behaviour 'notifier'). */
export const NOTIFIER_SP_ID = 0x8002;

export interface GuestSpec {
  name: string;
  variant: VariantName;
  vcpus: number;
  /** Under Xen: the VM's FF-A ID (domid + 1). */
  vmId?: number;
  opteeClient?: boolean;
  policies?: Partial<GuestPolicies>;
  /** Under Xen: the physical CPU of each vCPU (default vCPU i on CPU i). */
  pcpus?: number[];
  /**
   * Under Xen: the guest registers (no vmId, no VM in the hypervisor's config, no GIC rights: the
   * hypervisor creates its VM and assigns it its virtual interrupts).
   */
  register?: boolean;
  advertiseUrl?: string;
  /** With register: the machine it says it runs on. */
  hostLabel?: string;
}

export interface GuestWorld {
  /** 'xen': guests under the hypervisor; 'none': one bare-metal host (guests[0]) at the SPMD. */
  hypervisor: 'xen' | 'none';
  spmcProfile: 'optee' | 'hafnium';
  spmcPolicies?: Record<string, unknown>;
  hypervisorPolicies?: Record<string, unknown>;
  /** Adds the notifier SP 0x8002 beside OP-TEE's. */
  notifierSp?: boolean;
  cpus?: number;
  /** NWd VM bitmap slots at the SPMC (default: the profile's). */
  vmSlots?: number;
  /** The actor may configure interrupts at the GIC (and gic-sync with it). */
  actorAtGic?: boolean;
  /** The hypervisor's config.registration (guests may register). */
  registration?: boolean;
  seed?: number;
  guests: GuestSpec[];
  actor: ActorStep[];
}

interface SpDescription {
  id: number;
  name: string;
  behaviour: 'optee' | 'notifier';
  uuid: string;
  messaging: string[];
}

/** OP-TEE's SP takes VM_CREATED/DESTROYED only with NS-virtualization (the optee profile under Xen). */
function spsOf(world: GuestWorld): SpDescription[] {
  const opteeMessaging = world.hypervisor === 'xen' && world.spmcProfile === 'optee' ? ['direct', 'vm-created', 'vm-destroyed'] : ['direct'];
  const sps: SpDescription[] = [{ id: OPTEE_SP_ID, name: 'optee', behaviour: 'optee', uuid: OPTEE_UUID, messaging: opteeMessaging }];
  if (world.notifierSp) sps.push({ id: NOTIFIER_SP_ID, name: 'notifier', behaviour: 'notifier', uuid: '8002aaaa-0000-4000-8000-000000000002', messaging: ['direct'] });
  return sps;
}

/** Bare metal with OP-TEE: no NS-virtualization, one bitmap for VM 0 (thread_spmc.c default_notif_vm_bitmap). */
function spmcPolicies(world: GuestWorld): Record<string, unknown> {
  const bareMetalOptee = world.hypervisor === 'none' && world.spmcProfile === 'optee' ? { vmBitmapLifecycle: 'vm0-only' } : {};
  return { ...bareMetalOptee, ...world.spmcPolicies };
}

function guestComponent(world: GuestWorld, spec: GuestSpec): ComponentSpec {
  const bareMetal = world.hypervisor === 'none';
  const config: GuestConfig = {
    variant: spec.variant,
    vcpus: spec.vcpus,
    firmware: bareMetal ? 'spmd' : HYPERVISOR,
    conduit: bareMetal ? 'smc' : 'hvc',
    gic: GIC,
    opteeClient: spec.opteeClient ?? false,
    controllers: [ACTOR],
    observers: [ACTOR],
    ...(spec.vmId === undefined ? {} : { vmId: spec.vmId }),
    ...(spec.register ? { registration: true } : {}),
    ...(spec.advertiseUrl === undefined ? {} : { advertiseUrl: spec.advertiseUrl }),
    ...(spec.hostLabel === undefined ? {} : { hostLabel: spec.hostLabel }),
    ...(spec.policies === undefined ? {} : { policies: spec.policies }),
    ...(bareMetal ? { placement: Array.from({ length: spec.vcpus }, (_, index) => index) } : {}),
  };
  return { name: spec.name, role: 'guest', module: 'services/guest/guest.ts', config };
}

function gicRights(world: GuestWorld): Record<string, unknown> {
  const rights: Record<string, unknown> = { [SPMC]: { raisePhysical: true, subscribePhysical: 'all', world: 'secure' } };
  if (world.hypervisor === 'xen') {
    rights[HYPERVISOR] = { raisePhysical: true, subscribePhysical: 'all', raiseVirtual: 'any', configure: true };
    for (const guest of world.guests) {
      if (!guest.register) rights[guest.name] = { subscribeVirtual: guest.vmId === undefined ? [] : [guest.vmId] };
    }
  } else {
    rights[HOST] = { subscribePhysical: 'all' };
  }
  if (world.actorAtGic) rights[ACTOR] = { configure: true };
  return rights;
}

function hypervisorComponent(world: GuestWorld, sps: readonly SpDescription[], cpus: number): ComponentSpec {
  const vms = world.guests.filter((guest) => !guest.register).map((guest) => ({
    name: guest.name,
    vcpus: guest.vcpus,
    component: guest.name,
    ...(guest.vmId === undefined ? {} : { id: guest.vmId }),
    ...(guest.pcpus === undefined ? {} : { pcpus: guest.pcpus }),
  }));
  const config = {
    cpus,
    spmd: 'spmd',
    gic: GIC,
    controllers: [ACTOR],
    vms,
    ...(world.hypervisorPolicies ? { policies: world.hypervisorPolicies } : {}),
    ...(world.registration ? { registration: true } : {}),
  };
  return { name: HYPERVISOR, role: 'hypervisor', module: 'services/hypervisor/hypervisor.ts', config };
}

export function guestWorldSpec(world: GuestWorld): WorldSpec {
  const cpus = world.cpus ?? 4;
  const sps = spsOf(world);
  const xen = world.hypervisor === 'xen';
  if (!xen) assert.equal(world.guests.length, 1, 'a bare-metal world has one host kernel');
  if (!xen) assert.equal(world.guests[0]?.name, HOST, `the bare-metal kernel is named ${HOST}`);
  const spmcConfig = {
    profile: world.spmcProfile,
    cpus,
    spmd: 'spmd',
    relayFrom: [ACTOR],
    gic: GIC,
    policies: spmcPolicies(world),
    ...(world.vmSlots === undefined ? {} : { vmSlots: world.vmSlots }),
    partitions: sps.map((sp) => ({ id: sp.id, name: sp.name, behaviour: sp.behaviour, vcpus: cpus, uuid: sp.uuid, messaging: sp.messaging })),
  };
  const actorConfig: ScenarioActorConfig = { steps: world.actor };
  const components: ComponentSpec[] = [
    ...world.guests.map((guest) => guestComponent(world, guest)),
    ...(xen ? [hypervisorComponent(world, sps, cpus)] : []),
    { name: 'spmd', role: 'spmd', module: 'services/spmd/spmd.ts', config: { spmc: SPMC, secureSide: [SPMC], normalWorld: xen ? HYPERVISOR : null } },
    { name: SPMC, role: 'spmc', module: 'services/spmc/spmc.ts', config: spmcConfig },
    { name: GIC, role: 'gic', module: 'services/gic/gic.ts', config: { cpus, rights: gicRights(world), maxVms: 64 } },
    { name: ACTOR, role: 'test', module: 'services/guest/test-support/scenario-actor.ts', config: actorConfig },
  ];
  const firmware = xen ? HYPERVISOR : 'spmd';
  const links: [string, string][] = [
    ...world.guests.flatMap((guest): [string, string][] => [
      [guest.name, firmware],
      [guest.name, GIC],
      [ACTOR, guest.name],
    ]),
    ...(xen ? ([[HYPERVISOR, 'spmd'], [HYPERVISOR, GIC], [ACTOR, HYPERVISOR]] as [string, string][]) : []),
    ['spmd', SPMC],
    [SPMC, GIC],
    [ACTOR, SPMC],
    ...(world.actorAtGic ? ([[ACTOR, GIC]] as [string, string][]) : []),
  ];
  return { seed: world.seed ?? 7, components, links, finishers: [ACTOR] };
}

/**
 * Guest policies for worlds under services/hypervisor: none beyond the defaults. The hypervisor
 * answers FFA_PARTITION_INFO_GET_REGS from its cached SP list (docs/ffa-reference.md §5.4), so today's
 * driver discovers partitions with it (partition-discovery.test.ts). To model a driver from
 * before it (RX buffer discovery), give `partitionInfoRegs: 'never'`.
 */
export const XEN_GUEST_POLICIES: Partial<GuestPolicies> = {};

/** Bound on one world (wall time under ws, virtual time under sim). */
const WORLD_TIMEOUT_MS = 60_000;

/** Runs the world; the actor must finish without any await timing out. */
export async function runGuestWorld(world: GuestWorld, runtime: RuntimeName): Promise<HistoryEntry[]> {
  const { result, entries } = await runWorldInMemory(guestWorldSpec(world), { runtime, timeoutMs: WORLD_TIMEOUT_MS });
  assert.equal(result.ended, 'done', `the world ended ${result.ended}`);
  assert.deepEqual(records(entries, ACTOR, 'actor-timeout'), [], 'an actor await timed out');
  return entries;
}

// ---------------------------------------------------------------- actor steps

/** Wait until guest `name` has finished its probe (the FF-A driver and its client drivers). */
export const awaitProbe = (name: string): ActorStep => ({ do: 'await-event', label: `${name} probed`, from: name, event: 'done' });

export const awaitBottomHalf = (name: string, timeoutNs?: number): ActorStep => ({
  do: 'await-event',
  label: `${name} bottom half`,
  from: name,
  event: 'optee-bottom-half',
  ...(timeoutNs === undefined ? {} : { timeoutNs }),
});

/** OP-TEE's notif_send_async(NOTIF_VALUE_DO_BOTTOM_HALF, vm), on physical CPU `cpu`. */
export const opteeSend = (vm: number, cpu = 0): ActorStep => ({ do: 'control', label: `optee send to ${vm}`, to: SPMC, op: 'optee-notif-send', data: { vm, cpu } });

/** The notifier SP sets `bitmap` for `receiver` on `cpu`. */
export const notifierSet = (receiver: number, bitmap: number, cpu = 0): ActorStep => ({
  do: 'control',
  label: `notifier sets 0x${bitmap.toString(16)} for ${receiver}`,
  to: SPMC,
  op: 'notifier-set',
  data: { sp: NOTIFIER_SP_ID, receiver, bitmap, cpu },
});

export const wait = (ns: number): ActorStep => ({ do: 'wait', ns });

/** A point in the script a test harness acts on (link-cut.ts). */
export const mark = (label: string): ActorStep => ({ do: 'mark', label });

/** A hypervisor life-cycle request, awaiting its result. */
export const vcpuLifecycle = (op: 'vcpu-online' | 'vcpu-offline', vm: string, vcpu: number): ActorStep => ({
  do: 'control',
  label: `${op} ${vm} ${vcpu}`,
  to: HYPERVISOR,
  op,
  data: { vm, vcpu },
  awaitOp: `${op}-result`,
});

/** Enable or disable an INTID at the GIC, then a gic-sync round trip: the change is in place. */
export const configureAtGic = (intid: number, enabled: boolean): ActorStep[] => [
  { do: 'control', label: `INTID ${intid} ${enabled ? 'enabled' : 'disabled'}`, to: GIC, op: 'gic-configure', data: { intid, enabled } },
  { do: 'control', label: `gic-sync after INTID ${intid}`, to: GIC, op: 'gic-sync', data: enabled ? 1 : 0, awaitOp: 'gic-synced' },
];

/** JSON with bigints as "0x…" (for step labels). */
function shown(data: Record<string, unknown>): string {
  return JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? `0x${value.toString(16)}` : value));
}

/** A control op to a guest (controls.ts, and the bare-metal guest's own CPU hotplug), awaiting its result. */
export const guestControl = <Op extends DriverControlOp | 'vcpu-online' | 'vcpu-offline'>(guest: string, op: Op, data: ControlData<Op>, label = `${op} ${shown(data)}`): ActorStep => ({
  do: 'control',
  label,
  to: guest,
  ...controlRequest(op, data),
  awaitOp: `${op}-result`,
});

// ---------------------------------------------------------------- reading the history

/** A component's semantic records of one kind, in order. */
export function records(entries: readonly HistoryEntry[], component: string, event: RecordEvent): Record<string, unknown>[] {
  return entries.flatMap((entry) => {
    const recorded = entry.event;
    return recorded.type === 'record' && recorded.component === component && recorded.data['event'] === event ? [recorded.data] : [];
  });
}

/** Like records(), with each record's history sequence number (for "happened after"). */
export function recordsWithSeq(entries: readonly HistoryEntry[], component: string, event: RecordEvent): { seq: number; data: Record<string, unknown> }[] {
  return entries.flatMap((entry) => {
    const recorded = entry.event;
    return recorded.type === 'record' && recorded.component === component && recorded.data['event'] === event ? [{ seq: entry.seq, data: recorded.data }] : [];
  });
}

/** The probe as `ABI(arg) → result` lines, in order (docs/ffa-reference.md §4.1-§4.3). */
export function probeSequence(entries: readonly HistoryEntry[], guest: string): string[] {
  return records(entries, guest, 'probe-call').map((call) => {
    const arg = call['arg'] === undefined ? '' : `(${String(call['arg'])})`;
    return `${String(call['abi'])}${arg} → ${String(call['result'])}`;
  });
}

/**
 * What the SPMC answered the calls of one function ID, in the SPMC's own order ("SUCCESS" or the
 * error's name). Under ws the history interleaves components as their reports arrive, so an
 * order across components is not causal; one component's own order is.
 */
export function spmcAnswers(entries: readonly HistoryEntry[], fid: number): string[] {
  const calls = new Set<number>();
  const answers: string[] = [];
  for (const entry of entries) {
    const event = entry.event;
    if (event.type === 'deliver' && event.to === SPMC && event.message.kind === 'call' && event.message.regs[0] === BigInt(fid)) calls.add(event.message.id);
    if (event.type === 'send' && event.from === SPMC && event.message.kind === 'return' && calls.has(event.message.id)) {
      const decoded = decodeResult(event.message.regs);
      answers.push(decoded.kind === 'error' ? (decoded.name ?? String(decoded.code)) : decoded.kind === 'success' ? 'SUCCESS' : 'other');
    }
  }
  return answers;
}

/** The GIC's deliveries of virtual `intid` to VM `vm`. */
export function virtualDeliveries(entries: readonly HistoryEntry[], vm: number, intid: number): Record<string, unknown>[] {
  return records(entries, GIC, 'gic-deliver').filter((d) => d['vm'] === vm && d['intid'] === intid);
}
