import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeResult, errorName, FFA_ERROR_CODES, ffaError, ffaSuccess32, ffaSuccess64, type FfaErrorName } from './errors.ts';
import { registers } from './registers.ts';

const anyRegisterFile = fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 18, maxLength: 18 });

test('error codes are -1..-10 with the docs/ffa-reference.md §1.3 names', () => {
  assert.deepEqual(Object.values(FFA_ERROR_CODES), [-1, -2, -3, -4, -5, -6, -7, -8, -9, -10]);
  assert.equal(FFA_ERROR_CODES.NO_DATA, -9);
  assert.equal(errorName(-6), 'DENIED');
  assert.equal(errorName(-11), null);
});

test('FFA_ERROR puts the code in w2 as 32-bit two complement', () => {
  const regs = ffaError('NOT_SUPPORTED');
  assert.equal(regs[0], 0x8400_0060n);
  assert.equal(regs[1], 0n);
  assert.equal(regs[2], 0xffff_ffffn);
  assert.equal(ffaError('NOT_READY')[2], 0xffff_fff6n);
  assert.equal(ffaError(-2, 0x8001_0000)[1], 0x8001_0000n);
  assert.throws(() => ffaError(2 ** 31), RangeError);
});

test('every error round-trips through decodeResult', () => {
  for (const name of Object.keys(FFA_ERROR_CODES) as FfaErrorName[]) {
    assert.deepEqual(decodeResult(ffaError(name)), { kind: 'error', code: FFA_ERROR_CODES[name], name });
  }
  assert.deepEqual(decodeResult(ffaError(-11)), { kind: 'error', code: -11, name: null });
  assert.deepEqual(decodeResult(registers(0xc400_0060, 0, 0xffff_fffe)), { kind: 'error', code: -2, name: 'INVALID_PARAMETERS' });
});

test('success and other returns', () => {
  const ok = ffaSuccess32(0, 8);
  assert.equal(decodeResult(ok).kind, 'success');
  assert.equal(ok[2], 8n);
  assert.deepEqual(decodeResult(ffaSuccess64(0n, 0xffff_ffff_ffff_ffffn)), { kind: 'success', fid: 0xc400_0061, regs: ffaSuccess64(0n, 0xffff_ffff_ffff_ffffn) });
  assert.deepEqual(decodeResult(registers(0x1_0002)), { kind: 'other', fid: 0x1_0002 });
  assert.throws(() => ffaSuccess32(1n << 32n), RangeError);
  assert.throws(() => ffaSuccess64(-1n), RangeError);
});

test('decodeResult never throws on arbitrary registers', () => {
  fc.assert(fc.property(anyRegisterFile, (regs) => {
    decodeResult(regs);
  }));
});
