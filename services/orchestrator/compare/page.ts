/**
 * compare.html: the runs of a comparison side by side, one column per run. First the runs (their
 * settings, seed, verdict and replay command), then the rows that differ, then every row, folded.
 * A cell that differs from the first run's is marked. Like report.html (report/report.ts) the page
 * holds no script and loads nothing, and every string from a run passes the report's escaping.
 */
import { escapeHtml as h, truncate } from '../report/escape.ts';
import type { Comparison, CompareRow, CompareRun } from './compare.ts';

/** A cell's text beyond this is cut (the whole of it is in the cell's tooltip). */
const CELL_CHARS = 80;

const runTitle = (run: CompareRun, seeds: number): string => (seeds > 1 ? `${run.column} · seed ${run.seed}` : run.column);

function runsTable(comparison: Comparison): string {
  const { runs } = comparison;
  const head = runs.map((run) => `<th>${h(runTitle(run, comparison.seeds.length))}</th>`).join('');
  const keys = comparison.axes.map((axis) => axis.key);
  const settingRows = keys.map((key) => `<tr><th>${h(key)}</th>${runs.map((run) => `<td><code>${h(run.settings[key] ?? '')}</code></td>`).join('')}</tr>`);
  const row = (title: string, cell: (run: CompareRun) => string) => `<tr><th>${h(title)}</th>${runs.map((run) => `<td>${cell(run)}</td>`).join('')}</tr>`;
  return `<table class="grid"><thead><tr><th></th>${head}</tr></thead><tbody>
${settingRows.join('\n')}
${row('seed', (run) => `<code>${h(run.seed)}</code>`)}
${row('verdict', (run) => (run.passed ? '<span class="ok">pass</span>' : '<span class="bad">FAIL</span>'))}
${row('ended', (run) => h(run.ended))}
${row('replay', (run) => `<code class="replay">${h(run.replay)}</code>`)}
</tbody></table>`;
}

function cell(row: CompareRow, index: number): string {
  const value = row.values[index] ?? '';
  const detail = row.details[index] ?? null;
  const tip = detail === null || detail === value ? value : `${value}\n${detail}`;
  const differs = index > 0 && value !== row.values[0];
  return `<td${differs ? ' class="differs"' : ''} title="${h(tip)}">${h(truncate(value, CELL_CHARS))}</td>`;
}

function rowsTable(rows: readonly CompareRow[], comparison: Comparison): string {
  if (rows.length === 0) return '<p class="ok">Every run showed the same in every row.</p>';
  const head = comparison.runs.map((run) => `<th>${h(runTitle(run, comparison.seeds.length))}</th>`).join('');
  const body = rows.map((row) => `<tr class="${row.kind}"><th>${h(row.label)}</th>${row.values.map((_, index) => cell(row, index)).join('')}</tr>`).join('\n');
  return `<table class="grid"><thead><tr><th>row</th>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CSS = `
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; padding: 0 16px 40px; color: #1b1b1b; }
h1 { font-size: 24px; }
h2 { margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em; word-break: break-all; }
table.grid { border-collapse: collapse; margin: 8px 0; }
table.grid th, table.grid td { border: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
table.grid thead th { background: #f4f5f7; position: sticky; top: 0; }
table.grid tbody th { font-weight: 600; color: #333; max-width: 420px; }
td.differs { background: #fff3c4; }
tr.figure th { color: #555; }
.ok { color: #2a8a3e; font-weight: 600; }
.bad { color: #b00020; font-weight: 600; }
.muted { color: #666; font-size: 0.92em; }
code.replay { background: #f4f5f7; padding: 2px 6px; border-radius: 3px; }
details > summary { cursor: pointer; color: #555; }`;

/** compare.html for one comparison. */
export function renderComparePage(comparison: Comparison): string {
  const differing = new Set(comparison.differences.map((difference) => difference.key));
  const rows = comparison.rows.filter((row) => differing.has(row.key));
  const settings = comparison.axes.map((axis) => `${axis.key} = ${axis.values.join(', ')}`).join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>compare · ${h(comparison.name)} · ffa-world</title>
<style>${CSS}</style>
</head>
<body>
<h1>compare ${h(comparison.name)}</h1>
<p><code>${h(comparison.file)}</code> · ${h(settings || 'no settings')} · seeds ${h(comparison.seeds.join(', '))} · sim runtime</p>
<section id="runs"><h2>Runs: ${comparison.runs.length}</h2>${runsTable(comparison)}</section>
<section id="differences"><h2>Differences: ${rows.length} of ${comparison.rows.length} rows</h2>
<p class="muted">A marked cell differs from the first run's. Hover a cell for the step's or check's whole detail, or a call's registers.</p>
${rowsTable(rows, comparison)}</section>
<section id="all"><h2>Every row</h2><details><summary>${comparison.rows.length} rows: every step, returned registers, check and figure</summary>${rowsTable(comparison.rows, comparison)}</details></section>
</body>
</html>
`;
}
