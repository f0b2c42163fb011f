/**
 * Judging a history as a fold (docs/design.md §8): each analysis takes the entries one at a time,
 * in history order, and keeps only what is still outstanding (a call not yet answered, a
 * notification not yet delivered), never the history itself. A history is read a few times over:
 * its facts first (facts.ts: when it ended, which receivers went away), then the checkers, then,
 * only when something failed, the evidence of the failures shown.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { HistorySource } from '../../../shared/runtime/history-source.ts';
import type { RssPeak } from '../../../shared/runtime/rss-peak.ts';

export interface HistoryFold {
  take(entry: HistoryEntry): void;
}

/** Entries between two RSS samples while judging. */
const RSS_SAMPLE_EVERY = 16_384;

/** Feeds every entry to each fold in turn; returns how many there were. */
export function foldEntries(entries: Iterable<HistoryEntry>, folds: readonly HistoryFold[], rss: RssPeak | null = null): number {
  let count = 0;
  for (const entry of entries) {
    for (const fold of folds) fold.take(entry);
    if (++count % RSS_SAMPLE_EVERY === 0) rss?.sample();
  }
  rss?.sample();
  return count;
}

/** foldEntries over a source: held entries without awaiting, a file streamed line by line. */
export async function foldHistory(source: HistorySource, folds: readonly HistoryFold[], rss: RssPeak | null = null): Promise<number> {
  if (source.held) return foldEntries(source.held, folds, rss);
  let count = 0;
  for await (const entry of source.read()) {
    for (const fold of folds) fold.take(entry);
    if (++count % RSS_SAMPLE_EVERY === 0) rss?.sample();
  }
  rss?.sample();
  return count;
}
