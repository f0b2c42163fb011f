/**
 * FFA_PARTITION_INFO_GET_REGS through the hypervisor (docs/ffa-reference.md §5.4, §5.6; Xen ffa_partinfo.c
 * ffa_handle_partition_info_get_regs), under both runtimes: answered by Xen from the SP list it
 * cached at probe, never forwarded; only to a guest at v1.2 (NOT_SUPPORTED below, as FEATURES
 * says); 7 SPs come in two windows (5 + 2), Xen's tag 1 in x2[47:32] and required back after
 * start index 0 (RETRY otherwise); a UUID query zeroes the UUID registers; bad start indexes and
 * unknown UUIDs are INVALID_PARAMETERS. A success writes all of x0..x17; an error only x0..x7.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FFA_FIDS, NIL_UUID, ffaFeatures, ffaPartitionInfoGetRegs, registers, w, type PartitionInfo, type RegisterFile } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { PARTINFO_TAG } from './setup-and-discovery.ts';
import { assertError, assertSuccess } from './test-support/expect.ts';
import { HYPERVISOR, SPMC, callsDelivered, createVm, hvc, records, resultsOf, returned, runHypervisorWorld, type HypervisorWorld, type SpDescription } from './test-support/world.ts';

const VM1 = 1; // negotiates v1.2
const VM2 = 2; // negotiates v1.1
const SHARED_UUID = '5a5a0006-0000-4000-8000-0000000000aa';
const UNKNOWN_UUID = '11111111-2222-3333-4444-555555555555';
const uuidOf = (id: number): string => `5a5a${id.toString(16)}-0000-4000-8000-000000000001`;

/** Seven SPs, the last two sharing a UUID. */
const SPS: SpDescription[] = [0x8001, 0x8002, 0x8003, 0x8004, 0x8005, 0x8006, 0x8007].map((id) => ({
  id,
  name: `sp${id.toString(16)}`,
  behaviour: 'raw',
  vcpus: id === 0x8007 ? 2 : 1,
  uuid: id >= 0x8006 ? SHARED_UUID : uuidOf(id),
  notifications: false,
  messaging: ['direct'],
}));
/**
 * As the cached list holds them: what the Hafnium SPMC wrote into Xen's RX buffer at probe for a
 * normal-world caller, direct requests received but not sent (ffa_setup_partition_properties),
 * AArch64.
 */
const LISTED: PartitionInfo[] = SPS.map((sp) => ({ id: sp.id, vcpus: sp.vcpus, properties: 0x101, uuid: sp.uuid }));

const regsCall = (args: { uuid?: string; startIndex?: number; tag?: number } = {}): RegisterFile => ffaPartitionInfoGetRegs.encodeCall(args);
const version = (v: number) => registers(FFA_FIDS.FFA_VERSION, v);
/** The guest's own x8..x17, to see which registers an answer writes. */
const GUEST_HIGH = 0x6767_0000n;
function withGuestHigh(regs: RegisterFile): RegisterFile {
  return regs.map((value, index) => (index >= 8 ? GUEST_HIGH + BigInt(index) : value));
}

/** x3[63:32] and x4..x17 are SBZ: set them all. */
function sbzSet(regs: RegisterFile): RegisterFile {
  return regs.map((value, index) => (index === 3 ? value | 0xdead_beef_0000_0000n : index >= 4 ? 0x5a00n + BigInt(index) : value));
}

function steps() {
  return [
    createVm({ name: 'vm1', id: VM1, vcpus: 2, component: 'driver' }),
    createVm({ name: 'vm2', id: VM2, vcpus: 1, component: 'driver' }),
    hvc('vm2 version 1.1', VM2, version(0x1_0001)),
    hvc('vm2 features', VM2, ffaFeatures.encodeCall({ id: FFA_FIDS.FFA_PARTITION_INFO_GET_REGS })),
    hvc('vm2 regs', VM2, regsCall()),
    hvc('vm1 version 1.2', VM1, version(0x1_0002)),
    hvc('vm1 features', VM1, ffaFeatures.encodeCall({ id: FFA_FIDS.FFA_PARTITION_INFO_GET_REGS })),
    hvc('from 0', VM1, withGuestHigh(regsCall())),
    hvc('from 5 with the tag', VM1, withGuestHigh(regsCall({ startIndex: 5, tag: PARTINFO_TAG }))),
    hvc('from 2 with the tag', VM1, regsCall({ startIndex: 2, tag: PARTINFO_TAG })),
    hvc('from 5 without the tag', VM1, withGuestHigh(regsCall({ startIndex: 5 }))),
    hvc('from 5 with another tag', VM1, regsCall({ startIndex: 5, tag: 2 })),
    hvc('from 0 with a tag', VM1, regsCall({ tag: PARTINFO_TAG })),
    hvc('from 7, past the list', VM1, regsCall({ startIndex: 7, tag: PARTINFO_TAG })),
    hvc('from 0xfffc', VM1, regsCall({ startIndex: 0xfffc, tag: PARTINFO_TAG })),
    hvc('shared uuid', VM1, regsCall({ uuid: SHARED_UUID })),
    hvc('unknown uuid', VM1, regsCall({ uuid: UNKNOWN_UUID })),
    hvc('sbz registers set', VM1, sbzSet(regsCall())),
  ];
}

function world(): HypervisorWorld {
  return { spmcProfile: 'hafnium', partitions: SPS, actors: { driver: { steps: steps() } } };
}

/** Every register of a success: x0..x17. */
function assertWindow(regs: RegisterFile, label: string, lastIndex: number, currentIndex: number, partitions: PartitionInfo[]): void {
  const expected = ffaPartitionInfoGetRegs.success!.encode({ lastIndex, currentIndex, tag: PARTINFO_TAG, partitions });
  assertSuccess(regs, label, { w0: FFA_FIDS.FFA_SUCCESS_64, x: Object.fromEntries(expected.map((value, index) => [index, value])) });
  assert.deepEqual(ffaPartitionInfoGetRegs.success!.decode(regs), {
    ok: true,
    result: { lastIndex, currentIndex, tag: PARTINFO_TAG, descriptorSize: 24, partitions },
  });
}

for (const runtime of RUNTIMES) {
  test(`FFA_PARTITION_INFO_GET_REGS answered by the hypervisor from its cached SP list [${runtime}]`, async (t) => {
    const entries = await runHypervisorWorld(world(), runtime);
    const results = resultsOf(entries, 'driver');
    const r = (label: string) => returned(results, label);

    await t.test('a v1.1 guest: not offered, not answered (handle_features; guest_vers < FFA_VERSION_1_2)', () => {
      assertError(r('vm2 features'), 'NOT_SUPPORTED', 'vm2 features');
      assertError(r('vm2 regs'), 'NOT_SUPPORTED', 'vm2 regs');
    });

    await t.test('a v1.2 guest: two windows of the 7 SPs, tag 1, all of x0..x17 written', () => {
      assertSuccess(r('vm1 features'), 'vm1 features', { w2: 0 });
      assertWindow(r('from 0'), 'from 0', 6, 4, LISTED.slice(0, 5));
      assertWindow(r('from 5 with the tag'), 'from 5 with the tag', 6, 6, LISTED.slice(5));
      assert.equal(r('from 5 with the tag')[9], 0n, 'x9..x17 past the last descriptor are zeroed, not the guest\'s');
      assertWindow(r('from 2 with the tag'), 'from 2 with the tag', 6, 6, LISTED.slice(2));
      assertWindow(r('sbz registers set'), 'x3[63:32], x4..x17 are SBZ: ignored', 6, 4, LISTED.slice(0, 5));
    });

    await t.test('tags, start indexes and UUIDs (Xen\'s checks, in its order)', () => {
      assertError(r('from 5 without the tag'), 'RETRY', 'a continuation must carry Xen\'s tag');
      assert.equal(r('from 5 without the tag')[8], GUEST_HIGH + 8n, 'an error writes x0..x7 only (ffa_set_regs)');
      assertError(r('from 5 with another tag'), 'RETRY', 'another tag');
      assertError(r('from 0 with a tag'), 'INVALID_PARAMETERS', 'a tag at start index 0');
      assertError(r('from 7, past the list'), 'INVALID_PARAMETERS', 'start index past the list');
      assertError(r('from 0xfffc'), 'INVALID_PARAMETERS', 'no room for 5 entries below 0x10000');
      const shared = LISTED.slice(5).map((p) => ({ ...p, uuid: NIL_UUID }));
      assertWindow(r('shared uuid'), 'a UUID query: both SPs with it, UUID registers zero', 1, 1, shared);
      assertError(r('unknown uuid'), 'INVALID_PARAMETERS', 'unknown uuid');
    });

    await t.test('never forwarded: the SPMC sees only the probe\'s PARTITION_INFO_GET', () => {
      const toSpmc = callsDelivered(entries, 'spmd', SPMC);
      assert.equal(toSpmc.filter((regs) => w(regs, 0) === FFA_FIDS.FFA_PARTITION_INFO_GET_REGS).length, 0);
      assert.equal(toSpmc.filter((regs) => w(regs, 0) === FFA_FIDS.FFA_PARTITION_INFO_GET).length, 1);
      const answered = records(entries, HYPERVISOR, 'guest-call').filter((rec) => rec['abi'] === 'FFA_PARTITION_INFO_GET_REGS');
      assert.ok(answered.length >= 12 && answered.every((rec) => rec['by'] === 'hypervisor'));
    });
  });
}
