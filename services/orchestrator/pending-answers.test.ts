/**
 * Calls made without waiting (docs/scenarios.md "Calls made without waiting"): an answer kept until a step
 * takes it, a step that waits for one to come, and, in worlds under sim, the verdicts of the
 * steps that take them: in time or not, as expected or not, several pending at once and answered
 * out of order. scenarios/conformance/spmc-hafnium-delayed-sri-in-request.yaml runs the format
 * under both runtimes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ffaSuccess32 } from '../../shared/ffa/index.ts';
import { PendingAnswers } from './pending-answers.ts';
import { runScenario } from './run/runner.ts';
import { readScenarioText } from './scenario/reader/index.ts';

test('an answer that comes first is kept for the step; a step that comes first waits for it', () => {
  const pending = new PendingAnswers();
  const taken: string[] = [];
  pending.made('early');
  pending.made('late');
  pending.answered('early', { ok: true, regs: ffaSuccess32(), memory: null, atNs: 5 });
  pending.whenAnswered('early', (answer) => taken.push(`early at ${answer.atNs}`));
  pending.whenAnswered('late', (answer) => taken.push(`late at ${answer.atNs}`));
  assert.deepEqual(taken, ['early at 5']);
  pending.answered('late', { ok: false, detail: 'timeout', atNs: 9 });
  assert.deepEqual(taken, ['early at 5', 'late at 9']);
  assert.throws(() => pending.answered('late', { ok: false, detail: 'again', atNs: 10 }), /bug: call late answered twice/);
  assert.throws(() => pending.whenAnswered('other', () => {}), /bug: no call named other/);
});

const WORLD = `name: pending
seed: 3
world:
  cpus: 2
  spmc: { profile: hafnium, partitions: [{ id: 0x8001, name: sp1, vcpus: 2 }, { id: 0x8002, name: sp2, vcpus: 2 }] }
  hypervisor: { profile: raw }
  vms: []
steps:
`;

async function stepDetails(steps: string): Promise<string[]> {
  const { result } = await runScenario(readScenarioText(WORLD + steps, 'pending.yaml'), { runtime: 'sim', seed: 3 });
  return result.steps.map((step) => `${step.passed ? 'passed' : 'failed'}: ${step.detail}`);
}

test('an await with a bound fails when no answer comes within it', async () => {
  const details = await stepDetails(
    [
      '  - { from: hypervisor, call: FFA_MSG_SEND_DIRECT_REQ_32, args: { sender: 0, receiver: sp1 }, async: unanswered }',
      '  - { await: call, call: unanswered, within: 2ms }',
    ].join('\n'),
  );
  assert.deepEqual(details, ['passed: made as unanswered; a later step takes its answer', 'failed: no answer to unanswered within 2 ms']);
});

test('two requests pending at once, answered in the other order, each judged by its own expectation', async () => {
  const details = await stepDetails(
    [
      '  - { from: hypervisor, vcpu: 0, call: FFA_MSG_SEND_DIRECT_REQ_32, args: { sender: 0, receiver: sp1 }, async: first, expect: { success: { payload: [1] } } }',
      '  - { from: hypervisor, vcpu: 1, call: FFA_MSG_SEND_DIRECT_REQ_32, args: { sender: 0, receiver: sp2 }, async: second }',
      '  - { from: sp2, vcpu: 1, call: FFA_MSG_WAIT, expect: any }',
      '  - { from: sp2, vcpu: 1, call: FFA_MSG_SEND_DIRECT_RESP_32, args: { sender: sp2, receiver: 0, payload: [2] }, expect: success }',
      '  - { await: call, call: second, within: 10ms, expect: { success: { payload: [2] } } }',
      '  - { from: sp1, call: FFA_MSG_WAIT, expect: any }',
      '  - { from: sp1, call: FFA_MSG_SEND_DIRECT_RESP_32, args: { payload: [1] }, answers: first, expect: success }',
    ].join('\n'),
  );
  assert.equal(details.length, 7);
  assert.ok(details.every((detail) => detail.startsWith('passed')), details.join('\n'));
  assert.match(details[4] ?? '', /^passed: the answer to second: success, \{"payload":\["0x2",/);
  assert.match(details[6] ?? '', /^passed: FFA_SUCCESS_32; the answer to first: success, \{"payload":\["0x1",/);
});

test('an answering step judges its own return, then the answer to the request', async () => {
  const details = await stepDetails(
    [
      '  - { from: hypervisor, call: FFA_MSG_SEND_DIRECT_REQ_32, args: { sender: 0, receiver: sp1 }, async: first, expect: { success: { payload: [5] } } }',
      '  - { from: sp1, call: FFA_MSG_WAIT, expect: any }',
      '  - { from: sp1, call: FFA_MSG_SEND_DIRECT_RESP_32, args: { payload: [5] }, answers: first, expect: success }',
      '  - { from: hypervisor, vcpu: 1, call: FFA_MSG_SEND_DIRECT_REQ_32, args: { sender: 0, receiver: sp2 }, async: wrong, expect: { success: { payload: [6] } } }',
      '  - { from: sp2, vcpu: 1, call: FFA_MSG_WAIT, expect: any }',
      '  - { from: sp2, vcpu: 1, call: FFA_MSG_SEND_DIRECT_RESP_32, args: { payload: [7] }, answers: wrong, expect: success }',
    ].join('\n'),
  );
  assert.match(details[2] ?? '', /^passed: FFA_SUCCESS_32; the answer to first: success, /);
  assert.match(details[5] ?? '', /^failed: FFA_SUCCESS_32; the answer to wrong: payload: expected \["0x6",/);
});
