/**
 * latency (docs/design.md §8): end to end, from the event that made a bit pending to the
 * receiver driver's callback (`notification-callback`); for a workload's notifications also
 * `corrected`, from the arrival's intended time to the callback, and `arrival→set`
 * (arrivals.ts); and per hop along the path of §2 "what a
 * notification's life looks like":
 *   set → sri-raise (SPMC) → sri-deliver (at the hypervisor, or the bare-metal host)
 *   → info-get (the scheduler's INFO_GET answer listing the receiver) → npi-inject (hypervisor)
 *   → npi-deliver (at the guest) → get (the GET answer carrying the bit reaches the guest)
 *   → callback → bottom-half (OP-TEE's client). Bare metal: info-get → get.
 * Each hop's end is the first matching event at or after its start (same CPU for the SRI, same
 * receiver for INFO_GET and the NPI, same vCPU for its delivery); the walk stops at the first hop
 * that does not match, and joins the GET only when it is not earlier than the walk got. HDR
 * percentiles (node:perf_hooks createHistogram), in ns.
 *
 * Each hop's time is split in two (`hop:transport`, `hop:protocol`):
 * - transport: the time the hop's own frames were in flight, send to delivery, as the runtime
 *   carried them (under sim the configured link latency; under ws the sender's queue, the socket
 *   and the receiver's inbox): the SRI's or NPI's raise to the GIC and the GIC's delivery; the
 *   INFO_GET or GET call that ends the hop, down its forwarding chain to the SPMC and back;
 * - protocol: the rest, the modelled system: a component's handling, and waiting for the
 *   protocol, such as an interrupt the GIC holds until the earlier one's EOI, an INFO_GET loop
 *   already running when the SRI came (Xen's notif_sri_action, xen/arch/arm/tee/ffa_notif.c), or
 *   a guest's vCPU not yet running its handler. A hop inside one component (set→sri-raise,
 *   info-get→npi-inject, get→callback, callback→bottom-half) carries no frame: all protocol.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { LatencyReport, LatencyThresholds, PercentileName, Percentiles, WorldModel } from '../scenario/types.ts';
import { evidenceOf, FailureList, outcomeOf, type CheckOutcome } from './evidence.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { workloadArrivals, type Arrivals } from './arrivals.ts';
import { CallIndex, fidOfCall, type CallRecord } from './calls.ts';
import { coveredNs, FrameFlights, type Interval } from './flights.ts';
import type { Episode, NotificationAnalysis, PendingMaker } from './ledger.ts';
import { firstAtOrAfter, groupBy, irqDeliveryOf, numberField, recordOf, recordsOf, type IrqDelivery, type RecordView } from './records.ts';
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

const INFO_GET_FIDS: ReadonlySet<number> = new Set([FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32, FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64]);
/** Forwarding chains are a few components deep (guest → hypervisor → SPMD → SPMC); deeper is a bug. */
const CHAIN_DEPTH_MAX = 8;

/** A call's flights and those of the calls made to serve it (same function ID), both ways. */
function chainFlights(call: CallRecord, depth = 0): Interval[] {
  if (depth > CHAIN_DEPTH_MAX) throw new Error(`bug: a forwarding chain deeper than ${CHAIN_DEPTH_MAX} at ${call.caller}→${call.callee} #${call.id}`);
  const own: Interval[] = [];
  if (call.sent && call.delivered) own.push([call.sent.t, call.delivered.t]);
  if (call.returned && call.returnDelivered) own.push([call.returned.t, call.returnDelivered.t]);
  const fid = fidOfCall(call);
  return [...own, ...call.children.filter((child) => fidOfCall(child) === fid).flatMap((child) => chainFlights(child, depth + 1))];
}

/** Which frames carry each hop, to tell their flight (transport) from the rest (protocol). */
class TransportIndex {
  private readonly flights: FrameFlights;
  /** Interrupt raises sent to the GIC, by sender, INTID and target. */
  private readonly raises: Map<string, HistoryEntry[]>;
  /** The scheduler's INFO_GET calls, in the order their answers reached it. */
  private readonly infoGets: CallRecord[];

  constructor(entries: readonly HistoryEntry[], model: WorldModel, calls: CallIndex, scheduler: string | null) {
    this.flights = new FrameFlights(entries);
    const raises = entries.filter((e) => e.event.type === 'send' && e.event.to === model.gic && e.event.message.kind === 'irq' && e.event.message.op === 'raise');
    this.raises = groupBy(raises, (e) => (e.event.type === 'send' && e.event.message.kind === 'irq' ? TransportIndex.raiseKey(e.event.from, e.event.message) : null));
    this.infoGets = calls.calls
      .filter((c) => c.caller === scheduler && c.returnDelivered !== null && INFO_GET_FIDS.has(fidOfCall(c) ?? -1))
      .sort((a, b) => (a.returnDelivered as HistoryEntry).seq - (b.returnDelivered as HistoryEntry).seq);
  }

  /** A physical interrupt by its CPU; a virtual one by its VM and vCPU. */
  private static raiseKey(from: string, irq: { intid: number; cpu: number; vm: number; vcpu: number }): string {
    return irq.vm < 0 ? `${from}|${irq.intid}|cpu ${irq.cpu}` : `${from}|${irq.intid}|vm ${irq.vm}.${irq.vcpu}`;
  }

  /** The time of the hop from → to that its own frames spent in flight (ns). */
  transportNs(from: Point, to: Point, episode: Episode): number {
    return coveredNs(this.framesOf(from, to, episode), from.entry.t, to.entry.t);
  }

  private framesOf(from: Point, to: Point, episode: Episode): Interval[] {
    switch (to.name) {
      case 'sri-deliver':
      case 'npi-deliver':
        return this.interruptFlights(from, to);
      case 'info-get':
        return this.infoGetFlights(to.entry);
      case 'get':
        return episode.delivery ? chainFlights(episode.delivery.top) : [];
      default:
        return [];
    }
  }

  /** The raise the hop's first component sent to the GIC after its record, and the GIC's delivery that ended the hop. */
  private interruptFlights(from: Point, to: Point): Interval[] {
    const found: Interval[] = [];
    const delivery = this.flights.ofDelivery(to.entry);
    if (delivery) found.push([delivery.send.t, delivery.deliver.t]);
    const record = recordOf(from.entry);
    const intid = record ? numberField(record.data, 'intid') : null;
    if (!record || intid === null) return found;
    const vm = numberField(record.data, 'vm') ?? -1;
    const target = { intid, cpu: numberField(record.data, 'cpu') ?? -1, vm, vcpu: numberField(record.data, 'vcpu') ?? -1 };
    const group = this.raises.get(TransportIndex.raiseKey(record.component, target)) ?? [];
    const raise = group[firstAtOrAfter(group, from.entry.seq, (e) => e.seq)];
    const flight = raise ? this.flights.ofSend(raise) : null;
    if (flight) found.push([flight.send.t, flight.deliver.t]);
    return found;
  }

  /** The INFO_GET call whose answer the scheduler recorded as this `info-get`. */
  private infoGetFlights(record: HistoryEntry): Interval[] {
    const index = firstAtOrAfter(this.infoGets, record.seq, (c) => (c.returnDelivered as HistoryEntry).seq) - 1;
    const call = this.infoGets[index];
    return call ? chainFlights(call) : [];
  }
}

class Samples {
  readonly byMeasure = new Map<string, Sample[]>();

  add(measure: string, from: HistoryEntry, to: HistoryEntry, ns = to.t - from.t): void {
    const list = this.byMeasure.get(measure) ?? [];
    list.push({ ns, from, to });
    this.byMeasure.set(measure, list);
  }
}

export const END_TO_END = 'end-to-end';
export const CORRECTED = 'corrected';
export const ARRIVAL_TO_SET = 'arrival→set';

/** Every sample of every measure: end-to-end, corrected, arrival→set, each hop, and each hop's transport and protocol parts. */
export function latencySamples(
  entries: readonly HistoryEntry[],
  model: WorldModel,
  analysis: NotificationAnalysis,
  calls = new CallIndex(entries),
  arrivals: Arrivals = workloadArrivals(entries, model),
): Map<string, Sample[]> {
  const path = new PathIndex(entries, model);
  const transport = new TransportIndex(entries, model, calls, path.scheduler);
  const samples = new Samples();
  for (const episode of analysis.episodes) {
    if (!episode.delivery) continue;
    for (const set of episode.sets) {
      const arrival = arrivals.byDelivery.get(set.at.seq);
      if (arrival) samples.add(ARRIVAL_TO_SET, arrival.send, set.at, set.at.t - arrival.intendedNs);
      if (episode.callback) samples.add(END_TO_END, set.at, episode.callback);
      if (episode.callback && arrival) samples.add(CORRECTED, arrival.send, episode.callback, episode.callback.t - arrival.intendedNs);
      const points = pathOf(path, model, set, episode);
      for (let index = 1; index < points.length; index++) {
        const from = points[index - 1] as Point;
        const to = points[index] as Point;
        if (from.name === '' || to.name === '') continue;
        const hop = `${from.name}→${to.name}`;
        const transportNs = transport.transportNs(from, to, episode);
        samples.add(hop, from.entry, to.entry);
        samples.add(`${hop}:transport`, from.entry, to.entry, transportNs);
        samples.add(`${hop}:protocol`, from.entry, to.entry, to.entry.t - from.entry.t - transportNs);
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
  const parts: LatencyReport['parts'] = {};
  for (const [measure, list] of samples) {
    if (measure === END_TO_END || measure === CORRECTED || measure === ARRIVAL_TO_SET) continue;
    const [hop, part] = measure.split(':') as [string, string | undefined];
    if (part === undefined) hops[hop] = percentilesOf(list);
    else if (part === 'transport' || part === 'protocol') (parts[hop] ??= { transport: { ...EMPTY }, protocol: { ...EMPTY } })[part] = percentilesOf(list);
  }
  const of = (measure: string) => percentilesOf(samples.get(measure) ?? []);
  return { endToEnd: of(END_TO_END), corrected: of(CORRECTED), arrivalToSet: of(ARRIVAL_TO_SET), hops, parts };
}

/** One measure's percentiles from a report: end-to-end, corrected, arrival→set, a hop or a hop's part. */
export function percentilesOfMeasure(report: LatencyReport, measure: string): Percentiles | null {
  if (measure === END_TO_END) return report.endToEnd;
  if (measure === CORRECTED) return report.corrected;
  if (measure === ARRIVAL_TO_SET) return report.arrivalToSet;
  const [hop, part] = measure.split(':') as [string, string | undefined];
  if (part === 'transport' || part === 'protocol') return report.parts[hop]?.[part] ?? null;
  return part === undefined ? (report.hops[hop] ?? null) : null;
}

/** A threshold held against a run: the measured figure (null: no samples, which fails it). */
export interface ThresholdVerdict {
  measure: string;
  percentile: PercentileName;
  limitNs: number;
  measuredNs: number | null;
  count: number;
  passed: boolean;
}

/** Each threshold against the report, as the latency check holds them (a figure at most its limit passes). */
export function thresholdVerdicts(report: LatencyReport, thresholds: LatencyThresholds): ThresholdVerdict[] {
  return Object.entries(thresholds).flatMap(([measure, limits]) => {
    const p = percentilesOfMeasure(report, measure);
    return (Object.entries(limits) as [PercentileName, number | undefined][]).flatMap(([percentile, limitNs]) => {
      if (limitNs === undefined) return [];
      const measuredNs = p && p.count > 0 ? p[percentile] : null;
      return [{ measure, percentile, limitNs, measuredNs, count: p?.count ?? 0, passed: measuredNs !== null && measuredNs <= limitNs }];
    });
  });
}

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
