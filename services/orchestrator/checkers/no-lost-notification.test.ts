/**
 * no-lost-notification on real sim histories: a clean run, an SRI dropped with no later
 * notification, a GET answer stopped on its way to the guest, a late delivery, a run too short to
 * judge, and a receiver destroyed with its bit still pending.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { FaultRule } from '../../../shared/runtime/interceptor.ts';
import { awaitBottomHalf, awaitProbe, HYPERVISOR, opteeSend } from '../../guest/test-support/world.ts';
import { notificationGet } from '../../../shared/ffa/notifications.ts';
import { CallIndex, fidOfCall } from './calls.ts';
import { HistoryBuilder, syntheticModel } from './test-support/synthetic.ts';
import { AWAIT_NS, check, runUnderSim, xenSends, xenWorld } from './test-support/worlds.ts';

const DROP_SRI: FaultRule = { id: 'drop-sri', match: { kind: 'irq', from: 'gic', to: 'hypervisor', intid: 8, irqOp: 'deliver' }, then: { action: 'drop' }, count: 1 };

/** One send to dom0 (ID 1) on CPU 0, awaited past the liveness bound. */
const oneSend = (...after: Parameters<typeof xenWorld>[0]) =>
  xenWorld([awaitProbe('dom0'), awaitProbe('vm1'), opteeSend(1, 0), awaitBottomHalf('dom0', AWAIT_NS), ...after]);

/** The history as if a fault had dropped the hypervisor's answer to dom0's GET that carried the bit. */
function dropGetAnswer(entries: readonly HistoryEntry[]): HistoryEntry[] {
  const get = new CallIndex(entries).calls.find((c) => c.caller === 'dom0' && fidOfCall(c) === FFA_FIDS.FFA_NOTIFICATION_GET);
  assert.ok(get?.returned && get.returnDelivered, 'dom0 made a GET that was answered');
  return entries.flatMap((entry) => {
    if (entry === get.returnDelivered) return [];
    if (entry !== get.returned || entry.event.type !== 'send') return [entry];
    return [{ ...entry, event: { type: 'fault', rule: 'drop-answer', action: 'drop', from: entry.event.from, to: entry.event.to, message: entry.event.message } }];
  });
}

describe('no-lost-notification', () => {
  it('holds on a clean run: every send reaches its guest', async () => {
    const { entries, model } = await runUnderSim(xenSends(2));
    const result = check(entries, model, 'no-lost-notification');
    assert.equal(result.held, true, result.detail);
    assert.equal(result.detail, '4 notifications, 4 delivered');
  });

  it('fails when the SRI is dropped and nothing else comes: names the bit, the receiver and the events', async () => {
    const { entries, model } = await runUnderSim(oneSend(), [DROP_SRI]);
    const result = check(entries, model, 'no-lost-notification');
    assert.equal(result.held, false);
    assert.equal(result.failures.length, 1);
    const [failure] = result.failures;
    assert.equal(failure?.bit, 0);
    assert.deepEqual(failure?.endpoints, ['dom0', '0x8001']);
    assert.match(failure?.message ?? '', /^notification 0 \(sp bitmap\) for dom0 never returned by a GET/);
    assert.ok(failure?.events.some((e) => e.what.startsWith('record spmc {"event":"optee-notif-send"')), 'the send is shown');
    assert.ok(failure?.events.some((e) => e.what.startsWith('fault drop (rule drop-sri)')), 'the fault is shown');
    assert.match(result.detail, /^1 lost notification; 1 notification, 0 delivered/);
  });

  it('fails when the GET answer that cleared the bit never reaches the guest', async () => {
    const { entries, model } = await runUnderSim(oneSend());
    const result = check(dropGetAnswer(entries), model, 'no-lost-notification');
    assert.equal(result.held, false);
    assert.match(result.failures[0]?.message ?? '', /^notification 0 \(sp bitmap\) for dom0 lost: the SPMC's GET answer cleared it but a fault stopped hypervisor's answer to dom0/);
    assert.ok(result.failures[0]?.events.some((e) => e.what.startsWith('fault drop (rule drop-answer) hypervisor→dom0 return')));
  });

  it('fails when the SPMC\'s GET answer is dropped as it leaves the SPMC: the bits it cleared are lost (synthetic)', () => {
    const h = new HistoryBuilder();
    h.record('spmc', { event: 'optee-notif-send', vm: 1, cpu: 0, outcome: 'sent', sender: 0x8001, bitmap: '0x4' });
    const id = h.call('spmd', 'spmc', notificationGet.encodeCall({ receiver: 1, vcpu: 0, flags: 1 }), { conduit: 'smc' });
    h.dropAnswer('spmc', 'spmd', id, notificationGet.success?.encode({ spBitmap: 4n }) ?? []);
    const result = check(h.entries, syntheticModel(), 'no-lost-notification');
    assert.deepEqual(
      result.failures.map((f) => [f.bit, f.message]),
      [[2, 'notification 2 (sp bitmap) for vm1 lost: the SPMC\'s GET answer cleared it but a fault stopped spmc\'s answer to spmd']],
    );
  });

  it('fails a delivery later than the liveness bound after the set', async () => {
    const { entries, model } = await runUnderSim(oneSend());
    const result = check(entries, { ...model, livenessBoundNs: 1_000 }, 'no-lost-notification');
    assert.equal(result.held, false);
    assert.match(result.failures[0]?.message ?? '', /^notification 0 \(sp bitmap\) for dom0 delivered \d+\.\d{3} ms after its deadline \(0\.001 ms bound\)$/);
    // The summary says late, not lost: the bit did arrive.
    assert.match(result.detail, /^1 late notification; 1 notification, 1 delivered \(1 of them past the 0.001 ms liveness bound\)/);
  });

  it('counts the bound from the last fault\'s heal, and leaves undecided a bit whose deadline the run did not reach', async () => {
    const { entries, model } = await runUnderSim(oneSend(), [DROP_SRI]);
    const lastT = Math.max(...entries.map((e) => e.t));
    const result = check(entries, { ...model, lastFaultHealNs: lastT }, 'no-lost-notification');
    assert.equal(result.held, true);
    assert.equal(result.detail, '1 notification, 0 delivered, 1 still pending when the run ended before its deadline');
  });

  it('excuses a bit whose receiver VM was destroyed', async () => {
    const destroy = { do: 'control', label: 'destroy dom0', to: HYPERVISOR, op: 'vm-destroy', data: { name: 'dom0' }, awaitOp: 'vm-destroy-result' } as const;
    const { entries, model } = await runUnderSim(oneSend(destroy), [DROP_SRI]);
    const result = check(entries, model, 'no-lost-notification');
    assert.equal(result.held, true, result.detail);
  });
});
