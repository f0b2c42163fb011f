/**
 * Fixtures for the report's tests: a real default-world history (sim runtime, so the same every
 * time), a result that passed and one that failed (check results made up around real events),
 * and small checkers of the outputs' shape.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { readScenarioFile } from '../scenario/reader/index.ts';
import { runModel, runScenario } from '../run/runner.ts';
import type { Percentiles, ScenarioResult, WorldModel } from '../scenario/types.ts';
import type { TraceEvent } from '../report/trace-model.ts';

export const HOSTILE = '<script>alert("x")</script> & \'quotes\' \u0001';

let cached: Promise<HistoryEntry[]> | null = null;

/** The default world (scenarios/default-world.yaml), seed 7, under sim with its mild fault schedule. */
export function defaultWorldHistory(): Promise<HistoryEntry[]> {
  cached ??= runScenario(readScenarioFile('scenarios/default-world.yaml'), { runtime: 'sim', seed: 7 }).then(({ result, entries }) => {
    if (result.ended !== 'done') throw new Error(`default world ended ${result.ended}`);
    return entries;
  });
  return cached;
}

const percentiles = (p50: number, count = 9): Percentiles => ({ count, p50, p90: p50 * 1.5, p99: p50 * 3, 'p99.9': p50 * 3.2, max: p50 * 4 });

function baseResult(entries: readonly HistoryEntry[]): ScenarioResult {
  return {
    name: 'default world',
    file: 'scenarios/default.yaml',
    passed: true,
    seed: 7,
    runtime: 'sim',
    ended: 'done',
    steps: [
      { index: 0, label: 'FFA_VERSION from vm1', passed: true, detail: 'got 1.2', startNs: 0, endNs: 12_000 },
      { index: 1, label: 'await callback in vm1', passed: true, detail: 'callback after 169 µs', startNs: 12_000, endNs: 5_000_000 },
    ],
    checks: [
      { name: 'no-lost-notification', passed: true, held: true, expectFail: false, detail: '9 sent, 9 delivered', failures: [] },
      { name: 'conformance', passed: true, held: true, expectFail: false, detail: '189 calls conform', failures: [] },
      { name: 'latency', passed: true, held: true, expectFail: false, detail: 'within thresholds', failures: [] },
    ],
    latency: {
      endToEnd: percentiles(169_000),
      corrected: percentiles(0, 0),
      arrivalToSet: percentiles(0, 0),
      hops: { 'set→sri-raise': percentiles(11_000), 'npi-deliver→get': percentiles(24_000) },
      parts: {
        'set→sri-raise': { transport: percentiles(0), protocol: percentiles(11_000) },
        'npi-deliver→get': { transport: percentiles(18_000), protocol: percentiles(6_000) },
      },
    },
    faultsApplied: entries.filter((e) => e.event.type === 'fault').length,
    historyEntries: entries.length,
    historyHash: 'f'.repeat(64),
    replay: 'ffa-world run scenarios/default.yaml --runtime sim --seed 7',
    wallMs: 120,
  };
}

export function passingResult(entries: readonly HistoryEntry[]): ScenarioResult {
  return baseResult(entries);
}

/**
 * A failing run: step 1 failed, and the phantom check fails with evidence events taken from the
 * history (the first notification callback and the GET before it), its texts hostile.
 */
export function failingResult(entries: readonly HistoryEntry[]): ScenarioResult {
  const result = baseResult(entries);
  const callback = entries.find((e) => e.event.type === 'record' && e.event.data.event === 'notification-callback');
  const get = entries.find((e) => e.event.type === 'record' && e.event.data.event === 'notification-get');
  if (!callback || !get) throw new Error('the default world has no callback');
  const steps = result.steps.map((s) => (s.index === 1 ? { ...s, passed: false, detail: `no callback within 2 ms ${HOSTILE}` } : s));
  return {
    ...result,
    passed: false,
    steps,
    // A hop name is the checker's text; it reaches the chart's labels.
    latency: { ...result.latency, hops: { ...result.latency.hops, [`hop ${HOSTILE}`]: percentiles(7_000) } },
    checks: [
      ...result.checks,
      {
        name: 'no-phantom-notification',
        passed: false,
        held: false,
        expectFail: false,
        detail: `1 phantom ${HOSTILE}`,
        failures: [
          {
            message: `GET returned bit 0 to vm1 with no SET since ${HOSTILE}`,
            bit: 0,
            endpoints: ['dom0', '0x8001'],
            events: [
              { seq: get.seq, t: get.t, what: 'notification-get' },
              { seq: callback.seq, t: callback.t, what: `callback ${HOSTILE}` },
            ],
          },
        ],
      },
    ],
  };
}

/**
 * Proper nesting of complete slices per (pid, tid), in nanoseconds as Perfetto reads them
 * (trunc(µs × 1000)): a slice that starts inside another must end inside it. Returns the
 * violations, empty when the trace is good.
 */
export function nestingViolations(events: readonly TraceEvent[]): string[] {
  const byTrack = new Map<string, { start: number; end: number; name: string }[]>();
  for (const e of events) {
    if (e.ph !== 'X') continue;
    const start = Math.trunc((e.ts ?? 0) * 1000);
    const end = start + Math.trunc((e.dur ?? 0) * 1000);
    const key = `${e.pid}/${e.tid}`;
    const list = byTrack.get(key) ?? [];
    list.push({ start, end, name: e.name });
    byTrack.set(key, list);
  }
  const violations: string[] = [];
  for (const [track, slices] of byTrack) {
    slices.sort((a, b) => a.start - b.start || b.end - a.end);
    const open: { start: number; end: number; name: string }[] = [];
    for (const slice of slices) {
      while (open.length > 0 && (open[open.length - 1]?.end ?? 0) <= slice.start) open.pop();
      const parent = open[open.length - 1];
      if (parent && slice.end > parent.end) violations.push(`${track}: ${slice.name} [${slice.start}, ${slice.end}] overlaps ${parent.name} [${parent.start}, ${parent.end}]`);
      open.push(slice);
    }
  }
  return violations;
}

/**
 * A tiny XML well-formedness check: tags balance, attributes are quoted, and nothing but known
 * entities and character references follows an '&'. Returns the element names in document order.
 */
export function parseXmlElements(xml: string): { name: string; attrs: Record<string, string>; text: string }[] {
  const elements: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const stack: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  const unescape = (text: string) => {
    if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) throw new Error(`bad entity in ${JSON.stringify(text.slice(0, 80))}`);
    return text
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
      .replace(/&#x([0-9a-fA-F]+);/g, (_m, d: string) => String.fromCodePoint(parseInt(d, 16)))
      .replace(/&amp;/g, '&');
  };
  let match: RegExpExecArray | null;
  let last = 0;
  while ((match = token.exec(body)) !== null) {
    last = token.lastIndex;
    const [, closing, name, rawAttrs, selfClosing, text] = match;
    if (text !== undefined) {
      const top = stack[stack.length - 1];
      if (!top) {
        if (text.trim() !== '') throw new Error('text outside the root element');
        continue;
      }
      top.text += unescape(text);
      continue;
    }
    if (closing) {
      const top = stack.pop();
      if (!top || top.name !== name) throw new Error(`</${name}> closes <${top?.name ?? 'nothing'}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const [, key, value] of (rawAttrs ?? '').matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      if (key === undefined || value === undefined) continue;
      if (key in attrs) throw new Error(`attribute ${key} twice`);
      attrs[key] = unescape(value);
    }
    const element = { name: name ?? '', attrs, text: '' };
    if (stack.length === 0 && elements.length > 0) throw new Error('more than one root element');
    elements.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (last !== body.length) throw new Error(`unparsable XML at offset ${last}: ${JSON.stringify(body.slice(last, last + 60))}`);
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]?.name}>`);
  return elements;
}

/** The model of the default world that made defaultWorldHistory (as the runner builds it). */
export async function defaultWorldModel(): Promise<WorldModel> {
  return runModel(readScenarioFile('scenarios/default-world.yaml'), await defaultWorldHistory());
}
