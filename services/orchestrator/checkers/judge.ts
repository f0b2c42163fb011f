/**
 * Every checker over one history, as one fold (fold.ts): the calls (calls.ts), the frames in
 * flight (flights.ts), the workload's arrivals (arrivals.ts), the callback windows (callbacks.ts),
 * the latency walks (latency-path.ts) and the notification ledger (ledger.ts) take each entry in
 * turn, and the checks take what they hand on: settled chains of calls, episodes once done. The
 * history's facts (facts.ts) are gathered before, in a pass of their own; the evidence the shown
 * failures want from the rest of the history is looked for after, in one more, only when something
 * failed.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { HistorySource } from '../../../shared/runtime/history-source.ts';
import type { RssPeak } from '../../../shared/runtime/rss-peak.ts';
import type { CheckName, CheckResult, CheckSpec, LatencyReport, WorldModel } from '../scenario/types.ts';
import { ArrivalPairing, type Arrival } from './arrivals.ts';
import { CallIndex, fidOfCall, type CallRecord, type CallStep } from './calls.ts';
import { CallbackWindows } from './callbacks.ts';
import { Conformance } from './conformance.ts';
import type { CheckOutcome, EvidenceWanted } from './evidence.ts';
import { HistoryFacts } from './facts.ts';
import { FrameFlights } from './flights.ts';
import { foldEntries, foldHistory, type HistoryFold } from './fold.ts';
import { InterruptHygiene } from './interrupt-hygiene.ts';
import { checkLatency, LatencyFold } from './latency.ts';
import { PathIndex } from './latency-path.ts';
import { NotificationTracker, type EpisodeListener } from './ledger.ts';
import { NoLeak } from './no-leak.ts';
import { NoLostNotification } from './no-lost-notification.ts';
import { NoPhantomNotification } from './no-phantom-notification.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';

/** Something beside the checkers that reads the same pass (the load statistics, the report's figures). */
export interface JudgeObserver extends EpisodeListener {
  take?(entry: HistoryEntry, step: CallStep): void;
  /** A workload arrival, as it is sent (arrivals.ts). */
  arrival?(arrival: Arrival): void;
  /** The end of the history, once every episode is done. */
  finish?(): void;
}

export interface JudgeOptions {
  /** Keep every latency sample (tests): memory grows with the history. */
  keepSamples?: boolean;
  observers?: readonly JudgeObserver[];
}

export class Judge implements HistoryFold {
  readonly calls = new CallIndex();
  readonly flights = new FrameFlights();
  readonly arrivals: ArrivalPairing;
  readonly windows = new CallbackWindows();
  readonly paths: PathIndex;
  readonly tracker: NotificationTracker;
  readonly latency: LatencyFold;
  private readonly noLost: NoLostNotification;
  private readonly noPhantom: NoPhantomNotification;
  private readonly noLeak: NoLeak;
  private readonly conformance: Conformance;
  private readonly hygiene: InterruptHygiene;
  private readonly observers: readonly JudgeObserver[];
  private finished = false;

  constructor(
    readonly model: WorldModel,
    readonly facts: HistoryFacts,
    options: JudgeOptions = {},
  ) {
    this.arrivals = new ArrivalPairing(model, facts.workloads, (arrival) => {
      for (const observer of this.observers) observer.arrival?.(arrival);
    });
    this.paths = new PathIndex(model, this.flights, () => this.openSetsAtSpmc());
    this.tracker = new NotificationTracker(model, this.calls, this.windows, this.arrivals);
    this.latency = new LatencyFold(model, this.tracker, this.paths, this.calls, options.keepSamples ?? false);
    this.noLost = new NoLostNotification(model, facts);
    this.noPhantom = new NoPhantomNotification(model, facts);
    this.noLeak = new NoLeak(model);
    this.conformance = new Conformance(model, facts);
    this.hygiene = new InterruptHygiene(model, facts);
    this.observers = options.observers ?? [];
    for (const listener of [this.noLost, this.noPhantom, ...this.observers]) this.tracker.listen(listener);
    this.calls.onRootSettled((root) => {
      this.noPhantom.chainSettled(root);
      this.noLeak.chainSettled(root);
      this.conformance.chainSettled(root);
    });
  }

  take(entry: HistoryEntry): void {
    const flight = this.flights.take(entry);
    const step = this.calls.take(entry);
    this.arrivals.take(entry);
    this.windows.take(entry, step);
    this.paths.take(entry, flight, step);
    this.tracker.take(entry, step);
    this.noLeak.take(entry);
    this.hygiene.take(entry);
    for (const observer of this.observers) observer.take?.(entry, step);
    this.calls.afterTake();
  }

  /** The end of the history; returns the look back the failures shown want (empty: none needed). */
  finish(): EvidenceWanted[] {
    if (this.finished) throw new Error('bug: a judge finished twice');
    this.finished = true;
    this.calls.finish();
    this.arrivals.finish();
    this.windows.finish();
    this.flights.finish();
    this.paths.finish();
    this.tracker.finish();
    for (const observer of this.observers) observer.finish?.();
    return [...this.noLost.evidenceWanted(), ...this.hygiene.evidenceWanted()];
  }

  /** One result per spec, in order; `passed` applies expect-fail (passed = expectFail ? !held : held). */
  checks(specs: readonly CheckSpec[]): CheckResult[] {
    const outcomes = new Map<CheckName, () => CheckOutcome>([
      ['no-lost-notification', () => this.noLost.outcome()],
      ['no-phantom-notification', () => this.noPhantom.outcome()],
      ['no-leak', () => this.noLeak.outcome()],
      ['conformance', () => this.conformance.outcome()],
      ['interrupt-hygiene', () => this.hygiene.outcome()],
    ]);
    return specs.map((spec) => {
      const outcome = spec.name === 'latency' ? checkLatency(this.latency.measures, spec.thresholds) : (outcomes.get(spec.name) as () => CheckOutcome)();
      const { held, detail, failures } = outcome;
      const expected = spec.expectFail ? (held ? 'expected to fail, but held: ' : 'failed as expected: ') : '';
      return { name: spec.name, passed: spec.expectFail ? !held : held, held, expectFail: spec.expectFail, detail: `${expected}${detail}`, failures };
    });
  }

  latencyReport(): LatencyReport {
    return this.latency.measures.report();
  }

  /** The SPMC's SETs delivered and not answered yet: each answer will be a set at its delivery. */
  private *openSetsAtSpmc(): Iterable<CallRecord> {
    for (const call of this.calls.openAtComponent(this.model.spmc)) if (fidOfCall(call) === FFA_FIDS.FFA_NOTIFICATION_SET) yield call;
  }
}

/** A history's facts, from a pass over the entries held in memory. */
export function factsOf(entries: readonly HistoryEntry[], model: WorldModel): HistoryFacts {
  const facts = new HistoryFacts(model);
  foldEntries(entries, [facts]);
  return facts;
}

/** Every pass over entries held in memory: facts (unless given), the checkers, the evidence look back. */
export function judgeEntries(entries: readonly HistoryEntry[], model: WorldModel, options: JudgeOptions & { facts?: HistoryFacts } = {}): Judge {
  const judge = new Judge(model, options.facts ?? factsOf(entries, model), options);
  foldEntries(entries, [judge]);
  const wanted = judge.finish();
  if (wanted.length > 0) foldEntries(entries, wanted);
  return judge;
}

/** The checkers' and the evidence passes over a source, its facts already gathered. */
export async function judgeHistory(source: HistorySource, model: WorldModel, facts: HistoryFacts, options: JudgeOptions & { rss?: RssPeak } = {}): Promise<Judge> {
  const judge = new Judge(model, facts, options);
  await foldHistory(source, [judge], options.rss ?? null);
  const wanted = judge.finish();
  if (wanted.length > 0) await foldHistory(source, wanted, options.rss ?? null);
  return judge;
}
