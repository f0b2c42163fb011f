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
 * receiver for INFO_GET and the NPI, same vCPU for its delivery; latency-path.ts walks it as the
 * history comes); the walk stops at the first hop that does not match, and joins the GET only
 * when it is not earlier than the walk got. HDR percentiles (node:perf_hooks createHistogram), in
 * ns: each measure keeps its histogram, its count and its slowest sample, never the samples.
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
import { fidOfCall, type CallIndex, type CallRecord } from './calls.ts';
import { coveredNs, type Interval } from './flights.ts';
import { arrivalOf, type Episode, type EpisodeListener, type NotificationTracker, type PendingMaker } from './ledger.ts';
import { itemOf, Walk, type PathIndex, type Point, type PointName } from './latency-path.ts';
import { type Noun, plural } from '../../../shared/plural.ts';
import { formatMs } from '../../../shared/duration.ts';

/** One measured interval, with the events at its two ends (for evidence). */
export interface Sample {
  readonly ns: number;
  readonly from: HistoryEntry;
  readonly to: HistoryEntry;
}

export const END_TO_END = 'end-to-end';
export const CORRECTED = 'corrected';
export const ARRIVAL_TO_SET = 'arrival→set';

/** The path's points in order: hops, and their parts, are reported in this order. */
const POINT_ORDER: readonly PointName[] = ['set', 'sri-raise', 'sri-deliver', 'info-get', 'npi-inject', 'npi-deliver', 'get', 'callback', 'bottom-half'];
const PART_ORDER = ['', 'transport', 'protocol'];

/** Where a measure goes in the report: end to end first, then each hop by its points, then its parts. */
function measureRank(measure: string): number[] {
  const [hop, part = ''] = measure.split(':') as [string, string | undefined];
  const [from, to] = hop.split('→');
  const at = (name: string | undefined) => POINT_ORDER.indexOf(name as PointName);
  return [at(from), at(to), PART_ORDER.indexOf(part)];
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** A sample's place: its episode, then its set. The slowest of equal samples is the first. */
type SampleKey = readonly [number, number];

interface Measure {
  readonly histogram: RecordableHistogram;
  slowest: { sample: Sample; key: SampleKey } | null;
  /** Every sample with its key, only when asked for (tests). */
  readonly samples: { sample: Sample; key: SampleKey }[] | null;
}

/** Every measure's histogram and slowest sample. */
export class LatencyMeasures {
  private readonly measures = new Map<string, Measure>();

  constructor(private readonly keepSamples = false) {}

  add(measure: string, from: HistoryEntry, to: HistoryEntry, ns: number, key: SampleKey): void {
    let m = this.measures.get(measure);
    if (!m) {
      m = { histogram: createHistogram(), slowest: null, samples: this.keepSamples ? [] : null };
      this.measures.set(measure, m);
    }
    const sample = { ns, from, to };
    // An HDR histogram records values from 1: each sample goes in as ns + 1 (a hop may take 0 ns).
    m.histogram.record(Math.max(0, Math.round(ns)) + 1);
    if (!m.slowest || ns > m.slowest.sample.ns || (ns === m.slowest.sample.ns && compareRanks(key, m.slowest.key) < 0)) m.slowest = { sample, key };
    m.samples?.push({ sample, key });
  }

  percentiles(measure: string): Percentiles {
    const m = this.measures.get(measure);
    return m ? percentilesOfHistogram(m.histogram) : { ...EMPTY };
  }

  slowest(measure: string): Sample | null {
    return this.measures.get(measure)?.slowest?.sample ?? null;
  }

  report(): LatencyReport {
    const hops: Record<string, Percentiles> = {};
    const parts: LatencyReport['parts'] = {};
    const names = [...this.measures.keys()].filter((m) => m !== END_TO_END && m !== CORRECTED && m !== ARRIVAL_TO_SET);
    for (const measure of names.sort((a, b) => compareRanks(measureRank(a), measureRank(b)))) {
      const [hop, part] = measure.split(':') as [string, string | undefined];
      const p = this.percentiles(measure);
      if (part === undefined) hops[hop] = p;
      else if (part === 'transport' || part === 'protocol') (parts[hop] ??= { transport: { ...EMPTY }, protocol: { ...EMPTY } })[part] = p;
    }
    return { endToEnd: this.percentiles(END_TO_END), corrected: this.percentiles(CORRECTED), arrivalToSet: this.percentiles(ARRIVAL_TO_SET), hops, parts };
  }

  /** Every sample of every measure, each list in episode and set order (kept only when asked for). */
  samples(): Map<string, Sample[]> {
    const all = new Map<string, Sample[]>();
    for (const [measure, m] of this.measures) all.set(measure, [...(m.samples ?? [])].sort((a, b) => compareRanks(a.key, b.key)).map((s) => s.sample));
    return all;
  }
}

/** The whole walk for one set of a delivered notification: the walk to the scheduler, then the GET and what followed. */
function pathOf(model: WorldModel, walk: Walk, episode: Episode): Point[] {
  const delivery = episode.delivery as NonNullable<Episode['delivery']>;
  const points = walk.points;
  const last = points.at(-1) as Point;
  const beforeGet = model.hypervisor === null ? 'info-get' : 'npi-deliver';
  const tail: Point[] = [{ name: 'get', item: itemOf(delivery.entry) }];
  if (episode.callback) tail.push({ name: 'callback', item: itemOf(episode.callback) });
  if (episode.callback && episode.bottomHalf) tail.push({ name: 'bottom-half', item: itemOf(episode.bottomHalf) });
  // The walk joins the GET only from the hop just before it, and never backwards in time.
  if (last.name === beforeGet && last.item.entry.t <= delivery.entry.t) return [...points, ...tail];
  return [...points, { name: '', item: last.item }, ...tail];
}

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

/**
 * The time of the hop from → to that its own frames spent in flight (ns): the raise to the GIC
 * and the GIC's delivery for an interrupt; the INFO_GET or GET call that ends the hop, down its
 * forwarding chain to the SPMC and back.
 */
function transportNs(from: Point, to: Point, episode: Episode): number {
  const frames: Interval[] = [];
  switch (to.name) {
    case 'sri-deliver':
    case 'npi-deliver':
      if (to.item.flight) frames.push(to.item.flight);
      if (from.item.raiseFlight) frames.push(from.item.raiseFlight);
      break;
    case 'info-get':
      if (to.item.infoGetCall) frames.push(...chainFlights(to.item.infoGetCall));
      break;
    case 'get':
      if (episode.delivery) frames.push(...chainFlights(episode.delivery.top));
      break;
  }
  return coveredNs(frames, from.item.entry.t, to.item.entry.t);
}

/**
 * The latency checker's fold: a walk per set, started as the set comes; once its episode is done,
 * every measure's sample of each set (end to end, corrected, arrival→set, each hop and its parts).
 */
export class LatencyFold implements EpisodeListener {
  readonly measures: LatencyMeasures;
  private readonly walks = new Map<Episode, Walk[]>();
  /** Episodes known not to have been delivered: their walks need nothing more. */
  private readonly undelivered = new WeakSet<Episode>();

  constructor(
    private readonly model: WorldModel,
    private readonly tracker: NotificationTracker,
    private readonly paths: PathIndex,
    private readonly calls: CallIndex,
    keepSamples = false,
  ) {
    this.measures = new LatencyMeasures(keepSamples);
    tracker.listen(this);
  }

  set(episode: Episode, set: PendingMaker): void {
    this.tracker.hold(episode);
    const walk = new Walk(set, () => this.walked(episode, walk));
    const walks = this.walks.get(episode);
    if (walks) walks.push(walk);
    else this.walks.set(episode, [walk]);
    this.paths.walk(walk);
  }

  resolved(episode: Episode): void {
    const delivery = episode.delivery;
    if (!delivery) this.undelivered.add(episode);
    for (const walk of this.walks.get(episode) ?? []) {
      if (delivery) this.paths.guestKnown(walk, delivery.component);
      else this.paths.drop(walk);
    }
  }

  done(episode: Episode): void {
    const walks = this.walks.get(episode) ?? [];
    this.walks.delete(episode);
    if (episode.delivery) walks.forEach((walk, k) => this.sample(episode, walk, k));
  }

  /** A walk is over: its episode waits on what its hops' transport needs. */
  private walked(episode: Episode, walk: Walk): void {
    if (!this.undelivered.has(episode)) {
      walk.points.forEach((point, index) => {
        const from = walk.points[index - 1];
        if ((point.name === 'sri-deliver' || point.name === 'npi-deliver') && from && from.item.raiseFlight === undefined) {
          this.tracker.hold(episode);
          from.item.raiseWaiters.push(() => this.tracker.release(episode));
        }
        if (point.name === 'info-get' && point.item.infoGetCall) {
          this.tracker.hold(episode);
          this.calls.whenSubtreeSettled(point.item.infoGetCall, () => this.tracker.release(episode));
        }
      });
    }
    this.tracker.release(episode);
  }

  private sample(episode: Episode, walk: Walk, k: number): void {
    const { set } = walk;
    const key: SampleKey = [episode.index, k];
    const arrival = arrivalOf(set);
    const { callback } = episode;
    if (arrival) this.measures.add(ARRIVAL_TO_SET, arrival.send, set.at, set.at.t - arrival.intendedNs, key);
    if (callback) this.measures.add(END_TO_END, set.at, callback, callback.t - set.at.t, key);
    if (callback && arrival) this.measures.add(CORRECTED, arrival.send, callback, callback.t - arrival.intendedNs, key);
    const points = pathOf(this.model, walk, episode);
    for (let index = 1; index < points.length; index++) {
      const from = points[index - 1] as Point;
      const to = points[index] as Point;
      if (from.name === '' || to.name === '') continue;
      const hop = `${from.name}→${to.name}`;
      const transport = transportNs(from, to, episode);
      const total = to.item.entry.t - from.item.entry.t;
      this.measures.add(hop, from.item.entry, to.item.entry, total, key);
      this.measures.add(`${hop}:transport`, from.item.entry, to.item.entry, transport, key);
      this.measures.add(`${hop}:protocol`, from.item.entry, to.item.entry, total - transport, key);
    }
  }
}

const EMPTY: Percentiles = { count: 0, p50: 0, p90: 0, p99: 0, 'p99.9': 0, max: 0 };

function percentilesOfHistogram(histogram: RecordableHistogram): Percentiles {
  if (histogram.count === 0) return { ...EMPTY };
  const at = (percentile: number) => histogram.percentile(percentile) - 1;
  return { count: histogram.count, p50: at(50), p90: at(90), p99: at(99), 'p99.9': at(99.9), max: histogram.max - 1 };
}

export function percentilesOf(samples: readonly Sample[]): Percentiles {
  // An HDR histogram records values from 1: each sample goes in as ns + 1 (a hop may take 0 ns).
  const histogram: RecordableHistogram = createHistogram();
  for (const sample of samples) histogram.record(Math.max(0, Math.round(sample.ns)) + 1);
  return percentilesOfHistogram(histogram);
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

/** "end-to-end p50 0.169 ms, p99 0.351 ms, max 0.352 ms (60 samples)", or "end-to-end: no samples". */
export function endToEndSummary(p: Percentiles): string {
  if (p.count === 0) return 'end-to-end: no samples';
  return `end-to-end p50 ${formatMs(p.p50)}, p99 ${formatMs(p.p99)}, max ${formatMs(p.max)} (${plural(p.count, 'sample')})`;
}

/**
 * The latency check: every threshold given holds. A measure with no samples fails without a
 * threshold being held to it (there is nothing to compare), and says so.
 */
export function checkLatency(measures: LatencyMeasures, thresholds: LatencyThresholds | null): CheckOutcome {
  const failures = new FailureList();
  let unmeasured = 0;
  for (const [measure, limits] of Object.entries(thresholds ?? {})) {
    const measured = measures.percentiles(measure);
    const slowest = measures.slowest(measure);
    const events = slowest ? evidenceOf([slowest.from, slowest.to]) : [];
    if (measured.count === 0) {
      unmeasured++;
      failures.add({ message: `${measure}: no samples to hold to its thresholds`, bit: null, endpoints: [], events });
      continue;
    }
    for (const [name, limit] of Object.entries(limits) as [PercentileName, number | undefined][]) {
      if (limit === undefined || measured[name] <= limit) continue;
      failures.add({ message: `${measure} ${name} is ${formatMs(measured[name])}, above its threshold of ${formatMs(limit)} (${plural(measured.count, 'sample')}; the slowest shown)`, bit: null, endpoints: [], events });
    }
  }
  const noun: Noun =
    unmeasured === 0 ? ['threshold exceeded', 'thresholds exceeded'] : unmeasured === failures.total ? ['measure with no samples', 'measures with no samples'] : ['threshold not held', 'thresholds not held'];
  return outcomeOf(failures, noun, endToEndSummary(measures.percentiles(END_TO_END)));
}
