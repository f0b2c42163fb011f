/**
 * report.html (docs/design.md §8): one self-contained page a browser opens offline. The verdict
 * and how to replay the run first, then the steps and the checks, a sequence view of the first
 * failure, and the latency plots (Vega-Lite rendered to SVG here, in Node).
 *
 * The page holds no script and loads nothing: its Content-Security-Policy forbids both, so even a
 * history string that got past the escaping could not run. Its size is bounded whatever the
 * history's: the sequence view shows at most MAX_ROWS events, the scatter plot at most
 * MAX_SCATTER_POINTS points, and the tables come from the result (bounded by the checkers).
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CheckFailure, CheckResult, EvidenceEvent, ScenarioResult, StepResult, WorldModel } from '../scenario/types.ts';
import {
  latencyHistogramSpec,
  latencyMeasures,
  latencyOverTimeSpec,
  PERCENTILE_KEYS,
  percentileChartSpec,
  renderVegaLiteSvg,
} from './charts.ts';
import { escapeHtml as h } from './escape.ts';
import { groupFailures } from './failure-groups.ts';
import { latencySamples, type LatencySample } from './latency-samples.ts';
import { CONTEXT_ROWS, MAX_ROWS, renderSequenceSvg, SEQUENCE_CSS, selectSequenceWindow, sequenceSegments, type SequenceFocus, type SequenceWindow } from './sequence.ts';
import { plural } from '../../../shared/plural.ts';
import { formatMs } from '../../../shared/duration.ts';

/** Rows of the steps table beyond this are summarised, not listed. */
export const MAX_STEP_ROWS = 2000;

export interface FirstFailure {
  /** "check no-lost-notification" or "step 3: …". */
  title: string;
  message: string;
  endpoints: string[];
  bit: number | null;
  evidence: EvidenceEvent[];
  /** When it happened (runtime ns): its first evidence event, or the failing step's end. */
  atNs: number | null;
}

/**
 * The failure that happened first in run time: a failing check's first failure (at its first
 * evidence event), or a failing step (at its end). A failing check with no failure listed (an
 * expected failure that did not happen) comes last, with no time.
 */
export function firstFailure(result: ScenarioResult): FirstFailure | null {
  const candidates: FirstFailure[] = [];
  for (const check of result.checks) {
    if (check.passed) continue;
    const failure: CheckFailure | undefined = check.failures[0];
    if (failure) {
      candidates.push({
        title: `check ${check.name}`,
        message: failure.message,
        endpoints: failure.endpoints,
        bit: failure.bit,
        evidence: failure.events,
        atNs: failure.events[0]?.t ?? null,
      });
    } else {
      candidates.push({ title: `check ${check.name}`, message: check.detail, endpoints: [], bit: null, evidence: [], atNs: null });
    }
  }
  for (const step of result.steps) {
    if (!step.passed) candidates.push({ title: `step ${step.index}: ${step.label}`, message: step.detail, endpoints: [], bit: null, evidence: [], atNs: step.endNs });
  }
  candidates.sort((a, b) => (a.atNs ?? Number.POSITIVE_INFINITY) - (b.atNs ?? Number.POSITIVE_INFINITY));
  return candidates[0] ?? null;
}

/** Times and durations as the command line prints them: ms with 3 decimals. */
const mark = (passed: boolean) => (passed ? '<span class="ok">✓ pass</span>' : '<span class="bad">✗ FAIL</span>');
const stepMark = (step: StepResult) => (step.skipped ? '<span class="muted">– skipped</span>' : mark(step.passed));

function runTable(result: ScenarioResult): string {
  const rows: [string, string][] = [
    ['scenario', h(result.name)],
    ['file', `<code>${h(result.file)}</code>`],
    ['verdict', mark(result.passed)],
    ['ended', h(result.ended)],
    ['seed', `<code>${h(result.seed)}</code>`],
    ['runtime', h(result.runtime)],
    ['wall time', `${h(result.wallMs)} ms`],
    ['faults applied', h(result.faultsApplied)],
    ...(result.departures ?? []).map((d): [string, string] => ['left the world', h(d)]),
    ...(result.absent ?? []).map((d): [string, string] => ['left out of the run', h(d)]),
    ...(result.missingTails ?? []).map((d): [string, string] => ['history cut short', h(d)]),
    ['history', `${h(result.historyEntries)} events, sha256 <code>${h(result.historyHash)}</code>`],
    ['replay', `<code class="replay">${h(result.replay)}</code>`],
  ];
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
}

function stepsTable(steps: readonly StepResult[]): string {
  if (steps.length === 0) return '<p class="muted">This run had no steps.</p>';
  const shown = steps.slice(0, MAX_STEP_ROWS);
  const rows = shown
    .map(
      (s) =>
        `<tr class="${s.passed ? 'pass' : s.skipped ? 'skipped' : 'fail'}"><td class="num">${h(s.index)}</td><td>${h(s.label)}</td><td>${stepMark(s)}</td><td class="detail">${h(s.detail)}</td><td class="num">${s.skipped ? '—' : h(formatMs(s.startNs))}</td><td class="num">${s.skipped ? '—' : h(formatMs(s.endNs - s.startNs))}</td></tr>`,
    )
    .join('\n');
  const more = steps.length > shown.length ? `<p class="muted">${plural(steps.length - shown.length, 'more step')} not listed (${steps.filter((s) => !s.passed && !s.skipped).length} failed in all).</p>` : '';
  return `<table class="grid"><thead><tr><th>#</th><th>step</th><th>passed</th><th>detail</th><th>start</th><th>took</th></tr></thead><tbody>\n${rows}\n</tbody></table>${more}`;
}

function evidenceTable(events: readonly EvidenceEvent[]): string {
  if (events.length === 0) return '';
  return `<table class="grid evidence"><thead><tr><th>seq</th><th>time</th><th>event</th></tr></thead><tbody>${events
    .map((e) => `<tr><td class="num">${h(e.seq)}</td><td class="num">${h(formatMs(e.t))}</td><td>${h(e.what)}</td></tr>`)
    .join('')}</tbody></table>`;
}

function aboutFailure(f: CheckFailure): string {
  return [f.bit !== null ? `bit ${h(f.bit)}` : '', f.endpoints.length > 0 ? `endpoints ${f.endpoints.map((e) => `<code>${h(e)}</code>`).join(', ')}` : '']
    .filter((s) => s !== '')
    .join(' · ');
}

/** The evidence, folded: a failure's table is a dozen rows, and a load run has many failures. */
function foldedEvidence(events: readonly EvidenceEvent[]): string {
  if (events.length === 0) return '';
  return `<details class="evidence"><summary>${plural(events.length, 'evidence event')}</summary>${evidenceTable(events)}</details>`;
}

/** Failures listed past the example of a group, as one line each. */
const MAX_GROUP_LINES = 10;

/** One cause: how often, its first failure as the example (evidence folded), the others by message. */
function failureGroupItem(members: readonly CheckFailure[]): string {
  const [example, ...others] = members as [CheckFailure, ...CheckFailure[]];
  const about = aboutFailure(example);
  const count = members.length > 1 ? `<span class="count">${members.length}×</span> ` : '';
  const rest =
    others.length === 0
      ? ''
      : `<details class="others"><summary>the other ${plural(others.length, 'failure')} of this cause</summary><ul>${others
          .slice(0, MAX_GROUP_LINES)
          .map((f) => `<li>${h(f.message)}</li>`)
          .join('')}</ul>${others.length > MAX_GROUP_LINES ? `<p class="muted">and ${others.length - MAX_GROUP_LINES} more</p>` : ''}</details>`;
  return `<li><div class="message">${count}${h(example.message)}</div>${about ? `<div class="muted">${about}</div>` : ''}${foldedEvidence(example.events)}${rest}</li>`;
}

function failuresCell(c: CheckResult): string {
  if (c.failures.length === 0) return '<span class="muted">none</span>';
  const groups = groupFailures(c.failures, (f) => f.message);
  const summary = `${plural(c.failures.length, 'failure')}${groups.length < c.failures.length ? `, ${plural(groups.length, 'cause')}` : ''}`;
  return `<details${c.passed ? '' : ' open'}><summary>${summary}</summary><ol class="failures">${groups.map((g) => failureGroupItem(g.members)).join('')}</ol></details>`;
}

function checksTable(checks: readonly CheckResult[]): string {
  if (checks.length === 0) return '<p class="muted">No checks ran.</p>';
  const rows = checks
    .map((c) => {
      const held = c.expectFail ? `expected to fail; the checker ${c.held ? 'found the history good' : 'failed it'}` : c.held ? 'held' : 'did not hold';
      const failures = failuresCell(c);
      return `<tr class="${c.passed ? 'pass' : 'fail'}"><td><code>${h(c.name)}</code></td><td>${mark(c.passed)}<div class="muted">${h(held)}</div></td><td class="detail">${h(c.detail)}</td><td>${failures}</td></tr>`;
    })
    .join('\n');
  return `<table class="grid"><thead><tr><th>check</th><th>passed</th><th>detail</th><th>failures</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The window's parts: the evidence with its context shown, what lies before, between and after folded. */
function sequenceParts(window: SequenceWindow, what: ReadonlyMap<number, string>): string {
  const segments = sequenceSegments(window);
  return segments
    .map((segment, i) => {
      const svg = renderSequenceSvg(window, what, segment);
      if (!segment.folded) return svg;
      const count = segment.to - segment.from;
      const where = i === 0 ? 'before the evidence' : i === segments.length - 1 ? 'after the evidence' : 'between evidence events';
      return `<details class="fold"><summary>${plural(count, 'event')} ${where} (not evidence)</summary>${svg}</details>`;
    })
    .join('\n');
}

/** Where the sequence view of a result's first failure centres: its evidence, else its time. */
export function failureFocus(result: ScenarioResult): SequenceFocus | null {
  const failure = firstFailure(result);
  return failure ? { evidenceSeqs: failure.evidence.map((e) => e.seq), aroundNs: failure.atNs } : null;
}

function failureSection(result: ScenarioResult, window: SequenceWindow | null): string {
  const failure = firstFailure(result);
  if (!failure) return '<section id="first-failure"><h2>First failure</h2><p class="ok">Nothing failed.</p></section>';
  const about = [failure.bit !== null ? `bit ${h(failure.bit)}` : '', failure.endpoints.length > 0 ? `endpoints ${failure.endpoints.map((e) => `<code>${h(e)}</code>`).join(', ')}` : '']
    .filter((s) => s !== '')
    .join(' · ');
  const what = new Map(failure.evidence.map((e) => [e.seq, e.what]));
  const focus = failure.evidence.length > 0 ? 'the evidence (rows marked ★)' : 'the failure\'s time';
  const diagram = window
    ? `<p class="muted">History events around ${focus}, in order: ${CONTEXT_ROWS} either side of it shown, the others of the ${plural(window.rows.length, 'event')} picked (at most ${MAX_ROWS}) folded. Message deliveries are left out unless they are evidence. Hover a row for the whole event.</p>${sequenceParts(window, what)}`
    : '<p class="muted">No history events to show for this failure.</p>';
  return `<section id="first-failure"><h2>First failure: ${h(failure.title)}</h2>
<p class="message">${h(failure.message)}</p>${about ? `<p class="muted">${about}</p>` : ''}
${failure.evidence.length > 0 ? `<h3>Evidence</h3>${evidenceTable(failure.evidence)}` : ''}
<h3>Sequence</h3>
${diagram}
<p>Replay: <code class="replay">${h(result.replay)}</code></p>
</section>`;
}

/** Each hop's time split: its own frames in flight (the runtime's) and the rest (the modelled system's). */
function hopPartsTable(result: ScenarioResult): string {
  const rows = Object.entries(result.latency.parts).filter(([hop]) => (result.latency.hops[hop]?.count ?? 0) > 0);
  if (rows.length === 0) return '';
  const cells = (p: { p50: number; p99: number }) => `<td class="num">${h(formatMs(p.p50))}</td><td class="num">${h(formatMs(p.p99))}</td>`;
  const body = rows
    .map(([hop, { transport, protocol }]) => `<tr><td><code>${h(hop)}</code></td><td class="num">${h(transport.count)}</td>${cells(transport)}${cells(protocol)}</tr>`)
    .join('');
  return `<h3>Each hop: transport and protocol</h3>
<p class="muted">Transport: the hop's own frames in flight, send to delivery, as the runtime carried them (under sim the configured link latency; under ws queues and sockets included). Protocol: the rest of the hop, the modelled system: a component's handling, or waiting for the protocol (an interrupt held until the earlier one's EOI, an INFO_GET loop already running, a vCPU not yet running its handler). A hop inside one component carries no frame. Percentiles of each part, so a part's p99 and the other's need not add up to the hop's.</p>
<table class="grid"><thead><tr><th rowspan="2">hop</th><th rowspan="2">count</th><th colspan="2">transport</th><th colspan="2">protocol</th></tr><tr><th>p50</th><th>p99</th><th>p50</th><th>p99</th></tr></thead><tbody>${body}</tbody></table>`;
}

async function latencySection(result: ScenarioResult, plot: ReportInput['plot']): Promise<string> {
  const measures = latencyMeasures(result.latency);
  const table =
    measures.length === 0
      ? '<p class="muted">The latency checker recorded no samples.</p>'
      : `<table class="grid"><thead><tr><th>measure</th><th>count</th>${PERCENTILE_KEYS.map((k) => `<th>${k}</th>`).join('')}</tr></thead><tbody>${measures
          .map(({ measure, p }) => `<tr><td><code>${h(measure)}</code></td><td class="num">${h(p.count)}</td>${PERCENTILE_KEYS.map((k) => `<td class="num">${h(formatMs(p[k]))}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`;
  const figures: string[] = [];
  const percentiles = percentileChartSpec(result.latency);
  if (percentiles) figures.push(await renderVegaLiteSvg(percentiles, 'pct-'));
  const samples = plot?.samples ?? [];
  const total = plot?.total ?? 0;
  const overTime = latencyOverTimeSpec(samples, total);
  if (overTime) figures.push(await renderVegaLiteSvg(overTime, 'time-'));
  const histogram = latencyHistogramSpec(samples, total);
  if (histogram) figures.push(await renderVegaLiteSvg(histogram, 'hist-'));
  const thinned = samples.length < total ? `; ${samples.length} of them, evenly thinned, plotted` : '';
  const derived =
    samples.length === 0
      ? `<p class="muted">${plot ? 'No notification reached a callback' : 'The world\'s model was not given'}, so no plot over time.</p>`
      : `<p class="muted">The plots over time pair each set with the callback of the notification it made pending, as the latency checker does (${plural(total, 'sample')}${thinned}).</p>`;
  return `<section id="latency"><h2>Latency</h2>${table}${hopPartsTable(result)}${derived}${figures.map((svg) => `<figure class="chart">${svg}</figure>`).join('\n')}</section>`;
}

const CSS = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 16px 40px; color: #1b1b1b; }
h1 { margin: 0; font-size: 28px; }
h2 { margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em; word-break: break-all; }
.banner { margin: 16px 0; padding: 16px 20px; border-radius: 6px; color: #fff; display: flex; gap: 24px; align-items: baseline; }
.banner.pass { background: #2a8a3e; }
.banner.fail { background: #b00020; }
.banner .name { font-size: 18px; }
table { border-collapse: collapse; }
table.kv th { text-align: left; padding: 3px 16px 3px 0; color: #555; font-weight: 600; vertical-align: top; }
table.kv td { padding: 3px 0; }
table.grid { width: 100%; margin: 8px 0; }
table.grid th, table.grid td { border: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
table.grid thead th { background: #f4f5f7; }
table.grid tr.fail td { background: #fff4f4; }
table.evidence { font-size: 0.9em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.detail { white-space: pre-wrap; word-break: break-word; }
.ok { color: #2a8a3e; font-weight: 600; }
.bad { color: #b00020; font-weight: 600; }
.muted { color: #666; font-size: 0.92em; }
.message { font-weight: 600; white-space: pre-wrap; word-break: break-word; }
ol.failures { padding-left: 20px; margin: 4px 0; }
ol.failures li { margin-bottom: 8px; }
details.fold { margin: 2px 0; border: 1px dashed #ccc; border-radius: 4px; padding: 2px 8px; }
details.fold > summary, details.evidence > summary, details.others > summary { cursor: pointer; color: #555; font-size: 0.92em; }
span.count { background: #b00020; color: #fff; border-radius: 3px; padding: 0 5px; font-variant-numeric: tabular-nums; }
table.grid tr.skipped td { color: #777; }
figure.chart { margin: 16px 0; }
code.replay { background: #f4f5f7; padding: 2px 6px; border-radius: 3px; }
footer { margin-top: 40px; color: #777; font-size: 0.9em; }
${SEQUENCE_CSS}`;

export interface FaultRow {
  id: string;
  kind: string;
  installedNs: number | null;
  healedNs: number | null;
  spec: string;
  /** Messages a rule of this fault acted on, by action. */
  actions: Map<string, number>;
}

/** The faults the orchestrator applied (its fault-installed / fault-healed records) and what each rule did, as the history comes. */
export class FaultTable {
  private readonly rows = new Map<string, FaultRow>();

  take({ t, event }: HistoryEntry): void {
    if (event.type === 'record' && (event.data['event'] === 'fault-installed' || event.data['event'] === 'fault-healed')) {
      const row = this.rowOf(String(event.data['id']));
      row.kind = String(event.data['fault']);
      if (event.data['event'] === 'fault-installed') {
        row.installedNs = t;
        row.spec = String(event.data['spec'] ?? '');
      } else row.healedNs = t;
    }
    if (event.type === 'fault') {
      // A cut link's rules are `<fault id>:<a>→<b>`; every other fault's rule id is the fault's.
      const row = this.rowOf(event.rule.replace(/:[^:]*→[^:]*$/, ''));
      row.actions.set(event.action, (row.actions.get(event.action) ?? 0) + 1);
    }
  }

  all(): FaultRow[] {
    return [...this.rows.values()];
  }

  private rowOf(id: string): FaultRow {
    const row = this.rows.get(id) ?? { id, kind: '', installedNs: null, healedNs: null, spec: '', actions: new Map<string, number>() };
    this.rows.set(id, row);
    return row;
  }
}

function faultsSection(rows: readonly FaultRow[]): string {
  if (rows.length === 0) return '<section id="faults"><h2>Faults</h2><p>None applied.</p></section>';
  const body = rows
    .map((row) => {
      const acted = [...row.actions].map(([action, n]) => `${h(n)} ${h(action)}`).join(', ') || '—';
      const when = (ns: number | null) => (ns === null ? '—' : h(formatMs(ns)));
      return `<tr><td><code>${h(row.id)}</code></td><td>${h(row.kind)}</td><td>${when(row.installedNs)}</td><td>${when(row.healedNs)}</td><td>${acted}</td><td><code>${h(row.spec)}</code></td></tr>`;
    })
    .join('\n');
  return `<section id="faults"><h2>Faults: ${rows.length}</h2><table><thead><tr><th>fault</th><th>kind</th><th>installed</th><th>healed</th><th>messages acted on</th><th>as given</th></tr></thead><tbody>${body}</tbody></table></section>`;
}

/** What report.html shows beside the result, gathered from the history (runner.ts, or renderReport below). */
export interface ReportInput {
  result: ScenarioResult;
  /** The rows around the first failure (sequence.ts); null: nothing failed, or nothing to show. */
  sequence: SequenceWindow | null;
  faults: readonly FaultRow[];
  /** The plots' samples (latency-samples.ts) and how many there were; null: the world's model was not given. */
  plot: { samples: LatencySample[]; total: number } | null;
  /** The time of the history's last entry. */
  lastNs: number;
}

/** report.html for a run whose history is held in memory. */
export async function renderReport(input: { result: ScenarioResult; entries: readonly HistoryEntry[]; model?: WorldModel }): Promise<string> {
  const { result, entries, model } = input;
  const focus = failureFocus(result);
  const faults = new FaultTable();
  for (const entry of entries) faults.take(entry);
  const samples = model ? latencySamples(entries, model) : null;
  return renderReportOf({
    result,
    sequence: focus ? selectSequenceWindow(entries, focus) : null,
    faults: faults.all(),
    plot: samples ? { samples, total: samples.length } : null,
    lastNs: entries.at(-1)?.t ?? 0,
  });
}

/** report.html for one scenario run. */
export async function renderReportOf(input: ReportInput): Promise<string> {
  const { result } = input;
  const verdict = result.passed ? 'PASS' : 'FAIL';
  const stepsPassed = result.steps.filter((s) => s.passed).length;
  const stepsSkipped = result.steps.filter((s) => s.skipped).length;
  const checksPassed = result.checks.filter((c) => c.passed).length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${verdict} · ${h(result.name)} · ffa-world report</title>
<style>${CSS}</style>
</head>
<body>
<header class="banner ${result.passed ? 'pass' : 'fail'}"><h1>${verdict}</h1><div class="name">${h(result.name)}</div><div>seed <code>${h(result.seed)}</code> · ${h(result.runtime)} · ended ${h(result.ended)}</div></header>
<section id="run"><h2>Run</h2>${runTable(result)}</section>
${failureSection(result, input.sequence)}
<section id="checks"><h2>Checks: ${checksPassed} of ${result.checks.length} passed</h2>${checksTable(result.checks)}</section>
<section id="steps"><h2>Steps: ${stepsPassed} of ${result.steps.length} passed${stepsSkipped > 0 ? `, ${stepsSkipped} skipped` : ''}</h2>${stepsTable(result.steps)}</section>
${faultsSection(input.faults)}
${await latencySection(result, input.plot)}
<footer>ffa-world report · run time ${h(formatMs(input.lastNs))} · trace.json beside this file opens in Perfetto (ui.perfetto.dev) or chrome://tracing</footer>
</body>
</html>
`;
}
