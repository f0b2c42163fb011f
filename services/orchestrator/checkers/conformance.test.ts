/**
 * conformance: a clean run holds; hand-made answers that ignore a reserved-bit rule the callee's
 * implementation enforces, carry an undefined error code, use the wrong success function ID or
 * registers that do not decode each fail; the legitimate other answers pass.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ffaError, ffaSuccess32, ffaSuccess64 } from '../../../shared/ffa/errors.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { notificationBind, notificationInfoGet32, notificationInfoGet64 } from '../../../shared/ffa/notifications.ts';
import { registers, type RegisterFile } from '../../../shared/ffa/registers.ts';
import { ffaVersion, versionNotSupported } from '../../../shared/ffa/setup-and-discovery.ts';
import { msgSendDirectReq32 } from '../../../shared/ffa/direct-messaging.ts';
import { answerProblem } from './conformance.ts';
import { HistoryBuilder, syntheticModel } from './test-support/synthetic.ts';
import { check, runUnderSim, xenSends } from './test-support/worlds.ts';

/** BIND with flags bit 1 (reserved): OP-TEE and Xen answer DENIED, Hafnium INVALID_PARAMETERS. */
const BIND_RESERVED = notificationBind.encodeCall({ sender: 0x8001, receiver: 1, flags: 2, bitmap: 1n });
const SMC_UNK = registers(0xffff_ffff_ffff_ffffn);

function answeredBySpmc(regs: RegisterFile, answer: RegisterFile, spmcConfig?: Record<string, unknown>) {
  const h = new HistoryBuilder();
  if (spmcConfig) h.record('spmc', { event: 'spmc-config', ...spmcConfig });
  h.roundTrip('spmd', 'spmc', regs, answer, { conduit: 'smc' });
  return check(h.entries, syntheticModel(), 'conformance');
}

describe('conformance', () => {
  it('holds on a clean run, judging the SPMC, the SPMD and the hypervisor', async () => {
    const { entries, model } = await runUnderSim(xenSends(1));
    const result = check(entries, model, 'conformance');
    assert.equal(result.held, true, result.detail);
    assert.match(result.detail, /^calls: \d+ answered by spmc \(optee\), \d+ answered by spmd \(tf-a\), \d+ answered by hypervisor \(xen\)$/);
  });

  it('fails a success where the implementation enforces a reserved-bit rule, naming the rule', () => {
    const result = answeredBySpmc(BIND_RESERVED, ffaSuccess32());
    assert.equal(result.held, false);
    assert.equal(result.failures[0]?.message, 'spmc answered spmd\'s FFA_NOTIFICATION_BIND (call #1): bind.flags-reserved: optee answers FFA_ERROR(DENIED), got FFA_SUCCESS_32');
    assert.deepEqual(result.failures[0]?.endpoints, ['spmc', 'spmd']);
    assert.equal(result.failures[0]?.events.length, 2);
  });

  it('takes the policy from the SPMC\'s own configuration record when there is one', () => {
    assert.equal(answeredBySpmc(BIND_RESERVED, ffaSuccess32(), { policies: { reservedBitChecks: 'none' } }).held, true);
    assert.equal(answeredBySpmc(BIND_RESERVED, ffaError('DENIED'), { policies: { reservedBitChecks: 'hafnium' } }).held, false);
  });

  it('under Xen, a BIND for another receiver is INVALID_PARAMETERS before its flags are looked at (docs/ffa-reference.md §5.4)', () => {
    const otherReceiverWithFlags = notificationBind.encodeCall({ sender: 0x8001, receiver: 3, flags: 2, bitmap: 1n });
    assert.equal(answerProblem(otherReceiverWithFlags, ffaError('INVALID_PARAMETERS'), 'xen', { caller: 2 }), null);
    assert.match(answerProblem(otherReceiverWithFlags, ffaError('INVALID_PARAMETERS'), 'xen', { caller: 3 }) ?? '', /bind.flags-reserved: xen answers FFA_ERROR\(DENIED\)/);
  });

  it('accepts any of the errors the violations name, and NOT_SUPPORTED (the function not offered at all)', () => {
    const both = notificationBind.encodeCall({ sender: 0x8001, receiver: 1, flags: 2, bitmap: 1n });
    both[6] = 1n; // w6: bind.w5-w7-mbz too
    assert.equal(answerProblem(both, ffaError('INVALID_PARAMETERS'), 'optee'), null);
    assert.equal(answerProblem(both, ffaError('DENIED'), 'optee'), null);
    assert.equal(answerProblem(both, ffaError('NOT_SUPPORTED'), 'optee'), null);
    assert.match(answerProblem(both, ffaError('BUSY'), 'optee') ?? '', /^bind.flags-reserved, bind.w5-w7-mbz: optee answers FFA_ERROR\(DENIED or INVALID_PARAMETERS\), got FFA_ERROR\(BUSY\)$/);
  });

  it('judges every answer\'s shape', () => {
    const infoGet32 = notificationInfoGet32.encodeCall({});
    assert.equal(answerProblem(infoGet32, ffaError(-42), 'optee'), 'FFA_ERROR with code -42, which FF-A does not define');
    // Xen answers a guest's INFO_GET_32 with SUCCESS_64 (docs/ffa-reference.md §2.6, §8): not FF-A's shape.
    assert.equal(answerProblem(infoGet32, ffaSuccess64(0, 1n << 7n, 1), 'optee'), 'answered FFA_SUCCESS_64; FFA_NOTIFICATION_INFO_GET_32\'s success is FFA_SUCCESS_32');
    assert.equal(answerProblem(infoGet32, ffaSuccess64(0, 1n << 7n, 1), 'xen', { infoGet32AsSuccess64: true }), null, 'Xen answers SUCCESS_64 to both widths (docs/ffa-reference.md §8)');
    const padded = ffaSuccess64(0, 1n << 7n, 1n | (5n << 16n)); // one list of one ID, and a second ID in the padding
    assert.match(answerProblem(notificationInfoGet64.encodeCall({}), padded, 'optee') ?? '', /^FFA_SUCCESS_64 fields do not decode: /);
    assert.equal(answerProblem(notificationInfoGet64.encodeCall({}), ffaSuccess64(0, 1n << 7n, 1), 'optee'), null);
  });

  it('knows FFA_VERSION\'s answers, partition messages\' hand-overs and SMC_UNK for functions no codec knows', () => {
    const bit31 = ffaVersion.encodeCall({ version: 0x8001_0002 });
    assert.equal(answerProblem(bit31, versionNotSupported(), 'tf-a'), null);
    assert.match(answerProblem(bit31, registers(0x1_0002), 'tf-a') ?? '', /^version.bit31: tf-a answers FFA_ERROR\(NOT_SUPPORTED\), got/);
    assert.equal(answerProblem(ffaVersion.encodeCall({ version: 0x1_0002 }), registers(0x1_0002), 'tf-a'), null);
    const request = msgSendDirectReq32.encodeCall({ sender: 1, receiver: 0x8001, payload: [] });
    assert.equal(answerProblem(request, registers(FFA_FIDS.FFA_INTERRUPT, 0x8001_0000), 'xen'), null);
    assert.match(answerProblem(request, ffaSuccess32(), 'xen') ?? '', /^answered FFA_SUCCESS_32; FFA_MSG_SEND_DIRECT_REQ_32's success is FFA_MSG_SEND_DIRECT_RESP_32$/);
    assert.equal(answerProblem(registers(0x8200_0001), SMC_UNK, 'tf-a'), null);
    assert.match(answerProblem(registers(FFA_FIDS.FFA_MEM_SHARE_32), SMC_UNK, 'tf-a') ?? '', /to a function no codec knows$/);
  });

  it('accepts SMC_UNK for a caller the hypervisor refused as no VM, and judges only its guests\' hvc calls', () => {
    const h = new HistoryBuilder();
    const id = h.call('stranger', 'hypervisor', notificationInfoGet64.encodeCall({}), { endpoint: 7 });
    h.record('hypervisor', { event: 'call-refused', from: 'stranger', reason: 'no VM has stranger as its guest component' });
    h.answer('hypervisor', 'stranger', id, SMC_UNK);
    h.roundTrip('orchestrator', 'hypervisor', BIND_RESERVED, ffaSuccess32(), { conduit: 'relay' });
    assert.equal(check(h.entries, syntheticModel(), 'conformance').held, true);
    h.roundTrip('vm1', 'hypervisor', notificationInfoGet64.encodeCall({}), SMC_UNK, { endpoint: 1 });
    assert.equal(check(h.entries, syntheticModel(), 'conformance').failures.length, 1);
  });
});
