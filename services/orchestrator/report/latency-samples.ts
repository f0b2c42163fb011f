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
 * the plots and the percentile table beside them agree. A long run's are thinned evenly as they
 * come (at most PLOT_SAMPLES_KEPT kept): the plots draw a few thousand points at most anyway.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { JudgeObserver } from '../checkers/judge.ts';
import { judgeEntries } from '../checkers/judge.ts';
import type { Episode } from '../checkers/ledger.ts';
import type { WorldModel } from '../scenario/types.ts';
import { MAX_SCATTER_POINTS, thin } from './charts.ts';

export interface LatencySample {
  /** When the bit was set at the SPMC (runtime ns). */
  sendNs: number;
  latencyNs: number;
  /** The receiver's component (the guest whose callback ran). */
  receiver: string;
  bit: number;
}

/** Samples kept for the plots: past this, thinned evenly to half of it. */
export const PLOT_SAMPLES_KEPT = 2 * MAX_SCATTER_POINTS;

/** The plots' samples, collected from each episode once done (checkers/judge.ts). */
export class PlotSamples implements JudgeObserver {
  /** With each sample its episode and set, so samples set at the same time keep the ledger's order. */
  private kept: { sample: LatencySample; episode: number; set: number }[] = [];
  /** Every sample met, kept or not. */
  total = 0;

  done(episode: Episode): void {
    const callback = episode.callback;
    if (!episode.delivery || !callback || callback.event.type !== 'record') return;
    const receiver = callback.event.component;
    episode.sets.forEach((set, k) => {
      this.total++;
      this.kept.push({ sample: { sendNs: set.at.t, latencyNs: callback.t - set.at.t, receiver, bit: episode.bit }, episode: episode.index, set: k });
      if (this.kept.length > PLOT_SAMPLES_KEPT) this.kept = thin(this.inOrder(), PLOT_SAMPLES_KEPT / 2);
    });
  }

  /** The samples kept, in set order. */
  sorted(): LatencySample[] {
    return this.inOrder().map((k) => k.sample);
  }

  private inOrder(): PlotSamples['kept'] {
    return [...this.kept].sort((a, b) => a.sample.sendNs - b.sample.sendNs || a.episode - b.episode || a.set - b.set);
  }
}

/** Every delivered notification's sets of a history held in memory, each against its episode's callback. */
export function latencySamples(entries: readonly HistoryEntry[], model: WorldModel): LatencySample[] {
  const samples = new PlotSamples();
  judgeEntries(entries, model, { observers: [samples] });
  return samples.sorted();
}
