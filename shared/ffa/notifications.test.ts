import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { enforce, type CallCheck } from './call-checks.ts';
import { FFA_FIDS } from './function-ids.ts';
import { flagsFromNames, GET_FLAGS, SET_FLAGS } from './notification-flags.ts';
import {
  notificationBind,
  notificationBitmapCreate,
  notificationBitmapDestroy,
  notificationGet,
  notificationInfoGet32,
  notificationInfoGet64,
  notificationSet,
  notificationUnbind,
} from './notifications.ts';
import { registers } from './registers.ts';

const U64 = (1n << 64n) - 1n;

function errorUnder(check: CallCheck<unknown>): string | null {
  return check.ok ? null : check.error;
}

function rules(decoded: { violations: readonly { rule: string }[] }): string[] {
  return decoded.violations.map((found) => found.rule);
}

test('BIND layout: sender[31:16] | receiver[15:0], flags, bitmap low in w3 and high in w4', () => {
  const regs = notificationBind.encodeCall({ sender: 0x8001, receiver: 1, flags: 1, bitmap: 0x8004_0000_4000_0003n });
  assert.deepEqual(regs.slice(0, 8), [0x8400_007fn, 0x8001_0001n, 1n, 0x4000_0003n, 0x8004_0000n, 0n, 0n, 0n]);
  assert.equal(notificationBind.encodeCall({ sender: 0x8001, receiver: 1, bitmap: U64 })[2], 0n, 'flags default to none');
  assert.deepEqual(notificationBind.encodeCall({ sender: 0x8001, receiver: 1, bitmap: U64 }).slice(3, 5), [0xffff_ffffn, 0xffff_ffffn]);
});

test('SET layout: vCPU in w2[31:16] beside the flags', () => {
  const flags = flagsFromNames(SET_FLAGS, ['perVcpu', 'delaySri']);
  const regs = notificationSet.encodeCall({ sender: 0x8001, receiver: 2, flags, vcpu: 3, bitmap: 0x4n });
  assert.deepEqual(regs.slice(0, 5), [0x8400_0081n, 0x8001_0002n, 0x0003_0003n, 4n, 0n]);
  assert.throws(() => notificationSet.encodeCall({ sender: 1, receiver: 2, flags: 0x1_0000, bitmap: 1n }), RangeError, 'flags are w2[15:0] only');
});

test('GET layout: vCPU[31:16] | receiver[15:0], and the four returned bitmaps', () => {
  const regs = notificationGet.encodeCall({ receiver: 1, vcpu: 2, flags: flagsFromNames(GET_FLAGS, ['sp', 'spm']) });
  assert.deepEqual(regs.slice(0, 3), [0x8400_0082n, 0x0002_0001n, 5n]);
  const result = notificationGet.success?.encode({ spBitmap: 0x8004_0000_4000_0003n, vmBitmap: U64, spmBitmap: 1n, hypBitmap: 1n });
  assert.deepEqual(result?.slice(0, 8), [0x8400_0061n, 0n, 0x4000_0003n, 0x8004_0000n, 0xffff_ffffn, 0xffff_ffffn, 1n, 1n]);
  assert.deepEqual(notificationGet.success?.decode(notificationGet.success.encode({ spBitmap: 8n })), {
    ok: true,
    result: { spBitmap: 8n, vmBitmap: 0n, spmBitmap: 0n, hypBitmap: 0n },
  });
  assert.throws(() => notificationGet.success?.encode({ spmBitmap: 1n << 32n }), RangeError, 'w6 is 32-bit');
});

test('encoders refuse values that do not fit their fields', () => {
  assert.throws(() => notificationBind.encodeCall({ sender: 0x1_0000, receiver: 1, bitmap: 1n }), /sender/);
  assert.throws(() => notificationBind.encodeCall({ sender: 1, receiver: 1, bitmap: 1n << 64n }), /bitmap/);
  assert.throws(() => notificationBitmapCreate.encodeCall({ vm: -1, vcpus: 1 }), /vm/);
});

test('BITMAP_CREATE and DESTROY: w1[31:16] and w3..w7 MBZ (OP-TEE); DESTROY w2 only by the spec', () => {
  const create = notificationBitmapCreate.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, 0x1_0001, 4, 0, 0, 0, 0, 9));
  assert.deepEqual(create.args, { vm: 1, vcpus: 4 });
  assert.deepEqual(rules(create), ['bitmap-create.w1-high-mbz', 'bitmap-create.w3-w7-mbz']);
  const destroy = notificationBitmapDestroy.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_DESTROY, 1, 5));
  assert.deepEqual(rules(destroy), ['bitmap-destroy.w2-mbz']);
  assert.deepEqual(enforce(destroy, 'optee'), { ok: true, args: { vm: 1 } }, 'OP-TEE does not check w2 on destroy');
  assert.deepEqual(enforce(destroy, 'strict'), { ok: false, error: 'INVALID_PARAMETERS', why: 'w2 must be zero', rule: 'bitmap-destroy.w2-mbz' });
});

test('BIND reserved flags: INVALID_PARAMETERS at Hafnium, DENIED at OP-TEE and Xen', () => {
  const decoded = notificationBind.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_BIND, 0x8001_0001, 0b10, 1));
  assert.deepEqual(rules(decoded), ['bind.flags-reserved']);
  assert.equal(decoded.args.flags, 2, 'the raw field is still reported');
  assert.deepEqual(enforce(decoded, 'hafnium'), { ok: false, error: 'INVALID_PARAMETERS', why: decoded.violations[0]?.why, rule: 'bind.flags-reserved' });
  assert.equal(errorUnder(enforce(decoded, 'optee')), 'DENIED');
  assert.equal(errorUnder(enforce(decoded, 'xen')), 'DENIED');
  assert.equal(enforce(decoded, 'tf-a').ok, true, 'the SPMD forwards without looking');
  assert.deepEqual(rules(notificationBind.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_BIND, 0x8001_0001, 1, 1))), [], 'per-vCPU is a valid encoding');
});

test('BIND and UNBIND: w5..w7 MBZ; UNBIND w2 MBZ (OP-TEE)', () => {
  assert.deepEqual(rules(notificationBind.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_BIND, 0x8001_0001, 0, 1, 0, 0, 0, 1))), ['bind.w5-w7-mbz']);
  const unbind = notificationUnbind.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_UNBIND, 0x8001_0001, 1, 1, 0, 1));
  assert.deepEqual(rules(unbind), ['unbind.w2-mbz', 'unbind.w5-w7-mbz']);
  assert.deepEqual(enforce(unbind, 'optee'), { ok: false, error: 'INVALID_PARAMETERS', why: 'w2 must be zero', rule: 'unbind.w2-mbz' });
  assert.deepEqual(enforce(unbind, 'hafnium'), { ok: true, args: unbind.args });
});

test('SET: flags other than bits 0, 1 and [31:16] are reserved; a vCPU needs the per-vCPU flag (Hafnium)', () => {
  assert.deepEqual(rules(notificationSet.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_SET, 0x0001_8001, 0b100, 1))), ['set.flags-reserved']);
  assert.deepEqual(rules(notificationSet.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_SET, 0x0001_8001, 0x0002_0000, 1))), ['set.vcpu-without-per-vcpu']);
  assert.deepEqual(rules(notificationSet.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_SET, 0x0001_8001, 0x0002_0003, 1))), []);
});

test('GET: flags [31:4] reserved (Hafnium), w5..w7 MBZ (OP-TEE)', () => {
  const decoded = notificationGet.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_GET, 1, 0x10, 0, 0, 0, 0, 1));
  assert.deepEqual(rules(decoded), ['get.flags-reserved', 'get.w5-w7-mbz']);
  assert.equal(enforce(decoded, 'hafnium').ok, false);
  assert.equal(enforce(decoded, 'xen').ok, true);
});

test('INFO_GET: w1..w7 MBZ for the 32-bit call, x1..x7 for the 64-bit call (OP-TEE)', () => {
  const highOnly = registers(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32, 1n << 32n);
  assert.deepEqual(rules(notificationInfoGet32.decodeCall(highOnly)), [], 'the 32-bit call reads w1 only');
  assert.deepEqual(rules(notificationInfoGet64.decodeCall(highOnly)), ['info-get.x1-x7-mbz']);
  assert.deepEqual(rules(notificationInfoGet32.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32, 0, 0, 0, 0, 0, 0, 1))), ['info-get.w1-w7-mbz']);
});

test('INFO_GET success: SUCCESS_64 for the 64-bit call, SUCCESS_32 for the 32-bit one', () => {
  const info = { morePending: true, lists: [{ id: 1, vcpus: [] }] };
  assert.deepEqual(notificationInfoGet64.success?.encode(info).slice(0, 4), [0xc400_0061n, 0n, 0x81n, 1n]);
  assert.deepEqual(notificationInfoGet32.success?.encode(info).slice(0, 4), [0x8400_0061n, 0n, 0x81n, 1n]);
  const bad = notificationInfoGet64.success?.decode(registers(0xc400_0061, 0, 0x2));
  assert.deepEqual(bad, { ok: false, why: 'x2[6:1] are reserved and must be zero' });
});

test('reserved-bit violations are found in arbitrary flag words', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (flags) => {
      const bind = notificationBind.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_BIND, 0x8001_0001, flags, 1));
      assert.equal(rules(bind).includes('bind.flags-reserved'), flags > 1);
      const get = notificationGet.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_GET, 1, flags));
      assert.equal(rules(get).includes('get.flags-reserved'), flags > 0xf);
      const set = notificationSet.decodeCall(registers(FFA_FIDS.FFA_NOTIFICATION_SET, 0x0001_8001, flags, 1));
      assert.equal(rules(set).includes('set.flags-reserved'), (flags & 0xfffc) !== 0);
      assert.equal(rules(set).includes('set.vcpu-without-per-vcpu'), (flags & 1) === 0 && flags >>> 16 !== 0);
    }),
  );
});
