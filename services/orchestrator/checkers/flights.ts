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

/** One end of a frame's flight: its send or its delivery, by the entry's seq and time. */
export interface FrameEnd {
  readonly seq: number;
  readonly t: number;
}

/** A frame's send and its delivery. */
export interface Flight {
  readonly send: FrameEnd;
  readonly deliver: FrameEnd;
}

/**
 * Pairs frames as they come. Only the frames in flight are kept; what became of a send is told to
 * whoever asked (whenLanded) when it lands or leaves the queue. Made from entries held in memory,
 * it keeps every flight, to be looked up by either end (tests).
 */
export class FrameFlights {
  /** The sends in flight by their frame's key: their seq and time only (a world that falls behind has many). */
  private readonly inFlight = new Map<string, FrameEnd[]>();
  /** By the send's seq. */
  private readonly landing = new Map<number, ((flight: Flight | null) => void)[]>();
  /** By the seq of the delivery, and of the send: only when made from entries. */
  private readonly byDeliver = new Map<number, Flight>();
  private readonly bySend = new Map<number, Flight>();
  private readonly keepAll: boolean;

  constructor(entries?: readonly HistoryEntry[]) {
    this.keepAll = entries !== undefined;
    for (const entry of entries ?? []) this.take(entry);
  }

  /** The flight this entry's delivery ended, if it is one whose send is in the history. */
  take(entry: HistoryEntry): Flight | null {
    const { event } = entry;
    if (event.type === 'component' && (event.event === 'crash' || event.event === 'restart' || event.event === 'link-lost')) {
      for (const key of [...this.inFlight.keys()]) {
        if (!key.startsWith(`${event.component}>`) && !key.includes(`>${event.component}|`)) continue;
        for (const send of this.inFlight.get(key) ?? []) this.land(send, null);
        this.inFlight.delete(key);
      }
      return null;
    }
    if (event.type !== 'send' && event.type !== 'deliver' && event.type !== 'refused') return null;
    if (event.message.kind !== 'irq') return null;
    const key = frameKey(event.from, event.to, event.message);
    const queue = this.inFlight.get(key) ?? [];
    if (event.type === 'send') {
      queue.push({ seq: entry.seq, t: entry.t });
      this.inFlight.set(key, queue);
      return null;
    }
    const send = event.type === 'refused' ? queue.pop() : queue.shift();
    if (queue.length === 0) this.inFlight.delete(key);
    if (!send) return null;
    if (event.type === 'refused') {
      this.land(send, null);
      return null;
    }
    const flight = { send, deliver: { seq: entry.seq, t: entry.t } };
    this.land(send, flight);
    return flight;
  }

  /** Tells `then` the flight of a send just taken (null: it never arrived), once that is known. */
  whenLanded(send: HistoryEntry, then: (flight: Flight | null) => void): void {
    const list = this.landing.get(send.seq);
    if (list) list.push(then);
    else this.landing.set(send.seq, [then]);
  }

  /** The end of the history: what is still in flight never arrived. */
  finish(): void {
    for (const seq of [...this.landing.keys()]) this.land({ seq, t: 0 }, null);
    this.inFlight.clear();
  }

  private land(send: FrameEnd, flight: Flight | null): void {
    if (flight && this.keepAll) {
      this.byDeliver.set(flight.deliver.seq, flight);
      this.bySend.set(flight.send.seq, flight);
    }
    const waiting = this.landing.get(send.seq);
    if (!waiting) return;
    this.landing.delete(send.seq);
    for (const then of waiting) then(flight);
  }

  /** The flight that ended in this delivery, if its send is in the history (made from entries). */
  ofDelivery(deliver: HistoryEntry): Flight | null {
    return this.byDeliver.get(deliver.seq) ?? null;
  }

  /** The flight that began with this send, if it was delivered (made from entries). */
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
