import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domidFromVmId, HYPERVISOR_ID, isSecureId, OPTEE_SP_ID, packTargetInfo, SPMC_ID, SPMD_ID, unpackTargetInfo, vmIdFromDomid } from './partition-id.ts';

test('docs/ffa-reference.md §1.5 IDs', () => {
  assert.equal(HYPERVISOR_ID, 0);
  assert.ok(isSecureId(SPMC_ID) && isSecureId(SPMD_ID) && isSecureId(OPTEE_SP_ID));
  assert.ok(!isSecureId(1));
  assert.equal(vmIdFromDomid(0), 1, 'Dom0 is VM 1');
  assert.equal(domidFromVmId(3), 2);
  assert.throws(() => domidFromVmId(0), RangeError);
  assert.throws(() => domidFromVmId(0x8001), RangeError);
});

test('target info packs high in [31:16] and low in [15:0]', () => {
  assert.equal(packTargetInfo(0x8001, 1), 0x8001_0001);
  assert.deepEqual(unpackTargetInfo(0xffff_0002), { high: 0xffff, low: 2 });
  assert.throws(() => packTargetInfo(0x1_0000, 0), RangeError);
});
