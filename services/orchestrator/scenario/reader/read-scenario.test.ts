import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  BIND_FLAGS,
  FFA_FIDS,
  msgSendDirectReq64,
  notificationBind,
  notificationGet,
  notificationSet,
  registers,
  SET_FLAGS,
  type RegisterFile,
} from '../../../../shared/ffa/index.ts';
import { readScenarioFile, readScenarioText, ScenarioError } from './index.ts';
import type { Scenario, Step } from '../types.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

function stepOf<K extends Step['kind']>(scenario: Scenario, index: number, kind: K): Extract<Step, { kind: K }> {
  const step = scenario.steps[index];
  assert.equal(step?.kind, kind, `step ${index} is a ${kind} step`);
  return step as Extract<Step, { kind: K }>;
}

/** The error loading `text` (or the file) throws; fails the test when it loads. */
function refusal(load: () => unknown): ScenarioError {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ScenarioError, `a ScenarioError, got ${String(error)}`);
    return error;
  }
  assert.fail('the scenario loaded');
}

// ---------------------------------------------------------------- valid scenarios

test('the full Xen fixture loads: world with count expansion and defaults', () => {
  const scenario = readScenarioFile(fixture('valid-xen.yaml'));
  assert.equal(scenario.name, 'guest-gets-sp-notification');
  assert.equal(scenario.seed, 7);
  assert.equal(scenario.runtime, 'sim');
  assert.equal(scenario.world.cpus, 4);
  assert.deepEqual(
    scenario.world.vms.map((vm) => [vm.name, vm.id, vm.vcpus, vm.driver, vm.opteeClient, vm.pcpus]),
    [
      ['dom0', 1, 2, 'linux-6.10', true, null],
      ['vm1', 2, 2, 'raw', false, [2, 3]],
      ['vm2', 3, 2, 'raw', false, [2, 3]],
    ],
  );
  assert.deepEqual(scenario.world.spmc.partitions[1], {
    id: 0x8002,
    name: 'sp2',
    uuid: null,
    vcpus: 2,
    ffaVersion: '1.1', // written unquoted: a YAML float, read as written
    notifications: false,
    messaging: ['direct', 'indirect'],
    behaviour: 'raw',
  });
  assert.deepEqual(scenario.world.spmc.policies, { sriTiming: 'immediate' });
  assert.deepEqual(scenario.world.hypervisor, { profile: 'xen', policies: {} });
});

test('named args encode through the ABI codec, 64 bits exact', () => {
  const scenario = readScenarioFile(fixture('valid-xen.yaml'));
  const bind = stepOf(scenario, 2, 'call');
  assert.deepEqual(bind.regs, notificationBind.encodeCall({ sender: 0x8001, receiver: 2, flags: BIND_FLAGS.perVcpu, bitmap: 0x8004_0000_4000_0003n }));
  assert.deepEqual(bind.regs.slice(0, 5), [0x8400_007fn, 0x8001_0002n, 1n, 0x4000_0003n, 0x8004_0000n]);
  assert.deepEqual(notificationBind.decodeCall(bind.regs).args.bitmap, 0x8004_0000_4000_0003n);

  const set = stepOf(scenario, 3, 'call');
  assert.deepEqual(set.from, { kind: 'sp', name: 'optee', id: 0x8001 });
  assert.deepEqual(set.regs, notificationSet.encodeCall({ sender: 0x8001, receiver: 3, flags: SET_FLAGS.perVcpu | SET_FLAGS.delaySri, vcpu: 1, bitmap: 0xffff_ffff_ffff_ffffn }));
  assert.deepEqual(set.regs.slice(2, 5), [0x0001_0003n, 0xffff_ffffn, 0xffff_ffffn]);
  assert.deepEqual(set.expect, { kind: 'error', code: 'DENIED' });

  const get = stepOf(scenario, 5, 'call');
  assert.deepEqual(get.regs, notificationGet.encodeCall({ receiver: 2, vcpu: 0, flags: 0b11 }));
  assert.deepEqual(get.expect, { kind: 'success-fields', fields: { spBitmap: 0x8004_0000_4000_0003n, vmBitmap: 0n } });

  const direct = stepOf(scenario, 10, 'call');
  assert.deepEqual(direct.regs, msgSendDirectReq64.encodeCall({ sender: 3, receiver: 0x8002, payload: [1n, 0x8004_0000_4000_0003n] }));
  assert.deepEqual(direct.expect, { kind: 'success-fields', fields: { payload: [1n, 0x8004_0000_4000_0003n, 0n, 0n, 0n] } });
});

test('every call step says who calls what, where it is, and its x0..x17', () => {
  const scenario = readScenarioFile(fixture('valid-xen.yaml'));
  const bind = stepOf(scenario, 2, 'call');
  assert.equal(bind.index, 2);
  assert.equal(bind.label, 'FFA_NOTIFICATION_BIND from vm1 (vCPU 1)');
  assert.deepEqual(bind.location, { file: fixture('valid-xen.yaml'), line: 24, column: 5 });
  assert.equal(stepOf(scenario, 5, 'call').label, 'FFA_NOTIFICATION_GET from vm1 (vCPU 0)');
  for (const step of scenario.steps) {
    if (step.kind !== 'call') continue;
    assert.equal(step.regs.length, 18, step.label);
    assert.equal(step.regs[0], BigInt(step.fid), step.label);
  }
});

test('raw regs, a call by function ID, and the other expectation forms', () => {
  const scenario = readScenarioFile(fixture('valid-xen.yaml'));
  const raw = stepOf(scenario, 9, 'call');
  assert.equal(raw.abi, 'FFA_NOTIFICATION_GET');
  assert.equal(raw.fid, FFA_FIDS.FFA_NOTIFICATION_GET);
  assert.deepEqual(raw.regs, registers(FFA_FIDS.FFA_NOTIFICATION_GET, 0x1_0003, 0xf));
  assert.deepEqual(raw.expect, { kind: 'regs', regs: { w0: 0x8400_0061n, x2: 0xffff_ffff_ffff_ffffn } });

  assert.deepEqual(stepOf(scenario, 6, 'call').expect, {
    kind: 'success-fields',
    fields: { morePending: false, lists: [{ id: 2, vcpus: [0, 1] }, { id: 3, vcpus: [] }] },
  });
  const version = stepOf(scenario, 7, 'call');
  assert.equal(version.regs[1], 0x1_0001n);
  assert.deepEqual(version.expect, { kind: 'version', version: '1.2' });
  const features = stepOf(scenario, 8, 'call');
  assert.equal(features.regs[1], 2n, 'SRI is feature ID 2');
  assert.deepEqual(features.expect, { kind: 'success-fields', fields: { intid: 8 } });
});

test('awaits, world changes, sleep, workload and a fault step', () => {
  const scenario = readScenarioFile(fixture('valid-xen.yaml'));
  const vm1 = { kind: 'vm', name: 'vm1', id: 2 };
  const interrupt = stepOf(scenario, 4, 'await-interrupt');
  assert.deepEqual([interrupt.to, interrupt.vcpu, interrupt.intid, interrupt.withinNs], [vm1, 0, 8, 10_000_000]);
  assert.equal(interrupt.label, 'await interrupt 8 at vm1 (vCPU 0)');
  assert.deepEqual(stepOf(scenario, 11, 'await-callback').withinNs, 50_000_000);
  assert.equal(stepOf(scenario, 12, 'await-idle').label, 'await idle');
  const none = stepOf(scenario, 13, 'expect-none-interrupt');
  assert.deepEqual([none.to.name, none.vcpu, none.intid, none.forNs], ['vm2', null, null, 20_000_000]);
  assert.deepEqual([stepOf(scenario, 14, 'vm').op, stepOf(scenario, 14, 'vm').vm], ['reboot', 'vm2']);
  const vcpu = stepOf(scenario, 15, 'vcpu');
  assert.deepEqual([vcpu.op, vcpu.vm, vcpu.vcpu], ['offline', 'vm1', 1]);
  assert.equal(stepOf(scenario, 16, 'sleep').ns, 250_000);
  const workload = stepOf(scenario, 17, 'workload');
  assert.deepEqual(
    [workload.senders, workload.receivers, workload.ratePerSecond, workload.count, workload.durationNs, workload.drainNs],
    [[0x8001], ['dom0', 'vm1', 'vm2'], 2000, 100, null, null],
  );
  assert.deepEqual(stepOf(scenario, 18, 'fault').fault, {
    kind: 'fail-call',
    fid: FFA_FIDS.FFA_NOTIFICATION_GET,
    between: ['hypervisor', 'spmd'],
    error: 'BUSY',
    count: 1,
    probability: null,
  });
});

test('a workload\'s drain, and latency thresholds on any measure, -> standing for the arrow', () => {
  const scenario = readScenarioText(
    'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { workload: notifications, rate: 1/s, count: 1, drain: 5s }\n' +
      'checks:\n  - { latency: { corrected: { p99: 5ms }, sri-deliver->info-get:protocol: { max: 1ms }, arrival→set: { p50: 1us } } }\n',
    'a.yaml',
  );
  assert.equal(stepOf(scenario, 0, 'workload').drainNs, 5_000_000_000);
  assert.deepEqual(scenario.checks[0]?.thresholds, { corrected: { p99: 5_000_000 }, 'sri-deliver→info-get:protocol': { max: 1_000_000 }, 'arrival→set': { p50: 1000 } });
});

test('timed faults and checks', () => {
  const scenario = readScenarioFile(fixture('valid-xen.yaml'));
  assert.deepEqual(
    scenario.faults.map(({ atNs, fault }) => [atNs, fault]),
    [
      [10_000_000, { kind: 'delay-interrupt', intid: 8, to: { kind: 'vm', name: 'vm1', id: 2 }, byNs: 2_000_000, count: null, probability: 0.1 }],
      [1_000_000_000, { kind: 'cut-link', between: ['vm2', 'gic'], forNs: 50_000_000 }],
      [2_000_000_000, { kind: 'crash', component: 'vm2', restartAfterNs: 20_000_000 }],
    ],
  );
  assert.deepEqual(
    scenario.checks.map(({ name, expectFail, thresholds }) => [name, expectFail, thresholds]),
    [
      ['no-lost-notification', false, null],
      ['latency', false, { 'end-to-end': { p99: 5_000_000, max: 1_000_000_000 } }],
      ['no-phantom-notification', true, null],
    ],
  );
});

test('a scenario with only a name gets the default world', () => {
  const scenario = readScenarioText('name: defaults\n', 'defaults.yaml');
  assert.deepEqual(scenario, {
    file: 'defaults.yaml',
    name: 'defaults',
    description: null,
    seed: null,
    runtime: null,
    world: {
      cpus: 4,
      spmc: {
        profile: 'optee',
        ffaVersion: '1.2',
        policies: {},
        vmSlots: null,
        partitions: [
          {
            id: 0x8001,
            name: 'optee',
            behaviour: 'optee',
            vcpus: 4,
            notifications: true,
            messaging: ['direct'],
            uuid: '486178e0-e7f8-11e3-bc5e-0002a5d5c51b',
            ffaVersion: '1.1',
          },
        ],
      },
      hypervisor: { profile: 'xen', policies: {} },
      vms: [],
      serviceTimes: 'none',
    },
    steps: [],
    faults: [],
    checks: [],
  });
});

test('bare metal: the host is made with a vCPU per CPU, named host, FF-A ID 0', () => {
  const scenario = readScenarioFile(fixture('valid-bare-metal.yaml'));
  assert.deepEqual(scenario.world.vms, [
    { name: 'host', id: 0, vcpus: 2, driver: 'linux-6.10', opteeClient: true, boot: true, pcpus: null, policies: {} },
  ]);
  const call = stepOf(scenario, 0, 'call');
  assert.deepEqual(call.from, { kind: 'host', name: 'host', id: 0 });
  assert.deepEqual(call.expect, { kind: 'success-fields', fields: { id: 0 } });
  const named = readScenarioText('name: n\nworld:\n  hypervisor: { profile: none }\n  vms: [{ name: host, id: 0, vcpus: 1, driver: raw }]\n', 'n.yaml');
  assert.deepEqual(named.world.vms.map((vm) => [vm.name, vm.id, vm.vcpus, vm.opteeClient]), [['host', 0, 1, false]]);
});

test('default VM IDs are position + 1 after count expansion; a count with an id numbers from it', () => {
  const ids = (vms: string) => readScenarioText(`name: ids\nworld:\n  vms: ${vms}\n`, 'ids.yaml').world.vms.map((vm) => `${vm.name}=${vm.id}`);
  assert.deepEqual(ids('[{ name: dom0 }, { name: vm, count: 2 }, { name: last }]'), ['dom0=1', 'vm1=2', 'vm2=3', 'last=4']);
  assert.deepEqual(ids('[{ name: vm, id: 5, count: 3 }]'), ['vm1=5', 'vm2=6', 'vm3=7']);
  assert.deepEqual(ids('[{ name: solo, count: 1 }]'), ['solo1=1']);
});

test('spmc.vmSlots: null (the profile value) unless given; out of range is a problem', () => {
  const vmSlots = (spmc: string) => readScenarioText(`name: s\nworld: { spmc: ${spmc} }\n`, 's.yaml').world.spmc.vmSlots;
  assert.equal(vmSlots('{ profile: hafnium }'), null);
  assert.equal(vmSlots('{ profile: optee, vmSlots: 3 }'), 3);
  assert.throws(() => vmSlots('{ vmSlots: 0 }'), /vmSlots/);
  assert.throws(() => vmSlots('{ vmSlots: 1025 }'), /vmSlots/);
});

test('versions: quoted, unquoted (read as written, so 1.10 is not 1.1) or encoded', () => {
  const spmcVersion = (written: string) => readScenarioText(`name: v\nworld: { spmc: { ffaVersion: ${written} } }\n`, 'v.yaml').world.spmc.ffaVersion;
  assert.equal(spmcVersion('"1.2"'), '1.2');
  assert.equal(spmcVersion('1.10'), '1.10');
  assert.equal(spmcVersion('1.0'), '1.0');
  assert.equal(spmcVersion('0x10001'), '1.1');
});

test('a call by an unknown function ID keeps abi null and takes raw regs', () => {
  const scenario = readScenarioText('name: r\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: 0x840000ff, regs: [0xffffffffffffffff] }\n', 'r.yaml');
  const call = stepOf(scenario, 0, 'call');
  assert.deepEqual([call.abi, call.fid, call.regs[1], call.expect], [null, 0x8400_00ff, 0xffff_ffff_ffff_ffffn, { kind: 'any' }]);
  assert.equal(call.label, '0x840000ff from vm1 (vCPU 0)');
});

test('a timed fault may also hold a fault step under fault:', () => {
  const text = 'name: t\nworld: { vms: [{ name: vm1 }] }\nfaults:\n  - { at: 0ms, fault: { fault: drop-interrupt, intid: 8, to: vm1, count: 1 } }\n';
  const [timed] = readScenarioText(text, 't.yaml').faults;
  assert.deepEqual(timed?.fault, { kind: 'drop-interrupt', intid: 8, to: { kind: 'vm', name: 'vm1', id: 1 }, count: 1, probability: null });
});

test('from: hypervisor is the hypervisor itself under the raw profile', () => {
  const text = 'name: h\nworld: { hypervisor: { profile: raw }, vms: [{ name: vm1 }] }\nsteps:\n  - { from: hypervisor, call: FFA_NOTIFICATION_INFO_GET_64, expect: any }\n';
  const call = stepOf(readScenarioText(text, 'h.yaml'), 0, 'call');
  assert.deepEqual(call.from, { kind: 'hypervisor', name: 'hypervisor', id: 0 });
  assert.deepEqual(call.regs, registers(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64) satisfies RegisterFile);
});

test('tx: what the caller\'s TX buffer holds, endpoints resolved; await: message, and a GET\'s message expected', () => {
  const text = [
    'name: tx',
    'world: { spmc: { profile: hafnium, partitions: [{ id: 0x8003, name: sender }] }, hypervisor: { profile: raw }, vms: [{ name: vm1, driver: raw }, { name: vm2, driver: linux-6.10 }] }',
    'steps:',
    '  - { from: sender, call: FFA_MSG_SEND2, tx: { message: { sender: sender, receiver: vm1, size: 16 } } }',
    '  - { from: hypervisor, call: FFA_RXTX_MAP_64, args: { tx: 0, rx: 0, pageCount: 0 }, tx: { rxtxDescriptor: { endpoint: vm1, tx: 0x60000000, rx: 0x60001000, pageCount: 1 } } }',
    '  - { await: message, in: vm2, from: sender, within: 5ms }',
    '  - { from: vm1, call: FFA_NOTIFICATION_GET, args: { receiver: vm1, flags: [spm] }, expect: { success: { message: { sender: sender, uuid: 5A5A8003-0000-4000-8000-000000000001 } } } }',
  ].join('\n');
  const scenario = readScenarioText(text, 'tx.yaml');
  assert.deepEqual(stepOf(scenario, 0, 'call').tx, { kind: 'message', sender: 0x8003, receiver: 1, offset: 40, size: 16, uuid: '00000000-0000-0000-0000-000000000000' });
  assert.deepEqual(stepOf(scenario, 1, 'call').tx, { kind: 'rxtx-descriptor', endpoint: 1, tx: 0x6000_0000n, rx: 0x6000_1000n, pageCount: 1 });
  const awaited = stepOf(scenario, 2, 'await-message');
  assert.deepEqual([awaited.in.name, awaited.from?.id, awaited.withinNs], ['vm2', 0x8003, 5_000_000]);
  assert.deepEqual(stepOf(scenario, 3, 'call').expect, { kind: 'success-fields', fields: { message: { sender: 0x8003, uuid: '5a5a8003-0000-4000-8000-000000000001' } } });
  const bad = refusal(() => readScenarioText(text.replace('size: 16', 'size: 16, payload: 7'), 'bad.yaml'));
  assert.match(bad.message, /tx/);
  const async = refusal(() => readScenarioText(text.replace('expect: { success: { message', 'async: g, expect: { success: { message'), 'async.yaml'));
  assert.match(async.message, /the message is read from the caller's RX buffer when its call step ends/);
});

// ---------------------------------------------------------------- invalid scenarios

/**
 * One fixture per kind of invalid scenario: where the refusal points (the offending key or value)
 * and words it must use to say what to fix.
 */
const INVALID_FIXTURES: readonly { file: string; line: number; column: number; says: readonly string[] }[] = [
  { file: 'invalid-yaml-syntax.yaml', line: 4, column: 3, says: ['invalid YAML', 'every { or [ is closed'] },
  { file: 'invalid-unknown-top-level-key.yaml', line: 3, column: 1, says: ["unknown key 'step'", "did you mean 'steps'?"] },
  { file: 'invalid-unknown-nested-key.yaml', line: 5, column: 5, says: ['world.spmc:', "unknown key 'partition'", "did you mean 'partitions'?"] },
  { file: 'invalid-unknown-endpoint.yaml', line: 6, column: 13, says: ['steps[0].from', "unknown endpoint 'vm3'", 'this world has hypervisor, vm1, vm2'] },
  { file: 'invalid-unknown-abi.yaml', line: 6, column: 11, says: ["unknown ABI 'FFA_NOTIFICATION_SETT'", 'did you mean FFA_NOTIFICATION_SET?'] },
  { file: 'invalid-wrong-arg-name.yaml', line: 7, column: 44, says: ["takes no argument 'bitmaps'", 'did you mean bitmap?', 'it takes sender, receiver, flags, vcpu, bitmap'] },
  { file: 'invalid-arg-out-of-range.yaml', line: 9, column: 13, says: ['steps[0].args.vcpu', 'must be an integer in 0..2^16-1, got 0x10000'] },
  { file: 'invalid-duplicate-vm-id.yaml', line: 5, column: 26, says: ['world.vms[1].id', 'gets ID 1, which dom0 already has', 'give each VM its own id'] },
  { file: 'invalid-none-two-vms.yaml', line: 6, column: 7, says: ['world.vms[1]', 'remove this VM', 'hypervisor: none is bare metal'] },
  { file: 'invalid-hypervisor-call-under-xen.yaml', line: 6, column: 13, says: ['steps[0].from', 'profile: raw', 'xen profile makes its own SMCs'] },
  { file: 'invalid-bad-duration.yaml', line: 5, column: 52, says: ['steps[0].within', 'a duration with its unit, such as 10ms', 'got 10'] },
  { file: 'invalid-bad-expectation-field.yaml', line: 9, column: 33, says: ["no result field 'spBitmaps'", 'did you mean spBitmap?', 'its fields are spBitmap, vmBitmap'] },
  {
    file: 'invalid-xen-call-before-version.yaml',
    line: 9,
    column: 106,
    says: ['steps[0].expect', 'vm1 calls FFA_NOTIFICATION_BIND before it negotiated an FF-A version (since it booted)', 'ffa_negotiate_version', 'call: FFA_VERSION'],
  },
];

for (const { file, line, column, says } of INVALID_FIXTURES) {
  test(`invalid: ${file} is refused at ${line}:${column}`, () => {
    const path = fixture(file);
    const error = refusal(() => readScenarioFile(path));
    assert.equal(error.code, 'SCENARIO_INVALID');
    assert.deepEqual([error.file, error.line, error.column], [path, line, column], error.message);
    assert.ok(error.message.startsWith(`${path}:${line}:${column}: `), error.message);
    for (const words of says) assert.ok(error.message.includes(words), `"${error.message}" says "${words}"`);
    assert.equal(error.problems.length, 1, error.message);
    assert.ok(!error.message.includes('\n'), 'one line, no stack trace');
  });
}

/** Smaller refusals, inline: [what, text, line, column, words]. */
const INVALID_TEXTS: readonly [string, string, number, number, string][] = [
  ['a partition ID without bit 15', 'name: a\nworld:\n  spmc: { partitions: [{ id: 0x1234 }] }\n', 3, 30, 'bit 15 set; 0x8000 is the SPMC\'s, 0xffc0..0xffff the SPMD\'s), got 0x1234'],
  ['duplicate partition IDs', 'name: a\nworld:\n  spmc: { partitions: [{ id: 0x8001 }, { id: 0x8001 }] }\n', 3, 46, 'partition ID 0x8001 is used twice'],
  ['vcpus 0', 'name: a\nworld:\n  vms: [{ name: v, vcpus: 0 }]\n', 3, 27, 'must be an integer in 1..64, got 0'],
  ['cpus 65', 'name: a\nworld:\n  cpus: 65\n', 3, 9, 'must be an integer in 1..64, got 65'],
  ['pcpus out of range', 'name: a\nworld:\n  vms: [{ name: v, vcpus: 2, pcpus: [0, 4] }]\n', 3, 41, 'CPU 4 does not exist: the world has 4 CPUs'],
  ['a default ID that collides', 'name: a\nworld:\n  vms: [{ name: a, id: 2 }, { name: b }]\n', 3, 37, 'gets ID 2 (its default: position 1 + 1), which a already has'],
  ['duplicate VM names', 'name: a\nworld:\n  vms: [{ name: vm, count: 2 }, { name: vm1 }]\n', 3, 41, "VM name 'vm1' is used twice"],
  ['a VM named like a component', 'name: a\nworld:\n  vms: [{ name: gic }]\n', 3, 17, 'choose another name'],
  ['the host under another name', 'name: a\nworld:\n  hypervisor: { profile: none }\n  vms: [{ name: linux }]\n', 4, 17, 'the bare-metal kernel is named host'],
  ['the host with another ID', 'name: a\nworld:\n  hypervisor: { profile: none }\n  vms: [{ id: 5 }]\n', 4, 15, 'the bare-metal kernel is FF-A ID 0'],
  ['a VM ID 0 under xen', 'name: a\nworld:\n  vms: [{ name: a, id: 0 }]\n', 3, 24, "ID 0 is the hypervisor's"],
  ['host under xen', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: host, call: FFA_ID_GET }\n', 4, 13, 'exists only under hypervisor: none'],
  ['a vCPU the caller lacks', 'name: a\nworld: { vms: [{ name: vm1, vcpus: 2 }] }\nsteps:\n  - { from: vm1, vcpu: 2, call: FFA_ID_GET }\n', 4, 24, 'vm1 has 2 vCPUs (0..1)'],
  ['args and regs both', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_ID_GET, args: {}, regs: [] }\n', 4, 46, 'give args or regs, not both'],
  ['a missing argument', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_NOTIFICATION_BIND, args: { sender: 0x8001, receiver: vm1 } }\n', 4, 47, "needs the argument 'bitmap'"],
  ['an unknown flag', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_NOTIFICATION_GET, args: { receiver: vm1, flags: [sp, hyps] } }\n', 4, 81, 'unknown flag "hyps": the flags here are sp, vm, spm, hyp'],
  ['a step of no kind', 'name: a\nsteps:\n  - { foo: 1 }\n', 3, 5, 'must be a step: a call (from, call), await'],
  ['an unknown key in a step', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_ID_GET,\n      expect: any, bogus: 3 }\n', 5, 20, "unknown key 'bogus': a call step takes from"],
  ['an unknown error name', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_ID_GET, expect: { error: BUSYY } }\n', 4, 53, 'must be an FF-A error name'],
  ['a version expectation on another ABI', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_ID_GET, expect: { version: "1.2" } }\n', 4, 46, 'is for FFA_VERSION'],
  ['a w register wider than 32 bits', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_ID_GET, expect: { regs: { w2: 0x100000000 } } }\n', 4, 58, 'write x2 for all 64 bits'],
  ['an unknown register', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_ID_GET, expect: { regs: { w18: 1 } } }\n', 4, 54, 'unknown register "w18"'],
  ['a bitmap past 64 bits', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_NOTIFICATION_BIND, args: { sender: 0x8001, receiver: vm1, bitmap: 0x1ffffffffffffffff } }\n', 4, 94, 'got 0x1ffffffffffffffff'],
  ['an unknown fault', 'name: a\nsteps:\n  - { fault: nope }\n', 3, 14, 'must be one of drop-interrupt'],
  ['a link from a component to itself', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { fault: cut-link, between: [vm1, vm1], for: 1ms }\n', 4, 39, 'a link joins two different components'],
  ['a workload without an end', 'name: a\nsteps:\n  - { workload: notifications, rate: 1/s }\n', 3, 5, 'add count: N or duration: 5s'],
  ['a VM sending a workload', 'name: a\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { workload: notifications, senders: [vm1], rate: 1/s, count: 1 }\n', 4, 42, 'vm1 is a VM'],
  ['an unknown check', 'name: a\nchecks: [nope]\n', 2, 10, 'must be one of no-lost-notification'],
  ['an unknown latency measure', 'name: a\nchecks: [{ latency: { endtoend: { p99: 5ms } } }]\n', 2, 23, 'unknown latency measure endtoend (did you mean end-to-end?)'],
  ['a latency measure twice', 'name: a\nchecks: [{ latency: { get->callback: { p99: 5ms }, get→callback: { max: 9ms } } }]\n', 2, 21, 'the measure get→callback is given twice'],
  ['a drain with no unit', 'name: a\nsteps:\n  - { workload: notifications, rate: 1/s, count: 1, drain: 5 }\n', 3, 60, 'drain'],
  ['a timed fault without at', 'name: a\nfaults: [{ fault: swarm, intensity: 0.1 }]\n', 2, 10, 'faults[0].at: is missing: add it'],
  ['a duplicate key', 'name: a\nname: b\n', 2, 1, 'a key may appear once in a mapping'],
  ['a mapping as a key', 'name: a\n? { x: 1 }\n: 2\n', 2, 3, 'a key must be a plain word'],
  ['an empty file', '', 1, 1, 'write at least its name'],
  ['a list, not a scenario', '- a\n', 1, 1, 'must be a scenario (a mapping)'],
];

for (const [what, text, line, column, words] of INVALID_TEXTS) {
  test(`invalid: ${what}`, () => {
    const error = refusal(() => readScenarioText(text, 'inline.yaml'));
    assert.deepEqual([error.file, error.line, error.column], ['inline.yaml', line, column], error.message);
    assert.ok(error.message.includes(words), `"${error.message}" says "${words}"`);
  });
}

// ---------------------------------------------------------------- every problem at once

test('every problem of a file is reported in one pass, in the order of the file, with its hints', () => {
  const path = fixture('invalid-several-problems.yaml');
  const error = refusal(() => readScenarioFile(path));
  const expected: readonly [number, number, string][] = [
    [4, 1, "unknown key 'seeds': did you mean 'seed'?"],
    [8, 54, 'world.vms[1].pcpus[1]: CPU 9 does not exist'],
    [10, 13, "steps[0].from: unknown endpoint 'vm3': did you mean vm1?"],
    [11, 24, "steps[1].call: unknown ABI 'FFA_NOTIFICATION_SETT': did you mean FFA_NOTIFICATION_SET?"],
    [12, 85, "takes no argument 'bitmaps': did you mean bitmap?"],
    [12, 97, "takes no argument 'flag': did you mean flags?"],
    [13, 14, 'steps[3].sleep: must be a duration with its unit'],
    [14, 57, "has no result field 'ids': did you mean id?"],
  ];
  assert.deepEqual(
    error.problems.map((problem) => [problem.line, problem.column]),
    expected.map(([line, column]) => [line, column]),
    error.message,
  );
  expected.forEach(([line, column, words], index) => {
    assert.ok(error.problems[index]?.reason.includes(words), `problem ${index}: "${error.problems[index]?.reason}" says "${words}"`);
    assert.equal(error.message.split('\n')[index], `${path}:${line}:${column}: ${error.problems[index]?.reason}`);
  });
  assert.deepEqual([error.file, error.line, error.column], [path, 4, 1], 'the error itself is its first problem');
});

test('a message lists the first 20 problems and counts the rest', () => {
  const steps = Array.from({ length: 25 }, (_, index) => `  - { from: nobody${index}, call: FFA_ID_GET }`).join('\n');
  const error = refusal(() => readScenarioText(`name: many\nworld: { vms: [{ name: vm1 }] }\nsteps:\n${steps}\n`, 'many.yaml'));
  assert.equal(error.problems.length, 25);
  const lines = error.message.split('\n');
  assert.equal(lines.length, 21);
  assert.ok(lines.slice(0, 20).every((line, index) => line.startsWith(`many.yaml:${index + 4}:13: steps[${index}].from: unknown endpoint 'nobody${index}'`)), error.message);
  assert.equal(lines[20], 'and 5 more problems');
});

test('YAML errors are all reported; a file that is not YAML goes no further', () => {
  const error = refusal(() => readScenarioText('name: a\nname: b\nworld: 1\nworld: 2\n', 'twice.yaml'));
  assert.deepEqual(error.problems.map((problem) => [problem.line, problem.column]), [[2, 1], [4, 1]]);
  assert.ok(error.problems.every((problem) => problem.reason.includes('a key may appear once')));
});

test('a world of the wrong shape hides nothing else of the shape', () => {
  const text = 'name: a\nworld: { cpus: 0 }\nsteps:\n  - { sleep: 1ms, bogus: 1 }\n  - { from: nobody, call: FFA_ID_GET }\n';
  const error = refusal(() => readScenarioText(text, 'w.yaml'));
  // Endpoints are judged against the world, so without a valid world only the shape is reported.
  assert.deepEqual(error.problems.map((problem) => [problem.line, problem.reason.split(':')[0]]), [[2, 'world.cpus'], [4, 'steps[0]']]);
});

test('under Xen, a raw guest that called before negotiating is refused at load, with why', () => {
  const world = 'name: x\nworld: { hypervisor: { profile: xen }, vms: [{ name: vm1, driver: raw }] }\nsteps:\n';
  const load = (steps: string) => readScenarioText(`${world}${steps}`, 'x.yaml');
  const afterReboot = refusal(() =>
    load('  - { from: vm1, call: FFA_VERSION, args: { version: "1.2" } }\n  - { vm: reboot, name: vm1 }\n  - { from: vm1, call: FFA_ID_GET, expect: { error: DENIED } }\n'),
  );
  assert.deepEqual([afterReboot.line, afterReboot.problems.length], [6, 1]);
  assert.match(afterReboot.reason, /^steps\[2\]\.expect: vm1 calls FFA_ID_GET before it negotiated an FF-A version \(since steps\[1\] rebooted it\)/);
  // What can pass loads: a call after FFA_VERSION, an expected NOT_SUPPORTED, an unjudged call, a Linux driver (it negotiates at probe).
  load('  - { from: vm1, call: FFA_VERSION, args: { version: "1.2" } }\n  - { from: vm1, call: FFA_ID_GET, expect: success }\n');
  load('  - { from: vm1, call: FFA_ID_GET, expect: { error: NOT_SUPPORTED } }\n  - { from: vm1, call: FFA_ID_GET }\n');
  readScenarioText('name: x\nworld: { vms: [{ name: vm1 }] }\nsteps:\n  - { from: vm1, call: FFA_ID_GET, expect: success }\n', 'x.yaml');
  readScenarioText('name: x\nworld: { hypervisor: { profile: raw }, vms: [{ name: vm1, driver: raw }] }\nsteps:\n  - { from: vm1, call: FFA_ID_GET, expect: success }\n', 'x.yaml');
});

test('a missing file is a ScenarioError too', () => {
  const error = refusal(() => readScenarioFile('no/such/scenario.yaml'));
  assert.deepEqual([error.file, error.line, error.column], ['no/such/scenario.yaml', 1, 1]);
  assert.match(error.message, /^no\/such\/scenario\.yaml:1:1: cannot read the scenario file \(no such file\)/);
});

/** Every leaf path of a plain value, for the property test below. */
function leafPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...path, index]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...path, key]));
  return [path];
}

test('whatever a value is replaced with, the loader loads or throws a ScenarioError, never anything else', () => {
  const sample = parseYaml(readFileSync(fixture('valid-xen.yaml'), 'utf8'), { intAsBigInt: true }) as unknown;
  const paths = leafPaths(sample);
  const value = fc.oneof(
    fc.integer({ min: -2, max: 0x1_0000_0001 }),
    fc.bigInt({ min: 0n, max: 1n << 65n }),
    fc.constantFrom('vm1', 'vm9', 'hypervisor', 'host', 'all', 'any', '10ms', '10', '1.2', 'FFA_RUN', 'perVcpu', ''),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom('sp', 'vm1')), { maxLength: 7 }),
    fc.dictionary(fc.constantFrom('id', 'fault', 'from', 'x'), fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant('vm1'))),
  );
  fc.assert(
    fc.property(fc.nat({ max: paths.length - 1 }), value, (which, replacement) => {
      const mutated = structuredClone(sample) as Record<string | number, unknown>;
      const path = paths[which] ?? [];
      const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string | number, unknown>, mutated);
      parent[path[path.length - 1] ?? 'name'] = replacement;
      try {
        readScenarioText(stringifyYaml(mutated), 'mutated.yaml');
      } catch (error) {
        assert.ok(error instanceof ScenarioError, `${path.join('.')} = ${inspect(replacement)}: ${inspect(error)}`);
        assert.ok(error.line >= 1 && error.column >= 1, error.message);
        for (const line of error.message.split('\n')) assert.match(line, /^mutated\.yaml:\d+:\d+: \S|^and \d+ more problems?$/);
      }
    }),
    { numRuns: 400, seed: 7 },
  );
});
