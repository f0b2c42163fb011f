/**
 * Every guest-facing ABI row of docs/ffa-reference.md §5.4–§5.6, through the runtime: a driver standing for
 * two VMs calls the hypervisor, which talks to the real SPMD and the real SPMC (Hafnium profile:
 * it implements SET from the NWd and checks GET's vCPU, so forwarding and error passthrough show),
 * with the real GIC carrying the SRI and the NPI. One script per world, under both runtimes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  abiNameOf,
  FEATURE_IDS,
  FFA_FIDS,
  GET_FLAGS,
  SET_FLAGS,
  type FfaAbiName,
  ffaFeatures,
  ffaPartitionInfoGet,
  ffaRxtxMap64,
  msgSendDirectReq32,
  msgSendDirectReq64,
  notificationBind,
  notificationGet,
  notificationSet,
  notificationUnbind,
  registers,
  w,
  x,
} from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { ActorStep } from './test-support/actor.ts';
import { assertError, assertSmcccNotSupported, assertSuccess } from './test-support/expect.ts';
import {
  HYPERVISOR,
  SPMC,
  awaitSriLoops,
  callsDelivered,
  createVm,
  hvc,
  memoryOf,
  records,
  resultsOf,
  returned,
  runHypervisorWorld,
  subscribeVirtual,
  type HypervisorWorld,
  type SpDescription,
} from './test-support/world.ts';

const VM1 = 1;
const VM2 = 2;
const NOTIFIER = 0x8001;
const ECHO = 0x8002;
const ECHO_UUID = 'b4b5671e-4a90-4fe1-b8ad-4c5e3f9fa8cf';

const PARTITIONS: SpDescription[] = [
  { id: NOTIFIER, name: 'notifier', behaviour: 'notifier', vcpus: 4, uuid: '00000000-0000-0000-0000-000000008001', notifications: true, messaging: ['direct', 'vm-created', 'vm-destroyed'] },
  { id: ECHO, name: 'echo', behaviour: 'echo', vcpus: 1, uuid: ECHO_UUID, notifications: false, messaging: ['direct'] },
];

const fid = (name: FfaAbiName) => registers(FFA_FIDS[name]);
const features = (id: number, properties = 0) => ffaFeatures.encodeCall({ id, properties });
const version = (v: number) => registers(FFA_FIDS.FFA_VERSION, v);

/** FFA_FEATURES rows of §5.6 for a guest at v1.2 against a Hafnium SPMC: [label, id, w2 or an error]. */
const FEATURE_ROWS: [string, number, number | 'NOT_SUPPORTED'][] = [
  ...(
    [
      'FFA_ERROR',
      'FFA_VERSION',
      'FFA_INTERRUPT',
      'FFA_SUCCESS_32',
      'FFA_SUCCESS_64',
      'FFA_FEATURES',
      'FFA_ID_GET',
      'FFA_RX_RELEASE',
      'FFA_RXTX_UNMAP',
      'FFA_MEM_RECLAIM',
      'FFA_PARTITION_INFO_GET',
      'FFA_MEM_SHARE_32',
      'FFA_MEM_SHARE_64',
      'FFA_NOTIFICATION_BIND',
      'FFA_NOTIFICATION_UNBIND',
      'FFA_NOTIFICATION_GET',
      'FFA_NOTIFICATION_SET',
      'FFA_NOTIFICATION_INFO_GET_32',
      'FFA_NOTIFICATION_INFO_GET_64',
      // the firmware (Hafnium) supports them; SEND2 needs its RX_ACQUIRE too, which Hafnium
      // reports to the normal world (api.c ffa_features_function)
      'FFA_MSG_SEND2',
      'FFA_MSG_SEND_DIRECT_REQ_32',
      'FFA_MSG_SEND_DIRECT_REQ_64',
      'FFA_RUN',
      // v1.2 guest
      'FFA_MSG_SEND_DIRECT_REQ2',
      'FFA_PARTITION_INFO_GET_REGS',
    ] as const
  ).map((name): [string, number, number] => [name, FFA_FIDS[name], 0]),
  ['FFA_RXTX_MAP_32', FFA_FIDS.FFA_RXTX_MAP_32, 1 << 16],
  ['FFA_RXTX_MAP_64', FFA_FIDS.FFA_RXTX_MAP_64, 1 << 16],
  ['NPI', FEATURE_IDS.NPI, 8],
  ['SRI', FEATURE_IDS.SRI, 9],
  ...(
    [
      'FFA_NOTIFICATION_BITMAP_CREATE',
      'FFA_NOTIFICATION_BITMAP_DESTROY',
      'FFA_RX_ACQUIRE',
      'FFA_SPM_ID_GET',
      'FFA_MSG_WAIT',
      'FFA_YIELD',
    ] as const
  ).map((name): [string, number, 'NOT_SUPPORTED'] => [name, FFA_FIDS[name], 'NOT_SUPPORTED']),
  ['MEI', FEATURE_IDS.MEI, 'NOT_SUPPORTED'],
];

/** Calls Xen has no case for, or does not carry here: NOT_SUPPORTED. */
const NOT_SUPPORTED_CALLS: [string, ReturnType<typeof registers>][] = [
  ['call BITMAP_CREATE', registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, VM2, 1)],
  ['call BITMAP_DESTROY', registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_DESTROY, VM2)],
  ['call SPM_ID_GET', fid('FFA_SPM_ID_GET')],
  ['call MSG_WAIT', fid('FFA_MSG_WAIT')],
  ['call RX_ACQUIRE', registers(FFA_FIDS.FFA_RX_ACQUIRE, VM2)],
  ['call MEM_LEND_32', fid('FFA_MEM_LEND_32')],
];

function versionSteps(): ActorStep[] {
  return [
    hvc('id before version', VM1, fid('FFA_ID_GET')),
    hvc('features before version', VM1, features(FEATURE_IDS.NPI)),
    hvc('version 2.0', VM1, version(0x2_0000)),
    hvc('version 1.1', VM1, version(0x1_0001)),
    hvc('id get', VM1, fid('FFA_ID_GET')),
    hvc('rxtx features at 1.1', VM1, features(FFA_FIDS.FFA_RXTX_MAP_64)),
    hvc('version after final', VM1, version(0x1_0002)),
    hvc('rxtx features still 1.1', VM1, features(FFA_FIDS.FFA_RXTX_MAP_64)),
    hvc('req2 features at 1.1', VM1, features(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ2)),
    hvc('req2 call at 1.1', VM1, registers(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ2, (VM1 << 16) | ECHO)),
    hvc('vm2 version', VM2, version(0x1_0002)),
    hvc('vm2 id get', VM2, fid('FFA_ID_GET')),
  ];
}

function featureSteps(): ActorStep[] {
  return [
    ...FEATURE_ROWS.map(([label, id]) => hvc(`features ${label}`, VM2, features(id))),
    hvc('features with w2 set', VM2, features(FEATURE_IDS.NPI, 1)),
    ...NOT_SUPPORTED_CALLS.map(([label, regs]) => hvc(label, VM2, regs)),
    hvc('call MSG_SEND2 with no TX buffer', VM2, registers(FFA_FIDS.FFA_MSG_SEND2)),
    hvc('not an FF-A function', VM2, registers(0x8400_0001)),
  ];
}

function partitionInfoSteps(): ActorStep[] {
  const info = (countOnly: boolean, uuid?: string) => ffaPartitionInfoGet.encodeCall({ countOnly, ...(uuid ? { uuid } : {}) });
  const badFlags = info(false);
  badFlags[5] = 2n;
  return [
    hvc('partinfo count', VM2, info(true)),
    hvc('partinfo count by uuid', VM2, info(true, ECHO_UUID)),
    hvc('partinfo count unknown uuid', VM2, info(true, '11111111-2222-3333-4444-555555555555')),
    hvc('partinfo bad flags', VM2, badFlags),
    hvc('partinfo without rx', VM2, info(false)),
    hvc('rxtx map 2 pages', VM2, ffaRxtxMap64.encodeCall({ tx: 0x1000n, rx: 0x2000n, pageCount: 2 })),
    hvc('rxtx map', VM2, ffaRxtxMap64.encodeCall({ tx: 0x1000n, rx: 0x2000n, pageCount: 1 })),
    hvc('rxtx map again', VM2, ffaRxtxMap64.encodeCall({ tx: 0x1000n, rx: 0x2000n, pageCount: 1 })),
    hvc('partinfo', VM2, info(false)),
    hvc('partinfo rx busy', VM2, info(false)),
    hvc('rx release', VM2, fid('FFA_RX_RELEASE')),
    hvc('rx release again', VM2, fid('FFA_RX_RELEASE')),
    hvc('rxtx unmap', VM2, fid('FFA_RXTX_UNMAP')),
    hvc('rxtx unmap again', VM2, fid('FFA_RXTX_UNMAP')),
    hvc('vm1 partinfo count at 1.1', VM1, info(true)),
  ];
}

function bindingSteps(): ActorStep[] {
  const bind = (sender: number, receiver: number, bitmap: bigint, flags = 0) => notificationBind.encodeCall({ sender, receiver, flags, bitmap });
  const bindWithW5 = bind(NOTIFIER, VM1, 0b100n);
  bindWithW5[5] = 7n;
  const unbindWithW2 = notificationUnbind.encodeCall({ sender: NOTIFIER, receiver: VM1, bitmap: 0b100n });
  unbindWithW2[2] = 5n;
  const set = (sender: number, receiver: number, flags = 0) => notificationSet.encodeCall({ sender, receiver, flags, bitmap: 1n });
  return [
    hvc('bind other receiver', VM1, bind(NOTIFIER, VM2, 1n)),
    hvc('bind flags', VM1, bind(NOTIFIER, VM1, 1n, 1)),
    hvc('bind vm sender', VM1, bind(VM2, VM1, 1n)),
    hvc('bind', VM1, bind(NOTIFIER, VM1, 0b11n)),
    hvc('bind again', VM1, bind(NOTIFIER, VM1, 0b11n)),
    hvc('bind w5 set', VM1, bindWithW5),
    hvc('unbind other receiver', VM1, notificationUnbind.encodeCall({ sender: NOTIFIER, receiver: VM2, bitmap: 0b100n })),
    hvc('unbind vm sender', VM1, notificationUnbind.encodeCall({ sender: VM2, receiver: VM1, bitmap: 0b100n })),
    hvc('unbind w2 set', VM1, unbindWithW2),
    hvc('set other sender', VM1, set(VM2, NOTIFIER)),
    hvc('set vm receiver', VM1, set(VM1, VM2)),
    hvc('set unbound', VM1, set(VM1, NOTIFIER)),
    hvc('set delay sri', VM1, set(VM1, NOTIFIER, SET_FLAGS.delaySri)),
  ];
}

const ALL_BITMAPS = GET_FLAGS.sp | GET_FLAGS.vm | GET_FLAGS.spm | GET_FLAGS.hyp;
const get = (receiver: number, flags: number, vcpu = 0) => notificationGet.encodeCall({ receiver, vcpu, flags });

function getSteps(): ActorStep[] {
  return [
    hvc('get other receiver', VM1, get(VM2, GET_FLAGS.sp)),
    hvc('get vm and hyp only', VM1, get(VM1, GET_FLAGS.vm | GET_FLAGS.hyp)),
    hvc('get all bitmaps', VM1, get(VM1, ALL_BITMAPS)),
    hvc('get bad vcpu', VM1, get(VM1, GET_FLAGS.sp, 7)),
    hvc('info get nothing pending', VM1, fid('FFA_NOTIFICATION_INFO_GET_64')),
  ];
}

function notifierSet(receiver: number, bitmap: number): ActorStep {
  return { do: 'control', label: `set ${bitmap} for ${receiver}`, to: SPMC, op: 'notifier-set', data: { sp: NOTIFIER, receiver, bitmap, cpu: 1 } };
}

/** Two SRI rounds: the clearing rule (SP only keeps the flag; SP|SPM clears it) and INFO_GET's answers. */
function sriSteps(): ActorStep[] {
  return [
    notifierSet(VM1, 0b01),
    awaitSriLoops(1),
    { do: 'await-irq', label: 'npi 1', vm: VM1, intid: 8, vcpu: 0 },
    hvc('vm2 info get while vm1 pending', VM2, fid('FFA_NOTIFICATION_INFO_GET_64')),
    hvc('get sp only', VM1, get(VM1, GET_FLAGS.sp)),
    hvc('info get 32 after sp only', VM1, fid('FFA_NOTIFICATION_INFO_GET_32')),
    hvc('info get again', VM1, fid('FFA_NOTIFICATION_INFO_GET_64')),
    notifierSet(VM1, 0b10),
    awaitSriLoops(2),
    { do: 'await-irq', label: 'npi 2', vm: VM1, intid: 8, vcpu: 0 },
    hvc('get sp and spm', VM1, get(VM1, GET_FLAGS.sp | GET_FLAGS.spm)),
    hvc('info get after sp and spm', VM1, fid('FFA_NOTIFICATION_INFO_GET_64')),
  ];
}

function directSteps(): ActorStep[] {
  const req32 = (sender: number, receiver: number, payload: bigint[] = []) => msgSendDirectReq32.encodeCall({ sender, receiver, payload });
  const wide = registers(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32, (VM2 << 16) | ECHO, 0, 0x1_0000_0005n, 6, 7, 8, 9);
  return [
    hvc('direct other sender', VM2, req32(VM1, ECHO)),
    hvc('direct to self', VM2, req32(VM2, VM2)),
    hvc('direct to vm', VM2, req32(VM2, VM1)),
    hvc('direct 32 echo', VM2, wide),
    hvc('direct 64 aborted', VM2, msgSendDirectReq64.encodeCall({ sender: VM2, receiver: ECHO, payload: [1n] })),
    hvc('direct 64 echo', VM2, msgSendDirectReq64.encodeCall({ sender: VM2, receiver: ECHO, payload: [0x1_0000_0005n] })),
    hvc('run vm', VM2, registers(FFA_FIDS.FFA_RUN, (VM1 << 16) | 0)),
    hvc('run sp', VM2, registers(FFA_FIDS.FFA_RUN, ((ECHO << 16) | 0) >>> 0)),
    hvc('relay in xen profile', VM2, registers(FFA_FIDS.FFA_ID_GET)),
  ];
}

function guestAbiWorld(): HypervisorWorld {
  const steps: ActorStep[] = [
    createVm({ name: 'vm1', id: VM1, vcpus: 2, component: 'driver' }),
    createVm({ name: 'vm2', id: VM2, vcpus: 1, component: 'driver' }),
    subscribeVirtual(VM1),
    subscribeVirtual(VM2),
    ...versionSteps(),
    ...featureSteps(),
    ...partitionInfoSteps(),
    ...bindingSteps(),
    ...getSteps(),
    ...sriSteps(),
    ...directSteps(),
  ];
  // The relay step is made on conduit 'relay': the xen profile relays nothing.
  const relay = steps.findIndex((step) => step.do === 'call' && step.label === 'relay in xen profile');
  const relayStep = steps[relay];
  if (relayStep?.do === 'call') steps[relay] = { ...relayStep, conduit: 'relay', endpoint: 5 };
  return {
    spmcProfile: 'hafnium',
    partitions: PARTITIONS,
    actors: {
      driver: { steps, ackVirtual: true },
      // A component that is no VM's guest: its calls are not the mediator's.
      stranger: { steps: [hvc('stranger id get', VM1, fid('FFA_ID_GET'))] },
    },
    guestVms: { driver: [VM1, VM2] },
    faults: [
      {
        id: 'unexpected-answer-to-direct-req-64',
        match: { kind: 'call', from: HYPERVISOR, to: 'spmd', fid: BigInt(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_64) },
        then: { action: 'fail', regs: registers(FFA_FIDS.FFA_MEM_RETRIEVE_RESP) },
        count: 1,
      },
    ],
  };
}

for (const runtime of RUNTIMES) {
  test(`guest ABIs of docs/ffa-reference.md §5.4-§5.6 through the hypervisor, against Hafnium [${runtime}]`, async (t) => {
    const entries = await runHypervisorWorld(guestAbiWorld(), runtime);
    const results = resultsOf(entries, 'driver');
    const r = (label: string) => returned(results, label);
    const toSpmc = callsDelivered(entries, 'spmd', SPMC);

    await t.test('version first, then final at the first other call (ffa_negotiate_version)', () => {
      assertError(r('id before version'), 'NOT_SUPPORTED', 'id before version');
      assertError(r('features before version'), 'NOT_SUPPORTED', 'features before version');
      assert.equal(x(r('version 2.0'), 0), 0x1_0002n, 'another major: Xen answers its own version');
      assert.equal(x(r('version 1.1'), 0), 0x1_0002n, 'the answer is always Xen\'s version');
      assertSuccess(r('id get'), 'id get', { w2: VM1 });
      assertSuccess(r('rxtx features at 1.1'), 'rxtx features at 1.1', { w2: 0 });
      assert.equal(x(r('version after final'), 0), 0x1_0002n);
      assertSuccess(r('rxtx features still 1.1'), 'a VERSION after the first other call changes nothing', { w2: 0 });
      assertError(r('req2 features at 1.1'), 'NOT_SUPPORTED', 'DIRECT_REQ2 needs v1.2');
      assertError(r('req2 call at 1.1'), 'NOT_SUPPORTED', 'DIRECT_REQ2 call at 1.1');
      assertSuccess(r('vm2 id get'), 'vm2 id get', { w2: VM2 });
    });

    await t.test('FFA_FEATURES answers (handle_features, docs/ffa-reference.md §5.6)', () => {
      for (const [label, , expected] of FEATURE_ROWS) {
        if (expected === 'NOT_SUPPORTED') assertError(r(`features ${label}`), 'NOT_SUPPORTED', `features ${label}`);
        else assertSuccess(r(`features ${label}`), `features ${label}`, { w2: expected });
      }
      assertError(r('features with w2 set'), 'NOT_SUPPORTED', 'w2..w7 must be zero');
      for (const [label] of NOT_SUPPORTED_CALLS) assertError(r(label), 'NOT_SUPPORTED', label);
      // ffa_handle_msg_send2 → ffa_tx_acquire: "TX acquire denied, no RX/TX mapped".
      assertError(r('call MSG_SEND2 with no TX buffer'), 'DENIED', 'MSG_SEND2 without buffers');
      assertSmcccNotSupported(r('not an FF-A function'), 'not an FF-A function');
      // BITMAP_CREATE from a guest never reaches the firmware: the only ones there are the hypervisor's.
      const creates = toSpmc.filter((regs) => w(regs, 0) === FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE);
      assert.deepEqual(creates.map((regs) => w(regs, 1)), [VM1, VM2]);
    });

    await t.test('PARTITION_INFO_GET from the SP list cached at probe, and the RX/TX buffer rules', () => {
      // "Size should be 0 on count request" (ffa_handle_partition_info_get).
      assertSuccess(r('partinfo count'), 'count', { w2: 2, w3: 0 });
      assertSuccess(r('partinfo count by uuid'), 'count by uuid', { w2: 1, w3: 0 });
      assertError(r('partinfo count unknown uuid'), 'INVALID_PARAMETERS', 'unknown uuid');
      assertError(r('partinfo bad flags'), 'INVALID_PARAMETERS', 'bad flags');
      assertError(r('partinfo without rx'), 'DENIED', 'no RX buffer');
      assertError(r('rxtx map 2 pages'), 'INVALID_PARAMETERS', 'two pages');
      assertSuccess(r('rxtx map'), 'rxtx map');
      assertError(r('rxtx map again'), 'DENIED', 'already mapped');
      assertSuccess(r('partinfo'), 'partinfo', { w2: 2, w3: 24 });
      assertError(r('partinfo rx busy'), 'BUSY', 'the RX buffer is the guest\'s');
      assertSuccess(r('rx release'), 'rx release');
      assertError(r('rx release again'), 'DENIED', 'rx release again');
      assertSuccess(r('rxtx unmap'), 'rxtx unmap');
      assertError(r('rxtx unmap again'), 'INVALID_PARAMETERS', 'rxtx unmap again');
      assertSuccess(r('vm1 partinfo count at 1.1'), 'v1.1 descriptors', { w2: 2, w3: 0 });
      const written = records(entries, HYPERVISOR, 'rx-partition-info');
      assert.deepEqual(written.map((rec) => rec['vm']), [VM2]);
      // The descriptors reach the guest's RX buffer with the return, as the SPMC gave them to Xen.
      const memory = memoryOf(entries, 'driver').get('partinfo');
      assert.equal(memory?.owner, VM2);
      assert.deepEqual(memory?.content.kind === 'partition-info' ? memory.content.partitions.map((p) => p.id) : null, PARTITIONS.map((p) => p.id));
      // Guests' PARTITION_INFO_GET never reach the firmware: only the probe's does.
      assert.equal(toSpmc.filter((regs) => w(regs, 0) === FFA_FIDS.FFA_PARTITION_INFO_GET).length, 1);
      // The firmware has RX_ACQUIRE: Xen keeps the SPMC in step with the guest's buffers (ffa_rxtx.c).
      const buffers = new Set<number>([FFA_FIDS.FFA_RXTX_MAP_64, FFA_FIDS.FFA_RX_ACQUIRE, FFA_FIDS.FFA_RX_RELEASE, FFA_FIDS.FFA_RXTX_UNMAP]);
      const ownership = toSpmc.filter((regs) => buffers.has(w(regs, 0)));
      assert.deepEqual(ownership.map((regs) => [abiNameOf(w(regs, 0)), w(regs, 1)]), [
        ['FFA_RXTX_MAP_64', 0x4000_0000], // Xen's own buffers, at probe (w1: its TX page)
        ['FFA_RX_RELEASE', 0], // after the probe's PARTITION_INFO_GET
        ['FFA_RXTX_MAP_64', 0], // the guest's, forwarded with the descriptor in Xen's TX buffer
        ['FFA_RX_ACQUIRE', VM2], // before Xen writes the guest's RX buffer
        ['FFA_RX_RELEASE', VM2],
        ['FFA_RXTX_UNMAP', VM2 << 16],
      ]);
    });

    await t.test('BIND/UNBIND/SET: own ID checked, forwarded only with a secure peer, SPMC errors passed back', () => {
      assertError(r('bind other receiver'), 'INVALID_PARAMETERS', 'bind other receiver');
      assertError(r('bind flags'), 'DENIED', 'bind flags (global only)');
      assertError(r('bind vm sender'), 'NOT_SUPPORTED', 'bind vm sender');
      assertSuccess(r('bind'), 'bind');
      assertError(r('bind again'), 'DENIED', 'Hafnium: already bound, passed back');
      assertSuccess(r('bind w5 set'), 'bind w5 set');
      assertError(r('unbind other receiver'), 'INVALID_PARAMETERS', 'unbind other receiver');
      assertError(r('unbind vm sender'), 'NOT_SUPPORTED', 'unbind vm sender');
      assertSuccess(r('unbind w2 set'), 'unbind w2 set');
      assertError(r('set other sender'), 'INVALID_PARAMETERS', 'set other sender');
      assertError(r('set vm receiver'), 'NOT_SUPPORTED', 'no VM-to-VM notifications');
      assertError(r('set unbound'), 'DENIED', 'Hafnium: not bound to this sender, passed back');
      assertError(r('set delay sri'), 'INVALID_PARAMETERS', 'Hafnium rejects delay-SRI from the NWd: flags forwarded unchanged');
      const binds = toSpmc.filter((regs) => w(regs, 0) === FFA_FIDS.FFA_NOTIFICATION_BIND);
      assert.equal(binds.length, 3, 'only the three valid BINDs were forwarded');
      assert.ok(binds.every((regs) => x(regs, 5) === 0n), 'ffa_simple_call forwards w1..w4 only');
      const unbinds = toSpmc.filter((regs) => w(regs, 0) === FFA_FIDS.FFA_NOTIFICATION_UNBIND);
      assert.deepEqual(unbinds.map((regs) => w(regs, 2)), [0], 'UNBIND forwarded with w2 = 0');
      const sets = toSpmc.filter((regs) => w(regs, 0) === FFA_FIDS.FFA_NOTIFICATION_SET);
      assert.deepEqual(sets.map((regs) => [w(regs, 1), w(regs, 2)]), [[(VM1 << 16) | NOTIFIER, 0], [(VM1 << 16) | NOTIFIER, SET_FLAGS.delaySri]]);
    });

    await t.test('GET: own ID, masked to SP|SPM, SPMC errors passed back', () => {
      assertError(r('get other receiver'), 'INVALID_PARAMETERS', 'get other receiver');
      assertSuccess(r('get vm and hyp only'), 'nothing secure asked: zeros, no forward', { w2: 0, w3: 0 });
      assertSuccess(r('get all bitmaps'), 'get all bitmaps', { w2: 0, x: { 4: 0n, 5: 0n, 7: 0n } });
      assertError(r('get bad vcpu'), 'INVALID_PARAMETERS', 'Hafnium checks the vCPU against BITMAP_CREATE\'s count');
      const gets = toSpmc.filter((regs) => w(regs, 0) === FFA_FIDS.FFA_NOTIFICATION_GET);
      assert.ok(gets.length >= 3);
      assert.ok(gets.every((regs) => (w(regs, 2) & ~(GET_FLAGS.sp | GET_FLAGS.spm)) === 0), 'GET is forwarded with SP|SPM only');
      assert.ok(gets.some((regs) => w(regs, 2) === (GET_FLAGS.sp | GET_FLAGS.spm)), 'all four bitmaps asked: SP|SPM forwarded');
      assertError(r('info get nothing pending'), 'NO_DATA', 'info get with nothing pending');
    });

    await t.test('INFO_GET: destructive, names only the caller, SUCCESS_64 for _32; GET clears only with SP and SPM', () => {
      assertError(r('vm2 info get while vm1 pending'), 'NO_DATA', 'another VM\'s pending flag is never reported');
      assertSuccess(r('get sp only'), 'get sp only', { w2: 0b01 });
      assertSuccess(r('info get 32 after sp only'), 'SP only keeps secure_pending; INFO_GET_32 answered with SUCCESS_64', {
        w0: FFA_FIDS.FFA_SUCCESS_64,
        x: { 2: 1n << 7n, 3: BigInt(VM1), 4: 0n },
      });
      assertError(r('info get again'), 'NO_DATA', 'INFO_GET is destructive');
      assertSuccess(r('get sp and spm'), 'get sp and spm', { w2: 0b10 });
      assertError(r('info get after sp and spm'), 'NO_DATA', 'SP|SPM cleared secure_pending');
      const injected = records(entries, HYPERVISOR, 'npi-inject');
      assert.deepEqual(injected.map((rec) => [rec['vm'], rec['vcpu']]), [[VM1, 0], [VM1, 0]]);
    });

    await t.test('DIRECT_REQ and RUN: own ID, secure receiver, answer copied back, ABORTED on an unexpected FID', () => {
      assertError(r('direct other sender'), 'INVALID_PARAMETERS', 'direct other sender');
      assertError(r('direct to self'), 'INVALID_PARAMETERS', 'direct to self');
      assertError(r('direct to vm'), 'NOT_SUPPORTED', 'no direct messages to VMs');
      assertSuccess(r('direct 32 echo'), 'direct 32 echo', {
        w0: FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32,
        x: { 1: BigInt(((ECHO << 16) | VM2) >>> 0), 3: 5n, 4: 6n, 7: 9n },
      });
      assertError(r('direct 64 aborted'), 'ABORTED', 'an unexpected answer is ABORTED');
      assertSuccess(r('direct 64 echo'), 'direct 64 echo', { w0: FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_64, x: { 3: 0x1_0000_0005n } });
      assertError(r('run vm'), 'NOT_SUPPORTED', 'FFA_RUN of a VM');
      // Hafnium's SPMC gives the CPU back with FFA_MSG_WAIT, which ffa_finish_direct_req_run does not expect.
      assertError(r('run sp'), 'ABORTED', 'run sp');
      assertError(r('relay in xen profile'), 'NOT_SUPPORTED', 'the xen profile relays nothing');
      const stranger = resultsOf(entries, 'stranger');
      assertSmcccNotSupported(returned(stranger, 'stranger id get'), 'a component that is no VM\'s guest');
    });
  });
}
