/**
 * Load statistics of a run with a `workload: notifications` step (`ffa-world load`), read
 * from its history like the checkers:
 *
 * - **Offered and achieved rates.** The workload is open-model: arrival i is due at
 *   start + i / rate (services/orchestrator/workload.ts), start being the workload's
 *   `workload-start` record (checkers/arrivals.ts). Achieved throughput is counted twice: notifications made pending at the SPMC (its
 *   `optee-notif-send` / `notifier-set` records with outcome `sent`) and callbacks at the guests
 *   (`notification-callback`), and sends delivered (counted at the callback that covered them), in
 *   the workload's window [start, start + arrivals / rate) and from start to the last one.
 * - **End-to-end latency, corrected for coordinated omission.** Each send that made a bit pending
 *   is matched to its arrival (checkers/arrivals.ts: the orchestrator→SPMC link is FIFO, so the
 *   SPMC's k-th delivery of a workload control message is the orchestrator's k-th send); the
 *   latency checker measures it (`corrected`, `arrival→set`). Corrected latency runs from the
 *   arrival's intended time to the receiver driver's callback that covered it; uncorrected from the
 *   SPMC's set (the latency checker's end-to-end, services/orchestrator/checkers/latency.ts). A world that falls
 *   behind (the generator's timer late, the SPMC's queue long) shows in the corrected figures only.
 *   Both are HDR percentiles (node:perf_hooks), in ns. Sends merged into a bit already pending each
 *   count, from their own arrival to the one callback.
 * - **INFO_GET per SRI.** The hypervisor's `info-get` records, grouped into the loops of Xen's
 *   notif_sri_action (a loop's first call is iteration 1): calls per loop, loops that hit their
 *   bound, and SRIs taken while a loop ran (they only schedule one more run).
 * - **Merges.** The GIC's `gic-merge` records for the SRI INTID at physical targets (a raise while
 *   it was still pending) against its `gic-deliver`s; the same for the virtual NPI; and sends that
 *   found their bit already pending at the SPMC (the ledger's episodes with more than one set).
 */
import { createHistogram } from 'node:perf_hooks';
import type { RecordEvent } from '../../../shared/protocol/records.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CheckResult, LatencyReport, Percentiles, WorldModel } from '../scenario/types.ts';
import { workloadArrivals, type Arrival, type Drain } from '../checkers/arrivals.ts';
import { measureLatency } from '../checkers/index.ts';
import { analyseNotifications, outcomeOf, type NotificationAnalysis } from '../checkers/ledger.ts';
import { numberField, recordOf, type RecordView } from '../checkers/records.ts';

/** The records the SPMC makes of each workload arrival, named as the ops (checkers/arrivals.ts WORKLOAD_OPS). */
const WORKLOAD_RECORDS: ReadonlySet<RecordEvent> = new Set<RecordEvent>(['optee-notif-send', 'notifier-set']);

export interface LoadWorkloadSpec {
  ratePerSecond: number;
}

/** A count of events and its rates, per second. */
export interface Throughput {
  count: number;
  /** Within the workload's window [start, start + arrivals / rate). */
  inWindow: number;
  perSecondInWindow: number;
  /** Over the window, or from the workload's start to the last one when that is later (drain included). */
  perSecond: number;
  /** When the last one happened, ns after the workload's start. */
  lastAfterStartNs: number;
}

export interface InfoGetStats {
  /** SRIs the hypervisor took (`sri-taken`). */
  srisTaken: number;
  /** INFO_GET loops (notif_sri_action runs); an SRI taken during one only schedules one more run. */
  loops: number;
  /** SRIs absorbed by a loop already running (srisTaken − loops). */
  srisCoalesced: number;
  calls: number;
  /** INFO_GET calls per loop: mean, max, and how many loops made 1, 2, … calls. */
  perLoop: { mean: number; max: number; histogram: Record<string, number> };
  /** calls / srisTaken. */
  perSriTaken: number;
  /** Loops that ran into the hypervisor's bound (`info-get-loop-bound`). */
  loopBoundHits: number;
  /** VM IDs named per INFO_GET answer (mean) and answers with "more pending". */
  idsPerCall: number;
  morePending: number;
}

export interface InterruptStats {
  intid: number | null;
  /** Raises the GIC took as new (`gic-raise`). */
  raised: number;
  /** Raises that found it still pending and merged (`gic-merge`). */
  merged: number;
  /**
   * Raises that found it delivered but not yet acknowledged, kept to be delivered again after its
   * EOI (`gic-merge` with `kept`: services/gic/interrupt-state.ts raisedWhileDelivered).
   */
  kept: number;
  /** Deliveries (`gic-deliver` for the SRI; virtual deliveries to the guests for the NPI). */
  delivered: number;
}

export interface LoadStats {
  workload: {
    ratePerSecond: number;
    periodNs: number;
    /** Arrivals the orchestrator sent. */
    arrivals: number;
    /** When the workload started (its `workload-start` record, runtime ns): arrival 0's intended time. */
    startNs: number;
    /** arrivals / rate. */
    windowNs: number;
    /** The rate the orchestrator actually sent at, first to last send. */
    sentPerSecond: number;
    /** How late each send left after its intended time (the generator's own lag). */
    sendLag: Percentiles;
    /** After the last arrival, until the world was quiet or the drain's bound passed; null when the run ended first. */
    drain: { boundNs: number; afterLastArrivalNs: number; quiet: boolean; settled: boolean } | null;
  };
  throughput: {
    offeredPerSecond: number;
    /** Notifications made pending at the SPMC. */
    pendingAtSpmc: Throughput;
    /** The receiver drivers' callbacks (one covers every send merged into its bit). */
    callbacks: Throughput;
    /** Sends whose bit reached a callback, counted at that callback: end-to-end notifications. */
    deliveredSends: Throughput;
  };
  notifications: {
    /** Workload control messages the SPMC handled, by outcome (`sent`: a bit made pending). */
    spmcOutcomes: Record<string, number>;
    madePending: number;
    /** Pending notifications (ledger episodes): a bit pending for a receiver until a GET returns it. */
    episodes: number;
    /** Sends that found their bit already pending at the SPMC (merged into its episode). */
    mergedAtSpmc: number;
    /** Episodes a GET returned to their receiver, and those whose callback ran. */
    delivered: number;
    calledBack: number;
    /** Episodes by the ledger's outcome (delivered, lost, pending, receiver-gone). */
    outcomes: Record<string, number>;
    /** Sends whose bit never reached a callback. */
    sendsWithoutCallback: number;
  };
  latency: {
    /** Intended arrival → the receiver driver's callback (coordinated omission corrected). */
    corrected: Percentiles;
    /** The SPMC's set → the callback (the latency checker's end-to-end). */
    uncorrected: Percentiles;
    /** Intended arrival → the SPMC's set: time the arrival spent before its bit became pending. */
    arrivalToSet: Percentiles;
    /** Per hop, as the latency checker measures them. */
    hops: LatencyReport['hops'];
    /** Per hop: its frames in flight (transport) and the rest (protocol), as the latency checker splits them. */
    parts: LatencyReport['parts'];
    /**
     * Sends whose callback came later than the liveness bound after their set: late, which is a
     * latency figure (hold it with a threshold), not lost (no-lost-notification judges those
     * after the drain).
     */
    pastLivenessBound: { boundNs: number; sends: number };
  };
  infoGet: InfoGetStats;
  sri: InterruptStats;
  npi: InterruptStats;
}

/** One notification's latencies (ns), for tests and plots. */
export interface SendLatency {
  arrival: number;
  intendedNs: number;
  setNs: number;
  callbackNs: number;
  corrected: number;
  uncorrected: number;
}

const EMPTY: Percentiles = { count: 0, p50: 0, p90: 0, p99: 0, 'p99.9': 0, max: 0 };

/** HDR percentiles of values in ns (3 significant figures); negative values count as 0. */
export function percentilesOfNs(values: readonly number[]): Percentiles {
  if (values.length === 0) return { ...EMPTY };
  // An HDR histogram records values from 1: each goes in as ns + 1, as latency.ts does.
  const histogram = createHistogram();
  for (const value of values) histogram.record(Math.max(0, Math.round(value)) + 1);
  const at = (percentile: number) => histogram.percentile(percentile) - 1;
  return { count: histogram.count, p50: at(50), p90: at(90), p99: at(99), 'p99.9': at(99.9), max: histogram.max - 1 };
}

const count = <K extends string>(into: Record<K, number>, key: K): void => {
  into[key] = (into[key] ?? 0) + 1;
};

function throughputOf(times: readonly number[], startNs: number, windowNs: number): Throughput {
  const inWindow = times.filter((t) => t >= startNs && t < startNs + windowNs).length;
  const last = times.reduce((max, t) => Math.max(max, t), startNs);
  const span = last - startNs;
  const over = Math.max(span, windowNs);
  return {
    count: times.length,
    inWindow,
    perSecondInWindow: windowNs > 0 ? (inWindow * 1e9) / windowNs : 0,
    perSecond: over > 0 ? (times.length * 1e9) / over : 0,
    lastAfterStartNs: span,
  };
}

/** Xen's notif_sri_action loops, from the hypervisor's own records in its order. */
function infoGetStats(records: readonly RecordView[]): InfoGetStats {
  let srisTaken = 0;
  let loopBoundHits = 0;
  let morePending = 0;
  let ids = 0;
  const loops: number[] = [];
  for (const record of records) {
    if (record.event === 'sri-taken') srisTaken++;
    else if (record.event === 'info-get-loop-bound') loopBoundHits++;
    else if (record.event === 'info-get') {
      if (numberField(record.data, 'iteration') === 1 || loops.length === 0) loops.push(0);
      loops[loops.length - 1] = (loops.at(-1) ?? 0) + 1;
      if (record.data['morePending'] === true) morePending++;
      if (Array.isArray(record.data['ids'])) ids += record.data['ids'].length;
    }
  }
  const calls = loops.reduce((sum, n) => sum + n, 0);
  const histogram: Record<string, number> = {};
  for (const n of loops) count(histogram, String(n));
  return {
    srisTaken,
    loops: loops.length,
    srisCoalesced: Math.max(0, srisTaken - loops.length),
    calls,
    perLoop: { mean: loops.length > 0 ? calls / loops.length : 0, max: loops.reduce((max, n) => Math.max(max, n), 0), histogram },
    perSriTaken: srisTaken > 0 ? calls / srisTaken : 0,
    loopBoundHits,
    idsPerCall: calls > 0 ? ids / calls : 0,
    morePending,
  };
}

/** Everything `loadStats` reads in one pass over the history. */
interface Scan {
  /** The workload's arrivals (checkers/arrivals.ts), in send order. */
  arrivals: Arrival[];
  /** By the SPMC's delivery seq. */
  arrivalOfDelivery: Map<number, Arrival>;
  spmcOutcomes: Record<string, number>;
  pendingTimes: number[];
  callbackTimes: number[];
  hypervisorRecords: RecordView[];
  sriIntid: number | null;
  npiIntid: number | null;
  gic: RecordView[];
  /** Virtual interrupts delivered to the guests, by INTID. */
  virtualDeliveries: Map<number, number>;
}

function scan(entries: readonly HistoryEntry[], model: WorldModel): Scan {
  const guests = new Set(model.guests.map((g) => g.component));
  const arrivals = workloadArrivals(entries, model);
  const s: Scan = {
    arrivals: arrivals.all, arrivalOfDelivery: arrivals.byDelivery, spmcOutcomes: {}, pendingTimes: [], callbackTimes: [],
    hypervisorRecords: [], sriIntid: null, npiIntid: null, gic: [], virtualDeliveries: new Map(),
  };
  for (const entry of entries) {
    const { event } = entry;
    if (event.type === 'deliver') {
      if (event.message.kind === 'irq' && event.message.op === 'deliver' && event.message.vm >= 0 && guests.has(event.to)) {
        s.virtualDeliveries.set(event.message.intid, (s.virtualDeliveries.get(event.message.intid) ?? 0) + 1);
      }
    }
    const record = recordOf(entry);
    if (!record) continue;
    if (record.component === model.spmc) {
      if (WORKLOAD_RECORDS.has(record.event)) {
        const outcome = String(record.data['outcome']);
        count(s.spmcOutcomes, outcome);
        if (outcome === 'sent') s.pendingTimes.push(entry.t);
      } else if (record.event === 'sri-raise') s.sriIntid ??= numberField(record.data, 'intid');
    } else if (record.component === model.hypervisor) {
      s.hypervisorRecords.push(record);
      if (record.event === 'npi-inject') s.npiIntid ??= numberField(record.data, 'intid');
    } else if (record.component === model.gic) {
      if (record.event === 'gic-merge' || record.event === 'gic-raise' || record.event === 'gic-deliver') s.gic.push(record);
    } else if (guests.has(record.component) && record.event === 'notification-callback') s.callbackTimes.push(entry.t);
  }
  return s;
}

function interruptStats(gic: readonly RecordView[], intid: number | null, virtual: boolean, virtualDeliveries: number): InterruptStats {
  const stats: InterruptStats = { intid, raised: 0, merged: 0, kept: 0, delivered: virtual ? virtualDeliveries : 0 };
  if (intid === null) return stats;
  for (const record of gic) {
    if (numberField(record.data, 'intid') !== intid) continue;
    const isVirtual = numberField(record.data, 'vm') !== null;
    if (isVirtual !== virtual) continue;
    if (record.event === 'gic-raise') stats.raised++;
    else if (record.event === 'gic-merge' && record.data['kept'] === true) stats.kept++;
    else if (record.event === 'gic-merge') stats.merged++;
    else if (record.event === 'gic-deliver' && !virtual) stats.delivered++;
  }
  return stats;
}

/** Every send's latencies, in arrival order, for the sends whose bit reached a callback. */
export function sendLatencies(entries: readonly HistoryEntry[], model: WorldModel, analysis = analyseNotifications(entries, model)): SendLatency[] {
  return sendLatenciesOf(scan(entries, model), analysis);
}

function sendLatenciesOf(s: Scan, analysis: NotificationAnalysis): SendLatency[] {
  const found: SendLatency[] = [];
  for (const episode of analysis.episodes) {
    if (!episode.callback) continue;
    for (const set of episode.sets) {
      const arrival = s.arrivalOfDelivery.get(set.at.seq);
      if (arrival === undefined) continue;
      const callbackNs = episode.callback.t;
      const { intendedNs } = arrival;
      found.push({ arrival: arrival.index, intendedNs, setNs: set.at.t, callbackNs, corrected: callbackNs - intendedNs, uncorrected: callbackNs - set.at.t });
    }
  }
  return found.sort((a, b) => a.arrival - b.arrival);
}

/**
 * The load statistics of a run. `latency` is the run's latency report (ScenarioResult.latency);
 * measured here when absent. `analysis` may be passed when the caller has the ledger already.
 */
export function loadStats(
  entries: readonly HistoryEntry[],
  model: WorldModel,
  spec: LoadWorkloadSpec,
  options: { latency?: LatencyReport; analysis?: NotificationAnalysis } = {},
): LoadStats {
  const s = scan(entries, model);
  const analysis = options.analysis ?? analyseNotifications(entries, model);
  const report = options.latency ?? measureLatency(entries, model);
  const periodNs = 1e9 / spec.ratePerSecond;
  const arrivals = s.arrivals.length;
  const startNs = s.arrivals[0]?.workload.startNs ?? 0;
  const windowNs = arrivals * periodNs;
  const lastSend = s.arrivals.at(-1)?.send.t ?? startNs;
  const latencies = sendLatenciesOf(s, analysis);

  const outcomes: Record<string, number> = {};
  let mergedAtSpmc = 0;
  let delivered = 0;
  let calledBack = 0;
  let sendsWithoutCallback = 0;
  const workloadEpisodes = analysis.episodes.filter((e) => e.sets.some((set) => s.arrivalOfDelivery.has(set.at.seq)));
  for (const episode of workloadEpisodes) {
    count(outcomes, outcomeOf(analysis, episode).outcome);
    mergedAtSpmc += episode.sets.length - 1;
    if (episode.delivery) delivered++;
    if (episode.callback) calledBack++;
    else sendsWithoutCallback += episode.sets.length;
  }

  return {
    workload: {
      ratePerSecond: spec.ratePerSecond,
      periodNs,
      arrivals,
      startNs,
      windowNs,
      sentPerSecond: arrivals > 1 && lastSend > startNs ? ((arrivals - 1) * 1e9) / (lastSend - startNs) : 0,
      sendLag: percentilesOfNs(s.arrivals.map((a) => a.send.t - a.intendedNs)),
      drain: drainOf(s.arrivals[0]?.workload.drain ?? null),
    },
    throughput: {
      offeredPerSecond: spec.ratePerSecond,
      pendingAtSpmc: throughputOf(s.pendingTimes, startNs, windowNs),
      callbacks: throughputOf(s.callbackTimes, startNs, windowNs),
      deliveredSends: throughputOf(latencies.map((l) => l.callbackNs), startNs, windowNs),
    },
    notifications: {
      spmcOutcomes: s.spmcOutcomes,
      madePending: s.pendingTimes.length,
      episodes: workloadEpisodes.length,
      mergedAtSpmc,
      delivered,
      calledBack,
      outcomes,
      sendsWithoutCallback,
    },
    latency: {
      corrected: report.corrected,
      uncorrected: percentilesOfNs(latencies.map((l) => l.uncorrected)),
      arrivalToSet: report.arrivalToSet,
      hops: report.hops,
      parts: report.parts,
      pastLivenessBound: { boundNs: model.livenessBoundNs, sends: latencies.filter((l) => l.uncorrected > model.livenessBoundNs).length },
    },
    infoGet: infoGetStats(s.hypervisorRecords),
    sri: interruptStats(s.gic, s.sriIntid, false, 0),
    npi: interruptStats(s.gic, s.npiIntid, true, s.npiIntid === null ? 0 : (s.virtualDeliveries.get(s.npiIntid) ?? 0)),
  };
}

function drainOf(drain: Drain | null): LoadStats['workload']['drain'] {
  return drain ? { boundNs: drain.boundNs, afterLastArrivalNs: drain.endNs - drain.startNs, quiet: drain.quiet, settled: drain.settled } : null;
}

/** The verdicts a load result carries: each check's name, verdict and one-line detail. */
export function checkVerdicts(checks: readonly CheckResult[]): { name: string; passed: boolean; detail: string }[] {
  return checks.map((c) => ({ name: c.name, passed: c.passed, detail: c.detail }));
}
