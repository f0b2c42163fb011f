/**
 * `ffa-world load --threshold`: latency thresholds as k6 writes them, on any latency figure the
 * latency checker measures (services/orchestrator/checkers/latency.ts):
 *
 *   --threshold 'p99<50ms'                                    corrected end to end (the default measure)
 *   --threshold 'end-to-end p99<20ms'                         from the SPMC's set, uncorrected
 *   --threshold 'sri-deliver->info-get p99<5ms'               a hop (`->` or `→`)
 *   --threshold 'sri-raise->sri-deliver:transport max<1ms'    a hop's frames in flight
 *   --threshold 'sri-deliver->info-get:protocol p50<2ms'      the rest of a hop: handling, waiting
 *
 * A threshold holds when the figure is at most its limit (`<` and `<=` both read so, as the
 * scenario format's `{ latency: { measure: { p99: 5ms } } }` does); a measure with no samples
 * misses it. They become that scenario check, so `ffa-world run` on the scenario.yaml written with
 * --out judges them the same way.
 */
import { PERCENTILE_KEYS } from '../services/orchestrator/scenario/schema.ts';
import { durationNs, SCENARIO_LIMITS } from '../services/orchestrator/scenario/value-shapes.ts';
import { latencyMeasureOf, type LatencyThresholds, type PercentileName } from '../services/orchestrator/scenario/types.ts';

/** What `--p99` and a threshold without a measure hold: the latency an arrival saw, corrected for coordinated omission. */
export const DEFAULT_MEASURE = 'corrected';

export interface LoadThreshold {
  measure: string;
  percentile: PercentileName;
  limitNs: number;
}

const THRESHOLD = /^(?:(\S+)\s+)?(p50|p90|p99\.9|p99|max)\s*(<=?)\s*(\S+)$/;

/** One `--threshold` value, or a message saying what is wrong with it. */
export function parseThreshold(text: string): LoadThreshold | string {
  const match = THRESHOLD.exec(text.trim());
  const usage = `--threshold must be [MEASURE] PERCENTILE<DURATION, e.g. 'p99<50ms' or 'sri-deliver->info-get:protocol p99<5ms' (percentiles ${PERCENTILE_KEYS.join(', ')}), not ${text}`;
  if (!match) return usage;
  const [, given, percentile, , limit] = match as unknown as [string, string | undefined, PercentileName, string, string];
  const measure = latencyMeasureOf(given ?? DEFAULT_MEASURE);
  if (measure === null) return `--threshold ${text}: unknown measure ${given}: corrected, end-to-end, arrival->set, a hop such as sri-deliver->info-get, or a hop's part (hop:transport, hop:protocol)`;
  const limitNs = durationNs(limit);
  if (limitNs === null || limitNs <= 0 || limitNs > SCENARIO_LIMITS.durationNsMax) return `--threshold ${text}: the limit must be a duration with its unit (ns, us, ms or s) such as 50ms, not ${limit}`;
  return { measure, percentile, limitNs };
}

/** The thresholds as the scenario's latency check takes them, or a message naming one given twice. */
export function thresholdsOf(list: readonly LoadThreshold[]): LatencyThresholds | string {
  const thresholds: LatencyThresholds = {};
  for (const { measure, percentile, limitNs } of list) {
    const limits = (thresholds[measure] ??= {});
    if (limits[percentile] !== undefined) return `--threshold: ${measure} ${percentile} is given twice`;
    limits[percentile] = limitNs;
  }
  return thresholds;
}

/** As --threshold takes it back (the replay command). */
export function thresholdText(threshold: LoadThreshold): string {
  const limit = threshold.limitNs % 1e6 === 0 ? `${threshold.limitNs / 1e6}ms` : threshold.limitNs % 1e3 === 0 ? `${threshold.limitNs / 1e3}us` : `${threshold.limitNs}ns`;
  return `${threshold.measure.replaceAll('→', '->')} ${threshold.percentile}<${limit}`;
}
