/**
 * The capacity report (capacity.html beside capacity.json): the curves of a capacity sweep
 * (load-test/capacity.ts) as Vega-Lite charts rendered to SVG in Node, and the table of points.
 * One colour per SPMC profile, one dash per guest count, offered rate on a log axis.
 */
import type { TopLevelSpec } from 'vega-lite';
import { type CapacityPoint, curves, saturation, saturationText } from './capacity.ts';
import { renderVegaLiteSvg } from '../report/charts.ts';
import { escapeHtml as h } from '../report/escape.ts';

interface Curve {
  field: keyof CapacityPoint;
  title: string;
  axis: string;
  log?: boolean;
}

const CURVES: readonly Curve[] = [
  { field: 'callbacksPerSecond', title: 'Distinct deliveries (callbacks a second) against offered rate', axis: 'callbacks / s' },
  { field: 'p99Ns', title: 'p99 end to end (arrival → callback, corrected) against offered rate', axis: 'p99 (ms)', log: true },
  { field: 'infoGetPerLoop', title: 'INFO_GET calls per loop (Xen notif_sri_action)', axis: 'calls per loop' },
  { field: 'sendsPerCallback', title: 'Merges: sends covered by one callback', axis: 'sends per callback' },
];

function curveSpec(points: readonly CapacityPoint[], curve: Curve): TopLevelSpec {
  const values = points.map((p) => ({
    offered: p.offeredPerSecond,
    value: curve.field === 'p99Ns' ? p.p99Ns / 1e6 : Number(p[curve.field]),
    spmc: p.spmc,
    guests: `${p.guests} guests`,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: curve.title,
    width: 460,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'offered', type: 'quantitative', scale: { type: 'log' }, title: 'offered rate (notifications / s)' },
      y: { field: 'value', type: 'quantitative', title: curve.axis, ...(curve.log ? { scale: { type: 'symlog' } } : {}) },
      color: { field: 'spmc', type: 'nominal', title: 'SPMC' },
      strokeDash: { field: 'guests', type: 'nominal', title: 'guests' },
    },
    config: { font: 'sans-serif', background: 'white', title: { fontSize: 14, anchor: 'start' } },
  };
}

function pointsTable(points: readonly CapacityPoint[]): string {
  const head = ['SPMC', 'guests', 'offered /s', 'callbacks /s', 'sends per callback', 'p50 ms', 'p99 ms', 'INFO_GET per loop', 'loop-bound hits', 'checks'];
  const rows = points.map((p) =>
    [p.spmc, p.guests, Math.round(p.offeredPerSecond), Math.round(p.callbacksPerSecond), p.sendsPerCallback.toFixed(2), (p.p50Ns / 1e6).toFixed(3), (p.p99Ns / 1e6).toFixed(3), p.infoGetPerLoop.toFixed(2), p.infoGetLoopBoundHits, p.passed ? 'held' : 'failed'],
  );
  return `<table><thead><tr>${head.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${h(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function saturationList(points: readonly CapacityPoint[]): string {
  const items = curves(points).map((c) => {
    const s = saturation(c.points);
    return `<li>${h(c.spmc)}, ${h(c.guests)} guests: ${h(saturationText(s))}</li>`;
  });
  return `<ul>${items.join('')}</ul>`;
}

export async function renderCapacityReport(input: { serviceTimes: string; seed: number; points: readonly CapacityPoint[] }): Promise<string> {
  const charts = await Promise.all(CURVES.map((c, i) => renderVegaLiteSvg(curveSpec(input.points, c), `c${i}-`)));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Protocol capacity · ffa-world</title>
<style>body{font-family:system-ui,sans-serif;max-width:1400px;margin:0 auto;padding:0 16px 40px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(620px,1fr));gap:16px}</style>
</head>
<body>
<h1>Protocol capacity</h1>
<p>Under sim, seed <code>${h(input.seed)}</code>, service times <code>${h(input.serviceTimes)}</code> (each handler holds its physical CPU that long: docs/load-and-benchmarks.md, "Protocol capacity"). One run per point; the same seed gives the same curves.</p>
<h2>Where each curve saturates</h2>
${saturationList(input.points)}
<h2>Curves</h2>
<div class="charts">${charts.map((svg) => `<figure>${svg}</figure>`).join('')}</div>
<h2>Points</h2>
${pointsTable(input.points)}
</body>
</html>
`;
}
