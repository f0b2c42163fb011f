/**
 * latency (design world.md §8): end to end, from the event that made a bit pending to the
 * receiver driver's callback (`notification-callback`), and per hop along the path of §2 "what a
 * notification's life looks like":
 *   set → sri-raise (SPMC) → sri-deliver (at the hypervisor, or the bare-metal host)
 *   → info-get (the scheduler's INFO_GET answer listing the receiver) → npi-inject (hypervisor)
 *   → npi-deliver (at the guest) → get (the GET answer carrying the bit reaches the guest)
 *   → callback → bottom-half (OP-TEE's client). Bare metal: info-get → get.
 * Each hop's end is the first matching event at or after its start (same CPU for the SRI, same
 * receiver for INFO_GET and the NPI, same vCPU for its delivery); the walk stops at the first hop
 * that does not match, and joins the GET only when it is not earlier than the walk got. HDR
 * percentiles (node:perf_hooks createHistogram), in ns.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { LatencyReport, LatencyThresholds, Percentiles, WorldModel } from '../scenario/types.ts';
import { evidenceOf, FailureList, outcomeOf, type CheckOutcome } from './evidence.ts';
import type { Episode, NotificationAnalysis, PendingMaker } from './ledger.ts';
import { firstAtOrAfter, groupBy, irqDeliveryOf, numberField, recordsOf, type IrqDelivery, type RecordView } from './records.ts';
import { type Noun, plural } from '../../../shared/plural.ts';

interface Point {
  readonly name: string;
  readonly entry: HistoryEntry;
}

/** One measured interval, with the events at its two ends (for evidence). */
export interface Sample {
  readonly ns: number;
  readonly from: HistoryEntry;
  readonly to: HistoryEntry;
}

type Timed = { readonly entry: HistoryEntry };

/** The events each hop ends on, grouped by what they must match. */
class PathIndex {
  readonly sriRaises: Map<string, RecordView[]>;
  readonly sriDeliveries: Map<string, IrqDelivery[]>;
  readonly infoGets: Map<string, RecordView[]>;
  readonly npiInjects: Map<string, RecordView[]>;
  readonly npiDeliveries: Map<string, IrqDelivery[]>;
  readonly scheduler: string | null;

  constructor(entries: readonly HistoryEntry[], model: WorldModel) {
    this.scheduler = model.hypervisor ?? model.guests.find((g) => g.vmId === 0)?.component ?? null;
    const irqs = entries.flatMap((e) => irqDeliveryOf(e) ?? []);
    this.sriRaises = groupBy(recordsOf(entries, { component: model.spmc, event: 'sri-raise' }), (r) => String(r.data['cpu']));
    this.sriDeliveries = groupBy(irqs.filter((d) => d.to === this.scheduler && d.irq.vm < 0), (d) => `${d.irq.cpu}:${d.irq.intid}`);
    this.infoGets = this.infoGetsByReceiver(entries);
    this.npiInjects = groupBy(model.hypervisor === null ? [] : recordsOf(entries, { component: model.hypervisor, event: 'npi-inject' }), (r) => String(r.data['vm']));
    this.npiDeliveries = groupBy(irqs.filter((d) => d.irq.vm >= 0), (d) => `${d.to}:${d.irq.vm}:${d.irq.vcpu}:${d.irq.intid}`);
  }

  /** The hypervisor's `info-get` {ids}, or the host driver's {lists: [{id}]}. */
  private infoGetsByReceiver(entries: readonly HistoryEntry[]): Map<string, RecordView[]> {
    const byReceiver = new Map<string, RecordView[]>();
    const records = this.scheduler === null ? [] : recordsOf(entries, { component: this.scheduler, event: 'info-get' });
    for (const record of records) {
      const ids = Array.isArray(record.data['ids']) ? record.data['ids'] : Array.isArray(record.data['lists']) ? record.data['lists'].map((l: { id?: unknown }) => l.id) : [];
      for (const id of new Set(ids)) byReceiver.set(String(id), [...(byReceiver.get(String(id)) ?? []), record]);
    }
    return byReceiver;
  }
}

function firstFrom<T extends Timed>(group: readonly T[] | undefined, t: number): T | null {
  if (!group) return null;
  return group[firstAtOrAfter(group, t, (item) => item.entry.t)] ?? null;
}

/** set → sri-raise → sri-deliver → info-get (→ npi-inject → npi-deliver), as far as it matches. */
function walkToScheduler(path: PathIndex, model: WorldModel, set: PendingMaker, guest: string | null): Point[] {
  const points: Point[] = [{ name: 'set', entry: set.at }];
  const raise = firstFrom(path.sriRaises.get(String(set.cpu)), set.at.t);
  if (!raise) return points;
  points.push({ name: 'sri-raise', entry: raise.entry });
  const sri = firstFrom(path.sriDeliveries.get(`${set.cpu}:${String(raise.data['intid'])}`), raise.entry.t);
  if (!sri) return points;
  points.push({ name: 'sri-deliver', entry: sri.entry });
  const infoGet = firstFrom(path.infoGets.get(String(set.receiver)), sri.entry.t);
  if (!infoGet) return points;
  points.push({ name: 'info-get', entry: infoGet.entry });
  if (model.hypervisor === null) return points;
  const inject = firstFrom(path.npiInjects.get(String(set.receiver)), infoGet.entry.t);
  if (!inject) return points;
  points.push({ name: 'npi-inject', entry: inject.entry });
  const key = `${guest}:${set.receiver}:${numberField(inject.data, 'vcpu')}:${numberField(inject.data, 'intid')}`;
  const npi = firstFrom(path.npiDeliveries.get(key), inject.entry.t);
  if (npi) points.push({ name: 'npi-deliver', entry: npi.entry });
  return points;
}

/** The whole walk for one set of a delivered notification. */
function pathOf(path: PathIndex, model: WorldModel, set: PendingMaker, episode: Episode): Point[] {
  const delivery = episode.delivery as NonNullable<Episode['delivery']>;
  const points = walkToScheduler(path, model, set, delivery.component);
  const last = points.at(-1) as Point;
  const beforeGet = model.hypervisor === null ? 'info-get' : 'npi-deliver';
  const tail: Point[] = [{ name: 'get', entry: delivery.entry }];
  if (episode.callback) tail.push({ name: 'callback', entry: episode.callback });
  if (episode.callback && episode.bottomHalf) tail.push({ name: 'bottom-half', entry: episode.bottomHalf });
  // The walk joins the GET only from the hop just before it, and never backwards in time.
  if (last.name === beforeGet && last.entry.t <= delivery.entry.t) return [...points, ...tail];
  return [...points, { name: '', entry: last.entry }, ...tail];
}

class Samples {
  readonly byMeasure = new Map<string, Sample[]>();

  add(measure: string, from: HistoryEntry, to: HistoryEntry): void {
    const list = this.byMeasure.get(measure) ?? [];
    list.push({ ns: to.t - from.t, from, to });
    this.byMeasure.set(measure, list);
  }
}

export const END_TO_END = 'end-to-end';

/** Every sample of every measure: end-to-end and each hop. */
export function latencySamples(entries: readonly HistoryEntry[], model: WorldModel, analysis: NotificationAnalysis): Map<string, Sample[]> {
  const path = new PathIndex(entries, model);
  const samples = new Samples();
  for (const episode of analysis.episodes) {
    if (!episode.delivery) continue;
    for (const set of episode.sets) {
      if (episode.callback) samples.add(END_TO_END, set.at, episode.callback);
      const points = pathOf(path, model, set, episode);
      for (let index = 1; index < points.length; index++) {
        const from = points[index - 1] as Point;
        const to = points[index] as Point;
        if (from.name !== '' && to.name !== '') samples.add(`${from.name}→${to.name}`, from.entry, to.entry);
      }
    }
  }
  return samples.byMeasure;
}

const EMPTY: Percentiles = { count: 0, p50: 0, p90: 0, p99: 0, 'p99.9': 0, max: 0 };

export function percentilesOf(samples: readonly Sample[]): Percentiles {
  if (samples.length === 0) return { ...EMPTY };
  // An HDR histogram records values from 1: each sample goes in as ns + 1 (a hop may take 0 ns).
  const histogram: RecordableHistogram = createHistogram();
  for (const sample of samples) histogram.record(Math.max(0, Math.round(sample.ns)) + 1);
  const at = (percentile: number) => histogram.percentile(percentile) - 1;
  return { count: histogram.count, p50: at(50), p90: at(90), p99: at(99), 'p99.9': at(99.9), max: histogram.max - 1 };
}

export function latencyReportOf(samples: ReadonlyMap<string, Sample[]>): LatencyReport {
  const hops: Record<string, Percentiles> = {};
  for (const [measure, list] of samples) if (measure !== END_TO_END) hops[measure] = percentilesOf(list);
  return { endToEnd: percentilesOf(samples.get(END_TO_END) ?? []), hops };
}

type PercentileName = keyof Omit<Percentiles, 'count'>;

const ms = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`;

/** "end-to-end p50 0.169 ms, p99 0.351 ms, max 0.352 ms (60 samples)", or "end-to-end: no samples". */
export function endToEndSummary(p: Percentiles): string {
  if (p.count === 0) return 'end-to-end: no samples';
  return `end-to-end p50 ${ms(p.p50)}, p99 ${ms(p.p99)}, max ${ms(p.max)} (${plural(p.count, 'sample')})`;
}

/**
 * The latency check: every threshold given holds. A measure with no samples fails without a
 * threshold being held to it (there is nothing to compare), and says so.
 */
export function checkLatency(samples: ReadonlyMap<string, Sample[]>, thresholds: LatencyThresholds | null): CheckOutcome {
  const report = latencyReportOf(samples);
  const failures = new FailureList();
  let unmeasured = 0;
  for (const [measure, limits] of Object.entries(thresholds ?? {})) {
    const list = samples.get(measure) ?? [];
    const measured = percentilesOf(list);
    const slowest = list.reduce<Sample | null>((worst, s) => (worst === null || s.ns > worst.ns ? s : worst), null);
    const events = slowest ? evidenceOf([slowest.from, slowest.to]) : [];
    if (measured.count === 0) {
      unmeasured++;
      failures.add({ message: `${measure}: no samples to hold to its thresholds`, bit: null, endpoints: [], events });
      continue;
    }
    for (const [name, limit] of Object.entries(limits) as [PercentileName, number | undefined][]) {
      if (limit === undefined || measured[name] <= limit) continue;
      failures.add({ message: `${measure} ${name} is ${ms(measured[name])}, above its threshold of ${ms(limit)} (${plural(measured.count, 'sample')}; the slowest shown)`, bit: null, endpoints: [], events });
    }
  }
  const noun: Noun =
    unmeasured === 0 ? ['threshold exceeded', 'thresholds exceeded'] : unmeasured === failures.total ? ['measure with no samples', 'measures with no samples'] : ['threshold not held', 'thresholds not held'];
  return outcomeOf(failures, noun, endToEndSummary(report.endToEnd));
}
