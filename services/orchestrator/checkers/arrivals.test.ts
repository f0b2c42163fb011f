/** A workload's arrivals: intended times from its start and rate, and each send paired with the SPMC's delivery. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry, HistoryEvent } from '../../../shared/runtime/history.ts';
import { workloadArrivals } from './arrivals.ts';
import { syntheticModel } from './test-support/synthetic.ts';

const send = (type: 'send' | 'deliver', vm: number): HistoryEvent => ({ type, from: 'orchestrator', to: 'spmc', message: { kind: 'control', op: 'optee-notif-send', data: { vm, cpu: 0 } } });
const start = (label: string, ratePerSecond: number, startNs: number): HistoryEvent => ({ type: 'record', component: 'orchestrator', data: { event: 'workload-start', label, ratePerSecond, startNs } });

function history(events: [number, HistoryEvent][]): HistoryEntry[] {
  return events.map(([t, event], seq) => ({ seq, t, event }));
}

describe('workload arrivals', () => {
  it('gives arrival i of each workload start + i / rate, and pairs the k-th delivery with the k-th send', () => {
    const entries = history([
      // Under ws the SPMC's report may reach the history before the orchestrator's.
      [150, send('deliver', 1)],
      [100, start('first', 1000, 100)],
      [100, send('send', 1)],
      [1150, send('send', 2)],
      [1200, send('deliver', 2)],
      [5000, start('second', 2000, 5000)],
      [5600, send('send', 1)],
    ]);
    const arrivals = workloadArrivals(entries, syntheticModel());
    assert.deepEqual(arrivals.all.map((a) => [a.workload.label, a.index, a.intendedNs, a.send.seq, a.delivery?.seq ?? null]), [
      ['first', 0, 100, 2, 0],
      ['first', 1, 1_000_100, 3, 4],
      ['second', 0, 5000, 6, null],
    ]);
    assert.equal(arrivals.byDelivery.get(4)?.index, 1);
    assert.equal(arrivals.workloads.length, 2);
  });

  it('counts no arrival before a workload-start record, without shifting the pairing', () => {
    const entries = history([[0, send('send', 1)], [10, start('w', 1000, 10)], [10, send('send', 2)], [20, send('deliver', 1)], [30, send('deliver', 2)]]);
    const arrivals = workloadArrivals(entries, syntheticModel());
    assert.deepEqual(arrivals.all.map((a) => [a.index, a.delivery?.seq]), [[0, 4]]);
  });
});
