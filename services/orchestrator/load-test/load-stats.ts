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
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { RecordEvent } from '../../../shared/protocol/records.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CheckResult, LatencyReport, Percentiles, WorldModel } from '../scenario/types.ts';
import type { Arrival, Drain } from '../checkers/arrivals.ts';
import type { HistoryFacts } from '../checkers/facts.ts';
import { factsOf, judgeEntries, type JudgeObserver } from '../checkers/judge.ts';
import { arrivalOf, outcomeOf, type Episode } from '../checkers/ledger.ts';
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
  /** The receiver's FF-A ID (the episode's). */
  receiver: number;
  intendedNs: number;
  setNs: number;
  callbackNs: number;
  corrected: number;
  uncorrected: number;
}

const EMPTY: Percentiles = { count: 0, p50: 0, p90: 0, p99: 0, 'p99.9': 0, max: 0 };

/** An HDR histogram of ns values (3 significant figures); negative values count as 0. */
class NsHistogram {
  private readonly histogram: RecordableHistogram = createHistogram();

  record(value: number): void {
    // An HDR histogram records values from 1: each goes in as ns + 1, as latency.ts does.
    this.histogram.record(Math.max(0, Math.round(value)) + 1);
  }

  percentiles(): Percentiles {
    const { histogram } = this;
    if (histogram.count === 0) return { ...EMPTY };
    const at = (percentile: number) => histogram.percentile(percentile) - 1;
    return { count: histogram.count, p50: at(50), p90: at(90), p99: at(99), 'p99.9': at(99.9), max: histogram.max - 1 };
  }
}

/** HDR percentiles of values in ns (3 significant figures); negative values count as 0. */
export function percentilesOfNs(values: readonly number[]): Percentiles {
  const histogram = new NsHistogram();
  for (const value of values) histogram.record(value);
  return histogram.percentiles();
}

const count = <K extends string>(into: Record<K, number>, key: K): void => {
  into[key] = (into[key] ?? 0) + 1;
};

/** Events counted as they come, against the workload's window [start, start + window) (facts.ts). */
class Counted {
  count = 0;
  inWindow = 0;
  private lastNs: number;

  constructor(
    private readonly startNs: number,
    private readonly windowNs: number,
  ) {
    this.lastNs = startNs;
  }

  add(t: number): void {
    this.count++;
    if (t >= this.startNs && t < this.startNs + this.windowNs) this.inWindow++;
    this.lastNs = Math.max(this.lastNs, t);
  }

  throughput(): Throughput {
    const { startNs, windowNs, count, inWindow } = this;
    const span = this.lastNs - startNs;
    const over = Math.max(span, windowNs);
    return { count, inWindow, perSecondInWindow: windowNs > 0 ? (inWindow * 1e9) / windowNs : 0, perSecond: over > 0 ? (count * 1e9) / over : 0, lastAfterStartNs: span };
  }
}

/** Xen's notif_sri_action loops, from the hypervisor's own records in its order. */
class InfoGetLoops {
  private srisTaken = 0;
  private loopBoundHits = 0;
  private morePending = 0;
  private ids = 0;
  private calls = 0;
  private loops = 0;
  private current = 0;
  private max = 0;
  private readonly histogram: Record<string, number> = {};

  take(record: RecordView): void {
    if (record.event === 'sri-taken') this.srisTaken++;
    else if (record.event === 'info-get-loop-bound') this.loopBoundHits++;
    else if (record.event === 'info-get') {
      if (numberField(record.data, 'iteration') === 1 || this.loops === 0) this.endLoop(true);
      this.current++;
      this.calls++;
      if (record.data['morePending'] === true) this.morePending++;
      if (Array.isArray(record.data['ids'])) this.ids += record.data['ids'].length;
    }
  }

  private endLoop(next: boolean): void {
    if (this.loops > 0) {
      count(this.histogram, String(this.current));
      this.max = Math.max(this.max, this.current);
    }
    this.current = 0;
    if (next) this.loops++;
  }

  stats(): InfoGetStats {
    const { srisTaken, loops, calls } = this;
    const histogram = { ...this.histogram };
    if (loops > 0) count(histogram, String(this.current));
    return {
      srisTaken,
      loops,
      srisCoalesced: Math.max(0, srisTaken - loops),
      calls,
      perLoop: { mean: loops > 0 ? calls / loops : 0, max: Math.max(this.max, this.current), histogram },
      perSriTaken: srisTaken > 0 ? calls / srisTaken : 0,
      loopBoundHits: this.loopBoundHits,
      idsPerCall: calls > 0 ? this.ids / calls : 0,
      morePending: this.morePending,
    };
  }
}

/** The GIC's raises, merges and deliveries of one INTID, physical or virtual. */
function interruptCounter(intid: number | null, virtual: boolean): { take(record: RecordView): void; stats: InterruptStats } {
  const stats: InterruptStats = { intid, raised: 0, merged: 0, kept: 0, delivered: 0 };
  return {
    stats,
    take(record) {
      if (intid === null || numberField(record.data, 'intid') !== intid) return;
      if ((numberField(record.data, 'vm') !== null) !== virtual) return;
      if (record.event === 'gic-raise') stats.raised++;
      else if (record.event === 'gic-merge' && record.data['kept'] === true) stats.kept++;
      else if (record.event === 'gic-merge') stats.merged++;
      else if (record.event === 'gic-deliver' && !virtual) stats.delivered++;
    },
  };
}

/** A send whose bit reached a callback: its latencies. */
function sendLatencyOf(arrival: Arrival, receiver: number, setNs: number, callbackNs: number): SendLatency {
  const { intendedNs } = arrival;
  return { arrival: arrival.index, receiver, intendedNs, setNs, callbackNs, corrected: callbackNs - intendedNs, uncorrected: callbackNs - setNs };
}

/**
 * The load statistics as a fold over the judging pass (checkers/judge.ts): the SPMC's, the
 * hypervisor's and the GIC's records counted as they come, each workload episode once done.
 * Everything is a count, a histogram or a running maximum: nothing grows with the run.
 */
export class LoadStatsFold implements JudgeObserver {
  private readonly guests: ReadonlySet<string>;
  private readonly spmcOutcomes: Record<string, number> = {};
  private readonly pendingAtSpmc: Counted;
  private readonly callbacks: Counted;
  private readonly deliveredSends: Counted;
  private readonly sendLag = new NsHistogram();
  private readonly uncorrected = new NsHistogram();
  private readonly infoGet = new InfoGetLoops();
  private readonly sri: ReturnType<typeof interruptCounter>;
  private readonly npi: ReturnType<typeof interruptCounter>;
  private npiDeliveries = 0;
  private lastSendNs: number | null = null;
  private readonly outcomes: Record<string, number> = {};
  private episodes = 0;
  private mergedAtSpmc = 0;
  private delivered = 0;
  private calledBack = 0;
  private sendsWithoutCallback = 0;
  private pastLivenessBound = 0;
  private readonly startNs: number;
  private readonly windowNs: number;

  constructor(
    private readonly model: WorldModel,
    private readonly facts: HistoryFacts,
    private readonly spec: LoadWorkloadSpec,
    /** Called with each send that reached a callback (tests, plots). */
    private readonly onSend: (latency: SendLatency) => void = () => {},
  ) {
    this.guests = new Set(model.guests.map((g) => g.component));
    this.startNs = facts.firstArrivalWorkload?.startNs ?? 0;
    this.windowNs = facts.arrivals * (1e9 / spec.ratePerSecond);
    this.pendingAtSpmc = new Counted(this.startNs, this.windowNs);
    this.callbacks = new Counted(this.startNs, this.windowNs);
    this.deliveredSends = new Counted(this.startNs, this.windowNs);
    this.sri = interruptCounter(facts.sriIntid, false);
    this.npi = interruptCounter(facts.npiIntid, true);
  }

  /** Called with each workload arrival as it is sent (checkers/arrivals.ts). */
  arrival(arrival: Arrival): void {
    this.sendLag.record(arrival.send.t - arrival.intendedNs);
    this.lastSendNs = arrival.send.t;
  }

  take(entry: HistoryEntry): void {
    const { event } = entry;
    if (event.type === 'deliver' && event.message.kind === 'irq' && event.message.op === 'deliver' && event.message.vm >= 0 && this.guests.has(event.to) && event.message.intid === this.facts.npiIntid) this.npiDeliveries++;
    const record = recordOf(entry);
    if (!record) return;
    if (record.component === this.model.spmc) {
      if (!WORKLOAD_RECORDS.has(record.event)) return;
      const outcome = String(record.data['outcome']);
      count(this.spmcOutcomes, outcome);
      if (outcome === 'sent') this.pendingAtSpmc.add(entry.t);
    } else if (record.component === this.model.hypervisor) this.infoGet.take(record);
    else if (record.component === this.model.gic) {
      this.sri.take(record);
      this.npi.take(record);
    } else if (this.guests.has(record.component) && record.event === 'notification-callback') this.callbacks.add(entry.t);
  }

  done(episode: Episode): void {
    if (!episode.sets.some((set) => arrivalOf(set) !== null)) return;
    this.episodes++;
    count(this.outcomes, outcomeOf(this.facts, episode).outcome);
    this.mergedAtSpmc += episode.sets.length - 1;
    if (episode.delivery) this.delivered++;
    if (episode.callback) this.calledBack++;
    else this.sendsWithoutCallback += episode.sets.length;
    const callback = episode.callback;
    if (!callback) return;
    for (const set of episode.sets) {
      const arrival = arrivalOf(set);
      if (!arrival) continue;
      const latency = sendLatencyOf(arrival, episode.receiver, set.at.t, callback.t);
      this.deliveredSends.add(latency.callbackNs);
      this.uncorrected.record(latency.uncorrected);
      if (latency.uncorrected > this.model.livenessBoundNs) this.pastLivenessBound++;
      this.onSend(latency);
    }
  }

  /** The statistics, with the run's latency report (ScenarioResult.latency). */
  stats(report: LatencyReport): LoadStats {
    const { spec, facts, startNs, windowNs } = this;
    const periodNs = 1e9 / spec.ratePerSecond;
    const arrivals = facts.arrivals;
    const lastSend = this.lastSendNs ?? startNs;
    return {
      workload: {
        ratePerSecond: spec.ratePerSecond,
        periodNs,
        arrivals,
        startNs,
        windowNs,
        sentPerSecond: arrivals > 1 && lastSend > startNs ? ((arrivals - 1) * 1e9) / (lastSend - startNs) : 0,
        sendLag: this.sendLag.percentiles(),
        drain: drainOf(facts.firstArrivalWorkload?.drain ?? null),
      },
      throughput: {
        offeredPerSecond: spec.ratePerSecond,
        pendingAtSpmc: this.pendingAtSpmc.throughput(),
        callbacks: this.callbacks.throughput(),
        deliveredSends: this.deliveredSends.throughput(),
      },
      notifications: {
        spmcOutcomes: this.spmcOutcomes,
        madePending: this.pendingAtSpmc.count,
        episodes: this.episodes,
        mergedAtSpmc: this.mergedAtSpmc,
        delivered: this.delivered,
        calledBack: this.calledBack,
        outcomes: this.outcomes,
        sendsWithoutCallback: this.sendsWithoutCallback,
      },
      latency: {
        corrected: report.corrected,
        uncorrected: this.uncorrected.percentiles(),
        arrivalToSet: report.arrivalToSet,
        hops: report.hops,
        parts: report.parts,
        pastLivenessBound: { boundNs: this.model.livenessBoundNs, sends: this.pastLivenessBound },
      },
      infoGet: this.infoGet.stats(),
      sri: this.sri.stats,
      npi: { ...this.npi.stats, delivered: facts.npiIntid === null ? 0 : this.npiDeliveries },
    };
  }
}

/** A load run's statistics from its history held in memory (tests); `latency` measured here when absent. */
export function loadStats(entries: readonly HistoryEntry[], model: WorldModel, spec: LoadWorkloadSpec, options: { latency?: LatencyReport } = {}): LoadStats {
  const { judge, fold } = judgedLoad(entries, model, spec);
  return fold.stats(options.latency ?? judge.latencyReport());
}

/** Every send's latencies, in arrival order, for the sends whose bit reached a callback. */
export function sendLatencies(entries: readonly HistoryEntry[], model: WorldModel): SendLatency[] {
  return loadStatsWithSends(entries, model, { ratePerSecond: 1 }).sends;
}

/**
 * The statistics and every send's latencies (arrival order) in one judging pass, from a history
 * held in memory (an attached load's: per-host.ts splits the sends by receiver).
 */
export function loadStatsWithSends(entries: readonly HistoryEntry[], model: WorldModel, spec: LoadWorkloadSpec, options: { latency?: LatencyReport } = {}): { stats: LoadStats; sends: SendLatency[] } {
  const sends: SendLatency[] = [];
  const { judge, fold } = judgedLoad(entries, model, spec, (latency) => sends.push(latency));
  return { stats: fold.stats(options.latency ?? judge.latencyReport()), sends: sends.sort((a, b) => a.arrival - b.arrival) };
}

function judgedLoad(entries: readonly HistoryEntry[], model: WorldModel, spec: LoadWorkloadSpec, onSend?: (latency: SendLatency) => void) {
  const facts = factsOf(entries, model);
  const fold = new LoadStatsFold(model, facts, spec, onSend);
  return { judge: judgeEntries(entries, model, { facts, observers: [fold] }), fold };
}

function drainOf(drain: Drain | null): LoadStats['workload']['drain'] {
  return drain ? { boundNs: drain.boundNs, afterLastArrivalNs: drain.endNs - drain.startNs, quiet: drain.quiet, settled: drain.settled } : null;
}

/** The verdicts a load result carries: each check's name, verdict and one-line detail. */
export function checkVerdicts(checks: readonly CheckResult[]): { name: string; passed: boolean; detail: string }[] {
  return checks.map((c) => ({ name: c.name, passed: c.passed, detail: c.detail }));
}
