/**
 * Random guest calls (fast-check, fixed seed) through the runtime: whatever a guest puts in its
 * registers, the hypervisor answers every call, and nothing it forwards to the firmware speaks
 * for another endpoint (docs/ffa-reference.md §5.4: "It validates that the guest uses its own FF-A ID …
 * and forwards the call as is"): the VM-ID field of every forwarded BIND/UNBIND/GET/SET/DIRECT_REQ
 * is the caller's, the peer of every forwarded notification call and direct request is an SP, and
 * the firmware-only ABIs (BITMAP_CREATE/DESTROY, INFO_GET) reach it only from the hypervisor itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FFA_FIDS, isSecureId, registers, w, x } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { RegisterFile } from '../../shared/protocol/messages.ts';
import type { ActorStep } from './test-support/actor.ts';
import { HYPERVISOR, callsDelivered, createVm, hvc, records, runHypervisorWorld, type SpDescription } from './test-support/world.ts';

const VM = 1;
const OTHER_VM = 2;
const PARTITIONS: SpDescription[] = [
  { id: 0x8001, name: 'notifier', behaviour: 'notifier', vcpus: 4, uuid: '00000000-0000-0000-0000-000000008001', notifications: true, messaging: ['direct'] },
  { id: 0x8002, name: 'echo', behaviour: 'echo', vcpus: 1, uuid: '00000000-0000-0000-0000-000000008002', notifications: false, messaging: ['direct'] },
];

/** IDs a guest might put in a 16-bit field: its own, another VM's, the hypervisor's, SPs', mostly; anything, sometimes. */
const anId = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(VM, OTHER_VM, 0, 0x8000, 0x8001, 0x8002, 0xffff) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const aWord = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constantFrom(1, 2, 3, 5) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff_ffff }) },
);
/** The calls the mediator forwards, mostly; any FF-A function or any word, sometimes. */
const FORWARDABLE = [
  FFA_FIDS.FFA_NOTIFICATION_BIND,
  FFA_FIDS.FFA_NOTIFICATION_UNBIND,
  FFA_FIDS.FFA_NOTIFICATION_SET,
  FFA_FIDS.FFA_NOTIFICATION_GET,
  FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64,
  FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE,
  FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32,
  FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_64,
  FFA_FIDS.FFA_RUN,
];
const aFid = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FORWARDABLE) },
  { weight: 3, arbitrary: fc.constantFrom(...Object.values(FFA_FIDS)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff_ffff }) },
);

/** w1 as [high, low]: often the caller on one side and any ID on the other, else any two IDs. */
const aPair = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.constant(VM), anId) },
  { weight: 2, arbitrary: fc.tuple(anId, fc.constant(VM)) },
  { weight: 1, arbitrary: fc.tuple(anId, anId) },
);

const aCall = fc.record({ fid: aFid, pair: aPair, rest: fc.array(aWord, { minLength: 6, maxLength: 6 }) });

const CALLS = fc.sample(aCall, { seed: 20240308, numRuns: 300 }).map(({ fid, pair: [high, low], rest }) => registers(fid, ((high << 16) | low) >>> 0, ...rest));

function fuzzSteps(): ActorStep[] {
  return [
    createVm({ name: 'vm1', id: VM, vcpus: 2, component: 'fuzzer' }),
    createVm({ name: 'vm2', id: OTHER_VM, vcpus: 1, component: 'someone-else' }),
    hvc('version', VM, registers(FFA_FIDS.FFA_VERSION, 0x1_0002)),
    ...CALLS.map((regs, index) => hvc(`call ${index}`, VM, regs, index % 2)),
  ];
}

/** The ID fields of a forwarded call that must name the caller, and the peer that must be an SP. */
function checkForwarded(regs: RegisterFile, sriTaken: boolean): void {
  const fid = w(regs, 0);
  const high = w(regs, 1) >>> 16;
  const low = w(regs, 1) & 0xffff;
  const what = `forwarded 0x${fid.toString(16)} w1 0x${w(regs, 1).toString(16)}`;
  switch (fid) {
    case FFA_FIDS.FFA_NOTIFICATION_BIND:
    case FFA_FIDS.FFA_NOTIFICATION_UNBIND:
      assert.ok(low === VM && isSecureId(high), `${what}: the receiver is the caller, the sender an SP`);
      return;
    case FFA_FIDS.FFA_NOTIFICATION_GET:
      assert.equal(low, VM, `${what}: the receiver is the caller`);
      return;
    case FFA_FIDS.FFA_NOTIFICATION_SET:
    case FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32:
    case FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_64:
      assert.ok(high === VM && isSecureId(low), `${what}: the sender is the caller, the receiver an SP`);
      return;
    case FFA_FIDS.FFA_RUN:
      assert.ok(isSecureId(high), `${what}: only SPs are run`);
      return;
    case FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64:
      assert.ok(sriTaken, `${what}: INFO_GET is the hypervisor's own, after an SRI`);
      return;
    default:
      assert.fail(`${what}: a guest call the mediator does not forward`);
  }
}

for (const runtime of RUNTIMES) {
  test(`random guest calls: every one answered, none forwarded for another endpoint [${runtime}]`, async () => {
    const entries = await runHypervisorWorld(
      { spmcProfile: 'hafnium', partitions: PARTITIONS, actors: { fuzzer: { steps: fuzzSteps() } } },
      runtime,
    );
    const results = records(entries, 'fuzzer', 'actor-result');
    assert.equal(results.length, CALLS.length + 1, 'every call returned');
    assert.ok(results.every((result) => result['ok'] === true));
    const guestCalls = records(entries, HYPERVISOR, 'guest-call').length + records(entries, HYPERVISOR, 'call-refused').length;
    assert.equal(guestCalls, CALLS.length + 1, 'each call recorded once, as handled or refused');
    // The hypervisor's own SMCs are the probe's and the life cycle's: everything after them is a guest's.
    const ownBefore = records(entries, HYPERVISOR, 'fw-call').length;
    const forwarded = callsDelivered(entries, HYPERVISOR, 'spmd').slice(ownBefore);
    const sriTaken = records(entries, HYPERVISOR, 'sri-taken').length > 0;
    for (const regs of forwarded) checkForwarded(regs, sriTaken);
    assert.ok(forwarded.every((regs) => x(regs, 0) <= 0xffff_ffffn));
    assert.ok(forwarded.length >= 20, `only ${forwarded.length} calls were forwarded: the sample exercises too little`);
  });
}
