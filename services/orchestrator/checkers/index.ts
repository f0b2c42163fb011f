/**
 * The checkers (docs/design.md §8): each reads a run's history and the model of the world that
 * made it, and says whether its property held, naming the bit, the endpoints and the events when
 * it did not. They run after the run, beside it (TigerBeetle's state checkers), never inside the
 * components.
 *
 * - no-lost-notification, no-phantom-notification: the notification ledger (ledger.ts), which
 *   replays the SPMC's pending bits and follows each GET answer up its forwarding chain (calls.ts);
 * - no-leak, conformance, interrupt-hygiene, latency: one file each.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CheckName, CheckResult, CheckSpec, LatencyReport, WorldModel } from '../scenario/types.ts';
import { workloadArrivals, type Arrivals } from './arrivals.ts';
import { CallIndex } from './calls.ts';
import { checkConformance } from './conformance.ts';
import type { CheckOutcome } from './evidence.ts';
import { checkInterruptHygiene } from './interrupt-hygiene.ts';
import { checkLatency, latencyReportOf, latencySamples, type Sample } from './latency.ts';
import { analyseNotifications, type NotificationAnalysis } from './ledger.ts';
import { checkNoLeak } from './no-leak.ts';
import { checkNoLostNotification } from './no-lost-notification.ts';
import { checkNoPhantomNotification } from './no-phantom-notification.ts';

export { notificationLedger, type LedgerNotification, type LedgerOutcome, type NotificationBitmap } from './ledger.ts';
export { MAX_FAILURES } from './evidence.ts';

/** What the checkers share, each part computed once, when first needed. */
class Analysis {
  private calls: CallIndex | null = null;
  private notifications: NotificationAnalysis | null = null;
  private samples: Map<string, Sample[]> | null = null;
  private workload: Arrivals | null = null;

  constructor(
    readonly entries: readonly HistoryEntry[],
    readonly model: WorldModel,
  ) {}

  get index(): CallIndex {
    this.calls ??= new CallIndex(this.entries);
    return this.calls;
  }

  get ledger(): NotificationAnalysis {
    this.notifications ??= analyseNotifications(this.entries, this.model, this.index);
    return this.notifications;
  }

  get arrivals(): Arrivals {
    this.workload ??= workloadArrivals(this.entries, this.model);
    return this.workload;
  }

  get latency(): Map<string, Sample[]> {
    this.samples ??= latencySamples(this.entries, this.model, this.ledger, this.index, this.arrivals);
    return this.samples;
  }
}

const CHECKERS: Readonly<Record<CheckName, (analysis: Analysis, spec: CheckSpec) => CheckOutcome>> = {
  'no-lost-notification': (a) => checkNoLostNotification(a.entries, a.model, a.ledger, a.arrivals),
  'no-phantom-notification': (a) => checkNoPhantomNotification(a.model, a.index, a.ledger),
  'no-leak': (a) => checkNoLeak(a.entries, a.model, a.index),
  conformance: (a) => checkConformance(a.entries, a.model, a.index),
  'interrupt-hygiene': (a) => checkInterruptHygiene(a.entries, a.model),
  latency: (a, spec) => checkLatency(a.latency, spec.thresholds),
};

/** One result per spec, in order; `passed` applies expect-fail (passed = expectFail ? !held : held). */
export function runChecks(entries: readonly HistoryEntry[], model: WorldModel, specs: readonly CheckSpec[]): CheckResult[] {
  const analysis = new Analysis(entries, model);
  return specs.map((spec) => {
    const { held, detail, failures } = CHECKERS[spec.name](analysis, spec);
    const expected = spec.expectFail ? (held ? 'expected to fail, but held: ' : 'failed as expected: ') : '';
    return { name: spec.name, passed: spec.expectFail ? !held : held, held, expectFail: spec.expectFail, detail: `${expected}${detail}`, failures };
  });
}

/** End-to-end and per-hop latency percentiles of a run (ns). */
export function measureLatency(entries: readonly HistoryEntry[], model: WorldModel): LatencyReport {
  return latencyReportOf(new Analysis(entries, model).latency);
}
