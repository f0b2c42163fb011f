import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { firstFailure, renderReport } from './report.ts';
import { latencySamples } from './latency-samples.ts';
import { selectSequenceWindow, sequenceSegments } from './sequence.ts';
import { groupFailures } from './failure-groups.ts';
import { latencySamples as checkerSamples } from '../checkers/index.ts';
import { END_TO_END } from '../checkers/latency.ts';
import type { CheckFailure, ScenarioResult } from '../scenario/types.ts';
import { defaultWorldHistory, defaultWorldModel, failingResult, HOSTILE, passingResult } from '../test-support/report-runs.ts';

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
    const html = await renderReport({ result, entries, model: await defaultWorldModel() });
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

  it('splits each hop into transport and protocol, p50 and p99 of each', async () => {
    const entries = await defaultWorldHistory();
    const html = await renderReport({ result: passingResult(entries), entries });
    assert.match(html, /<h3>Each hop: transport and protocol<\/h3>/);
    // report-runs.ts: npi-deliver→get has 18 µs of flights and 6 µs of the rest at p50 (p99 three times that).
    assert.match(html, /<tr><td><code>npi-deliver→get<\/code><\/td><td class="num">9<\/td><td class="num">0\.018 ms<\/td><td class="num">0\.054 ms<\/td><td class="num">0\.006 ms<\/td><td class="num">0\.018 ms<\/td><\/tr>/);
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
    const samples = latencySamples(await defaultWorldHistory(), await defaultWorldModel());
    assert.equal(samples.length, 60, 'the workload\'s 60 sends, each answered by a callback');
    assert.deepEqual([...new Set(samples.map((s) => s.receiver))].sort(), ['dom0', 'vm1', 'vm2']);
    assert.ok(samples.every((s) => s.latencyNs > 0 && s.bit === 0));
  });

  it('pairs by the notification, as the checker does, not by history order', async () => {
    // Under ws each component stamps its own events and the supervisor appends them as they
    // arrive: a callback can be written before a later set of the same bit. Here every callback
    // record is moved after the next event of its history, and its time kept: pairing by history
    // order would then answer sends that came after the callback (negative latencies).
    const entries = await defaultWorldHistory();
    const model = await defaultWorldModel();
    const expected = checkerSamples(entries, model).get(END_TO_END) ?? [];
    const samples = latencySamples(entries, model);
    assert.deepEqual(
      samples.map((s) => s.latencyNs).sort((a, b) => a - b),
      expected.map((s) => s.ns).sort((a, b) => a - b),
      'the same samples as the checker\'s end-to-end measure',
    );
    assert.ok(samples.every((s) => s.latencyNs >= 0), 'no negative latency');
    const sendTimes = samples.map((s) => s.sendNs);
    assert.deepEqual(sendTimes, [...sendTimes].sort((a, b) => a - b), 'in set order');
  });

  it('makes no plot without the world\'s model, rather than guess the pairs', async () => {
    const entries = await defaultWorldHistory();
    const html = await renderReport({ result: passingResult(entries), entries });
    assert.match(html, /The world's model was not given, so no plot over time\./);
    const withModel = await renderReport({ result: passingResult(entries), entries, model: await defaultWorldModel() });
    assert.match(withModel, /as the latency checker does \(60 samples\)/);
  });
});

describe('the failure window', () => {
  it('opens on the evidence: the events before it are folded with their count, the evidence rows shown', async () => {
    const entries = await defaultWorldHistory();
    const result = failingResult(entries);
    const html = await renderReport({ result, entries });
    const section = html.slice(html.indexOf('<section id="first-failure">'), html.indexOf('</section>', html.indexOf('<section id="first-failure">')));
    // The evidence table and the first shown (not folded) part come before any folded part's content.
    const folded = [...section.matchAll(/<details class="fold"><summary>(\d+) events? (before|between|after) [^<]*<\/summary>/g)];
    assert.ok(folded.length >= 1, 'what is not evidence is folded');
    assert.equal(folded[0]?.[2], 'before', 'start-up is folded first');
    assert.ok(Number(folded[0]?.[1]) > 50, `start-up folded: ${folded[0]?.[1]} events`);
    const outside = section.replace(/<details class="fold">[\s\S]*?<\/details>/g, '');
    const starred = (outside.match(/class="when">★/g) ?? []).length;
    assert.equal(starred, result.checks.find((c) => !c.passed)?.failures[0]?.events.length, 'every evidence row is in the open part');
    assert.ok(section.indexOf('<h3>Evidence</h3>') < section.indexOf('<svg'), 'the evidence table before the diagram');
    assert.doesNotMatch(section, /class="scroll"/, 'no scroll box');
  });

  it('keeps every lifeline inside the page width, and prints times in ms', async () => {
    const entries = await defaultWorldHistory();
    const html = await renderReport({ result: failingResult(entries), entries });
    for (const [, width] of html.matchAll(/<svg [^>]*class="sequence" width="(\d+)"/g)) assert.ok(Number(width) <= 1200, `sequence ${width} px wide`);
    assert.match(html, /class="when">★ \d+\.\d{3} ms #\d+</);
    assert.doesNotMatch(html, /µs/, 'one unit: ms');
  });

  it('folds the window around each piece of evidence into context and gaps', async () => {
    const entries = repeated(await defaultWorldHistory(), 3);
    const evidence = [entries[400] as HistoryEntry, entries[2500] as HistoryEntry];
    const window = selectSequenceWindow(entries, { evidenceSeqs: evidence.map((e) => e.seq), aroundNs: null });
    assert.ok(window);
    const segments = sequenceSegments(window, 5);
    assert.deepEqual(segments.map((s) => s.folded), [true, false, true, false, true]);
    assert.equal(segments.reduce((n, s) => n + s.to - s.from, 0), window.rows.length, 'every row in one segment');
    for (const s of segments.filter((x) => !x.folded)) assert.equal(s.to - s.from, 11, 'the evidence and 5 either side');
  });
});

describe('failures grouped by cause', () => {
  const failure = (message: string): CheckFailure => ({ message, bit: 0, endpoints: [], events: [{ seq: 1, t: 2, what: 'x' }] });

  it('groups messages that differ only in numbers, largest group first', () => {
    const failures = [
      failure('notification 0 (sp bitmap) for g1 never returned by a GET at 7.005 ms'),
      failure('GET returned bit 3 to g2 with no SET'),
      failure('notification 2 (sp bitmap) for g14 never returned by a GET at 9.100 ms'),
      failure('notification 0 (sp bitmap) for g3 never returned by a GET at 0x1f ms'),
    ];
    const groups = groupFailures(failures, (f) => f.message);
    assert.deepEqual(groups.map((g) => g.members.length), [3, 1]);
    assert.equal(groups[0]?.members[0], failures[0], 'the first seen is the example');
  });

  it('shows a load run\'s 20 failures as one cause with its count, the evidence folded', async () => {
    const entries = await defaultWorldHistory();
    const base = failingResult(entries);
    const failures = Array.from({ length: 20 }, (_, i) => failure(`notification 0 (sp bitmap) for g${i + 1} never returned by a GET`));
    const result: ScenarioResult = { ...base, checks: [{ name: 'no-lost-notification', passed: false, held: false, expectFail: false, detail: '20 lost notifications', failures }] };
    const html = await renderReport({ result, entries });
    assert.match(html, /<summary>20 failures, 1 cause<\/summary>/);
    assert.match(html, /<span class="count">20×<\/span> notification 0 \(sp bitmap\) for g1 never/);
    assert.match(html, /<summary>the other 19 failures of this cause<\/summary>/);
    assert.equal((html.match(/<table class="grid evidence">/g) ?? []).length, 2, 'one evidence table in the checks (folded), one in the first failure');
  });
});

describe('steps that never ran', () => {
  it('are shown as skipped and counted apart', async () => {
    const entries = await defaultWorldHistory();
    const base = passingResult(entries);
    const result: ScenarioResult = {
      ...base,
      passed: false,
      ended: 'timeout',
      steps: [...base.steps, { index: 2, label: 'await idle', passed: false, skipped: true, detail: 'not reached: the world ended timeout', startNs: 0, endNs: 0 }],
    };
    const html = await renderReport({ result, entries });
    assert.match(html, /Steps: 2 of 3 passed, 1 skipped/);
    assert.match(html, /<tr class="skipped">.*– skipped/);
  });
});
