import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodePartitionInfo, encodePartitionInfo, NIL_UUID, PARTITION_INFO_SIZE_V1_0, uuidFromWords, uuidToWords } from './partition-info.ts';

const partition = fc
  .record({ id: fc.integer({ min: 0, max: 0xffff }), vcpus: fc.integer({ min: 0, max: 0xffff }), properties: fc.integer({ min: 0, max: 0xffff_ffff }), uuid: fc.uuid() })
  .map((value) => ({ ...value }));

test('UUID <-> w1..w4 words', () => {
  assert.deepEqual(uuidToWords('486178e0-e7f8-11e3-bc5e-0002a5d5c51b'), [0xe078_6148, 0xe311_f8e7, 0x0200_5ebc, 0x1bc5_d5a5]);
  fc.assert(fc.property(fc.uuid(), (uuid) => assert.equal(uuidFromWords(uuidToWords(uuid)), uuid)));
});

test('descriptors round-trip through an RX buffer', () => {
  fc.assert(
    fc.property(fc.array(partition, { maxLength: 8 }), (partitions) => {
      const buffer = encodePartitionInfo(partitions);
      assert.equal(buffer.length, partitions.length * 24);
      assert.deepEqual(decodePartitionInfo(buffer, partitions.length, 24), { ok: true, partitions });
    }),
  );
});

test('v1.0 descriptors have no UUID; short buffers are reported', () => {
  const buffer = encodePartitionInfo([{ id: 0x8001, vcpus: 4, properties: 3, uuid: NIL_UUID }], PARTITION_INFO_SIZE_V1_0);
  assert.deepEqual(Array.from(buffer), [0x01, 0x80, 4, 0, 3, 0, 0, 0]);
  assert.equal(decodePartitionInfo(buffer, 2, 8).ok, false);
  assert.equal(decodePartitionInfo(buffer, 1, 12).ok, false);
});
