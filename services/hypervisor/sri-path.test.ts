/**
 * The SRI → INFO_GET → NPI path (docs/ffa-reference.md §5.3) with 25 VMs pending, more than one INFO_GET
 * return can name (20 IDs), through the runtime with the real SPMD, SPMC and GIC:
 * - Hafnium (destructive INFO_GET): the loop runs while "more pending" (two iterations at least)
 *   and every VM is named once;
 * - OP-TEE (non-destructive, "more pending" while the list is full): the same 20 VMs come back
 *   every time, the loop hits its bound (recorded), and the other 5 VMs are never named.
 * Either way each named VM is marked pending and its NPI injected into its first online vCPU, or
 * latched when every vCPU is offline (and, Xen's way, still latched when one comes back).
 *
 * The SRI is held back at the GIC (disabled) while the SPs set their notifications, and enabled
 * once the SPMC has taken every set (a relay call to it answers after the controls before it) and
 * its SRIs have reached the GIC (spmc-sync), so the hypervisor's first INFO_GET sees all 25 VMs
 * pending, and there is one SRI delivery, under either runtime.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FFA_FIDS, msgSendDirectReq32, notificationBind, OPTEE_SP_ID, OPTEE_UUID, registers } from '../../shared/ffa/index.ts';
import type { HistoryEntry } from '../../shared/runtime/history.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { ActorStep } from './test-support/actor.ts';
import { assertSuccess } from './test-support/expect.ts';
import {
  GIC,
  HYPERVISOR,
  SPMC,
  awaitSriLoops,
  configureIntid,
  createVm,
  hvc,
  lifecycleOp,
  records,
  resultsOf,
  returned,
  runHypervisorWorld,
  subscribeVirtual,
  syncHypervisorWithGic,
  syncSpmcWithGic,
  type HypervisorWorld,
  type SpDescription,
} from './test-support/world.ts';

const VM_COUNT = 25;
const VMS = Array.from({ length: VM_COUNT }, (_, index) => index + 1);
/** Every vCPU offline: the NPI cannot be injected and stays latched. */
const ALL_OFFLINE = [1, VM_COUNT];
/** vCPU 0 offline: the first online vCPU is 1. */
const FIRST_OFFLINE = [2, VM_COUNT - 1];
const SRI = 8;
const NPI = 8;
const SRI_CPU = 1;

/** Create the VMs (2 vCPUs each, on CPUs 0 and 1, all standing for the 'guests' actor) and subscribe to their NPIs. */
function setUpVms(): ActorStep[] {
  return [
    ...VMS.map((id) => createVm({ name: `vm${id}`, id, vcpus: 2, component: 'guests' })),
    ...VMS.map((id) => subscribeVirtual(id)),
    ...VMS.map((id) => hvc(`vm${id} version`, id, registers(FFA_FIDS.FFA_VERSION, 0x1_0002))),
  ];
}

function takeVcpusOffline(): ActorStep[] {
  return [
    ...ALL_OFFLINE.flatMap((id) => [0, 1].map((vcpu) => lifecycleOp('vcpu-offline', { vm: `vm${id}`, vcpu }, `vm${id} vcpu ${vcpu} off`))),
    ...FIRST_OFFLINE.map((id) => lifecycleOp('vcpu-offline', { vm: `vm${id}`, vcpu: 0 }, `vm${id} vcpu 0 off`)),
  ];
}

/** Hold the SRI, let every VM's notification be set, make sure the SPMC took them all, release it. */
function setAllWhileSriHeld(sets: ActorStep[], relayAs: number): ActorStep[] {
  return [
    configureIntid(SRI, false),
    { do: 'gic-sync', label: 'sri held', to: GIC },
    ...sets,
    { do: 'call', label: 'spmc took every set', to: SPMC, conduit: 'relay', endpoint: relayAs, vcpu: 0, cpu: 0, regs: registers(FFA_FIDS.FFA_ID_GET) },
    syncSpmcWithGic(),
    configureIntid(SRI, true),
    awaitSriLoops(1),
    syncHypervisorWithGic(),
  ];
}

/** After the loop: the NPIs the GIC delivered, then the latched VMs come back (one vCPU) and ask. */
function afterTheLoop(delivered: readonly number[], latched: readonly number[]): ActorStep[] {
  return [
    ...delivered.map((id): ActorStep => ({ do: 'await-irq', label: `npi vm${id}`, vm: id, intid: NPI })),
    ...latched.map((id) => lifecycleOp('vcpu-online', { vm: `vm${id}`, vcpu: 1 }, `vm${id} vcpu 1 on`)),
    ...latched.map((id) => hvc(`vm${id} info get`, id, registers(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64), 1)),
  ];
}

function sriWorld(base: Omit<HypervisorWorld, 'actors' | 'guestVms'>, steps: ActorStep[]): HypervisorWorld {
  return { ...base, actors: { guests: { steps, ackVirtual: true } }, guestVms: { guests: VMS } };
}

// ---------------------------------------------------------------- Hafnium

const NOTIFIER: SpDescription = { id: 0x8001, name: 'notifier', behaviour: 'notifier', vcpus: 4, uuid: '00000000-0000-0000-0000-000000008001', notifications: true, messaging: ['direct'] };

function hafniumWorld(): HypervisorWorld {
  const binds = VMS.map((id) => hvc(`vm${id} bind`, id, notificationBind.encodeCall({ sender: NOTIFIER.id, receiver: id, bitmap: 1n })));
  const sets = VMS.map((id): ActorStep => ({ do: 'control', label: `set vm${id}`, to: SPMC, op: 'notifier-set', data: { sp: NOTIFIER.id, receiver: id, bitmap: 1, cpu: SRI_CPU } }));
  const delivered = VMS.filter((id) => !ALL_OFFLINE.includes(id));
  const steps = [...setUpVms(), ...binds, ...takeVcpusOffline(), ...setAllWhileSriHeld(sets, NOTIFIER.id), ...afterTheLoop(delivered, ALL_OFFLINE)];
  return sriWorld({ spmcProfile: 'hafnium', vmSlots: 32, partitions: [NOTIFIER] }, steps);
}

// ---------------------------------------------------------------- OP-TEE

const OPTEE: SpDescription = { id: OPTEE_SP_ID, name: 'optee', behaviour: 'optee', vcpus: 4, uuid: OPTEE_UUID, notifications: false, messaging: ['direct', 'vm-created', 'vm-destroyed'] };
/** optee_ffa.h OPTEE_FFA_ENABLE_ASYNC_NOTIF: w3 = 5, w4 = the notification ID. */
const ENABLE_ASYNC_NOTIF = 5n;
const LOOP_BOUND = 4;

function opteeWorld(): HypervisorWorld {
  const enable = VMS.map((id) => hvc(`vm${id} enable async notif`, id, msgSendDirectReq32.encodeCall({ sender: id, receiver: OPTEE_SP_ID, payload: [ENABLE_ASYNC_NOTIF, 3n] })));
  const sends = VMS.map((id): ActorStep => ({ do: 'control', label: `send vm${id}`, to: SPMC, op: 'optee-notif-send', data: { vm: id, cpu: SRI_CPU } }));
  // Which 20 VMs OP-TEE names is its list order; the test reads it from the history.
  const steps = [...setUpVms(), ...enable, ...takeVcpusOffline(), ...setAllWhileSriHeld(sends, OPTEE_SP_ID)];
  return sriWorld(
    { spmcProfile: 'optee', vmSlots: VM_COUNT, partitions: [OPTEE], hypervisor: { policies: { infoGetLoopBound: LOOP_BOUND } } },
    steps,
  );
}

// ---------------------------------------------------------------- checks

interface InfoGet {
  iteration: number;
  morePending: boolean;
  ids: number[];
  cpu: number;
}

function infoGets(entries: readonly HistoryEntry[]): InfoGet[] {
  return records(entries, HYPERVISOR, 'info-get') as unknown as InfoGet[];
}

/** Every named VM: pending, and its NPI injected into its first online vCPU, or latched. */
function checkNpis(entries: readonly HistoryEntry[], named: ReadonlySet<number>, timesNamed: (id: number) => number): void {
  const pending = records(entries, HYPERVISOR, 'vm-pending').map((r) => r['vm'] as number);
  const injected = records(entries, HYPERVISOR, 'npi-inject').filter((r) => r['cause'] === 'sri');
  const latched = records(entries, HYPERVISOR, 'npi-latched').map((r) => r['vm'] as number);
  for (const id of VMS) {
    const expectedTimes = named.has(id) ? timesNamed(id) : 0;
    assert.equal(pending.filter((vm) => vm === id).length, expectedTimes, `vm${id} marked pending once per naming`);
    const mine = injected.filter((r) => r['vm'] === id);
    if (ALL_OFFLINE.includes(id)) {
      assert.equal(mine.length, 0, `vm${id}: every vCPU offline, nothing injected`);
      assert.equal(latched.filter((vm) => vm === id).length, expectedTimes, `vm${id}: latched`);
      continue;
    }
    const firstOnline = FIRST_OFFLINE.includes(id) ? 1 : 0;
    assert.equal(mine.length, expectedTimes, `vm${id}: one NPI per naming`);
    for (const record of mine) {
      assert.equal(record['vcpu'], firstOnline, `vm${id}: the NPI goes to the first online vCPU`);
      assert.equal(record['intid'], NPI);
    }
  }
  // What the hypervisor injected, the GIC raised at that vCPU.
  const raised = records(entries, GIC, 'gic-raise').filter((r) => r['from'] === HYPERVISOR && r['vm'] !== undefined);
  const merged = records(entries, GIC, 'gic-merge').filter((r) => r['from'] === HYPERVISOR && r['vm'] !== undefined);
  assert.equal(raised.length + merged.length, injected.length, 'every injection reached the GIC');
  for (const record of raised) assert.equal(record['vcpu'], FIRST_OFFLINE.includes(record['vm'] as number) ? 1 : 0);
}

/** The latched VMs came back on vCPU 1: nothing re-injected (Xen), and their own INFO_GET finds the flag. */
function checkLatchedComeBack(entries: readonly HistoryEntry[], latchedNamed: readonly number[]): void {
  const still = records(entries, HYPERVISOR, 'npi-still-latched').map((r) => r['vm']);
  assert.deepEqual(still, latchedNamed, 'stay-latched: a vCPU coming online re-injects nothing');
  assert.equal(records(entries, HYPERVISOR, 'npi-inject').filter((r) => r['cause'] === 'vcpu-online').length, 0);
  const results = resultsOf(entries, 'guests');
  for (const id of latchedNamed) {
    assertSuccess(returned(results, `vm${id} info get`), `vm${id} info get`, { w0: FFA_FIDS.FFA_SUCCESS_64, x: { 2: 1n << 7n, 3: BigInt(id) } });
  }
}

for (const runtime of RUNTIMES) {
  test(`Hafnium, 25 VMs pending: INFO_GET loops while more pending, every VM's NPI at its first online vCPU [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(hafniumWorld(), runtime);
    assert.deepEqual(records(entries, HYPERVISOR, 'sri-taken').map((r) => r['cpu']), [SRI_CPU], 'one SRI, held and released');
    const loop = infoGets(entries);
    assert.ok(loop.length >= 2, `${loop.length} INFO_GET iterations`);
    assert.equal(loop[0]?.morePending, true, 'the first return is full and says more pending');
    assert.equal(loop[0]?.ids.length, 20, 'a 64-bit return names at most 20 IDs');
    assert.equal(loop.at(-1)?.morePending, false);
    assert.ok(loop.every((call) => call.cpu === SRI_CPU), 'the loop runs on the CPU that took the SRI');
    const named = loop.flatMap((call) => call.ids);
    assert.deepEqual([...named].sort((a, b) => a - b), VMS, 'destructive: every VM named exactly once');
    assert.deepEqual(records(entries, HYPERVISOR, 'info-get-loop-bound'), []);
    checkNpis(entries, new Set(VMS), () => 1);
    const delivered = new Set(records(entries, 'guests', 'actor-irq').map((r) => r['vm']));
    assert.deepEqual([...delivered].sort((a, b) => Number(a) - Number(b)), VMS.filter((id) => !ALL_OFFLINE.includes(id)));
    checkLatchedComeBack(entries, ALL_OFFLINE);
  });

  test(`OP-TEE, 25 VMs pending: non-destructive INFO_GET keeps saying more pending, the loop bound is hit [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(opteeWorld(), runtime);
    const results = resultsOf(entries, 'guests');
    for (const id of VMS) {
      assertSuccess(returned(results, `vm${id} enable async notif`), `vm${id} enable`, { w0: FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32, w3: 0 });
    }
    const loop = infoGets(entries);
    assert.equal(loop.length, LOOP_BOUND, 'the loop ran to its bound');
    assert.ok(loop.every((call) => call.morePending && call.ids.length === 20), 'every return full, every return more pending');
    const first = loop[0]?.ids ?? [];
    assert.ok(loop.every((call) => JSON.stringify(call.ids) === JSON.stringify(first)), 'non-destructive: the same 20 VMs each time');
    assert.deepEqual(records(entries, HYPERVISOR, 'info-get-loop-bound').map((r) => r['iterations']), [LOOP_BOUND]);
    const named = new Set(first);
    const starved = VMS.filter((id) => !named.has(id));
    assert.equal(starved.length, VM_COUNT - 20, 'five VMs are never named');
    assert.ok(ALL_OFFLINE.some((id) => named.has(id)), 'a VM with every vCPU offline is among the named');
    checkNpis(entries, named, () => LOOP_BOUND);
  });
}
