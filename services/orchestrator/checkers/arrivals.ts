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

function isWorkloadControl(entry: HistoryEntry, type: 'send' | 'deliver', model: WorldModel): boolean {
  const { event } = entry;
  if (event.type !== type || event.from !== model.orchestrator || event.to !== model.spmc) return false;
  return event.message.kind === 'control' && WORKLOAD_OPS.has(event.message.op);
}

function workloadStartOf(entry: HistoryEntry, model: WorldModel): WorkloadStart | null {
  const record = recordOf(entry);
  if (!record || record.component !== model.orchestrator || record.event !== 'workload-start') return null;
  const ratePerSecond = numberField(record.data, 'ratePerSecond');
  const startNs = numberField(record.data, 'startNs');
  if (ratePerSecond === null || ratePerSecond <= 0 || startNs === null) return null;
  return { label: String(record.data['label']), ratePerSecond, startNs, drain: null };
}

function drainOf(entry: HistoryEntry, model: WorldModel): Drain | null {
  const record = recordOf(entry);
  if (!record || record.component !== model.orchestrator || record.event !== 'drain') return null;
  const startNs = numberField(record.data, 'startNs');
  const endNs = numberField(record.data, 'endNs');
  if (startNs === null || endNs === null) return null;
  return { startNs, endNs, quiet: record.data['quiet'] === true, settled: record.data['settled'] === true, boundNs: numberField(record.data, 'boundNs') ?? 0, entry };
}

/**
 * Every arrival with its intended time and delivery. Sends and deliveries are paired after the
 * scan: under ws the history interleaves components in the order their reports arrived, so the
 * SPMC's delivery may come before the orchestrator's send (calls.ts); each one's own events are
 * in order.
 */
export function workloadArrivals(entries: readonly HistoryEntry[], model: WorldModel): Arrivals {
  const all: Arrival[] = [];
  /** Every workload send, an arrival or (with no workload-start before it) none, for the pairing. */
  const sends: (Arrival | null)[] = [];
  const workloads: WorkloadStart[] = [];
  const deliveries: HistoryEntry[] = [];
  let current: WorkloadStart | null = null;
  let index = 0;
  for (const entry of entries) {
    const start = workloadStartOf(entry, model);
    const drain = start ? null : drainOf(entry, model);
    if (drain && current) current.drain = drain;
    else if (start) {
      workloads.push(start);
      current = start;
      index = 0;
    } else if (isWorkloadControl(entry, 'send', model)) {
      const arrival = current ? { workload: current, index, intendedNs: current.startNs + (index * 1e9) / current.ratePerSecond, send: entry, delivery: null } : null;
      if (arrival) {
        all.push(arrival);
        index++;
      }
      sends.push(arrival);
    } else if (isWorkloadControl(entry, 'deliver', model)) deliveries.push(entry);
  }
  const byDelivery = new Map<number, Arrival>();
  sends.forEach((arrival, k) => {
    const delivery = deliveries[k];
    if (!arrival || !delivery) return;
    arrival.delivery = delivery;
    byDelivery.set(delivery.seq, arrival);
  });
  return { all, byDelivery, workloads };
}
