import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { firstFailure, renderReport } from './report.ts';
import { latencySamples } from './latency-samples.ts';
import { selectSequenceWindow } from './sequence.ts';
import { defaultWorldHistory, failingResult, HOSTILE, passingResult } from '../test-support/report-runs.ts';

/** The history with a hostile record right after the first callback (inside the failure's window). */
async function hostileHistory(): Promise<HistoryEntry[]> {
  const entries = await defaultWorldHistory();
  const at = entries.findIndex((e) => e.event.type === 'record' && e.event.data.event === 'notification-callback');
  const anchor = entries[at] as HistoryEntry;
  const hostile: HistoryEntry = { seq: 1_000_000, t: anchor.t, event: { type: 'record', component: 'dom0', data: { event: 'driver-log', text: HOSTILE, level: 'info' } } };
  return [...entries.slice(0, at + 1), hostile, ...entries.slice(at + 1)];
}

/** `copies` runs of the history back to back, seqs and times shifted: a long run. */
function repeated(entries: readonly HistoryEntry[], copies: number): HistoryEntry[] {
  const last = entries[entries.length - 1] as HistoryEntry;
  const out: HistoryEntry[] = [];
  for (let c = 0; c < copies; c++) {
    for (const e of entries) out.push({ seq: e.seq + c * (last.seq + 1), t: e.t + c * (last.t + 1000), event: e.event });
  }
  return out;
}

describe('report.html', () => {
  it('shows a failing run: verdict, run facts, steps, checks, the first failure as a sequence, and Vega plots', async () => {
    const entries = await hostileHistory();
    const result = failingResult(entries);
    const html = await renderReport({ result, entries });
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<header class="banner fail"><h1>FAIL<\/h1>/);
    for (const fact of [String(result.seed), result.replay, result.historyHash, result.runtime]) assert.ok(html.includes(fact), `shows ${fact}`);
    for (const step of result.steps) assert.ok(html.includes(step.label), `step ${step.label}`);
    for (const check of result.checks) assert.ok(html.includes(`<code>${check.name}</code>`), `check ${check.name}`);
    assert.match(html, /Steps: 1 of 2 passed/);
    assert.match(html, /Checks: 3 of 4 passed/);
    assert.match(html, /First failure: check no-phantom-notification/);
    assert.match(html, /<svg [^>]*class="sequence"/);
    assert.ok(html.includes('★'), 'evidence rows are marked');
    assert.ok((html.match(/<svg [^>]*class="marks"/g) ?? []).length >= 3, 'Vega SVGs: percentiles, over time, histogram');
    assert.ok(html.includes('Latency percentiles: end-to-end and per hop'));
  });

  it('escapes every string from the history and the result', async () => {
    const entries = await hostileHistory();
    const html = await renderReport({ result: failingResult(entries), entries });
    assert.doesNotMatch(html, /<script/i, 'no script element, from the history or anywhere');
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'), 'the hostile text is shown, escaped');
    assert.ok(html.includes('{&quot;text&quot;:&quot;&lt;script&gt;alert'), 'the hostile record reaches the sequence view');
    assert.ok(!html.includes('\u0001'), 'control characters replaced');
  });

  it('is self-contained: no script, nothing loaded from elsewhere', async () => {
    const entries = await defaultWorldHistory();
    const html = await renderReport({ result: failingResult(entries), entries });
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /<(link|img|iframe|object|embed)\b/i);
    assert.doesNotMatch(html, /\b(src|href)="(?!#)/i, 'no reference outside the page');
    assert.doesNotMatch(html, /url\((?!#)/, 'no style url outside the page');
  });

  it('shows a passing run as PASS, with nothing failed', async () => {
    const entries = await defaultWorldHistory();
    const html = await renderReport({ result: passingResult(entries), entries });
    assert.match(html, /<header class="banner pass"><h1>PASS<\/h1>/);
    assert.match(html, /Nothing failed\./);
    assert.doesNotMatch(html, /class="sequence"/);
  });

  it('lists every fault applied: when it was installed and what its rules did', async () => {
    // The default world's timed fault: SGI 8 raises held back 1 ms with probability 0.1.
    const entries = await defaultWorldHistory();
    const html = await renderReport({ result: passingResult(entries), entries });
    const delayed = entries.filter((e) => e.event.type === 'fault' && e.event.action === 'delay').length;
    assert.ok(delayed > 0, 'the default world delays some interrupts');
    assert.match(html, /<section id="faults"><h2>Faults: 1<\/h2>/);
    assert.match(html, new RegExp(`<td><code>timed-0:delay-interrupt#0</code></td><td>delay-interrupt</td><td>[^<]+</td><td>—</td><td>${delayed} delay</td>`));
  });

  it('stays small for a history of 100k events', async () => {
    const entries = repeated(await defaultWorldHistory(), 70);
    assert.ok(entries.length >= 100_000, `${entries.length} events`);
    const result = failingResult(entries);
    const html = await renderReport({ result, entries });
    assert.ok(html.length < 3_000_000, `${html.length} characters`);
    const rows = (html.match(/<g class="row/g) ?? []).length;
    assert.ok(rows > 100 && rows <= 200, `${rows} sequence rows`);
  });

  it('picks the failure that happened first in run time', async () => {
    const entries = await defaultWorldHistory();
    const result = failingResult(entries);
    assert.equal(firstFailure(result)?.title, 'check no-phantom-notification', 'its evidence comes before step 1 ends');
    const later = { ...result, steps: result.steps.map((s) => ({ ...s, endNs: 1, startNs: 0 })) };
    assert.match(firstFailure(later)?.title ?? '', /^step 1: /);
    assert.equal(firstFailure(passingResult(entries)), null);
  });
});

describe('the sequence window', () => {
  it('keeps every evidence event and its neighbours, at most 200 rows, in history order', async () => {
    const entries = repeated(await defaultWorldHistory(), 5);
    const evidence = [entries[100] as HistoryEntry, entries[5000] as HistoryEntry];
    const window = selectSequenceWindow(entries, { evidenceSeqs: evidence.map((e) => e.seq), aroundNs: null });
    assert.ok(window);
    assert.equal(window.rows.length, 200);
    for (const e of evidence) assert.ok(window.rows.includes(e), `evidence #${e.seq} shown`);
    const seqs = window.rows.map((r) => r.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.ok(window.gapsBefore.some((g) => g > 0), 'the gap between the two evidence events is marked');
  });

  it('centres on a time when no evidence is given', async () => {
    const entries = await defaultWorldHistory();
    const middle = entries[700] as HistoryEntry;
    const window = selectSequenceWindow(entries, { evidenceSeqs: [], aroundNs: middle.t });
    assert.ok(window);
    assert.ok(window.rows.some((r) => r.t === middle.t));
    assert.equal(selectSequenceWindow(entries, { evidenceSeqs: [], aroundNs: null }), null);
  });
});

describe('latency samples for the plot over time', () => {
  it('pairs each SP send in the default world with its guest callback', async () => {
    const samples = latencySamples(await defaultWorldHistory());
    assert.equal(samples.length, 60, 'the workload\'s 60 sends, each answered by a callback');
    assert.deepEqual([...new Set(samples.map((s) => s.receiver))].sort(), ['dom0', 'vm1', 'vm2']);
    assert.ok(samples.every((s) => s.latencyNs > 0 && s.bit === 0));
  });
});
