import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FRAMEWORK_MESSAGES,
  frameworkMessageFlags,
  frameworkMessageType,
  isFrameworkMessage,
  msgSendDirectReq32,
  msgSendDirectReq64,
  msgSendDirectResp32,
} from './direct-messaging.ts';

test('DIRECT_REQ_32 layout: sender|receiver in w1, flags in w2, payload in w3..w7', () => {
  const regs = msgSendDirectReq32.encodeCall({ sender: 1, receiver: 0x8001, payload: [5n, 7n] });
  assert.deepEqual(regs.slice(0, 8), [0x8400_006fn, 0x0001_8001n, 0n, 5n, 7n, 0n, 0n, 0n]);
  assert.throws(() => msgSendDirectReq32.encodeCall({ sender: 1, receiver: 2, payload: [1n << 32n] }), RangeError);
  assert.throws(() => msgSendDirectReq32.encodeCall({ sender: 1, receiver: 2, payload: [1n, 2n, 3n, 4n, 5n, 6n] }), RangeError);
});

test('DIRECT_REQ_64 carries full 64-bit payload registers; its success is DIRECT_RESP_64', () => {
  const regs = msgSendDirectReq64.encodeCall({ sender: 1, receiver: 0x8001, payload: [0xffff_ffff_ffff_ffffn] });
  assert.equal(regs[3], 0xffff_ffff_ffff_ffffn);
  assert.equal(msgSendDirectReq64.success?.fid, 0xc400_0070);
  assert.equal(msgSendDirectResp32.success, null);
});

test('VM_CREATED as Xen sends it: a1 = SP, a2 = BIT(31) | 4, a5 = VM ID (ffa_direct_req_send_vm)', () => {
  const flags = frameworkMessageFlags(FRAMEWORK_MESSAGES.VM_CREATED_REQ);
  const regs = msgSendDirectReq32.encodeCall({ sender: 0, receiver: 0x8001, flags, payload: [0n, 0n, 2n] });
  assert.deepEqual(regs.slice(1, 6), [0x8001n, 0x8000_0004n, 0n, 0n, 2n]);
  const { args } = msgSendDirectReq32.decodeCall(regs);
  assert.ok(isFrameworkMessage(args.flags));
  assert.equal(frameworkMessageType(args.flags), FRAMEWORK_MESSAGES.VM_CREATED_REQ);
});
