/**
 * The report's latency plots: Vega-Lite specs compiled and rendered to SVG in Node (vega's
 * headless View, renderer 'none', then toSVG), so report.html needs no script and no network.
 * Vega escapes the text it writes into the SVG (labels, titles, legend entries) but lets control
 * characters through, so names from a run (hops, receivers) are cleaned of them first.
 */
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import * as vegaLite from 'vega-lite';
import type { LatencyReport, Percentiles } from '../scenario/types.ts';
import { stripInvalidXmlChars as clean } from './escape.ts';
import type { LatencySample } from './latency-samples.ts';

export const PERCENTILE_KEYS = ['p50', 'p90', 'p99', 'p99.9', 'max'] as const satisfies readonly (keyof Percentiles)[];

/** At most this many points in the scatter plot: a long run is thinned evenly, not cut. */
export const MAX_SCATTER_POINTS = 2000;

const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Measures with data: end-to-end, corrected and arrival→set first, then each hop in the order the checker gave them. */
export function latencyMeasures(latency: LatencyReport): { measure: string; p: Percentiles }[] {
  const measures = [
    { measure: 'end-to-end', p: latency.endToEnd },
    { measure: 'corrected', p: latency.corrected },
    { measure: 'arrival→set', p: latency.arrivalToSet },
    ...Object.entries(latency.hops).map(([measure, p]) => ({ measure, p })),
  ];
  return measures.filter(({ p }) => p.count > 0);
}

/** Grouped horizontal bars: one group per measure, one bar per percentile, in ms (the command line's unit). */
export function percentileChartSpec(latency: LatencyReport): TopLevelSpec | null {
  const measures = latencyMeasures(latency);
  if (measures.length === 0) return null;
  const values = measures.flatMap(({ measure, p }) =>
    PERCENTILE_KEYS.map((percentile) => ({ measure: clean(`${measure} (n=${p.count})`), percentile, ms: p[percentile] / 1e6 })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Latency percentiles: end-to-end and per hop',
    width: 560,
    height: { step: 12 },
    data: { values },
    mark: { type: 'bar', tooltip: false },
    encoding: {
      y: { field: 'measure', type: 'nominal', sort: null, title: null, axis: { labelLimit: 260 } },
      yOffset: { field: 'percentile', type: 'nominal', sort: [...PERCENTILE_KEYS] },
      x: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
      color: { field: 'percentile', type: 'nominal', sort: [...PERCENTILE_KEYS], scale: { scheme: 'blues' }, title: 'percentile' },
    },
    config: CONFIG,
  };
}

/** Evenly thinned to at most `max` samples (every k-th), so the SVG stays small. */
export function thin<T>(values: readonly T[], max: number): T[] {
  if (values.length <= max) return [...values];
  const step = values.length / max;
  return Array.from({ length: max }, (_, i) => values[Math.floor(i * step)] as T);
}

/** Each notification: when it was sent (x) and how long it took to its callback (y). */
export function latencyOverTimeSpec(samples: readonly LatencySample[], total = samples.length): TopLevelSpec | null {
  if (samples.length === 0) return null;
  const shown = thin(samples, MAX_SCATTER_POINTS);
  const note = shown.length < total ? ` (${shown.length} of ${total} shown, evenly thinned)` : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'End-to-end latency over the run', subtitle: `set at the SPMC → receiver's callback${note}` },
    width: 560,
    height: 240,
    data: { values: shown.map((s) => ({ sentMs: s.sendNs / 1e6, ms: s.latencyNs / 1e6, receiver: clean(s.receiver) })) },
    mark: { type: 'point', filled: true, size: 24, opacity: 0.7 },
    encoding: {
      x: { field: 'sentMs', type: 'quantitative', title: 'set time (ms of run time)' },
      y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
      color: { field: 'receiver', type: 'nominal', title: 'receiver' },
    },
    config: CONFIG,
  };
}

/** How end-to-end latencies spread: a histogram, stacked by receiver (of an even sample of a long run's). */
export function latencyHistogramSpec(samples: readonly LatencySample[], total = samples.length): TopLevelSpec | null {
  if (samples.length === 0) return null;
  const sampled = samples.length < total ? `, ${samples.length} of them, evenly thinned, counted` : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'End-to-end latency distribution', subtitle: `${total} ${total === 1 ? 'notification' : 'notifications'}${sampled}` },
    width: 560,
    height: 200,
    data: { values: samples.map((s) => ({ ms: s.latencyNs / 1e6, receiver: clean(s.receiver) })) },
    mark: 'bar',
    encoding: {
      x: { field: 'ms', type: 'quantitative', bin: { maxbins: 40 }, title: 'latency (ms)' },
      y: { aggregate: 'count', type: 'quantitative', title: 'notifications' },
      color: { field: 'receiver', type: 'nominal', title: 'receiver' },
    },
    config: CONFIG,
  };
}

/**
 * Compiles and renders a Vega-Lite spec to an SVG string. Ids inside the SVG (clip paths,
 * gradients) get `idPrefix`, so several charts inlined in one page do not share them.
 */
export async function renderVegaLiteSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const { spec: vegaSpec } = vegaLite.compile(spec);
  const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg
      .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${idPrefix}${id}"`)
      .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${idPrefix}${id})`)
      .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${idPrefix}${id}"`);
  } finally {
    view.finalize();
  }
}
