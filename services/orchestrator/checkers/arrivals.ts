/**
 * A workload's arrivals (services/orchestrator/workload.ts), read from the history: each one's
 * intended time, its send and the SPMC's delivery of it, for latency corrected for coordinated
 * omission (Gil Tene's term: a generator that falls behind must not hide the wait it caused).
 *
 * - A workload is open-model: arrival i is due at start + i / rate. The orchestrator records
 *   `workload-start` {label, ratePerSecond, startNs} before its first send; each of its
 *   workload control messages to the SPMC after that is the workload's next arrival.
 * - The orchestrator → SPMC link is FIFO, so the SPMC's k-th delivery of a workload control
 *   message is the orchestrator's k-th send (a `drop` fault records no send, so it shifts none).
 * - After the last arrival the workload drains (services/orchestrator/orchestrator.ts): its
 *   `drain` record says when that ended and whether the world was quiet by then.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { WorldModel } from '../scenario/types.ts';
import { numberField, recordOf } from './records.ts';

/** The workload control messages the orchestrator sends the SPMC, one per arrival. */
export const WORKLOAD_OPS: ReadonlySet<string> = new Set(['optee-notif-send', 'notifier-set']);

export interface WorkloadStart {
  label: string;
  ratePerSecond: number;
  startNs: number;
  /** Its drain (the orchestrator's `drain` record after its last arrival); null when the run ended first. */
  drain: Drain | null;
}

/** After a workload's last arrival: until the world was quiet, or the drain's bound passed. */
export interface Drain {
  startNs: number;
  endNs: number;
  /** Quiet: nothing left in flight. Not quiet: the bound passed with the world still busy. */
  quiet: boolean;
  /** Whether the orchestrator had seen every notification the workload made pending delivered (workload.ts DeliveryWatch). */
  settled: boolean;
  boundNs: number;
  entry: HistoryEntry;
}

export interface Arrival {
  workload: WorkloadStart;
  /** Its index in its workload, from 0. */
  index: number;
  /** start + index / rate. */
  intendedNs: number;
  /** The orchestrator's send, and the SPMC's delivery of it (null when it never arrived). */
  send: HistoryEntry;
  delivery: HistoryEntry | null;
}

export interface Arrivals {
  /** Every arrival, in send order. */
  readonly all: Arrival[];
  /** By the seq of the SPMC's delivery (a PendingMaker's `at`). */
  readonly byDelivery: Map<number, Arrival>;
  readonly workloads: WorkloadStart[];
}

export function isWorkloadControl(entry: HistoryEntry, type: 'send' | 'deliver', model: WorldModel): boolean {
  const { event } = entry;
  if (event.type !== type || event.from !== model.orchestrator || event.to !== model.spmc) return false;
  return event.message.kind === 'control' && WORKLOAD_OPS.has(event.message.op);
}

export function workloadStartOf(entry: HistoryEntry, model: WorldModel): WorkloadStart | null {
  const record = recordOf(entry);
  if (!record || record.component !== model.orchestrator || record.event !== 'workload-start') return null;
  const ratePerSecond = numberField(record.data, 'ratePerSecond');
  const startNs = numberField(record.data, 'startNs');
  if (ratePerSecond === null || ratePerSecond <= 0 || startNs === null) return null;
  return { label: String(record.data['label']), ratePerSecond, startNs, drain: null };
}

export function drainOf(entry: HistoryEntry, model: WorldModel): Drain | null {
  const record = recordOf(entry);
  if (!record || record.component !== model.orchestrator || record.event !== 'drain') return null;
  const startNs = numberField(record.data, 'startNs');
  const endNs = numberField(record.data, 'endNs');
  if (startNs === null || endNs === null) return null;
  return { startNs, endNs, quiet: record.data['quiet'] === true, settled: record.data['settled'] === true, boundNs: numberField(record.data, 'boundNs') ?? 0, entry };
}

/**
 * The SPMC's delivery of a workload control message, and the arrival it carried once paired
 * (undefined until then; null when it carried none: no workload had started, or no send is left).
 */
export interface ArrivalSlot {
  readonly delivery: HistoryEntry;
  arrival: Arrival | null | undefined;
  /** Called once the arrival is known. */
  readonly waiters: (() => void)[];
}

/**
 * Pairs the orchestrator's workload sends with the SPMC's deliveries as they come: the k-th of
 * each, whichever reaches the history first (under ws the SPMC's delivery may come before the
 * orchestrator's send, calls.ts; each one's own events are in order). Only the unpaired ones are
 * kept. The workloads are the facts' (facts.ts), so each arrival knows its workload's drain.
 */
export class ArrivalPairing {
  /** The slot of the SPMC's latest delivery of a workload control message. */
  private lastSlot: ArrivalSlot | null = null;
  private readonly sends: (Arrival | null)[] = [];
  private readonly deliveries: ArrivalSlot[] = [];
  private workloadsSeen = 0;
  private current: WorkloadStart | null = null;
  /** The workloads met, when none were given. */
  readonly made: WorkloadStart[] = [];
  private index = 0;

  constructor(
    private readonly model: WorldModel,
    /** The run's workloads in order, drains included (facts.ts); null: made here, with their drains. */
    private readonly workloads: readonly WorkloadStart[] | null,
    private readonly onArrival: (arrival: Arrival) => void = () => {},
  ) {}

  take(entry: HistoryEntry): void {
    const start = workloadStartOf(entry, this.model);
    const drain = start ? null : drainOf(entry, this.model);
    if (drain && this.current) {
      if (this.workloads === null) this.current.drain = drain;
    } else if (start) {
      this.current = this.workloads?.[this.workloadsSeen] ?? start;
      this.workloadsSeen++;
      if (this.workloads === null) this.made.push(start);
      this.index = 0;
    } else if (isWorkloadControl(entry, 'send', this.model)) this.onSend(entry);
    else if (isWorkloadControl(entry, 'deliver', this.model)) {
      this.lastSlot = { delivery: entry, arrival: undefined, waiters: [] };
      this.deliveries.push(this.lastSlot);
      this.pair();
    }
  }

  private onSend(send: HistoryEntry): void {
    const workload = this.current;
    const arrival = workload ? { workload, index: this.index, intendedNs: workload.startNs + (this.index * 1e9) / workload.ratePerSecond, send, delivery: null } : null;
    if (arrival) {
      this.index++;
      this.onArrival(arrival);
    }
    this.sends.push(arrival);
    this.pair();
  }

  private pair(): void {
    while (this.sends.length > 0 && this.deliveries.length > 0) {
      const arrival = this.sends.shift() as Arrival | null;
      const slot = this.deliveries.shift() as ArrivalSlot;
      if (arrival) arrival.delivery = slot.delivery;
      this.settle(slot, arrival);
    }
  }

  private settle(slot: ArrivalSlot, arrival: Arrival | null): void {
    slot.arrival = arrival;
    for (const waiter of slot.waiters.splice(0)) waiter();
  }

  /** The slot of this SPMC delivery, if it is the latest one of a workload control message. */
  slotOf(delivery: HistoryEntry): ArrivalSlot | null {
    return this.lastSlot?.delivery === delivery ? this.lastSlot : null;
  }

  /** The end of the history: deliveries no send was left for carried no arrival. */
  finish(): void {
    for (const slot of this.deliveries.splice(0)) this.settle(slot, null);
  }
}

/** Every arrival of a history held in memory, with its intended time and delivery (tests, small tools). */
export function workloadArrivals(entries: readonly HistoryEntry[], model: WorldModel): Arrivals {
  const all: Arrival[] = [];
  const pairing = new ArrivalPairing(model, null, (arrival) => all.push(arrival));
  for (const entry of entries) pairing.take(entry);
  pairing.finish();
  const byDelivery = new Map<number, Arrival>();
  for (const arrival of all) if (arrival.delivery) byDelivery.set(arrival.delivery.seq, arrival);
  return { all, byDelivery, workloads: pairing.made };
}
