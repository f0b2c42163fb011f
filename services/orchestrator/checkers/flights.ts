/**
 * Interrupt frames in flight: each frame's send paired with its delivery, from the history.
 *
 * A frame is sent by one component and delivered to another on a FIFO link (shared/runtime/sim/
 * sim-world.ts; a websocket under ws), so the k-th delivery of a frame with the same sender,
 * receiver, op and target is the k-th send of it. Frames that never arrive leave the queue: a
 * `refused` send (the link was down), and everything in flight to or from a component that
 * crashed, restarted or lost its link. A `drop` fault records no send at all (component-host.ts
 * transmit), so it leaves nothing behind. A `delay` fault may let a frame overtake another with
 * the same key; the pairs are then swapped, which moves time between two flights but keeps both.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { InterruptMessage } from '../../../shared/protocol/messages.ts';

const frameKey = (from: string, to: string, irq: InterruptMessage): string => `${from}>${to}|${irq.op}|${irq.intid}|${irq.cpu}|${irq.vm}|${irq.vcpu}`;

/** A frame's send and its delivery. */
export interface Flight {
  readonly send: HistoryEntry;
  readonly deliver: HistoryEntry;
}

export class FrameFlights {
  /** By the seq of the delivery, and of the send. */
  private readonly byDeliver = new Map<number, Flight>();
  private readonly bySend = new Map<number, Flight>();

  constructor(entries: readonly HistoryEntry[]) {
    const inFlight = new Map<string, HistoryEntry[]>();
    for (const entry of entries) {
      const { event } = entry;
      if (event.type === 'component' && (event.event === 'crash' || event.event === 'restart' || event.event === 'link-lost')) {
        for (const key of [...inFlight.keys()]) if (key.startsWith(`${event.component}>`) || key.includes(`>${event.component}|`)) inFlight.delete(key);
        continue;
      }
      if (event.type !== 'send' && event.type !== 'deliver' && event.type !== 'refused') continue;
      if (event.message.kind !== 'irq') continue;
      const key = frameKey(event.from, event.to, event.message);
      const queue = inFlight.get(key) ?? [];
      if (event.type === 'send') {
        queue.push(entry);
        inFlight.set(key, queue);
      } else if (event.type === 'refused') {
        queue.pop();
      } else {
        const send = queue.shift();
        if (send) this.pair({ send, deliver: entry });
      }
    }
  }

  private pair(flight: Flight): void {
    this.byDeliver.set(flight.deliver.seq, flight);
    this.bySend.set(flight.send.seq, flight);
  }

  /** The flight that ended in this delivery, if its send is in the history. */
  ofDelivery(deliver: HistoryEntry): Flight | null {
    return this.byDeliver.get(deliver.seq) ?? null;
  }

  /** The flight that began with this send, if it was delivered. */
  ofSend(send: HistoryEntry): Flight | null {
    return this.bySend.get(send.seq) ?? null;
  }
}

/** A time interval [from, to] in ns. */
export type Interval = readonly [number, number];

/** How much of [from, to] the intervals cover (each counted once where they overlap). */
export function coveredNs(intervals: readonly Interval[], from: number, to: number): number {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let reach = from;
  for (const [a, b] of clipped) {
    if (b <= reach) continue;
    covered += b - Math.max(a, reach);
    reach = b;
  }
  return covered;
}
