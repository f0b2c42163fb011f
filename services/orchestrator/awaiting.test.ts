/**
 * The orchestrator's awaiting on its own, with a hand-moved clock: which observed events an await
 * step may take (kept since its cause, only for the keys some step awaits), and what happens when
 * the inbox is full (the step fails and says INBOX_FULL; it neither times out nor takes a later
 * event in place of a lost one). The scenarios (scenarios/scenarios.test.ts) run it in worlds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ComponentContext, ObservedEvent, RecordedEvent } from '../../shared/runtime/component.ts';
import { ManualContext } from '../../shared/runtime/scripted-actor/test-support/manual-timers.ts';
import { OrchestratorAwaiting } from './awaiting.ts';
import type { Endpoint, Step } from './scenario/types.ts';

const MS = 1_000_000;
const VM1: Endpoint = { kind: 'vm', name: 'vm1', id: 1 };
const at = { file: 'test.yaml', line: 1, column: 1 };
const workload: Step = { index: 0, label: 'workload', location: at, kind: 'workload', senders: [0x8001], receivers: ['vm1'], ratePerSecond: 1, count: 1, durationNs: null, drainNs: null };
const callback = (notification: number, withinNs = 1_000 * MS): Extract<Step, { kind: 'await-callback' }> => ({
  index: 1,
  label: `callback ${notification}`,
  location: at,
  kind: 'await-callback',
  in: VM1,
  notification,
  withinNs,
});
const noInterrupt: Extract<Step, { kind: 'expect-none-interrupt' }> = { index: 2, label: 'none', location: at, kind: 'expect-none-interrupt', to: VM1, vcpu: null, intid: null, forNs: 100 * MS };

function world(steps: Step[], bootedGuests: string[] = []) {
  const manual = new ManualContext();
  const records: RecordedEvent[] = [];
  const ctx = Object.assign(manual, { record: (event: RecordedEvent) => records.push(event) }) as unknown as ComponentContext;
  const awaiting = new OrchestratorAwaiting(ctx, 'sim', steps, bootedGuests);
  const outcomes: string[] = [];
  const finish = (passed: boolean, detail: string) => outcomes.push(`${passed ? 'passed' : 'failed'}: ${detail}`);
  return { manual, records, awaiting, outcomes, finish };
}

const callbackRecord = (t: number, id: number, component = 'vm1'): ObservedEvent => ({ t, event: { type: 'record', component, data: { event: 'notification-callback', id, type: 'sp', vcpu: 0, sender: 0x8001 } } });
const delivery = (t: number, intid: number): ObservedEvent => ({
  t,
  event: { type: 'deliver', from: 'gic', to: 'vm1', message: { kind: 'irq', op: 'deliver', intid, group: 'nonsecure', cpu: -1, vm: 1, vcpu: 0 } },
});

test('an await takes an event observed since its cause began, not one from before it', () => {
  const { manual, awaiting, outcomes, finish } = world([workload, callback(5)]);
  awaiting.observe([callbackRecord(0, 5)]);
  manual.advance(10 * MS);
  awaiting.startCause(10 * MS);
  awaiting.observe([callbackRecord(9 * MS, 5), callbackRecord(12 * MS, 5)]);
  awaiting.awaitEvent(callback(5), finish);
  assert.deepEqual(outcomes, ['passed: callback of notification 5 in vm1 (t=12 ms)']);
});

test('an await that finds nothing waits for the event, within its bound', () => {
  const { manual, awaiting, outcomes, finish } = world([workload, callback(5)]);
  awaiting.awaitEvent(callback(5, 100 * MS), finish);
  awaiting.observe([callbackRecord(0, 4), callbackRecord(0, 5, 'vm2')]);
  manual.advance(100 * MS);
  assert.deepEqual(outcomes, ['failed: no callback of notification 5 in vm1 within 100 ms']);
});

test('expect-none fails on an interrupt delivered in its window, kept though no await took it', () => {
  const { manual, awaiting, outcomes, finish } = world([workload, noInterrupt]);
  awaiting.expectNone(noInterrupt, finish);
  manual.advance(50 * MS);
  awaiting.observe([delivery(50 * MS, 8)]);
  manual.advance(50 * MS);
  assert.deepEqual(outcomes, ['failed: unexpected: interrupt 8 delivered to vm1 at t=50 ms']);
});

test('a full inbox is in the history, and an await that cannot tell fails with INBOX_FULL', () => {
  const { records, awaiting, outcomes, finish } = world([workload, callback(5)]);
  const flood = Array.from({ length: 100_001 }, (_, i) => callbackRecord(i, 1));
  awaiting.observe([...flood, callbackRecord(200_000, 5)]);
  assert.deepEqual(records.map((r) => r['event']), ['orchestrator-inbox-full']);
  awaiting.awaitEvent(callback(1), finish);
  awaiting.awaitEvent(callback(5), finish);
  assert.equal(outcomes[0], 'passed: callback of notification 1 in vm1 (t=0 ms)');
  assert.match(outcomes[1] ?? '', /^failed: cannot tell callback of notification 5 in vm1: .*INBOX_FULL/);
});

test('a wait pending when the inbox filled still takes its event as it arrives', () => {
  const { awaiting, outcomes, finish } = world([workload, callback(5)]);
  awaiting.awaitEvent(callback(5), finish);
  awaiting.observe([...Array.from({ length: 100_010 }, (_, i) => callbackRecord(i, 1)), callbackRecord(5 * MS, 5)]);
  assert.deepEqual(outcomes, ['passed: callback of notification 5 in vm1 (t=5 ms)']);
});

test('the next cause step forgets what was lost: awaits wait again', () => {
  const { manual, awaiting, outcomes, finish } = world([workload, callback(5)]);
  awaiting.observe(Array.from({ length: 100_001 }, (_, i) => callbackRecord(i, 1)));
  manual.advance(200 * MS);
  awaiting.startCause(200 * MS);
  awaiting.awaitEvent(callback(5), finish);
  awaiting.observe([callbackRecord(201 * MS, 5)]);
  assert.deepEqual(outcomes, ['passed: callback of notification 5 in vm1 (t=201 ms)']);
});

test('events of keys no step awaits are not kept, so they cannot fill the inbox', () => {
  const { records, awaiting } = world([workload, callback(5)]);
  awaiting.observe(Array.from({ length: 150_000 }, (_, i) => callbackRecord(i, 1, 'vm2')));
  assert.deepEqual(records, []);
});

test('the probes: those done already and those to come; the guests never done are recorded', () => {
  const { manual, records, awaiting } = world([], ['vm1', 'vm2', 'vm3']);
  const done = (t: number, component: string): ObservedEvent => ({ t, event: { type: 'record', component, data: { event: 'done' } } });
  awaiting.observe([done(0, 'vm2')]);
  let started = false;
  awaiting.awaitProbes(['vm1', 'vm2', 'vm3'], () => (started = true));
  awaiting.observe([done(1, 'vm3')]);
  manual.advance(10_000_000_000);
  assert.ok(started);
  assert.deepEqual(records, [{ event: 'probe-timeout', guest: 'vm1' }]);
});
