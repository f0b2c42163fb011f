/** Frames in flight: sends paired with deliveries on FIFO links, and the time intervals cover. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry, HistoryEvent } from '../../../shared/runtime/history.ts';
import type { InterruptMessage } from '../../../shared/protocol/messages.ts';
import { coveredNs, FrameFlights } from './flights.ts';

const sri: InterruptMessage = { kind: 'irq', op: 'raise', intid: 8, group: 'nonsecure', cpu: 0, vm: -1, vcpu: -1 };

function history(events: [number, HistoryEvent][]): HistoryEntry[] {
  return events.map(([t, event], seq) => ({ seq, t, event }));
}

describe('flights', () => {
  it('pairs the k-th delivery of a frame with its k-th send, and forgets a refused one or one to a crashed component', () => {
    const entries = history([
      [0, { type: 'send', from: 'spmc', to: 'gic', message: sri }],
      [5, { type: 'send', from: 'spmc', to: 'gic', message: sri }],
      [7, { type: 'refused', reason: 'unreachable', from: 'spmc', to: 'gic', message: sri }],
      [9, { type: 'deliver', from: 'spmc', to: 'gic', message: sri }],
      [10, { type: 'send', from: 'spmc', to: 'gic', message: sri }],
      [11, { type: 'component', component: 'gic', event: 'crash', detail: 'fault crash' }],
      [20, { type: 'send', from: 'spmc', to: 'gic', message: sri }],
      [26, { type: 'deliver', from: 'spmc', to: 'gic', message: sri }],
    ]);
    const flights = new FrameFlights(entries);
    assert.equal(flights.ofDelivery(entries[3] as HistoryEntry)?.send.t, 0);
    assert.equal(flights.ofSend(entries[1] as HistoryEntry), null, 'refused: never delivered');
    assert.equal(flights.ofSend(entries[4] as HistoryEntry), null, 'in flight to a component that crashed');
    assert.equal(flights.ofDelivery(entries[7] as HistoryEntry)?.send.t, 20);
  });

  it('counts covered time once where intervals overlap, clipped to the window', () => {
    assert.equal(coveredNs([[0, 10], [5, 20], [30, 40]], 2, 35), 23);
    assert.equal(coveredNs([[10, 20]], 0, 5), 0);
    assert.equal(coveredNs([], 0, 100), 0);
    assert.equal(coveredNs([[0, 100], [10, 20]], 0, 50), 50);
  });
});
