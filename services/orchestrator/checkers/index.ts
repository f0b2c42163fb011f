/**
 * The checkers (docs/design.md §8): each reads a run's history and the model of the world that
 * made it, and says whether its property held, naming the bit, the endpoints and the events when
 * it did not. They run after the run, beside it (TigerBeetle's state checkers), never inside the
 * components, and read the history as a stream (judge.ts): memory follows what is outstanding
 * in it, not its length.
 *
 * - no-lost-notification, no-phantom-notification: the notification ledger (ledger.ts), which
 *   replays the SPMC's pending bits and follows each GET answer up its forwarding chain (calls.ts);
 * - no-leak, conformance, interrupt-hygiene, latency: one file each.
 *
 * The functions here take a history held in memory (tests, short runs); a run's history on disk
 * is judged by judge.ts's judgeHistory.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CheckResult, CheckSpec, LatencyReport, WorldModel } from '../scenario/types.ts';
import { judgeEntries } from './judge.ts';
import type { Sample } from './latency.ts';
import { ledgerEntry, type Episode, type LedgerNotification, type NotificationAnalysis, type SpmcPhantom } from './ledger.ts';

export { type LedgerNotification, type LedgerOutcome, type NotificationBitmap } from './ledger.ts';
export { MAX_FAILURES } from './evidence.ts';
export { HistoryFacts } from './facts.ts';
export { Judge, judgeHistory, type JudgeObserver } from './judge.ts';

/** One result per spec, in order; `passed` applies expect-fail (passed = expectFail ? !held : held). */
export function runChecks(entries: readonly HistoryEntry[], model: WorldModel, specs: readonly CheckSpec[]): CheckResult[] {
  return judgeEntries(entries, model).checks(specs);
}

/** End-to-end and per-hop latency percentiles of a run (ns). */
export function measureLatency(entries: readonly HistoryEntry[], model: WorldModel): LatencyReport {
  return judgeEntries(entries, model).latencyReport();
}

/** Every episode and phantom of a history, in the order they began. */
export function analyseNotifications(entries: readonly HistoryEntry[], model: WorldModel): NotificationAnalysis {
  const episodes: Episode[] = [];
  const phantoms: SpmcPhantom[] = [];
  const judge = judgeEntries(entries, model, { observers: [{ done: (episode) => episodes.push(episode), phantom: (phantom) => phantoms.push(phantom) }] });
  episodes.sort((a, b) => a.index - b.index);
  return { episodes, phantoms, endNs: judge.facts.endNs, receiverGoneNs: judge.facts.receiverGoneNs };
}

/** Every notification of a run: receiver, bit, when it was set, returned, delivered, called back. */
export function notificationLedger(entries: readonly HistoryEntry[], model: WorldModel): LedgerNotification[] {
  const analysis = analyseNotifications(entries, model);
  return analysis.episodes.map((episode) => ledgerEntry(model, analysis, episode));
}

/** Every sample of every latency measure, each in episode and set order. */
export function latencySamples(entries: readonly HistoryEntry[], model: WorldModel): Map<string, Sample[]> {
  return judgeEntries(entries, model, { keepSamples: true }).latency.measures.samples();
}
