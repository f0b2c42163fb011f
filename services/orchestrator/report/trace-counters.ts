/**
 * Counter tracks for trace.json (Chrome trace-event `ph: 'C'`; Perfetto draws each argument of a
 * counter as its own track under the process): how deep the queues are and how much is pending,
 * at every moment of the run.
 *
 * - "messages in flight" on each component: sent to it and not yet delivered (a message a fault
 *   dropped or the runtime refused is no longer in flight);
 * - "interrupts in flight" on each component: interrupt deliveries sent to it and not yet ended
 *   by its EOI (GIC architecture: an interrupt is active from its acknowledge to its EOI);
 * - "bits pending at the SPMC", one series per receiver: the notifications the checkers' ledger
 *   (checkers/ledger.ts) found set and not yet returned by a GET (FF-A v1.2 §10.2: a bit stays
 *   pending in the receiver's bitmap until a NOTIFICATION_GET clears it).
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { InterruptMessage } from '../../../shared/protocol/messages.ts';
import { analyseNotifications } from '../checkers/ledger.ts';
import { endpointName } from '../checkers/evidence.ts';
import type { WorldModel } from '../scenario/types.ts';

/** One value of one counter series at a time. */
export interface CounterPoint {
  /** The process (component) the counter belongs to. */
  component: string;
  /** The counter's name ("messages in flight"); `series` names its argument. */
  name: string;
  series: string;
  t: number;
  value: number;
}

class Counters {
  private readonly values = new Map<string, number>();
  readonly points: CounterPoint[] = [];

  add(component: string, name: string, series: string, t: number, delta: number): void {
    const key = `${component}\u0000${name}\u0000${series}`;
    // Never below zero: a history cut by the in-memory bound may hold a delivery without its send.
    const value = Math.max(0, (this.values.get(key) ?? 0) + delta);
    this.values.set(key, value);
    this.points.push({ component, name, series, t, value });
  }
}

const irqKey = (component: string, irq: InterruptMessage) => `${component}/${irq.intid}/${irq.cpu}/${irq.vm}/${irq.vcpu}`;

function trafficCounters(entries: readonly HistoryEntry[], counters: Counters): void {
  const active = new Map<string, number>();
  for (const { t, event } of entries) {
    if (event.type === 'send') counters.add(event.to, 'messages in flight', 'messages', t, +1);
    else if (event.type === 'deliver' || (event.type === 'fault' && event.action === 'drop') || event.type === 'refused') {
      counters.add(event.to, 'messages in flight', 'messages', t, -1);
    }
    if ((event.type !== 'send' && event.type !== 'deliver') || event.message.kind !== 'irq') continue;
    const irq = event.message;
    if (event.type === 'send' && irq.op === 'deliver') {
      const key = irqKey(event.to, irq);
      active.set(key, (active.get(key) ?? 0) + 1);
      counters.add(event.to, 'interrupts in flight', 'interrupts', t, +1);
    } else if (event.type === 'send' && irq.op === 'eoi') {
      const key = irqKey(event.from, irq);
      const open = active.get(key) ?? 0;
      if (open === 0) continue;
      active.set(key, open - 1);
      counters.add(event.from, 'interrupts in flight', 'interrupts', t, -1);
    }
  }
}

function pendingBitCounters(entries: readonly HistoryEntry[], model: WorldModel, counters: Counters): void {
  const changes: { t: number; series: string; delta: number }[] = [];
  for (const episode of analyseNotifications(entries, model).episodes) {
    const first = episode.sets[0];
    if (!first) continue;
    const series = endpointName(model, episode.receiver);
    changes.push({ t: first.at.t, series, delta: +1 });
    if (episode.returned) changes.push({ t: episode.returned.entry.t, series, delta: -1 });
  }
  changes.sort((a, b) => a.t - b.t || a.delta - b.delta);
  for (const change of changes) counters.add(model.spmc, 'bits pending at the SPMC', change.series, change.t, change.delta);
}

/** Every counter's points in time order; the bits pending only when the world's model is known. */
export function counterPoints(entries: readonly HistoryEntry[], model: WorldModel | null): CounterPoint[] {
  const counters = new Counters();
  trafficCounters(entries, counters);
  if (model) pendingBitCounters(entries, model, counters);
  return counters.points.sort((a, b) => a.t - b.t);
}

/**
 * At most `max` points per series: the series cut into equal spans of run time, each keeping its
 * highest value (the peak is what a queue's depth is read for).
 */
export function downsample(points: readonly CounterPoint[], max: number): CounterPoint[] {
  const bySeries = new Map<string, CounterPoint[]>();
  for (const point of points) {
    const key = `${point.component}\u0000${point.name}\u0000${point.series}`;
    const list = bySeries.get(key);
    if (list) list.push(point);
    else bySeries.set(key, [point]);
  }
  const kept: CounterPoint[] = [];
  for (const list of bySeries.values()) {
    if (list.length <= max) {
      kept.push(...list);
      continue;
    }
    const start = (list[0] as CounterPoint).t;
    const span = Math.max(1, ((list.at(-1) as CounterPoint).t - start + 1) / max);
    const peaks = new Map<number, CounterPoint>();
    for (const point of list) {
      const bucket = Math.floor((point.t - start) / span);
      const peak = peaks.get(bucket);
      if (!peak || point.value > peak.value) peaks.set(bucket, point);
    }
    kept.push(...peaks.values());
  }
  return kept.sort((a, b) => a.t - b.t);
}
