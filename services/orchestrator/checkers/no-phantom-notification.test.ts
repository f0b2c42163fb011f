/**
 * no-phantom-notification: a clean run holds; an SPMC answer carrying a bit nothing set, a bit
 * returned twice for one set, and a hypervisor adding a bit on the way each fail.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { notificationGet } from '../../../shared/ffa/notifications.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { CallIndex, fidOfCall, type CallRecord } from './calls.ts';
import { HistoryBuilder, syntheticModel, withReturnRegs } from './test-support/synthetic.ts';
import { check, runUnderSim, xenSends } from './test-support/worlds.ts';

const GET_SP = notificationGet.encodeCall({ receiver: 1, vcpu: 0, flags: 1 });
const answerWith = (spBitmap: bigint): RegisterFile => notificationGet.success?.encode({ spBitmap }) ?? [];
const orBit = (bit: number) => (regs: RegisterFile): RegisterFile => {
  regs[2] = (regs[2] ?? 0n) | (1n << BigInt(bit));
  return regs;
};

/** dom0's first GET and, down its chain, the SPMC's. */
function firstGet(entries: readonly HistoryEntry[]): { top: CallRecord; spmc: CallRecord } {
  const index = new CallIndex(entries);
  const spmc = index.calls.find((c) => c.callee === 'spmc' && fidOfCall(c) === FFA_FIDS.FFA_NOTIFICATION_GET && c.parent?.parent?.caller === 'dom0');
  const top = spmc?.parent?.parent;
  assert.ok(spmc && top, 'dom0 made a GET that reached the SPMC');
  return { top, spmc };
}

describe('no-phantom-notification', () => {
  it('holds on a clean run', async () => {
    const { entries, model } = await runUnderSim(xenSends(2));
    const result = check(entries, model, 'no-phantom-notification');
    assert.equal(result.held, true, result.detail);
    assert.equal(result.detail, '4 GET answers delivered, 4 notifications made pending');
  });

  it('fails when the SPMC returns a bit nothing made pending', async () => {
    const { entries, model } = await runUnderSim(xenSends(1));
    const { spmc } = firstGet(entries);
    const edited = withReturnRegs(entries, 'spmc', 'spmd', spmc.id, orBit(5));
    const result = check(edited, model, 'no-phantom-notification');
    assert.equal(result.held, false);
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0]?.bit, 5);
    assert.equal(result.failures[0]?.message, 'the SPMC\'s GET answer for dom0 (vCPU 0) returned notification 5 (sp bitmap), which nothing made pending ever');
    assert.ok(result.failures[0]?.events.some((e) => e.what.startsWith(`send spmc→spmd return #${spmc.id}`)));
  });

  it('fails when a forwarder adds a bit the SPMC did not return', async () => {
    const { entries, model } = await runUnderSim(xenSends(1));
    const { top } = firstGet(entries);
    const edited = withReturnRegs(entries, 'hypervisor', 'dom0', top.id, orBit(3));
    const result = check(edited, model, 'no-phantom-notification');
    assert.equal(result.held, false);
    assert.deepEqual(
      result.failures.map((f) => [f.bit, f.message]),
      [[3, 'dom0 got notification 3 (sp bitmap) for dom0 from hypervisor, but the SPMC\'s answer on that chain did not carry it']],
    );
  });

  it('fails a bit returned a second time with no set in between (synthetic)', () => {
    const h = new HistoryBuilder();
    h.record('spmc', { event: 'optee-notif-send', vm: 1, cpu: 0, outcome: 'sent', sender: 0x8001, bitmap: '0x1' });
    h.roundTrip('spmd', 'spmc', GET_SP, answerWith(1n), { conduit: 'smc' });
    h.roundTrip('spmd', 'spmc', GET_SP, answerWith(1n), { conduit: 'smc' });
    const result = check(h.entries, syntheticModel(), 'no-phantom-notification');
    assert.equal(result.held, false);
    assert.equal(result.failures.length, 1);
    assert.match(result.failures[0]?.message ?? '', /^the SPMC's GET answer for vm1 \(vCPU 0\) returned notification 0 \(sp bitmap\), which nothing made pending since it was last returned \(seq 3\)$/);
  });
});
