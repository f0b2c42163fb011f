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
 *
 * Counted as the history comes, each series keeping at most a bounded number of points: all of
 * them while they fit, then the peak of each equal span of the run.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { InterruptMessage } from '../../../shared/protocol/messages.ts';
import { endpointName } from '../checkers/evidence.ts';
import type { JudgeObserver } from '../checkers/judge.ts';
import type { Episode } from '../checkers/ledger.ts';
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

/** A span of time [startNs, endNs] cut into buckets. */
export interface Span {
  startNs: number;
  endNs: number;
}

/**
 * One series' points: every one while there are at most `max`, past that the highest of each of
 * `max` equal spans of `span` (the peak is what a queue's depth is read for; of equal peaks, the
 * first).
 */
class SeriesPoints {
  private all: CounterPoint[] | null = [];
  private readonly peaks = new Map<number, CounterPoint>();

  constructor(
    private readonly max: number,
    private readonly span: Span,
  ) {}

  add(point: CounterPoint): void {
    if (!this.all) return this.keepPeak(point);
    this.all.push(point);
    if (this.all.length <= this.max) return;
    for (const kept of this.all) this.keepPeak(kept);
    this.all = null;
  }

  private keepPeak(point: CounterPoint): void {
    const width = Math.max(1, (this.span.endNs - this.span.startNs + 1) / this.max);
    const bucket = Math.floor((point.t - this.span.startNs) / width);
    const peak = this.peaks.get(bucket);
    if (!peak || point.value > peak.value || (point.value === peak.value && point.t < peak.t)) this.peaks.set(bucket, point);
  }

  points(): CounterPoint[] {
    return this.all ?? [...this.peaks.values()];
  }
}

const seriesKey = (p: { component: string; name: string; series: string }): string => `${p.component}\u0000${p.name}\u0000${p.series}`;

const irqKey = (component: string, irq: InterruptMessage) => `${component}/${irq.intid}/${irq.cpu}/${irq.vm}/${irq.vcpu}`;

/**
 * The counter tracks as a fold: traffic from each entry, the SPMC's pending bits from the
 * notification ledger's episodes (checkers/ledger.ts) as they are set and returned.
 */
export class CounterTracks implements JudgeObserver {
  private readonly values = new Map<string, number>();
  private readonly series = new Map<string, SeriesPoints>();
  private readonly active = new Map<string, number>();

  constructor(
    private readonly model: WorldModel | null,
    private readonly span: Span,
    private readonly max: number,
  ) {}

  take({ t, event }: HistoryEntry): void {
    if (event.type === 'send') this.add(event.to, 'messages in flight', 'messages', t, +1);
    else if (event.type === 'deliver' || (event.type === 'fault' && event.action === 'drop') || event.type === 'refused') {
      this.add(event.to, 'messages in flight', 'messages', t, -1);
    }
    if ((event.type !== 'send' && event.type !== 'deliver') || event.message.kind !== 'irq') return;
    const irq = event.message;
    if (event.type === 'send' && irq.op === 'deliver') {
      const key = irqKey(event.to, irq);
      this.active.set(key, (this.active.get(key) ?? 0) + 1);
      this.add(event.to, 'interrupts in flight', 'interrupts', t, +1);
    } else if (event.type === 'send' && irq.op === 'eoi') {
      const key = irqKey(event.from, irq);
      const open = this.active.get(key) ?? 0;
      if (open === 0) return;
      this.active.set(key, open - 1);
      this.add(event.from, 'interrupts in flight', 'interrupts', t, -1);
    }
  }

  created(episode: Episode): void {
    const first = episode.sets[0];
    if (this.model && first) this.add(this.model.spmc, 'bits pending at the SPMC', endpointName(this.model, episode.receiver), first.at.t, +1);
  }

  returned(episode: Episode): void {
    if (this.model && episode.returned) this.add(this.model.spmc, 'bits pending at the SPMC', endpointName(this.model, episode.receiver), episode.returned.entry.t, -1);
  }

  /** Every series' points kept, in time order. */
  points(): CounterPoint[] {
    return [...this.series.values()].flatMap((s) => s.points()).sort((a, b) => a.t - b.t);
  }

  private add(component: string, name: string, series: string, t: number, delta: number): void {
    const key = seriesKey({ component, name, series });
    // Never below zero: a history cut by the in-memory bound may hold a delivery without its send.
    const value = Math.max(0, (this.values.get(key) ?? 0) + delta);
    this.values.set(key, value);
    let points = this.series.get(key);
    if (!points) {
      points = new SeriesPoints(this.max, this.span);
      this.series.set(key, points);
    }
    points.add({ component, name, series, t, value });
  }
}

/** At most `max` points per series: all of them, or the peak of each of `max` equal spans of the series' own time. */
export function downsample(points: readonly CounterPoint[], max: number): CounterPoint[] {
  const bySeries = new Map<string, CounterPoint[]>();
  for (const point of points) {
    const list = bySeries.get(seriesKey(point));
    if (list) list.push(point);
    else bySeries.set(seriesKey(point), [point]);
  }
  const kept: CounterPoint[] = [];
  for (const list of bySeries.values()) {
    const sorted = [...list].sort((a, b) => a.t - b.t);
    const series = new SeriesPoints(max, { startNs: (sorted[0] as CounterPoint).t, endNs: (sorted.at(-1) as CounterPoint).t });
    for (const point of sorted) series.add(point);
    kept.push(...series.points());
  }
  return kept.sort((a, b) => a.t - b.t);
}
