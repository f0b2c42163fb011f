/**
 * Guests that register (config.registration, registration.ts), through the runtime, under both
 * runtimes, with scripted actors playing the guests: a register creates the VM on the normal
 * vm-create path (VM_CREATED, BITMAP_CREATE), assigns it to the guest at the GIC before its vCPUs
 * go online (again after a reboot: the GIC drops the grant with the old VM), and is answered with
 * the ID; the status lists each VM's url, driver and host label. Refused, each
 * with a record and an answer, and nothing else disturbed: registration off, a second register,
 * a controller's register, and bad data. (Link loss: services/guest/registration.test.ts, which
 * runs real guests and drops a link.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryEntry } from '../../shared/runtime/history.ts';
import type { ControlData } from '../../shared/protocol/control.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { validateFrame } from '../../shared/wire/validate.ts';
import { HypervisorConfigError, validateHypervisorConfig } from './config.ts';
import { readRegistration } from './registration.ts';
import type { ActorStep } from './test-support/actor.ts';
import {
  allRecords,
  controlAnswers,
  GIC,
  HYPERVISOR,
  lifecycleOp,
  OPTEE_VIRTUALIZED,
  records,
  runHypervisorWorld,
  syncHypervisorWithGic,
} from './test-support/world.ts';

const OPTEE = OPTEE_VIRTUALIZED;

const CONTROLLER = 'ctl';

/** A register of any data: the refusals of data of the wrong shape are what some tests are about. */
function register(label: string, data: unknown): ActorStep {
  return { do: 'control', label, to: HYPERVISOR, op: 'register', data: data as ControlData<'register'>, awaitOp: 'register-result' };
}

/** Each is refused for its data alone (the sender has no VM yet). */
const BAD_DATA: [string, unknown][] = [
  ['vcpus 0', { vcpus: 0, url: null, driver: null }],
  ['vcpus over maxVcpusPerVm', { vcpus: 17, url: null, driver: null }],
  ['vcpus not an integer', { vcpus: 1.5 }],
  ['url too long', { vcpus: 1, url: `ws://${'x'.repeat(200)}`, driver: null }],
  ['driver too long', { vcpus: 1, url: null, driver: 'd'.repeat(33) }],
  ['host too long', { vcpus: 1, host: 'h'.repeat(64) }],
  ['host not a string', { vcpus: 1, host: 7 }],
  ['data not an object', 'two vcpus please'],
  ['unknown field', { vcpus: 1, colour: 'blue' }],
  // Echoed whole, these once made a refusal too long for the wire, and the hypervisor died sending it.
  ['600 unknown fields', Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`field-${i}-${'k'.repeat(48)}`, i]))],
];

function registeringWorldSteps(): Record<string, ActorStep[]> {
  return {
    g1: [register('g1 register', { vcpus: 2, url: 'ws://g1:7000', driver: 'linux-6.10', host: 'node-a' }), register('g1 register again', { vcpus: 1, url: null, driver: null })],
    g2: [...BAD_DATA.map(([label, data]) => register(label, data)), register('g2 register', { vcpus: 1 })],
    [CONTROLLER]: [
      register('ctl register', { vcpus: 1, url: null, driver: null }),
      {
        do: 'poll',
        label: 'both registered',
        to: HYPERVISOR,
        op: 'hypervisor-status',
        resultOp: 'hypervisor-status-result',
        untilLengthAtLeast: { vms: 2 },
        untilEquals: { lifecycleBusy: false, lifecycleQueued: 0 },
        everyNs: 1_000_000,
        maxPolls: 20_000,
      },
      lifecycleOp('vm-reboot', { name: 'g1' }, 'reboot g1'),
      syncHypervisorWithGic('the GIC has the reboot'),
    ],
  };
}

const ASSIGNMENT_EVENTS = new Set(['gic-vm-assigned', 'gic-vcpu-online', 'gic-vm-unassigned']);

/** The GIC's own order of assignment and placement for one VM. */
function gicOrderFor(entries: readonly HistoryEntry[], vm: number): string[] {
  return allRecords(entries, GIC)
    .filter((r) => r['vm'] === vm && ASSIGNMENT_EVENTS.has(String(r['event'])))
    .map((r) => `${String(r['event'])}${r['to'] === undefined ? '' : `>${String(r['to'])}`}${r['vcpu'] === undefined ? '' : `/${String(r['vcpu'])}`}`);
}

for (const runtime of RUNTIMES) {
  test(`registration: guests get VMs on the vm-create path, assigned at the GIC; refusals answered and recorded [${runtime}]`, async () => {
    const steps = registeringWorldSteps();
    const entries = await runHypervisorWorld(
      {
        spmcProfile: 'optee',
        vmSlots: 4,
        partitions: [OPTEE],
        hypervisor: { registration: true, vms: [], controllers: [CONTROLLER] },
        actors: Object.fromEntries(Object.entries(steps).map(([name, actorSteps]) => [name, { steps: actorSteps }])),
      },
      runtime,
    );
    const g1 = controlAnswers(entries, 'g1').get('g1 register');
    const g2 = controlAnswers(entries, 'g2').get('g2 register');
    assert.equal(g1?.['ok'], true);
    assert.equal(g2?.['ok'], true);
    const ids = { g1: g1?.['id'] as number, g2: g2?.['id'] as number };
    assert.deepEqual([ids.g1, ids.g2].sort(), [1, 2], 'distinct IDs, the lowest free ones');
    assert.deepEqual(g1, { ok: true, reason: null, name: 'g1', id: ids.g1 });

    const registered = records(entries, HYPERVISOR, 'guest-registered').sort((a, b) => Number(a['id']) - Number(b['id']));
    assert.deepEqual(registered, [
      { event: 'guest-registered', component: 'g1', id: ids.g1, vcpus: 2, url: 'ws://g1:7000', driver: 'linux-6.10', host: 'node-a' },
      { event: 'guest-registered', component: 'g2', id: ids.g2, vcpus: 1, url: null, driver: null, host: null },
    ].sort((a, b) => a.id - b.id));
    for (const [name, id] of Object.entries(ids)) {
      // The normal vm-create path: VM_CREATED to OP-TEE, then BITMAP_CREATE.
      const calls = allRecords(entries, HYPERVISOR).filter((r) => r['event'] === 'fw-call' && r['vm'] === id).map((r) => `${String(r['purpose'])}:${String(r['status'])}`);
      const created = ['VM_CREATED:OK', 'vm-create:OK'];
      // g1's reboot: BITMAP_DESTROY, VM_DESTROYED, then created again.
      assert.deepEqual(calls, name === 'g1' ? [...created, 'vm-destroy:OK', 'VM_DESTROYED:OK', ...created] : created, `${name}'s VM`);
      assert.deepEqual(records(entries, HYPERVISOR, 'vm-created').filter((r) => r['id'] === id).map((r) => r['component']), [name]);
      const vcpus = name === 'g1' ? [0, 1] : [0];
      const boot = [`gic-vm-assigned>${name}`, ...vcpus.map((vcpu) => `gic-vcpu-online/${vcpu}`)];
      // g1 is rebooted by the controller: the grant goes with the old VM and comes back with the new one.
      const expected = name === 'g1' ? [...boot, `gic-vm-unassigned>${name}`, ...boot] : boot;
      assert.deepEqual(gicOrderFor(entries, id), expected, 'assigned before its vCPUs go online');
      const online = records(entries, name, 'actor-lifecycle').filter((r) => r['lifecycle'] === 'vcpu-online');
      const boots = name === 'g1' ? 2 : 1;
      assert.deepEqual(online.map((r) => (r['args'] as number[]).slice(0, 2)), Array.from({ length: boots }, () => vcpus.map((vcpu) => [id, vcpu])).flat());
    }

    const refused = records(entries, HYPERVISOR, 'control-refused').filter((r) => r['op'] === 'register');
    assert.deepEqual(refused.filter((r) => r['from'] === 'g1').map((r) => r['reason']), [`g1 already has VM ${ids.g1} (running)`]);
    assert.equal(refused.filter((r) => r['from'] === 'g2').length, BAD_DATA.length);
    assert.deepEqual(refused.filter((r) => r['from'] === CONTROLLER).map((r) => r['reason']), ['ctl is a controller, not a guest']);
    const g2Answers = controlAnswers(entries, 'g2');
    for (const [label] of BAD_DATA) {
      const answer = g2Answers.get(label);
      assert.equal(answer?.['ok'], false, label);
      assert.equal(answer?.['id'], null, label);
      assert.equal(typeof answer?.['reason'], 'string', label);
    }
    assert.equal(controlAnswers(entries, 'g1').get('g1 register again')?.['ok'], false);
    assert.equal(records(entries, HYPERVISOR, 'vm-created').length, 2, 'no refused register created anything');
    assert.equal(controlAnswers(entries, CONTROLLER).get('reboot g1')?.['ok'], true);

    const status = records(entries, CONTROLLER, 'actor-poll')[0]?.['data'] as { vms: Record<string, unknown>[] };
    const listed = status.vms.map((vm) => [vm['name'], vm['id'], vm['url'], vm['driver'], vm['host']]).sort((a, b) => Number(a[1]) - Number(b[1]));
    const expected = [
      ['g1', ids.g1, 'ws://g1:7000', 'linux-6.10', 'node-a'],
      ['g2', ids.g2, null, null, null],
    ].sort((a, b) => Number(a[1]) - Number(b[1]));
    assert.deepEqual(listed, expected);
    assert.equal(records(entries, HYPERVISOR, 'hypervisor-config')[0]?.['registration'], true);
  });

  test(`registration off: a register is refused with a reason and recorded; nothing is created [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      {
        spmcProfile: 'optee',
        partitions: [OPTEE],
        hypervisor: { controllers: [CONTROLLER] },
        actors: { g1: { steps: [register('g1 register', { vcpus: 1, url: null, driver: 'linux-6.10' })] }, [CONTROLLER]: { steps: [] } },
      },
      runtime,
    );
    const reason = 'registration is off (config.registration false)';
    assert.deepEqual(controlAnswers(entries, 'g1').get('g1 register'), { ok: false, reason, name: 'g1', id: null });
    assert.deepEqual(records(entries, HYPERVISOR, 'control-refused'), [{ event: 'control-refused', from: 'g1', op: 'register', reason }]);
    assert.deepEqual(records(entries, HYPERVISOR, 'vm-created'), []);
    assert.equal('registration' in (records(entries, HYPERVISOR, 'hypervisor-config')[0] ?? {}), false, 'the start record is what it was before registration existed');
  });
}

test('config: registration must be a boolean', () => {
  assert.equal(validateHypervisorConfig({}).registration, false);
  assert.equal(validateHypervisorConfig({ registration: true }).registration, true);
  assert.throws(() => validateHypervisorConfig({ registration: 'yes' }), (error: unknown) => error instanceof HypervisorConfigError && /registration/.test(error.message));
});

test('a refusal echoes at most a few unknown keys, each cut short: it always fits the wire', () => {
  const hostile: [string, Record<string, unknown>, RegExp][] = [
    ['a 5,000-character key', { vcpus: 1, ['k'.repeat(5_000)]: 1 }, /^unknown field\(s\) k{31}…: a register takes vcpus, url, driver, host$/],
    ['600 unknown keys', Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}`, i])), /^unknown field\(s\) f0, f1, f2, f3, f4 and 595 more: a register takes vcpus, url, driver, host$/],
  ];
  for (const [label, data, reason] of hostile) {
    const read = readRegistration(data, 4);
    assert.ok('why' in read, label);
    assert.match(read.why, reason, label);
    const answer = validateFrame({ kind: 'control', op: 'register-result', data: { ok: false, reason: read.why, name: 'g1', id: null } });
    assert.equal(answer.ok, true, `${label}: the register-result carrying the refusal is a valid frame`);
  }
});
