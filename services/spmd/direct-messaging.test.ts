/**
 * Direct requests and responses through the SPMD (docs/ffa-reference.md §6 "Direct requests"; TF-A
 * spmd_main.c spmd_smc_handler): the source check on normal-world requests, DENIED for the SPMC
 * addressing the SPMD, and forwarding of everything else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FFA_FIDS,
  ffaError,
  msgSendDirectReq32,
  msgSendDirectReq64,
  msgSendDirectResp32,
  msgSendDirectResp64,
  registers,
  SPMD_ID,
} from '../../shared/ffa/index.ts';
import type { RegisterFile } from '../../shared/protocol/messages.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { ALL_ONES, patterned, withRegister } from './test-support/patterns.ts';
import { callsReceived, nwdCall, resultsByLabel, returned, runSpmdWorld, swdCall } from './test-support/world.ts';

const SUCCESS_64 = BigInt(FFA_FIDS.FFA_SUCCESS_64);
const INVALID_PARAMETERS = ffaError('INVALID_PARAMETERS');
const DENIED = ffaError('DENIED');
const SPMC = 0x8000;
const SP = 0x8001;
const VM = 2;
const payload = [0x11n, 0x22n, 0x33n, 0x44n, 0x55n];

for (const runtime of RUNTIMES) {
  test(`refuses a normal-world direct request with a secure source ID (INVALID_PARAMETERS) and forwards the rest bit for bit [${runtime}]`, async () => {
    const refused: [string, RegisterFile][] = [
      ['req 32 from an SP ID', msgSendDirectReq32.encodeCall({ sender: SP, receiver: 0x8002, payload })],
      ['req 64 from the SPMC ID', msgSendDirectReq64.encodeCall({ sender: SPMC, receiver: SP, payload })],
      ['req2 from an SP ID', registers(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ2, (0x8005 << 16) >>> 0 | SP)],
      ['req 32 from 0xFFFF', msgSendDirectReq32.encodeCall({ sender: SPMD_ID, receiver: SP })],
    ];
    const forwarded: [string, RegisterFile][] = [
      ['req 32 from a VM', msgSendDirectReq32.encodeCall({ sender: VM, receiver: SP, payload })],
      ['req 64 from 0x7FFF', msgSendDirectReq64.encodeCall({ sender: 0x7fff, receiver: SP, payload: [ALL_ONES, ALL_ONES, ALL_ONES, ALL_ONES, ALL_ONES] })],
      // Only w1 is read: the upper half of x1 crosses untouched.
      ['req 64, x1 upper half all ones', withRegister(patterned(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_64), 1, 0xffff_ffff_0002_8001n)],
      ['req2 from a VM', withRegister(patterned(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ2), 1, 0x0002_8001n)],
      ['resp 32 to an SP', msgSendDirectResp32.encodeCall({ sender: VM, receiver: SP, payload })],
    ];
    const entries = await runSpmdWorld({ nwd: [...refused, ...forwarded].map(([label, regs]) => nwdCall(label, regs)) }, runtime);
    const results = resultsByLabel(entries, 'nwd');
    for (const [label] of refused) assert.deepEqual(returned(results, label).slice(0, 8), INVALID_PARAMETERS.slice(0, 8), label);
    const atSpmc = callsReceived(entries, 'spmc');
    assert.deepEqual(
      atSpmc.map((call) => call.regs),
      forwarded.map(([, regs]) => (regs[0] === BigInt(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32) || regs[0] === BigInt(FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32) ? [...regs.slice(0, 8), ...new Array<bigint>(10).fill(0n)] : regs)),
      'exactly the normal-world-sourced ones reached the SPMC, bit for bit (x8..x17 only for SMC64)',
    );
    for (const [label, regs] of forwarded) assert.deepEqual(returned(results, label).slice(0, 8), [SUCCESS_64, ...regs.slice(1, 8)], label);
  });

  test(`a direct request or response from the SPMC to the SPMD is DENIED; other secure-world ones go to the normal world [${runtime}]`, async () => {
    const denied: [string, RegisterFile][] = [
      ['req 32 SPMC to SPMD', msgSendDirectReq32.encodeCall({ sender: SPMC, receiver: SPMD_ID, payload })],
      ['req 64 SPMC to SPMD', msgSendDirectReq64.encodeCall({ sender: SPMC, receiver: SPMD_ID, payload })],
      ['resp 32 SPMC to SPMD', msgSendDirectResp32.encodeCall({ sender: SPMC, receiver: SPMD_ID, payload })],
    ];
    const forwarded: [string, RegisterFile][] = [
      // TF-A spmd_is_spmc_message needs the SPMC's own ID as the sender.
      ['req 32 SP to SPMD', msgSendDirectReq32.encodeCall({ sender: SP, receiver: SPMD_ID, payload })],
      ['resp 32 SP to VM', msgSendDirectResp32.encodeCall({ sender: SP, receiver: VM, payload })],
      ['resp 64 SP to VM', msgSendDirectResp64.encodeCall({ sender: SP, receiver: VM, payload: [ALL_ONES, 0n, ALL_ONES, 0n, ALL_ONES] })],
    ];
    const entries = await runSpmdWorld(
      { normalWorldPeer: true, swd: [...denied, ...forwarded].map(([label, regs]) => swdCall(label, regs)) },
      runtime,
    );
    const results = resultsByLabel(entries, 'swd');
    for (const [label] of denied) assert.deepEqual(returned(results, label), DENIED, label);
    assert.deepEqual(
      callsReceived(entries, 'host').map((call) => call.regs.slice(0, 8)),
      forwarded.map(([, regs]) => regs.slice(0, 8)),
      'the rest went to the normal world',
    );
    assert.equal(callsReceived(entries, 'spmc').length, 0);
  });
}
