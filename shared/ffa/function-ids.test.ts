import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abiNameOf, FFA_FIDS, FFA_FNUM_MAX, FFA_FNUM_MIN, fidOf, functionNumber, isFfaFid, isSmc64, type FfaAbiName } from './function-ids.ts';

test('every FID is the SMC32 or SMC64 base ORed with its function number', () => {
  for (const [name, fid] of Object.entries(FFA_FIDS)) {
    const base = isSmc64(fid) ? 0xc400_0000 : 0x8400_0000;
    assert.equal(fid, (base | functionNumber(fid)) >>> 0, name);
    assert.ok(isFfaFid(fid), name);
  }
});

test('names and FIDs map both ways', () => {
  for (const [name, fid] of Object.entries(FFA_FIDS) as [FfaAbiName, number][]) {
    assert.equal(fidOf(name), fid);
    assert.equal(abiNameOf(fid), name);
    assert.equal(abiNameOf(BigInt(fid) | (0xdead_beefn << 32n)), name, 'compares w0 only');
  }
  assert.equal(fidOf('FFA_NOPE'), null);
  assert.equal(abiNameOf(0x8400_0000), null);
});

test('docs/ffa-reference.md §1.1 values', () => {
  assert.equal(FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, 0x8400007d);
  assert.equal(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32, 0x84000083);
  assert.equal(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64, 0xc4000083);
  assert.equal(FFA_FIDS.FFA_MSG_SEND2, 0x84000086);
  assert.equal(FFA_FIDS.FFA_SPM_ID_GET, 0x84000085);
  assert.equal(FFA_FIDS.FFA_ERROR, 0x84000060);
  assert.equal(FFA_FIDS.FFA_SUCCESS_64, 0xc4000061);
});

test('scenario-format ABI names all have FIDs', () => {
  const names = [
    'FFA_VERSION', 'FFA_FEATURES', 'FFA_ID_GET', 'FFA_SPM_ID_GET', 'FFA_PARTITION_INFO_GET',
    'FFA_NOTIFICATION_BITMAP_CREATE', 'FFA_NOTIFICATION_BITMAP_DESTROY', 'FFA_NOTIFICATION_BIND',
    'FFA_NOTIFICATION_UNBIND', 'FFA_NOTIFICATION_SET', 'FFA_NOTIFICATION_GET', 'FFA_NOTIFICATION_INFO_GET_32',
    'FFA_NOTIFICATION_INFO_GET_64', 'FFA_MSG_SEND_DIRECT_REQ_32', 'FFA_MSG_SEND_DIRECT_REQ_64', 'FFA_RUN',
    'FFA_MSG_SEND2', 'FFA_RXTX_MAP_64', 'FFA_RXTX_UNMAP', 'FFA_RX_RELEASE',
  ];
  for (const name of names) assert.notEqual(fidOf(name), null, name);
});

test('isFfaFid: fast call, OEN 4, function number 0x60..0x97 (TF-A FFA_FNUM_MIN/MAX)', () => {
  assert.ok(isFfaFid(0x8400_0000 | FFA_FNUM_MIN));
  assert.ok(isFfaFid(0xc400_0000 | FFA_FNUM_MAX));
  assert.ok(!isFfaFid(0x8400_005f), 'below the range');
  assert.ok(!isFfaFid(0x8400_0098), 'above the range');
  assert.ok(!isFfaFid(0x8400_0000), 'PSCI_VERSION');
  assert.ok(!isFfaFid(0x8500_0063), 'OEN 5');
  assert.ok(!isFfaFid(0x0400_0063), 'yielding call');
  assert.ok(!isFfaFid(0x8401_0063), 'bits [23:16] set');
  assert.ok(!isFfaFid(-1));
  assert.ok(!isFfaFid(2 ** 32));
  assert.ok(!isSmc64(0x8400_0063));
  assert.ok(isSmc64(0xc400_0083));
});
