import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enforce } from './call-checks.ts';
import { decodeResult } from './errors.ts';
import { FEATURE_IDS } from './features.ts';
import { FFA_FIDS } from './function-ids.ts';
import { registers } from './registers.ts';
import { ffaFeatures, ffaPartitionInfoGet, ffaRxtxMap32, ffaRxtxMap64, ffaRxtxUnmap, ffaVersion, versionNotSupported } from './setup-and-discovery.ts';
import { FFA_VERSION_1_2 } from './version.ts';

function rules(decoded: { violations: readonly { rule: string }[] }): string[] {
  return decoded.violations.map((found) => found.rule);
}

test('VERSION: the caller version in w1, the answer in w0 itself', () => {
  assert.deepEqual(ffaVersion.encodeCall({ version: FFA_VERSION_1_2 }).slice(0, 2), [0x8400_0063n, 0x1_0002n]);
  assert.equal(ffaVersion.success?.encode({ version: FFA_VERSION_1_2 })[0], 0x1_0002n);
  assert.equal(decodeResult(ffaVersion.success.encode({ version: FFA_VERSION_1_2 })).kind, 'other');
  assert.deepEqual(ffaVersion.success?.decode(versionNotSupported()), { ok: false, why: 'w0 is NOT_SUPPORTED (-1)' });
  assert.throws(() => ffaVersion.success?.encode({ version: 0xffff_ffff }), RangeError);
});

test('VERSION: bit 31 in the request is NOT_SUPPORTED at the TF-A SPMD', () => {
  const decoded = ffaVersion.decodeCall(registers(FFA_FIDS.FFA_VERSION, 0x8001_0002));
  assert.deepEqual(enforce(decoded, 'tf-a'), { ok: false, error: 'NOT_SUPPORTED', why: 'w1 bit 31 must be zero', rule: 'version.bit31' });
});

test('FEATURES: feature IDs take no properties and keep bits [30:8] clear (Hafnium)', () => {
  assert.deepEqual(rules(ffaFeatures.decodeCall(registers(FFA_FIDS.FFA_FEATURES, FEATURE_IDS.SRI, 1))), ['features.feature-id-properties']);
  assert.deepEqual(rules(ffaFeatures.decodeCall(registers(FFA_FIDS.FFA_FEATURES, 0x102))), ['features.feature-id-reserved']);
  assert.deepEqual(rules(ffaFeatures.decodeCall(registers(FFA_FIDS.FFA_FEATURES, FFA_FIDS.FFA_RXTX_MAP_64, 1))), [], 'a FID may carry properties');
  assert.deepEqual(ffaFeatures.success?.decode(ffaFeatures.success.encode({ intid: 8 })), { ok: true, result: { properties: 8, intid: 8, moreProperties: 0 } });
  assert.throws(() => ffaFeatures.success?.encode({ intid: 8, properties: 9 }), RangeError);
});

test('PARTITION_INFO_GET: UUID words as OP-TEE my_uuid_words, count-only flag in w5 bit 0', () => {
  const regs = ffaPartitionInfoGet.encodeCall({ uuid: '486178e0-e7f8-11e3-bc5e-0002a5d5c51b', countOnly: true });
  assert.deepEqual(regs.slice(0, 6), [0x8400_0068n, 0xe078_6148n, 0xe311_f8e7n, 0x0200_5ebcn, 0x1bc5_d5a5n, 1n]);
  assert.deepEqual(ffaPartitionInfoGet.encodeCall({}).slice(1, 6), [0n, 0n, 0n, 0n, 0n], 'absent UUID: all partitions');
  assert.throws(() => ffaPartitionInfoGet.encodeCall({ uuid: 'not-a-uuid' }), RangeError);
});

test('RXTX_MAP: addresses in x1/x2 (w1/w2 for the 32-bit call); page count rules (OP-TEE)', () => {
  const regs = ffaRxtxMap64.encodeCall({ tx: 0x8_8000_0000n, rx: 0x8_8000_1000n, pageCount: 1 });
  assert.deepEqual(regs.slice(0, 4), [0xc400_0066n, 0x8_8000_0000n, 0x8_8000_1000n, 1n]);
  assert.throws(() => ffaRxtxMap32.encodeCall({ tx: 1n << 32n, rx: 0n, pageCount: 1 }), RangeError);
  assert.deepEqual(rules(ffaRxtxMap64.decodeCall(registers(FFA_FIDS.FFA_RXTX_MAP_64, 0, 0, 0x41))), ['rxtx-map.w3-reserved']);
  assert.deepEqual(rules(ffaRxtxMap64.decodeCall(registers(FFA_FIDS.FFA_RXTX_MAP_64, 0, 0, 0))), ['rxtx-map.page-count-zero']);
});

test('RXTX_UNMAP: the VM ID in w1[31:16] (Hafnium ffa_vm_id)', () => {
  assert.equal(ffaRxtxUnmap.encodeCall({ id: 3 })[1], 0x3_0000n);
});
