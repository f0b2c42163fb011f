/**
 * FFA_PARTITION_INFO_GET_REGS's register layout (partition-info-regs.ts) and its codec
 * (setup-and-discovery.ts): worked examples from the implementations' own code, and round trips
 * over every 64-bit value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { enforce } from './call-checks.ts';
import { FFA_FIDS } from './function-ids.ts';
import { NIL_UUID, OPTEE_UUID, uuidToWords } from './partition-info.ts';
import {
  descriptorFromRegisters,
  descriptorToRegisters,
  packPartitionInfoRegsHeader,
  partitionInfoRegsWindow,
  unpackPartitionInfoRegsHeader,
  uuidFromRegisters,
  uuidToRegisters,
} from './partition-info-regs.ts';
import { registers } from './registers.ts';
import { ffaPartitionInfoGetRegs } from './setup-and-discovery.ts';

const U64 = (1n << 64n) - 1n;
const anyU64 = fc.bigInt({ min: 0n, max: U64 });
const success = (() => {
  const codec = ffaPartitionInfoGetRegs.success;
  assert.ok(codec, 'FFA_PARTITION_INFO_GET_REGS returns a success');
  return codec;
})();

test('the UUID in two registers is the four w-words paired low-high (Linux `(u64)uuid1 << 32 | uuid0`)', () => {
  const [w0, w1, w2, w3] = uuidToWords(OPTEE_UUID);
  assert.deepEqual(uuidToRegisters(OPTEE_UUID), [(BigInt(w1) << 32n) | BigInt(w0), (BigInt(w3) << 32n) | BigInt(w2)]);
  assert.deepEqual(uuidToRegisters(OPTEE_UUID), [0xe311_f8e7_e078_6148n, 0x1bc5_d5a5_0200_5ebcn]);
  fc.assert(fc.property(fc.uuid(), (uuid) => assert.equal(uuidFromRegisters(...uuidToRegisters(uuid)), uuid)));
  fc.assert(fc.property(anyU64, anyU64, (low, high) => assert.deepEqual(uuidToRegisters(uuidFromRegisters(low, high)), [low, high])));
});

test('x2: last [15:0], current [31:16], tag [47:32], size [63:48] cover all 64 bits', () => {
  // Hafnium api_ffa_partition_info_get_regs with 7 SPs, second call: curr_idx 6, max_idx 6, size 24.
  assert.equal(packPartitionInfoRegsHeader({ lastIndex: 6, currentIndex: 6, tag: 0, descriptorSize: 24 }), 0x0018_0000_0006_0006n);
  // Xen (no VM-to-VM): tag 1.
  assert.deepEqual(unpackPartitionInfoRegsHeader(0x0018_0001_0004_0006n), { lastIndex: 6, currentIndex: 4, tag: 1, descriptorSize: 24 });
  fc.assert(fc.property(anyU64, (x2) => assert.equal(packPartitionInfoRegsHeader(unpackPartitionInfoRegsHeader(x2)), x2)));
});

test('a descriptor: id [15:0] | execution contexts [31:16] | properties [63:32], then the UUID', () => {
  const regs = descriptorToRegisters({ id: 0x8001, vcpus: 4, properties: 0x103, uuid: OPTEE_UUID });
  assert.deepEqual(regs, [0x0000_0103_0004_8001n, ...uuidToRegisters(OPTEE_UUID)]);
  fc.assert(
    fc.property(anyU64, anyU64, anyU64, (first, low, high) => {
      const file = registers(FFA_FIDS.FFA_SUCCESS_64, 0, 0, first, low, high);
      assert.deepEqual(descriptorToRegisters(descriptorFromRegisters(file, 0)), [first, low, high]);
    }),
  );
});

test('encodeCall: x1/x2 the UUID, x3 = start | tag << 16; decodeCall reads it back', () => {
  const regs = ffaPartitionInfoGetRegs.encodeCall({ uuid: OPTEE_UUID, startIndex: 5, tag: 1 });
  assert.deepEqual(regs.slice(0, 5), [0xc400_008bn, ...uuidToRegisters(OPTEE_UUID), 0x1_0005n, 0n]);
  assert.deepEqual(ffaPartitionInfoGetRegs.encodeCall({}).slice(1, 4), [0n, 0n, 0n], 'absent UUID: all partitions, from index 0');
  assert.throws(() => ffaPartitionInfoGetRegs.encodeCall({ startIndex: 0x1_0000 }), RangeError);
  fc.assert(
    fc.property(anyU64, anyU64, anyU64, (x1, x2, x3) => {
      const { args } = ffaPartitionInfoGetRegs.decodeCall(registers(FFA_FIDS.FFA_PARTITION_INFO_GET_REGS, x1, x2, x3));
      assert.deepEqual(uuidToRegisters(args.uuid), [x1, x2]);
      assert.equal(args.startIndex, Number(x3 & 0xffffn));
      assert.equal(args.tag, Number((x3 >> 16n) & 0xffffn));
    }),
  );
});

test('decodeCall: x3[63:32] and x4..x17 are SBZ, ignored by every implementation', () => {
  const regs = ffaPartitionInfoGetRegs.encodeCall({ startIndex: 1, tag: 1 });
  regs[3] = (regs[3] ?? 0n) | (0xdead_beefn << 32n);
  for (let index = 4; index < 18; index++) regs[index] = 0x5a5an;
  assert.deepEqual(ffaPartitionInfoGetRegs.decodeCall(regs), { args: { uuid: NIL_UUID, startIndex: 1, tag: 1 }, violations: [] });
});

test('decodeCall: a tag at start index 0 (Xen INVALID_PARAMETERS, Hafnium/TF-A RETRY); a start index past 0xfffb (Xen)', () => {
  const tagAtStart = ffaPartitionInfoGetRegs.decodeCall(ffaPartitionInfoGetRegs.encodeCall({ tag: 3 }));
  assert.deepEqual(tagAtStart.violations.map((v) => v.rule), ['partition-info-get-regs.tag-at-start']);
  assert.deepEqual(enforce(tagAtStart, 'xen'), { ok: false, error: 'INVALID_PARAMETERS', why: 'x3[31:16] tag must be zero with start index 0', rule: 'partition-info-get-regs.tag-at-start' });
  const hafnium = enforce(tagAtStart, 'hafnium');
  assert.equal(hafnium.ok ? 'ok' : hafnium.error, 'RETRY');
  const late = ffaPartitionInfoGetRegs.decodeCall(ffaPartitionInfoGetRegs.encodeCall({ startIndex: 0xfffc }));
  assert.deepEqual(late.violations.map((v) => v.rule), ['partition-info-get-regs.start-index-overflow']);
  assert.equal(enforce(late, 'hafnium').ok, true, 'Hafnium answers it INVALID_PARAMETERS later, as past the list');
  assert.deepEqual(ffaPartitionInfoGetRegs.decodeCall(ffaPartitionInfoGetRegs.encodeCall({ startIndex: 0xfffb, tag: 7 })).violations, []);
});

test('success: SUCCESS_64, x1 = 0, x2 the header, up to 5 descriptors in x3..x17', () => {
  const partitions = [1, 2, 3, 4, 5].map((n) => ({ id: 0x8000 + n, vcpus: n, properties: 0x103, uuid: `0000000${n}-0000-4000-8000-00000000000${n}` }));
  const regs = success.encode({ lastIndex: 6, currentIndex: 4, tag: 1, partitions });
  assert.equal(regs[0], BigInt(FFA_FIDS.FFA_SUCCESS_64));
  assert.equal(regs[1], 0n);
  assert.equal(regs[2], 0x0018_0001_0004_0006n, 'descriptor size 24 by default');
  assert.equal(regs[15], 0x0000_0103_0005_8005n, 'the fifth descriptor starts at x15');
  assert.deepEqual(success.decode(regs), { ok: true, result: { lastIndex: 6, currentIndex: 4, tag: 1, descriptorSize: 24, partitions } });
  assert.throws(() => success.encode({ lastIndex: 6, currentIndex: 5, partitions: [...partitions, partitions[0]!] }), RangeError);
  assert.throws(() => success.encode({ lastIndex: 0, currentIndex: 0, partitions: [{ id: 0, vcpus: 0, properties: 0, uuid: NIL_UUID }] }), RangeError);
});

test('success decode: empty trailing slots are not descriptors; a UUID query\'s descriptors have a nil UUID', () => {
  const regs = success.encode({ lastIndex: 0, currentIndex: 0, partitions: [{ id: 0x8002, vcpus: 1, properties: 3, uuid: NIL_UUID }] });
  assert.deepEqual(success.decode(regs), { ok: true, result: { lastIndex: 0, currentIndex: 0, tag: 0, descriptorSize: 24, partitions: [{ id: 0x8002, vcpus: 1, properties: 3, uuid: NIL_UUID }] } });
  const pastLast = registers(FFA_FIDS.FFA_SUCCESS_64, 0, packPartitionInfoRegsHeader({ lastIndex: 1, currentIndex: 2, tag: 0, descriptorSize: 24 }));
  assert.equal(success.decode(pastLast).ok, false);
  const tooMany = success.encode({ lastIndex: 9, currentIndex: 4, partitions: [1, 2].map((id) => ({ id, vcpus: 1, properties: 0, uuid: NIL_UUID })) });
  tooMany[2] = packPartitionInfoRegsHeader({ lastIndex: 9, currentIndex: 0, tag: 0, descriptorSize: 24 });
  assert.equal(success.decode(tooMany).ok, false, 'two descriptors cannot end at index 0');
});

test('the window of one call: from the start index, at most 5', () => {
  const list = Array.from({ length: 12 }, (_, index) => index);
  assert.deepEqual(partitionInfoRegsWindow(list, 0), { currentIndex: 4, window: [0, 1, 2, 3, 4] });
  assert.deepEqual(partitionInfoRegsWindow(list, 10), { currentIndex: 11, window: [10, 11] });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), (length, seed) => {
      const start = seed % length;
      const { currentIndex, window } = partitionInfoRegsWindow(Array.from({ length }, (_, index) => index), start);
      assert.ok(window.length >= 1 && window.length <= 5);
      assert.equal(currentIndex, start + window.length - 1);
      assert.ok(currentIndex < length);
      assert.ok(window.length === 5 || currentIndex === length - 1, 'short only at the end of the list');
    }),
  );
});
