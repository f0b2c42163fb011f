/**
 * Properties every codec must have, checked over arbitrary valid arguments and results:
 * encode -> decode is the identity with no violations, 32-bit calls live in the w-registers,
 * and decoding arbitrary registers never throws.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ABI_CODECS, codecForAbi, codecForFid } from './abi-table.ts';
import { infoListFits, type InfoGetWidth, type NotificationInfoList } from './info-get-list.ts';
import { isSmc64 } from './function-ids.ts';
import type { RegisterFile } from './registers.ts';

const U64 = (1n << 64n) - 1n;
const U32 = 0xffff_ffffn;
const anyRegisterFile = fc.array(fc.bigInt({ min: 0n, max: U64 }), { minLength: 18, maxLength: 18 });
const id16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u32Big = fc.bigInt({ min: 0n, max: U32 });
const u64 = fc.oneof(fc.bigInt({ min: 0n, max: U64 }), fc.constantFrom(0x8004_0000_4000_0003n, U64, 0n, 1n << 63n, 1n));
const none = fc.constant({});

type Fields = Record<string, unknown>;

/** fc.record builds null-prototype objects; copy them into plain ones for deepEqual. */
function fields<T extends Record<string, fc.Arbitrary<unknown>>>(shape: T): fc.Arbitrary<Fields> {
  return fc.record(shape).map((value) => ({ ...value }));
}

function fittingInfo(width: InfoGetWidth): fc.Arbitrary<Fields> {
  const list: fc.Arbitrary<NotificationInfoList> = fc.record({ id: id16, vcpus: fc.array(id16, { maxLength: 3 }) }).map(({ id, vcpus }) => ({ id, vcpus }));
  return fc.record({ morePending: fc.boolean(), lists: fc.array(list, { maxLength: 24 }) }).map(({ morePending, lists }) => {
    const kept: NotificationInfoList[] = [];
    for (const next of lists) {
      if (!infoListFits(kept, next, width)) break;
      kept.push(next);
    }
    return { morePending, lists: kept };
  });
}

/** A descriptor as FFA_PARTITION_INFO_GET_REGS carries it: not all zeros (an all-zero slot is an empty one). */
const regsDescriptor = fc
  .record({ id: id16, vcpus: fc.integer({ min: 1, max: 0xffff }), properties: u32, uuid: fc.uuid() }, { noNullPrototype: true });

/** A valid return window: current <= last, at most min(5, current + 1) descriptors. */
const regsResult: fc.Arbitrary<Fields> = fc
  .record({ lastIndex: id16, tag: id16, descriptorSize: id16, picks: fc.array(regsDescriptor, { maxLength: 5 }), fraction: fc.double({ min: 0, max: 1, noNaN: true }) })
  .map(({ lastIndex, tag, descriptorSize, picks, fraction }) => {
    const currentIndex = Math.min(lastIndex, Math.floor(fraction * (lastIndex + 1)));
    return { lastIndex, currentIndex, tag, descriptorSize, partitions: picks.slice(0, currentIndex + 1) };
  });

const directMessage = (payload: fc.Arbitrary<bigint>) =>
  fields({ sender: id16, receiver: id16, flags: u32, payload: fc.array(payload, { minLength: 5, maxLength: 5 }) });

/** Valid arguments, every field present (decoders return every field). */
const VALID_ARGS: Record<string, fc.Arbitrary<Fields>> = {
  FFA_VERSION: fields({ version: fc.integer({ min: 0, max: 0x7fff_ffff }) }),
  FFA_FEATURES: fc.oneof(
    fields({ id: fc.integer({ min: 0x8000_0000, max: 0xffff_ffff }), properties: u32 }),
    fields({ id: fc.integer({ min: 0, max: 0xff }), properties: fc.constant(0) }),
  ),
  FFA_ID_GET: none,
  FFA_SPM_ID_GET: none,
  FFA_PARTITION_INFO_GET: fields({ uuid: fc.uuid(), countOnly: fc.boolean() }),
  // A tag only continues a listing (start index > 0); Xen caps the start index at 0xfffb.
  FFA_PARTITION_INFO_GET_REGS: fc.oneof(
    fields({ uuid: fc.uuid(), startIndex: fc.constant(0), tag: fc.constant(0) }),
    fields({ uuid: fc.uuid(), startIndex: fc.integer({ min: 1, max: 0xfffb }), tag: id16 }),
  ),
  FFA_RXTX_MAP_32: fields({ tx: u32Big, rx: u32Big, pageCount: fc.integer({ min: 1, max: 63 }) }),
  FFA_RXTX_MAP_64: fields({ tx: u64, rx: u64, pageCount: fc.integer({ min: 1, max: 63 }) }),
  FFA_RXTX_UNMAP: fields({ id: id16 }),
  FFA_RX_RELEASE: fields({ receiver: id16 }),
  FFA_RX_ACQUIRE: fields({ receiver: id16 }),
  FFA_NOTIFICATION_BITMAP_CREATE: fields({ vm: id16, vcpus: u32 }),
  FFA_NOTIFICATION_BITMAP_DESTROY: fields({ vm: id16 }),
  FFA_NOTIFICATION_BIND: fields({ sender: id16, receiver: id16, flags: fc.constantFrom(0, 1), bitmap: u64 }),
  FFA_NOTIFICATION_UNBIND: fields({ sender: id16, receiver: id16, bitmap: u64 }),
  FFA_NOTIFICATION_SET: fc
    .record({ sender: id16, receiver: id16, perVcpu: fc.boolean(), delaySri: fc.boolean(), vcpu: id16, bitmap: u64 })
    .map(({ sender, receiver, perVcpu, delaySri, vcpu, bitmap }) => ({
      sender,
      receiver,
      flags: (perVcpu ? 1 : 0) | (delaySri ? 2 : 0),
      vcpu: perVcpu ? vcpu : 0,
      bitmap,
    })),
  FFA_NOTIFICATION_GET: fields({ receiver: id16, vcpu: id16, flags: fc.integer({ min: 0, max: 0xf }) }),
  FFA_NOTIFICATION_INFO_GET_32: none,
  FFA_NOTIFICATION_INFO_GET_64: none,
  FFA_MSG_SEND_DIRECT_REQ_32: directMessage(u32Big),
  FFA_MSG_SEND_DIRECT_REQ_64: directMessage(u64),
  FFA_MSG_SEND_DIRECT_RESP_32: directMessage(u32Big),
  FFA_MSG_SEND_DIRECT_RESP_64: directMessage(u64),
  FFA_MSG_SEND2: fields({ sender: id16, flags: u32 }),
  FFA_RUN: fields({ target: id16, vcpu: id16 }),
  FFA_MSG_WAIT: none,
  FFA_INTERRUPT: fields({ target: id16, vcpu: id16 }),
  FFA_NORMAL_WORLD_RESUME: none,
};

/** Valid success results, every field present; absent for codecs without a success return. */
const VALID_RESULTS: Record<string, fc.Arbitrary<Fields>> = {
  FFA_VERSION: fields({ version: fc.integer({ min: 0, max: 0x7fff_ffff }) }),
  FFA_FEATURES: fields({ properties: u32, moreProperties: u32 }).map((r) => ({ properties: r.properties, intid: r.properties, moreProperties: r.moreProperties })),
  FFA_ID_GET: fields({ id: id16 }),
  FFA_SPM_ID_GET: fields({ id: id16 }),
  FFA_PARTITION_INFO_GET: fields({ count: u32, descriptorSize: u32 }),
  FFA_PARTITION_INFO_GET_REGS: regsResult,
  FFA_RXTX_MAP_32: none,
  FFA_RXTX_MAP_64: none,
  FFA_RXTX_UNMAP: none,
  FFA_RX_RELEASE: none,
  FFA_RX_ACQUIRE: none,
  FFA_NOTIFICATION_BITMAP_CREATE: none,
  FFA_NOTIFICATION_BITMAP_DESTROY: none,
  FFA_NOTIFICATION_BIND: none,
  FFA_NOTIFICATION_UNBIND: none,
  FFA_NOTIFICATION_SET: none,
  FFA_NOTIFICATION_GET: fields({ spBitmap: u64, vmBitmap: u64, spmBitmap: u32Big, hypBitmap: u32Big }),
  FFA_NOTIFICATION_INFO_GET_32: fittingInfo(32),
  FFA_NOTIFICATION_INFO_GET_64: fittingInfo(64),
  FFA_MSG_SEND_DIRECT_REQ_32: directMessage(u32Big),
  FFA_MSG_SEND_DIRECT_REQ_64: directMessage(u64),
  FFA_MSG_SEND2: none,
  FFA_RUN: none,
};

function arbitraryFor(table: Record<string, fc.Arbitrary<Fields>>, abi: string): fc.Arbitrary<Fields> {
  const arbitrary = table[abi];
  assert.ok(arbitrary, `no arbitrary for ${abi}`);
  return arbitrary;
}

function withUpperHalves(regs: RegisterFile, upper: readonly bigint[]): RegisterFile {
  return regs.map((value, index) => (index >= 1 && index <= 7 ? value | ((upper[index] ?? 0n) << 32n) : value));
}

const upperHalves = fc.array(u32Big, { minLength: 8, maxLength: 8 });

test('every codec has argument and result arbitraries here', () => {
  for (const codec of ABI_CODECS) {
    assert.ok(VALID_ARGS[codec.abi], codec.abi);
    assert.equal(VALID_RESULTS[codec.abi] !== undefined, codec.success !== null, codec.abi);
  }
});

test('the scenario-format ABI names all have codecs', () => {
  const names = [
    'FFA_VERSION', 'FFA_FEATURES', 'FFA_ID_GET', 'FFA_SPM_ID_GET', 'FFA_PARTITION_INFO_GET',
    'FFA_NOTIFICATION_BITMAP_CREATE', 'FFA_NOTIFICATION_BITMAP_DESTROY', 'FFA_NOTIFICATION_BIND',
    'FFA_NOTIFICATION_UNBIND', 'FFA_NOTIFICATION_SET', 'FFA_NOTIFICATION_GET', 'FFA_NOTIFICATION_INFO_GET_32',
    'FFA_NOTIFICATION_INFO_GET_64', 'FFA_MSG_SEND_DIRECT_REQ_32', 'FFA_MSG_SEND_DIRECT_REQ_64', 'FFA_RUN',
    'FFA_MSG_SEND2', 'FFA_RXTX_MAP_64', 'FFA_RXTX_UNMAP', 'FFA_RX_RELEASE',
  ];
  for (const name of names) assert.equal(codecForAbi(name)?.abi, name);
  assert.equal(codecForAbi('FFA_MEM_SHARE_64'), null);
  assert.equal(codecForFid(0x8400_0081)?.abi, 'FFA_NOTIFICATION_SET');
  assert.equal(codecForFid(0x1234), null);
});

for (const codec of ABI_CODECS) {
  const smc32 = !isSmc64(codec.fid);

  test(`${codec.abi}: encode -> decode is the identity, with no violations`, () => {
    fc.assert(
      fc.property(arbitraryFor(VALID_ARGS, codec.abi), (args) => {
        const regs = codec.encodeCall(args);
        assert.equal(regs.length, 18);
        assert.equal(regs[0], BigInt(codec.fid));
        if (smc32) assert.ok(regs.every((value) => value <= U32), 'a 32-bit call leaves the upper halves zero');
        const decoded = codec.decodeCall(regs);
        assert.deepEqual(decoded.args, args);
        assert.deepEqual(decoded.violations, []);
        assert.deepEqual(Object.keys(codec.args).sort(), Object.keys(args).sort(), 'the args table names every field');
      }),
    );
  });

  if (smc32) {
    test(`${codec.abi}: decoding reads w-registers only`, () => {
      fc.assert(
        fc.property(arbitraryFor(VALID_ARGS, codec.abi), upperHalves, (args, upper) => {
          const regs = codec.encodeCall(args);
          assert.deepEqual(codec.decodeCall(withUpperHalves(regs, upper)), codec.decodeCall(regs));
        }),
      );
    });
  }

  const success = codec.success;
  if (success !== null) {
    test(`${codec.abi}: success encode -> decode is the identity`, () => {
      fc.assert(
        fc.property(arbitraryFor(VALID_RESULTS, codec.abi), (result) => {
          const regs = success.encode(result);
          if (success.fid !== null) assert.equal(regs[0], BigInt(success.fid));
          if (success.fid === null || !isSmc64(success.fid)) assert.ok(regs.every((value) => value <= U32));
          assert.deepEqual(success.decode(regs), { ok: true, result });
        }),
      );
    });
  }

  test(`${codec.abi}: decoding arbitrary registers never throws`, () => {
    fc.assert(
      fc.property(anyRegisterFile, (regs) => {
        codec.decodeCall(regs);
        success?.decode(regs);
      }),
    );
  });
}
