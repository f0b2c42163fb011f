/**
 * VM creation and destruction ordering (docs/ffa-reference.md §5.2) against both SPMC profiles, through the
 * runtime: VM_CREATED before BITMAP_CREATE; a failure refuses the VM after Xen's teardown; OP-TEE's
 * VM limit (CFG_VIRT_GUEST_COUNT 2, raised by config) and its need for VM_CREATED; Hafnium's
 * NO_MEMORY when its VM slots run out; BITMAP_DESTROY (ignored) before VM_DESTROYED, resent after
 * RETRY; reboot; vCPUs online and offline as the GIC and the guest see them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FFA_FIDS, FRAMEWORK_MESSAGES, frameworkMessageFlags, notificationBind, OPTEE_SP_ID, registers } from '../../shared/ffa/index.ts';
import type { HistoryEntry } from '../../shared/runtime/history.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { ActorStep } from './test-support/actor.ts';
import { assertSuccess } from './test-support/expect.ts';
import {
  GIC,
  HYPERVISOR,
  OPTEE_VIRTUALIZED,
  SPMC,
  allRecords,
  controlAnswers,
  createVm,
  hvc,
  lifecycleOp,
  records,
  resultsOf,
  returned,
  runHypervisorWorld,
  syncHypervisorWithGic,
  type SpDescription,
} from './test-support/world.ts';

const OPTEE = OPTEE_VIRTUALIZED;

/** The hypervisor's firmware calls for one VM, as [purpose, abi-or-sp, status] in its own order. */
function firmwareCallsFor(entries: readonly HistoryEntry[], vm: number): string[] {
  return allRecords(entries, HYPERVISOR)
    .filter((r) => r['event'] === 'fw-call' && r['vm'] === vm)
    .map((r) => (r['sp'] === undefined ? `${String(r['abi'])}:${String(r['status'])}` : `${String(r['purpose'])}@${Number(r['sp']).toString(16)}:${String(r['status'])}`));
}

/** The hypervisor's own life-cycle events, in its order. */
function lifecycleEvents(entries: readonly HistoryEntry[]): string[] {
  const kinds = new Set(['vm-created', 'vm-refused', 'vm-destroyed', 'vm-rebooted', 'vcpu-online', 'vcpu-offline']);
  return allRecords(entries, HYPERVISOR)
    .filter((r) => kinds.has(String(r['event'])))
    .map((r) => `${String(r['event'])} ${String(r['name'])}${r['vcpu'] === undefined || typeof r['vcpu'] !== 'number' ? '' : `/${r['vcpu']}@${String(r['pcpu'])}`}`);
}

// ---------------------------------------------------------------- OP-TEE, default 2 guests

function opteeDefaultSlotsSteps(): ActorStep[] {
  return [
    { do: 'await-lifecycle', label: 'dom0 up', from: HYPERVISOR, event: 'vcpu-online', vm: 1, vcpu: 1 },
    createVm({ name: 'vm2', id: 2, vcpus: 2, component: 'driver' }),
    createVm({ name: 'vm3', id: 3, vcpus: 1, component: 'driver' }, 'create vm3 over the limit'),
    createVm({ name: 'vm2', id: 4, vcpus: 1, component: 'driver' }, 'create a second vm2'),
    { do: 'control', label: 'create with 0 vcpus', to: HYPERVISOR, op: 'vm-create', data: { name: 'bad', vcpus: 0 }, awaitOp: 'vm-create-result' },
    hvc('vm2 version', 2, registers(FFA_FIDS.FFA_VERSION, 0x1_0002)),
    hvc('vm2 bind', 2, notificationBind.encodeCall({ sender: OPTEE_SP_ID, receiver: 2, bitmap: 1n })),
    lifecycleOp('vcpu-offline', { vm: 'vm2', vcpu: 0 }, 'vm2 vcpu 0 off'),
    lifecycleOp('vcpu-online', { vm: 'vm2', vcpu: 0, pcpu: 3 }, 'vm2 vcpu 0 on cpu 3'),
    lifecycleOp('vcpu-offline', { vm: 'vm2', vcpu: 5 }, 'vm2 vcpu 5 off'),
    lifecycleOp('vm-destroy', { name: 'vm2' }, 'destroy vm2'),
    createVm({ name: 'vm3', id: 3, vcpus: 1, component: 'driver' }, 'create vm3 in the freed slot'),
    lifecycleOp('vm-reboot', { name: 'vm3' }, 'reboot vm3'),
    { do: 'await-lifecycle', label: 'vm3 back', from: HYPERVISOR, event: 'vcpu-online', vm: 3, vcpu: 0 },
    lifecycleOp('vm-destroy', { name: 'nobody' }, 'destroy nobody'),
    syncHypervisorWithGic('the GIC has the reboot'),
  ];
}

// ---------------------------------------------------------------- OP-TEE, 3 guests by config

function opteeRaisedSlotsSteps(): ActorStep[] {
  return [1, 2, 3, 4].map((id) => createVm({ name: `vm${id}`, id, vcpus: 1, component: 'driver' }));
}

// ---------------------------------------------------------------- Hafnium, 2 VM slots

const NOTIFIER: SpDescription = { id: 0x8001, name: 'notifier', behaviour: 'notifier', vcpus: 4, uuid: '00000000-0000-0000-0000-000000008001', notifications: true, messaging: ['direct', 'vm-created', 'vm-destroyed'] };
const WATCHER: SpDescription = { id: 0x8002, name: 'watcher', behaviour: 'echo', vcpus: 1, uuid: '00000000-0000-0000-0000-000000008002', notifications: false, messaging: ['direct', 'vm-destroyed'] };

/** A VM_CREATED/DESTROYED framework response from `sp` with `status` in w3. */
function frameworkResponse(sp: number, type: number, status: number): ReturnType<typeof registers> {
  return registers(FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32, (sp << 16) >>> 0, frameworkMessageFlags(type), status >>> 0);
}

function hafniumSteps(): ActorStep[] {
  return [
    createVm({ name: 'vm1', id: 1, vcpus: 2, component: 'driver' }),
    createVm({ name: 'vm2', id: 2, vcpus: 1, component: 'driver' }),
    createVm({ name: 'vm3', id: 3, vcpus: 1, component: 'driver' }, 'create vm3 without a slot'),
    lifecycleOp('vm-destroy', { name: 'vm2' }, 'destroy vm2'),
    createVm({ name: 'vm3', id: 3, vcpus: 1, component: 'driver' }, 'create vm3 in the freed slot'),
    hvc('vm3 version', 3, registers(FFA_FIDS.FFA_VERSION, 0x1_0002)),
    hvc('vm3 id', 3, registers(FFA_FIDS.FFA_ID_GET)),
  ];
}

for (const runtime of RUNTIMES) {
  test(`OP-TEE: VM_CREATED before BITMAP_CREATE, the 2-guest limit, destroy and reboot ordering [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      {
        spmcProfile: 'optee',
        partitions: [OPTEE],
        hypervisor: { vms: [{ name: 'dom0', id: 1, vcpus: 2, component: 'driver' }] },
        actors: { driver: { steps: opteeDefaultSlotsSteps() } },
      },
      runtime,
    );
    const answers = controlAnswers(entries, 'driver');
    assert.equal(answers.get('create vm2')?.['ok'], true);
    assert.equal(answers.get('create vm3 over the limit')?.['ok'], false);
    assert.match(String(answers.get('create vm3 over the limit')?.['reason']), /VM_CREATED to 0x8001 failed: DENIED/);
    assert.match(String(answers.get('create a second vm2')?.['reason']), /a VM named vm2 exists/);
    assert.match(String(answers.get('create with 0 vcpus')?.['reason']), /vcpus/);
    assert.equal(answers.get('vm2 vcpu 0 on cpu 3')?.['pcpu'], 3);
    assert.match(String(answers.get('vm2 vcpu 5 off')?.['reason']), /no vCPU 5/);
    assert.equal(answers.get('destroy vm2')?.['ok'], true);
    assert.equal(answers.get('create vm3 in the freed slot')?.['ok'], true);
    assert.equal(answers.get('reboot vm3')?.['ok'], true);
    assert.match(String(answers.get('destroy nobody')?.['reason']), /no VM named nobody/);

    // ffa_domain_init: VM_CREATED (OP-TEE creates the guest), then BITMAP_CREATE.
    assert.deepEqual(firmwareCallsFor(entries, 1), ['VM_CREATED@8001:OK', 'FFA_NOTIFICATION_BITMAP_CREATE:OK']);
    // vm2: created; at destruction OP-TEE denies BITMAP_DESTROY (a bit is bound), ignored; then VM_DESTROYED.
    assert.deepEqual(firmwareCallsFor(entries, 2), [
      'VM_CREATED@8001:OK',
      'FFA_NOTIFICATION_BITMAP_CREATE:OK',
      'FFA_NOTIFICATION_BITMAP_DESTROY:DENIED',
      'VM_DESTROYED@8001:OK',
    ]);
    // vm3: refused at VM_CREATED (no guest slot), torn down (BITMAP_DESTROY ignored, no VM_DESTROYED to
    // the SP that never heard of it); later created in the freed slot, then rebooted.
    assert.deepEqual(firmwareCallsFor(entries, 3), [
      'VM_CREATED@8001:DENIED',
      'FFA_NOTIFICATION_BITMAP_DESTROY:INVALID_PARAMETERS',
      'VM_CREATED@8001:OK',
      'FFA_NOTIFICATION_BITMAP_CREATE:OK',
      'FFA_NOTIFICATION_BITMAP_DESTROY:OK',
      'VM_DESTROYED@8001:OK',
      'VM_CREATED@8001:OK',
      'FFA_NOTIFICATION_BITMAP_CREATE:OK',
    ]);
    assert.deepEqual(lifecycleEvents(entries), [
      'vm-created dom0',
      'vm-created vm2',
      'vm-refused vm3',
      'vm-refused vm2',
      'vcpu-offline vm2/0@0',
      'vcpu-online vm2/0@3',
      'vm-destroyed vm2',
      'vm-created vm3',
      'vm-rebooted vm3',
    ]);
    // The SPMC's own view: OP-TEE's guest registry.
    assert.deepEqual(
      records(entries, SPMC, 'vm-created').map((r) => [r['vm'], r['status']]),
      [[1, 'OK'], [2, 'OK'], [3, 'DENIED'], [3, 'OK'], [3, 'OK']],
    );
    // The GIC learnt placement and destruction; the guest component was told too.
    const gicOnline = records(entries, GIC, 'gic-vcpu-online').map((r) => [r['vm'], r['vcpu'], r['pcpu']]);
    assert.deepEqual(gicOnline, [[1, 0, 0], [1, 1, 1], [2, 0, 0], [2, 1, 1], [2, 0, 3], [3, 0, 0], [3, 0, 0]]);
    assert.deepEqual(records(entries, GIC, 'gic-vm-destroyed').map((r) => r['vm']), [2, 3]);
    const told = records(entries, 'driver', 'actor-lifecycle').map((r) => `${String(r['lifecycle'])} ${String(r['subject'])}`);
    assert.deepEqual(told.filter((e) => !e.startsWith('vcpu-online')), ['vcpu-offline vm2', 'vm-destroyed vm2', 'vm-rebooted vm3']);
    assert.ok(told.indexOf('vm-rebooted vm3') < told.lastIndexOf('vcpu-online vm3'), 'vm-rebooted comes before the vCPUs are back');
  });

  test(`OP-TEE: the guest limit raised by config (vmSlots 3) [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      { spmcProfile: 'optee', vmSlots: 3, partitions: [OPTEE], actors: { driver: { steps: opteeRaisedSlotsSteps() } } },
      runtime,
    );
    const answers = controlAnswers(entries, 'driver');
    assert.deepEqual([1, 2, 3, 4].map((id) => answers.get(`create vm${id}`)?.['ok']), [true, true, true, false]);
    for (const id of [1, 2, 3]) assert.deepEqual(firmwareCallsFor(entries, id), ['VM_CREATED@8001:OK', 'FFA_NOTIFICATION_BITMAP_CREATE:OK']);
  });

  test(`Hafnium: NO_MEMORY without a VM slot refuses the VM; VM_CREATED retried after RETRY [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      {
        spmcProfile: 'hafnium',
        vmSlots: 2,
        partitions: [NOTIFIER, WATCHER],
        actors: { driver: { steps: hafniumSteps() } },
        faults: [
          {
            id: 'vm1-created-retry',
            match: { kind: 'call', from: HYPERVISOR, to: 'spmd', fid: BigInt(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32) },
            then: { action: 'fail', regs: frameworkResponse(NOTIFIER.id, FRAMEWORK_MESSAGES.VM_CREATED_RESP, -7) },
            count: 1,
          },
        ],
      },
      runtime,
    );
    const answers = controlAnswers(entries, 'driver');
    assert.match(String(answers.get('create vm3 without a slot')?.['reason']), /BITMAP_CREATE failed: NO_MEMORY/);
    assert.equal(answers.get('create vm3 in the freed slot')?.['ok'], true);
    // ffa_direct_req_send_vm resends on RETRY.
    assert.deepEqual(firmwareCallsFor(entries, 1), ['VM_CREATED@8001:RETRY', 'VM_CREATED@8001:OK', 'FFA_NOTIFICATION_BITMAP_CREATE:OK']);
    // Refused at BITMAP_CREATE after VM_CREATED: Xen's teardown destroys (DENIED, ignored) and tells
    // both the SP that heard of the creation and the one that only subscribed to destruction.
    assert.deepEqual(firmwareCallsFor(entries, 3), [
      'VM_CREATED@8001:OK',
      'FFA_NOTIFICATION_BITMAP_CREATE:NO_MEMORY',
      'FFA_NOTIFICATION_BITMAP_DESTROY:DENIED',
      'VM_DESTROYED@8001:OK',
      'VM_DESTROYED@8002:OK',
      'VM_CREATED@8001:OK',
      'FFA_NOTIFICATION_BITMAP_CREATE:OK',
    ]);
    assert.deepEqual(firmwareCallsFor(entries, 2), [
      'VM_CREATED@8001:OK',
      'FFA_NOTIFICATION_BITMAP_CREATE:OK',
      'FFA_NOTIFICATION_BITMAP_DESTROY:OK',
      'VM_DESTROYED@8001:OK',
      'VM_DESTROYED@8002:OK',
    ]);
    // The SP saw the availability messages (Hafnium routes them to the subscribed SP).
    const seen = records(entries, SPMC, 'vm-availability').map((r) => `${String(r['message'])} ${String(r['vm'])}@${Number(r['sp']).toString(16)}`);
    assert.deepEqual(seen.slice(0, 3), ['created 1@8001', 'created 2@8001', 'created 3@8001']);
    assertSuccess(returned(resultsOf(entries, 'driver'), 'vm3 id'), 'vm3 id', { w2: 3 });
  });

  test(`Hafnium: VM_DESTROYED resent after RETRY, on the teardown timer [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      {
        spmcProfile: 'hafnium',
        partitions: [WATCHER],
        hypervisor: { teardownRetryDelayNs: 10_000_000 },
        actors: {
          driver: { steps: [createVm({ name: 'vm1', id: 1, vcpus: 1, component: 'driver' }), lifecycleOp('vm-destroy', { name: 'vm1' }, 'destroy vm1')] },
        },
        faults: [
          {
            id: 'vm1-destroyed-retry',
            match: { kind: 'call', from: HYPERVISOR, to: 'spmd', fid: BigInt(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32) },
            then: { action: 'fail', regs: frameworkResponse(WATCHER.id, FRAMEWORK_MESSAGES.VM_DESTROYED_RESP, -7) },
            count: 11,
          },
        ],
      },
      runtime,
    );
    assert.equal(controlAnswers(entries, 'driver').get('destroy vm1')?.['ok'], true);
    const calls = firmwareCallsFor(entries, 1);
    assert.deepEqual(calls.slice(0, 2), ['FFA_NOTIFICATION_BITMAP_CREATE:OK', 'FFA_NOTIFICATION_BITMAP_DESTROY:OK']);
    assert.deepEqual(calls.slice(2), [...Array<string>(11).fill('VM_DESTROYED@8002:RETRY'), 'VM_DESTROYED@8002:OK']);
    assert.deepEqual(records(entries, HYPERVISOR, 'vm-teardown-retry').map((r) => r['pass']), [1]);
    assert.deepEqual(records(entries, HYPERVISOR, 'vm-destroyed').map((r) => r['name']), ['vm1']);
  });
}
