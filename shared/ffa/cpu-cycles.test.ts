import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enforce } from './call-checks.ts';
import { ffaRun } from './cpu-cycles.ts';
import { FFA_FIDS } from './function-ids.ts';
import { msgSend2 } from './indirect-messaging.ts';
import { registers } from './registers.ts';

test('RUN: target[31:16] | vCPU[15:0]; x8..x17 must stay zero (Hafnium, v1.2 callers)', () => {
  assert.equal(ffaRun.encodeCall({ target: 0x8001, vcpu: 3 })[1], 0x8001_0003n);
  const regs = registers(FFA_FIDS.FFA_RUN, 0x8001_0003);
  regs[9] = 1n;
  const decoded = ffaRun.decodeCall(regs);
  assert.deepEqual(decoded.args, { target: 0x8001, vcpu: 3 });
  assert.equal(enforce(decoded, 'hafnium').ok, false);
  assert.equal(enforce(decoded, 'optee').ok, true);
});

test('MSG_SEND2: the forwarded sender VM in w1[31:16], flags in w2', () => {
  assert.deepEqual(msgSend2.encodeCall({ sender: 2, flags: 2 }).slice(0, 3), [0x8400_0086n, 0x2_0000n, 2n]);
  assert.equal(msgSend2.encodeCall({})[1], 0n, 'Linux passes w1 = 0');
});
