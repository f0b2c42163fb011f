import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  infoGetIdAt,
  infoGetListCount,
  infoGetListSize,
  infoGetMaxIds,
  infoGetMorePending,
  infoListFits,
  packNotificationInfo,
  unpackNotificationInfo,
  type InfoGetWidth,
  type NotificationInfo,
  type NotificationInfoList,
} from './info-get-list.ts';
import { registers, type RegisterFile } from './registers.ts';

const U64 = (1n << 64n) - 1n;
const anyRegisterFile = fc.array(fc.bigInt({ min: 0n, max: U64 }), { minLength: 18, maxLength: 18 });
const id16 = fc.integer({ min: 0, max: 0xffff });
// fc.record builds null-prototype objects; copy into plain ones so deepEqual compares like with like.
const anyList: fc.Arbitrary<NotificationInfoList> = fc
  .record({ id: id16, vcpus: fc.array(id16, { maxLength: 3 }) })
  .map(({ id, vcpus }) => ({ id, vcpus }));

/** Lists in the order drawn, cut at the first that no longer fits one return. */
function fittingInfo(width: InfoGetWidth): fc.Arbitrary<NotificationInfo> {
  return fc.record({ morePending: fc.boolean(), lists: fc.array(anyList, { maxLength: 24 }) }).map(({ morePending, lists }) => {
    const kept: NotificationInfoList[] = [];
    for (const list of lists) {
      if (!infoListFits(kept, list, width)) break;
      kept.push(list);
    }
    return { morePending, lists: kept };
  });
}

/** The x0..x17 of an INFO_GET success carrying these x2..x7. */
function returnRegisters(width: InfoGetWidth, info: NotificationInfo): RegisterFile {
  return registers(width === 64 ? 0xc400_0061 : 0x8400_0061, 0, ...packNotificationInfo(info, width));
}

const KNOWN_LISTS: NotificationInfo = {
  morePending: false,
  lists: [
    { id: 0, vcpus: [0, 2, 3] },
    { id: 0, vcpus: [4, 6] },
    { id: 2, vcpus: [] },
    { id: 3, vcpus: [1] },
  ],
};

test('known vector, 64-bit: docs/ffa-reference.md §2.6 layout', () => {
  assert.deepEqual(packNotificationInfo(KNOWN_LISTS, 64), [
    0x0004_b200n,
    0x0003_0002_0000_0000n,
    0x0002_0006_0004_0000n,
    0x0000_0000_0001_0003n,
    0n,
    0n,
  ]);
  assert.deepEqual(unpackNotificationInfo(returnRegisters(64, KNOWN_LISTS), 64), { ok: true, info: KNOWN_LISTS });
});

test('known vector, 32-bit: 2 IDs per w-register, the same 10 IDs fill w3..w7 exactly', () => {
  // IDs in order: 0,0,2,3 | 0,4,6 | 2 | 3,1 -> w3 = [0,0], w4 = [2,3], w5 = [0,4], w6 = [6,2], w7 = [3,1].
  assert.deepEqual(packNotificationInfo(KNOWN_LISTS, 32), [0x0004_b200n, 0n, 0x0003_0002n, 0x0004_0000n, 0x0002_0006n, 0x0001_0003n]);
  assert.deepEqual(unpackNotificationInfo(returnRegisters(32, KNOWN_LISTS), 32), { ok: true, info: KNOWN_LISTS });
});

test('more pending is bit 0', () => {
  const [x2] = packNotificationInfo({ morePending: true, lists: [{ id: 1, vcpus: [] }] }, 64);
  assert.equal(x2, 0x81n);
});

test('the 32-bit unpacking ignores the upper halves of x2..x7', () => {
  const regs = returnRegisters(32, KNOWN_LISTS).map((value, index) => (index >= 2 && index <= 7 ? value | (0xdead_beefn << 32n) : value));
  assert.deepEqual(unpackNotificationInfo(regs, 32), { ok: true, info: KNOWN_LISTS });
});

test('packing refuses lists that do not fit (a bug in the caller)', () => {
  assert.throws(() => packNotificationInfo({ morePending: false, lists: [{ id: 1, vcpus: [1, 2, 3, 4] }] }, 64), RangeError);
  const fourIdLists = Array.from({ length: 6 }, (_, id) => ({ id, vcpus: [0, 1, 2] }));
  assert.throws(() => packNotificationInfo({ morePending: false, lists: fourIdLists }, 64), RangeError, '24 IDs > 20');
  assert.throws(() => packNotificationInfo({ morePending: false, lists: fourIdLists.slice(0, 3) }, 32), RangeError, '12 IDs > 10');
  const oneIdLists = Array.from({ length: 21 }, (_, id) => ({ id, vcpus: [] }));
  assert.throws(() => packNotificationInfo({ morePending: false, lists: oneIdLists }, 64), RangeError, '21 lists');
  assert.throws(() => packNotificationInfo({ morePending: false, lists: [{ id: 0x1_0000, vcpus: [] }] }, 64), RangeError);
});

test('infoListFits agrees with packing at the caps', () => {
  for (const width of [32, 64] as const) {
    const full = Array.from({ length: infoGetMaxIds(width) }, (_, id) => ({ id, vcpus: [] }));
    assert.ok(infoListFits(full.slice(1), { id: 9, vcpus: [] }, width));
    assert.ok(!infoListFits(full, { id: 9, vcpus: [] }, width));
    assert.ok(!infoListFits(full.slice(2), { id: 9, vcpus: [1, 2] }, width), 'two more IDs than room');
    assert.ok(!infoListFits([], { id: 9, vcpus: [1, 2, 3, 4] }, width));
  }
});

test('pack then unpack is the identity, 32- and 64-bit', () => {
  for (const width of [32, 64] as const) {
    fc.assert(
      fc.property(fittingInfo(width), (info) => {
        const packed = packNotificationInfo(info, width);
        if (width === 32) assert.ok(packed.every((value) => value <= 0xffff_ffffn));
        assert.deepEqual(unpackNotificationInfo(returnRegisters(width, info), width), { ok: true, info });
      }),
    );
  }
});

test('a list that fits, packs', () => {
  for (const width of [32, 64] as const) {
    fc.assert(
      fc.property(fittingInfo(width), anyList, (info, next) => {
        const lists = [...info.lists, next];
        if (infoListFits(info.lists, next, width)) packNotificationInfo({ morePending: false, lists }, width);
        else assert.throws(() => packNotificationInfo({ morePending: false, lists }, width), RangeError);
      }),
    );
  }
});

function unpackError(x2: bigint, width: InfoGetWidth, ...ids: bigint[]): string | null {
  const result = unpackNotificationInfo(registers(0xc400_0061, 0, x2, ...ids), width);
  return result.ok ? null : result.error.kind;
}

test('unpacking reports malformed returns as values', () => {
  assert.equal(unpackError(0x2n, 64), 'reserved-bits', 'x2[6:1]');
  assert.equal(unpackError((1n << 7n) | (1n << 52n), 64), 'reserved-bits', 'x2[63:52]');
  assert.equal(unpackError(21n << 7n, 64), 'too-many-lists');
  assert.equal(unpackError(11n << 7n, 32), 'too-many-lists');
  assert.equal(unpackError((1n << 7n) | (1n << 14n), 64), 'stale-list-size', 'a size for list 1 with one list');
  const twentyListsOfFour = (20n << 7n) | (((1n << 40n) - 1n) << 12n);
  assert.equal(unpackError(twentyListsOfFour, 64), 'too-many-ids');
  assert.equal(unpackError((10n << 7n) | (0x55555n << 12n), 32), 'too-many-ids', '10 lists of 2 IDs');
  assert.equal(unpackError(1n << 7n, 64, 0x0005_0001n), 'nonzero-padding');
  assert.equal(unpackError(1n << 7n, 32, 0n, 0n, 0n, 0n, 1n), 'nonzero-padding', 'w7 past the only ID');
  assert.equal(unpackError(1n << 7n, 64, 0x0001n), null);
});

test('unpacking never throws on arbitrary registers', () => {
  fc.assert(
    fc.property(anyRegisterFile, (regs) => {
      unpackNotificationInfo(regs, 32);
      unpackNotificationInfo(regs, 64);
    }),
  );
});

test('the field readers (for walkers such as Xen and Linux) read what packing wrote', () => {
  for (const width of [32, 64] as const) {
    fc.assert(
      fc.property(fittingInfo(width), (info) => {
        const regs = returnRegisters(width, info);
        const x2 = regs[2] ?? 0n;
        assert.equal(infoGetMorePending(x2), info.morePending);
        assert.equal(infoGetListCount(x2), info.lists.length);
        assert.deepEqual(info.lists.map((_, index) => infoGetListSize(x2, index)), info.lists.map((list) => list.vcpus.length));
        const ids = info.lists.flatMap((list) => [list.id, ...list.vcpus]);
        assert.deepEqual(ids.map((_, slot) => infoGetIdAt(regs, slot, width)), ids);
      }),
      { numRuns: 200, seed: 11 },
    );
  }
});
