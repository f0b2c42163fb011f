/**
 * Judging as a fold keeps what is outstanding, not the history: a synthetic history of thousands
 * of notifications, each set, raised, taken, listed by INFO_GET, injected, fetched by GET and
 * called back (the path of docs/design.md §2), is fed to the judge one entry at a time without
 * ever being held, and the judge's state (calls not settled, notifications not done, path events
 * kept for the latency walks) stays the same size from the first thousand to the last.
 *
 * A component whose history stops early (`tail-missing`) makes what hinged on it unknown, not
 * lost or phantom.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationGet, notificationInfoGet64 } from '../../../shared/ffa/notifications.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { HistoryFacts } from './facts.ts';
import { Judge, judgeEntries } from './judge.ts';
import type { CheckName } from '../scenario/types.ts';
import { HistoryBuilder, syntheticModel } from './test-support/synthetic.ts';

const SRI = { intid: 8, group: 'nonsecure' as const, cpu: 0, vm: -1, vcpu: -1 };
const NPI = { intid: 8, group: 'nonsecure' as const, cpu: -1, vm: 1, vcpu: 0 };
const GET = notificationGet.encodeCall({ receiver: 1, vcpu: 0, flags: 1 });
const GOT = notificationGet.success?.encode({ spBitmap: 1n }) ?? [];
const INFO_GET = notificationInfoGet64.encodeCall({});
const INFO = notificationInfoGet64.success?.encode({ morePending: false, lists: [{ id: 1, vcpus: [] }] }) ?? [];

/** One notification's whole life, OP-TEE's send to vm1's bottom half, appended to the builder. */
function oneNotification(h: HistoryBuilder): void {
  h.control('orchestrator', 'spmc', 'optee-notif-send', { vm: 1, cpu: 0 });
  h.record('spmc', { event: 'sri-raise', cpu: 0, intid: 8, delayed: false });
  h.irq('spmc', 'gic', { op: 'raise', ...SRI });
  h.record('spmc', { event: 'optee-notif-send', vm: 1, cpu: 0, outcome: 'sent', sender: 0x8001, bitmap: '0x1' });
  h.irq('gic', 'hypervisor', { op: 'deliver', ...SRI });
  h.record('hypervisor', { event: 'sri-taken', cpu: 0 });
  const infoGet = h.call('hypervisor', 'spmd', INFO_GET, { conduit: 'smc' });
  const forwarded = h.call('spmd', 'spmc', INFO_GET, { conduit: 'smc' });
  h.answer('spmc', 'spmd', forwarded, INFO);
  h.answer('spmd', 'hypervisor', infoGet, INFO);
  h.record('hypervisor', { event: 'info-get', iteration: 1, cpu: 0, ids: [1] });
  h.record('hypervisor', { event: 'npi-inject', vm: 1, vcpu: 0, pcpu: 0, online: true, intid: 8, cause: 'info-get' });
  h.irq('hypervisor', 'gic', { op: 'raise', ...NPI });
  h.irq('gic', 'vm1', { op: 'deliver', ...NPI });
  h.mediated(['vm1', 'hypervisor', 'spmd', 'spmc'], GET, GOT);
  h.record('vm1', { event: 'notification-callback', id: 0, type: 'sp', vcpu: 0, sender: 0x8001 });
  h.record('vm1', { event: 'optee-bottom-half', id: 0, vcpu: 0 });
}

/** `count` notifications, made a few at a time: the history is never held whole. */
function* notifications(count: number): Generator<HistoryEntry> {
  const h = new HistoryBuilder();
  let seq = 0;
  for (let n = 0; n < count; n++) {
    oneNotification(h);
    for (const entry of h.entries.splice(0)) yield { ...entry, seq: seq++ };
  }
}

const spec = (name: CheckName) => ({ name, expectFail: false, thresholds: null, location: { file: 'test', line: 0, column: 0 } });

const NOTIFICATIONS = 4_000;
const SAMPLE_EVERY = 1_000;

describe('judging as a fold', () => {
  it('keeps the same state for the thousandth notification as for the four-thousandth', () => {
    const model = syntheticModel({ livenessBoundNs: 10_000_000 });
    const facts = new HistoryFacts(model);
    for (const entry of notifications(NOTIFICATIONS)) facts.take(entry);
    const judge = new Judge(model, facts);
    const samples: { calls: number; episodes: number; pathEvents: number }[] = [];
    let entries = 0;
    let done = 0;
    for (const entry of notifications(NOTIFICATIONS)) {
      judge.take(entry);
      entries++;
      if (entry.event.type === 'record' && entry.event.data.event === 'optee-bottom-half' && ++done % SAMPLE_EVERY === 0) {
        samples.push({ calls: judge.calls.unsettledCount, episodes: judge.tracker.outstanding, pathEvents: judge.paths.keptCount() });
      }
    }
    judge.finish();
    assert.equal(samples.length, NOTIFICATIONS / SAMPLE_EVERY);
    assert.ok(entries > 100_000, `${entries} entries`);
    // What is kept is what is in flight: no call, no notification between two, and the path events
    // since the latency walks last let old ones go (every 4,096 entries: five per notification).
    for (const sample of samples) {
      assert.equal(sample.calls, 0, JSON.stringify(sample));
      assert.equal(sample.episodes, 0, JSON.stringify(sample));
      assert.ok(sample.pathEvents <= 1_000, `${JSON.stringify(sample)}: ${NOTIFICATIONS * 5} path events in all`);
    }
    const [lost, phantom, latency] = judge.checks([spec('no-lost-notification'), spec('no-phantom-notification'), spec('latency')]);
    assert.equal(lost?.detail, `${NOTIFICATIONS.toLocaleString('en')} notifications, ${NOTIFICATIONS} delivered`);
    assert.equal(phantom?.held, true);
    assert.match(latency?.detail ?? '', new RegExp(`\\(${NOTIFICATIONS.toLocaleString('en')} samples\\)$`));
    assert.equal(judge.latencyReport().hops['npi-deliver→get']?.count, NOTIFICATIONS);
  });

  it('calls unknown, naming the component, what hinged on a component whose history stops early', () => {
    // The SPMD took vm1's GET and its history stops there (killed): the SPMC never answered it in
    // the history, yet the hypervisor's answer with the bit reached vm1.
    const h = new HistoryBuilder();
    h.control('orchestrator', 'spmc', 'optee-notif-send', { vm: 1, cpu: 0 });
    h.record('spmc', { event: 'optee-notif-send', vm: 1, cpu: 0, outcome: 'sent', sender: 0x8001, bitmap: '0x1' });
    const fromGuest = h.call('vm1', 'hypervisor', GET);
    h.call('hypervisor', 'spmd', GET, { conduit: 'smc' });
    const cut = h.entries.at(-1) as HistoryEntry;
    h.wait(5_000_000);
    h.answer('hypervisor', 'vm1', fromGuest, GOT);
    h.wait(5_000_000);
    const tail: HistoryEntry = { seq: h.entries.length, t: cut.t, event: { type: 'component', component: 'spmd', event: 'tail-missing', detail: 'killed' } };
    const model = syntheticModel();
    const checks = (entries: readonly HistoryEntry[]) => judgeEntries(entries, model).checks([spec('no-lost-notification'), spec('no-phantom-notification')]);
    const [lost, phantom] = checks(h.entries);
    assert.equal(lost?.held, false, 'whole, the history shows a lost notification');
    assert.equal(phantom?.held, false, 'and a bit no SPMC answer stands behind');
    const [lostCut, phantomCut] = checks([...h.entries, tail]);
    assert.equal(lostCut?.held, true, lostCut?.detail);
    assert.match(lostCut?.detail ?? '', /^1 notification, 0 delivered; 1 unknown: spmd's history stops at [\d.]+ ms, before it was decided \(its tail is missing\)$/);
    assert.equal(phantomCut?.held, true, phantomCut?.detail);
    assert.match(phantomCut?.detail ?? '', /; 1 unknown: spmd's history stops at/);
  });
});
