/**
 * The notification ledger and the call chains under it, and runChecks' contract (one result per
 * spec, in order, expect-fail applied).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { notificationGet, notificationSet } from '../../../shared/ffa/notifications.ts';
import { ffaSuccess32 } from '../../../shared/ffa/errors.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import { CHECK_NAMES, type CheckSpec } from '../scenario/types.ts';
import { awaitBottomHalf, awaitProbe, opteeSend } from '../../guest/test-support/world.ts';
import { CallIndex, fidOfCall, followAnswer } from './calls.ts';
import { notificationLedger, runChecks } from './index.ts';
import { HistoryBuilder, syntheticModel } from './test-support/synthetic.ts';
import { runUnderSim, xenSends, xenWorld } from './test-support/worlds.ts';

const spec = (name: CheckSpec['name'], expectFail = false): CheckSpec => ({ name, expectFail, thresholds: null, location: { file: 'test', line: 1, column: 1 } });
const bits = (spBitmap: bigint, vmBitmap = 0n): RegisterFile => notificationGet.success?.encode({ spBitmap, vmBitmap }) ?? [];
const hafnium = syntheticModel({ spmcProfile: 'hafnium', spIds: [0x8001, 0x8002] });

describe('notification ledger', () => {
  it('follows each notification from its set to the callback in the receiver\'s driver', async () => {
    const { entries, model } = await runUnderSim(xenSends(2));
    const ledger = notificationLedger(entries, model);
    assert.deepEqual(ledger.map((n) => [n.receiverName, n.bit, n.bitmap, n.outcome, n.deliveredTo]), [
      ['dom0', 0, 'sp', 'delivered', 'dom0'],
      ['vm1', 0, 'sp', 'delivered', 'vm1'],
      ['dom0', 0, 'sp', 'delivered', 'dom0'],
      ['vm1', 0, 'sp', 'delivered', 'vm1'],
    ]);
    for (const n of ledger) {
      const times = [n.setNs, n.returnedNs, n.deliveredNs, n.callbackNs, n.bottomHalfNs];
      assert.ok(times.every((t, i) => t !== null && (i === 0 || t >= (times[i - 1] as number))), JSON.stringify(times));
      assert.deepEqual(n.senders, [0x8001]);
    }
  });

  it('merges a bit set twice before it was returned: one delivery covers both sets', async () => {
    const { entries, model } = await runUnderSim(xenWorld([awaitProbe('dom0'), awaitProbe('vm1'), opteeSend(1, 0), opteeSend(1, 1), awaitBottomHalf('dom0')]));
    const ledger = notificationLedger(entries, model);
    assert.deepEqual(ledger.map((n) => [n.receiverName, n.sets.length, n.outcome]), [['dom0', 2, 'delivered']]);
  });

  it('follows a GET answer up its forwarding chain: SPMC → SPMD → hypervisor → guest', async () => {
    const { entries } = await runUnderSim(xenSends(1));
    const atSpmc = new CallIndex(entries).calls.find((c) => c.callee === 'spmc' && fidOfCall(c) === FFA_FIDS.FFA_NOTIFICATION_GET);
    assert.ok(atSpmc);
    assert.deepEqual([atSpmc.caller, atSpmc.parent?.caller, atSpmc.parent?.parent?.caller], ['spmd', 'hypervisor', 'dom0']);
    const end = followAnswer(atSpmc);
    assert.equal(end.kind, 'delivered');
    assert.equal(end.kind === 'delivered' ? end.component : null, 'dom0');
  });

  it('counts a GET the orchestrator relays for an SP, and a per-vCPU bit only on its vCPU (synthetic)', () => {
    const h = new HistoryBuilder();
    const perVcpuSet = notificationSet.encodeCall({ sender: 1, receiver: 0x8002, flags: 1, vcpu: 1, bitmap: 1n << 3n });
    h.roundTrip('spmd', 'spmc', perVcpuSet, ffaSuccess32(), { conduit: 'smc' });
    h.roundTrip('orchestrator', 'spmc', notificationGet.encodeCall({ receiver: 0x8002, vcpu: 0, flags: 2 }), bits(0n), { conduit: 'relay', endpoint: 0x8002 });
    h.roundTrip('orchestrator', 'spmc', notificationGet.encodeCall({ receiver: 0x8002, vcpu: 1, flags: 2 }), bits(0n, 1n << 3n), { conduit: 'relay', endpoint: 0x8002, vcpu: 1 });
    const ledger = notificationLedger(h.entries, hafnium);
    assert.deepEqual(ledger.map((n) => [n.receiverName, n.bitmap, n.bit, n.vcpu, n.outcome, n.deliveredTo]), [['0x8002', 'vm', 3, 1, 'delivered', 'orchestrator']]);
  });

  it('loses a per-vCPU bit a guest retrieves on another vCPU than its target (synthetic)', () => {
    const h = new HistoryBuilder();
    h.roundTrip('spmd', 'spmc', notificationSet.encodeCall({ sender: 0x8001, receiver: 1, flags: 1, vcpu: 1, bitmap: 1n }), ffaSuccess32(), { conduit: 'smc' });
    h.roundTrip('vm1', 'spmc', notificationGet.encodeCall({ receiver: 1, vcpu: 1, flags: 1 }), bits(1n), { conduit: 'smc', vcpu: 0 });
    const [notification] = notificationLedger(h.entries, hafnium);
    assert.equal(notification?.outcome, 'lost');
    assert.equal(notification?.why, 'per-vCPU notification for vCPU 1 retrieved on vCPU 0');
  });
});

describe('runChecks', () => {
  it('returns one result per spec, in order, with expect-fail applied', async () => {
    const { entries, model } = await runUnderSim(xenSends(1));
    const results = runChecks(entries, model, [...CHECK_NAMES.map((name) => spec(name)), spec('no-leak', true)]);
    assert.deepEqual(results.map((r) => [r.name, r.held, r.passed, r.expectFail]), [
      ...CHECK_NAMES.map((name) => [name, true, true, false]),
      ['no-leak', true, false, true],
    ]);
    assert.match(results.at(-1)?.detail ?? '', /^expected to fail, but held: /);
  });

  it('passes an expected failure, and keeps at most 20 failures with the total in the detail', () => {
    const h = new HistoryBuilder();
    for (let vcpu = 0; vcpu < 25; vcpu++) h.irq('gic', 'vm1', { op: 'deliver', intid: 8, group: 'nonsecure', cpu: -1, vm: 2, vcpu });
    const [result] = runChecks(h.entries, syntheticModel(), [spec('no-leak', true)]);
    assert.equal(result?.held, false);
    assert.equal(result?.passed, true);
    assert.equal(result?.failures.length, 20);
    assert.match(result?.detail ?? '', /^failed as expected: 25 leaks \(first 20 shown\); /);
  });
});
