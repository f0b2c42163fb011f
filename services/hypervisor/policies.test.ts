/**
 * The hypervisor's policies away from Xen's values, the raw profile, and config validation,
 * through the runtime under both runtimes:
 * - npi-only, INFO_GET_32 answered with SUCCESS_32, secure_pending cleared by an SP-only GET, the
 *   NPI always at vCPU 0 (held by the GIC while it is offline);
 * - the guest's INFO_GET passed through to the SPMC (the March 2024 v1 patch's assumption): the
 *   guest learns another VM's pending notifications; a latched NPI re-injected on vCPU online;
 * - raw (tftf at NS-EL2): no probe, no automatic SMCs, no guest mediation, SMCs relayed as made.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FEATURE_IDS,
  FFA_FIDS,
  GET_FLAGS,
  ffaFeatures,
  notificationBind,
  notificationGet,
  registers,
  unpackNotificationInfo,
  w,
} from '../../shared/ffa/index.ts';
import type { WorldSpec } from '../../shared/runtime/component.ts';
import { RUNTIMES, runWorldInMemory } from '../../shared/runtime/run-world.ts';
import type { ActorStep } from './test-support/actor.ts';
import { validateHypervisorConfig } from './config.ts';
import { assertError, assertSmcccNotSupported, assertSuccess } from './test-support/expect.ts';
import {
  GIC,
  HYPERVISOR,
  SPMC,
  awaitSriLoops,
  configureIntid,
  controlAnswers,
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
  type SpDescription,
} from './test-support/world.ts';

const NOTIFIER: SpDescription = { id: 0x8001, name: 'notifier', behaviour: 'notifier', vcpus: 4, uuid: '00000000-0000-0000-0000-000000008001', notifications: true, messaging: ['direct'] };

const version = registers(FFA_FIDS.FFA_VERSION, 0x1_0002);
const bind = (vm: number) => notificationBind.encodeCall({ sender: NOTIFIER.id, receiver: vm, bitmap: 0b11n });
const get = (vm: number, flags: number) => notificationGet.encodeCall({ receiver: vm, vcpu: 0, flags });
const infoGet64 = registers(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64);
const infoGet32 = registers(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32);

function notifierSet(vm: number, bitmap: number): ActorStep {
  return { do: 'control', label: `set ${bitmap} for vm${vm}`, to: SPMC, op: 'notifier-set', data: { sp: NOTIFIER.id, receiver: vm, bitmap, cpu: 0 } };
}

/** The SPMC answered a relay call, so it has taken every control sent to it before. */
function spmcTookSets(label: string): ActorStep {
  return { do: 'call', label, to: SPMC, conduit: 'relay', endpoint: NOTIFIER.id, vcpu: 0, cpu: 0, regs: registers(FFA_FIDS.FFA_ID_GET) };
}

function alternativePolicySteps(): ActorStep[] {
  return [
    createVm({ name: 'vm1', id: 1, vcpus: 2, component: 'driver' }),
    subscribeVirtual(1),
    hvc('version', 1, version),
    hvc('features sri', 1, ffaFeatures.encodeCall({ id: FEATURE_IDS.SRI })),
    hvc('features npi', 1, ffaFeatures.encodeCall({ id: FEATURE_IDS.NPI })),
    hvc('bind', 1, bind(1)),
    lifecycleOp('vcpu-offline', { vm: 'vm1', vcpu: 0 }, 'vcpu 0 off'),
    notifierSet(1, 0b01),
    awaitSriLoops(1),
    syncHypervisorWithGic(),
    hvc('info get 32', 1, infoGet32, 1),
    notifierSet(1, 0b10),
    awaitSriLoops(2),
    hvc('get sp only', 1, get(1, GET_FLAGS.sp), 1),
    hvc('info get after sp only', 1, infoGet64, 1),
    lifecycleOp('vcpu-online', { vm: 'vm1', vcpu: 0 }, 'vcpu 0 on'),
    { do: 'await-irq', label: 'held npi delivered', vm: 1, intid: 8, vcpu: 0 },
  ];
}

function passthroughSteps(): ActorStep[] {
  return [
    createVm({ name: 'vm1', id: 1, vcpus: 2, component: 'driver' }),
    createVm({ name: 'vm2', id: 2, vcpus: 1, component: 'driver' }),
    subscribeVirtual(1),
    subscribeVirtual(2),
    hvc('vm1 version', 1, version),
    hvc('vm2 version', 2, version),
    hvc('vm1 bind', 1, bind(1)),
    hvc('vm2 bind', 2, bind(2)),
    lifecycleOp('vcpu-offline', { vm: 'vm2', vcpu: 0 }, 'vm2 off'),
    configureIntid(8, false),
    { do: 'gic-sync', label: 'sri held', to: GIC },
    notifierSet(1, 0b01),
    notifierSet(2, 0b01),
    spmcTookSets('spmc took the sets'),
    syncSpmcWithGic(),
    configureIntid(8, true),
    awaitSriLoops(1),
    lifecycleOp('vcpu-online', { vm: 'vm2', vcpu: 0 }, 'vm2 on'),
    { do: 'await-irq', label: 'vm2 npi after online', vm: 2, intid: 8, vcpu: 0 },
    configureIntid(8, false),
    { do: 'gic-sync', label: 'sri held again', to: GIC },
    notifierSet(1, 0b10),
    notifierSet(2, 0b10),
    spmcTookSets('spmc took the second sets'),
    hvc('vm1 info get passed through', 1, infoGet64),
    hvc('vm1 info get 32 passed through', 1, infoGet32),
    hvc('vm2 info get passed through', 2, infoGet64),
  ];
}

function rawSteps(): ActorStep[] {
  const relay = (label: string, endpoint: number, regs: ReturnType<typeof registers>): ActorStep => ({ do: 'call', label, to: HYPERVISOR, conduit: 'relay', endpoint, vcpu: 0, cpu: 1, regs });
  return [
    createVm({ name: 'vm1', id: 1, vcpus: 1, component: 'tftf' }),
    hvc('guest call in raw', 1, version),
    relay('relay version', 0, version),
    relay('relay features sri', 0, ffaFeatures.encodeCall({ id: FEATURE_IDS.SRI })),
    relay('relay bitmap create', 0, registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, 5, 2)),
    relay('relay bitmap create again', 0, registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, 5, 2)),
    relay('relay as an SP', NOTIFIER.id, registers(FFA_FIDS.FFA_ID_GET)),
    relay('relay id get as 3', 3, registers(FFA_FIDS.FFA_ID_GET)),
    // Under ws the GIC handles vm1's placement on its own time: wait for it before the world ends.
    syncHypervisorWithGic(),
  ];
}

for (const runtime of RUNTIMES) {
  test(`policies: npi-only, INFO_GET_32 → SUCCESS_32, SP-only GET clears, NPI at vCPU 0 [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      {
        spmcProfile: 'hafnium',
        partitions: [NOTIFIER],
        hypervisor: { policies: { guestInterrupts: 'npi-only', infoGet32Answer: 'success-32', securePendingClear: 'sp-or-spm', npiTargetVcpu: 'vcpu0' } },
        actors: { driver: { steps: alternativePolicySteps(), ackVirtual: true } },
        guestVms: { driver: [1] },
      },
      runtime,
    );
    const r = (label: string) => returned(resultsOf(entries, 'driver'), label);
    assertError(r('features sri'), 'NOT_SUPPORTED', 'npi-only: no SRI offered');
    assertSuccess(r('features npi'), 'features npi', { w2: 8 });
    assertSuccess(r('info get 32'), 'success-32', { w0: FFA_FIDS.FFA_SUCCESS_32, w2: 1 << 7, w3: 1 });
    assertSuccess(r('get sp only'), 'both bits were still pending', { w2: 0b11 });
    assertError(r('info get after sp only'), 'NO_DATA', 'sp-or-spm: an SP-only GET cleared the flag');
    const injected = records(entries, HYPERVISOR, 'npi-inject');
    assert.deepEqual(injected.map((rec) => [rec['vcpu'], rec['online']]), [[0, false], [0, false]], 'vcpu0: injected even while offline');
    assert.ok(records(entries, GIC, 'gic-hold').some((rec) => rec['vm'] === 1 && rec['reason'] === 'vcpu-offline'), 'the GIC held it');
    assert.deepEqual(records(entries, HYPERVISOR, 'npi-latched'), []);
  });

  test(`policies: guest INFO_GET passed through to the SPMC; latched NPI re-injected on vCPU online [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      {
        spmcProfile: 'hafnium',
        partitions: [NOTIFIER],
        hypervisor: { policies: { guestInfoGet: 'passthrough', latchedNpiOnVcpuOnline: 'reinject' } },
        actors: { driver: { steps: passthroughSteps(), ackVirtual: true } },
        guestVms: { driver: [1, 2] },
      },
      runtime,
    );
    assert.deepEqual(records(entries, HYPERVISOR, 'npi-latched').map((rec) => rec['vm']), [2]);
    const reinjected = records(entries, HYPERVISOR, 'npi-inject').filter((rec) => rec['cause'] === 'vcpu-online');
    assert.deepEqual(reinjected.map((rec) => [rec['vm'], rec['vcpu']]), [[2, 0]]);
    const r = (label: string) => returned(resultsOf(entries, 'driver'), label);
    const leaked = r('vm1 info get passed through');
    assertSuccess(leaked, 'passed through', { w0: FFA_FIDS.FFA_SUCCESS_64 });
    const unpacked = unpackNotificationInfo(leaked, 64);
    assert.ok(unpacked.ok);
    assert.deepEqual(unpacked.info.lists.map((list) => list.id), [1, 2], 'vm1 is told of vm2\'s pending notifications');
    assertError(r('vm1 info get 32 passed through'), 'NOT_SUPPORTED', 'Hafnium decodes INFO_GET_64 only');
    assertError(r('vm2 info get passed through'), 'NO_DATA', 'vm1\'s INFO_GET consumed vm2\'s report at the SPMC');
    assert.equal(records(entries, HYPERVISOR, 'info-get-passthrough').length, 3);
  });

  test(`raw profile: no probe, no automatic SMCs, no mediation, the SRI taken; a controller's SMCs relayed as made [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      { spmcProfile: 'hafnium', partitions: [NOTIFIER], hypervisor: { profile: 'raw' }, actors: { tftf: { steps: rawSteps() } } },
      runtime,
    );
    assert.equal(controlAnswers(entries, 'tftf').get('create vm1')?.['ok'], true);
    const r = (label: string) => returned(resultsOf(entries, 'tftf'), label);
    assertSmcccNotSupported(r('guest call in raw'), 'raw: no mediator');
    assert.equal(w(r('relay version'), 0), 0x1_0002);
    assertSuccess(r('relay features sri'), 'relay features sri', { w2: 8 });
    assertSuccess(r('relay bitmap create'), 'relay bitmap create');
    assertError(r('relay bitmap create again'), 'DENIED', 'created twice');
    assertError(r('relay as an SP'), 'INVALID_PARAMETERS', 'the relay acts for normal-world IDs only');
    assertSuccess(r('relay id get as 3'), 'the SPMD answers a normal-world ID_GET with 0', { w2: 0 });
    for (const event of ['fw-call', 'fw-probe'] as const) assert.deepEqual(records(entries, HYPERVISOR, event), [], `raw makes no ${event}`);
    // tftf's SRI handler (test_ffa_notifications.c schedule_receiver_interrupt_init): on every CPU.
    const cpus = records(entries, HYPERVISOR, 'hypervisor-config')[0]?.['cpus'];
    const everyCpu = Array.from({ length: Number(cpus) }, (_, cpu) => cpu);
    assert.deepEqual(records(entries, HYPERVISOR, 'sri-subscribed').map((rec) => [rec['intid'], rec['cpus']]), [[8, everyCpu]], 'raw takes the SRI');
    assert.deepEqual(records(entries, GIC, 'gic-vcpu-online').map((rec) => rec['vm']), [1], 'placement is still reported');
    const relayed = entries.flatMap((entry) =>
      entry.event.type === 'deliver' && entry.event.from === HYPERVISOR && entry.event.to === 'spmd' && entry.event.message.kind === 'call' ? [entry.event.message] : [],
    );
    assert.deepEqual(relayed.map((call) => [call.endpoint, call.cpu]), [[0, 1], [0, 1], [0, 1], [0, 1], [3, 1]], 'relayed for the endpoint and CPU given');
  });

  test(`config: a bad hypervisor config is refused with the field named [${runtime}]`, async () => {
    const bad: [unknown, RegExp][] = [
      [{ profile: 'none' }, /profile: "none" is bare metal/],
      [{ policies: { guestInfoGet: 'sometimes' } }, /policies\.guestInfoGet/],
      [{ policies: { notAPolicy: 1 } }, /policies\.notAPolicy: is not a policy/],
      [{ vms: [{ name: 'a', vcpus: 1 }, { name: 'a', vcpus: 2 }] }, /vms\[1\]\.name/],
      // The SP list is the SPMC's to give at probe, not a config key any more.
      [{ partitions: [{ id: 0x8001 }] }, /unknown key 'partitions'/],
      [{ cpus: 2, vms: [{ name: 'a', vcpus: 2, pcpus: [0, 2] }] }, /vms\[0\]\.pcpus\[1\]/],
      [{ colour: 'blue' }, /unknown key 'colour'/],
    ];
    for (const [config, why] of bad) {
      const world: WorldSpec = { seed: 1, components: [{ name: HYPERVISOR, role: 'hypervisor', module: 'services/hypervisor/hypervisor.ts', config }], links: [] };
      await assert.rejects(runWorldInMemory(world, { runtime, timeoutMs: 10_000 }), why);
    }
  });
}

/**
 * Xen's INFO_GET loop has no bound (ffa_notif.c notif_sri_action); the simulation's stands in for it
 * against a non-destructive SPMC. Against a destructive one a table of 1,000 VMs needs 50 calls to
 * hand every VM out once, so an unset bound grows to fit the table: one the scenario sets is kept.
 */
test('config: an unset INFO_GET loop bound fits the VM table, 20 IDs a call, and a set one is kept', () => {
  assert.equal(validateHypervisorConfig({}).policies.infoGetLoopBound, 32, 'the profile\'s bound for a table of 64');
  assert.equal(validateHypervisorConfig({ maxVms: 1000 }).policies.infoGetLoopBound, 51, '50 calls for 1,000 VMs, one for the SPs');
  assert.equal(validateHypervisorConfig({ maxVms: 4096 }).policies.infoGetLoopBound, 206);
  assert.equal(validateHypervisorConfig({ maxVms: 1000, policies: { infoGetLoopBound: 4 } }).policies.infoGetLoopBound, 4, 'a scenario\'s bound is its own');
});
