/**
 * End-to-end latency samples of a run, one per notification set, for the report's "over time"
 * plot and histogram. The latency checker gives percentiles only (LatencyReport); a plot over time
 * needs each sample, so this reads them off the checkers' own notification analysis
 * (checkers/ledger.ts): each set is paired with the callback of the episode it made pending, by
 * the notification's identity (receiver, bitmap, bit, vCPU), never by history order. Under ws a
 * callback can be recorded before a later set of the same bit reaches the history; pairing by
 * order then made negative latencies.
 *
 * The samples are the checker's end-to-end measure exactly (checkers/latency.ts END_TO_END), so
 * the plots and the percentile table beside them agree.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { analyseNotifications, type NotificationAnalysis } from '../checkers/ledger.ts';
import type { WorldModel } from '../scenario/types.ts';

export interface LatencySample {
  /** When the bit was set at the SPMC (runtime ns). */
  sendNs: number;
  latencyNs: number;
  /** The receiver's component (the guest whose callback ran). */
  receiver: string;
  bit: number;
}

/** Every delivered notification's sets, each against its episode's callback. */
export function latencySamples(entries: readonly HistoryEntry[], model: WorldModel, analysis: NotificationAnalysis = analyseNotifications(entries, model)): LatencySample[] {
  const samples: LatencySample[] = [];
  for (const episode of analysis.episodes) {
    const callback = episode.callback;
    if (!episode.delivery || !callback || callback.event.type !== 'record') continue;
    for (const set of episode.sets) {
      samples.push({ sendNs: set.at.t, latencyNs: callback.t - set.at.t, receiver: callback.event.component, bit: episode.bit });
    }
  }
  return samples.sort((a, b) => a.sendNs - b.sendNs);
}
