import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FFA_FIDS, ffaError, ffaSuccess32, registers } from '../../shared/ffa/index.ts';
import { checkCallStep } from './expect.ts';
import type { Endpoint, Expectation, Step } from './scenario/types.ts';

const VM1: Endpoint = { kind: 'vm', name: 'vm1', id: 1 };
const SP: Endpoint = { kind: 'sp', name: 'optee', id: 0x8001 };

function callStep(from: Endpoint, fid: number, expect: Expectation): Extract<Step, { kind: 'call' }> {
  return { kind: 'call', index: 0, label: 'a call', location: { file: 'x.yaml', line: 1, column: 1 }, from, vcpu: 0, abi: null, fid, regs: registers(fid), tx: null, expect, async: null, answers: null };
}

test('a guest told NOT_SUPPORTED where it expected success hears of Xen\'s version negotiation', () => {
  const verdict = checkCallStep(callStep(VM1, FFA_FIDS.FFA_NOTIFICATION_BIND, { kind: 'success' }), ffaError('NOT_SUPPORTED'));
  assert.equal(verdict.passed, false);
  assert.match(verdict.detail, /^expected success, got FFA_ERROR\(NOT_SUPPORTED\); if vm1 has not negotiated an FF-A version since it booted/);
  assert.match(verdict.detail, /ffa_negotiate_version/);
  const denied = checkCallStep(callStep(VM1, FFA_FIDS.FFA_NOTIFICATION_BIND, { kind: 'error', code: 'DENIED' }), ffaError('NOT_SUPPORTED'));
  assert.match(denied.detail, /ffa_negotiate_version/);
});

test('the hint is only where negotiation can be the cause', () => {
  const plain = (step: Extract<Step, { kind: 'call' }>, regs: ReturnType<typeof ffaError>) => !checkCallStep(step, regs).detail.includes('negotiat');
  // An SP is not a guest of Xen; another error is not the gate's; an expected NOT_SUPPORTED passes.
  assert.ok(plain(callStep(SP, FFA_FIDS.FFA_NOTIFICATION_SET, { kind: 'success' }), ffaError('NOT_SUPPORTED')));
  assert.ok(plain(callStep(VM1, FFA_FIDS.FFA_NOTIFICATION_BIND, { kind: 'success' }), ffaError('DENIED')));
  assert.deepEqual(checkCallStep(callStep(VM1, FFA_FIDS.FFA_ID_GET, { kind: 'error', code: 'NOT_SUPPORTED' }), ffaError('NOT_SUPPORTED')), { passed: true, detail: 'FFA_ERROR(NOT_SUPPORTED)' });
  assert.equal(checkCallStep(callStep(VM1, FFA_FIDS.FFA_ID_GET, { kind: 'success' }), ffaSuccess32(0, 1)).passed, true);
});
