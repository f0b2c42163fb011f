import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry, HistoryEvent } from '../../../shared/runtime/history.ts';
import type { CallMessage, InterruptMessage } from '../../../shared/protocol/messages.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { registers } from '../../../shared/ffa/registers.ts';
import { defaultWorldHistory, defaultWorldModel, nestingViolations } from '../test-support/report-runs.ts';
import { downsample, type CounterPoint } from './trace-counters.ts';
import { buildTrace } from './trace.ts';
import { nsToUs } from './trace-emit.ts';
import type { TraceEvent } from './trace-model.ts';

const timed = (events: readonly TraceEvent[]) => events.filter((e) => e.ph !== 'M');
const names = (events: readonly TraceEvent[], name: string) =>
  new Map(events.filter((e) => e.ph === 'M' && e.name === name).map((e) => [`${e.pid}/${e.tid}`, (e.args as { name: string }).name]));

/** A hand-made history: entries numbered in order. */
function history(events: [number, HistoryEvent][]): HistoryEntry[] {
  return events.map(([t, event], seq) => ({ seq, t, event }));
}

const call = (id: number, fid: number, vcpu: number, cpu: number): CallMessage => ({ kind: 'call', id, conduit: 'smc', endpoint: 1, vcpu, cpu, regs: registers(fid), memory: null });
const ret = (id: number) => ({ kind: 'return' as const, id, regs: registers(FFA_FIDS.FFA_SUCCESS_32), memory: null });
const irq = (op: InterruptMessage['op'], cpu: number): InterruptMessage => ({ kind: 'irq', op, intid: 8, group: 'nonsecure', cpu, vm: -1, vcpu: -1 });

describe('trace.json from a default-world run', () => {
  it('names every process and thread, and pairs every flow start with one end', async () => {
    const trace = buildTrace(await defaultWorldHistory());
    assert.equal(trace.displayTimeUnit, 'ns');
    const processes = names(trace.traceEvents, 'process_name');
    const threads = names(trace.traceEvents, 'thread_name');
    for (const component of ['dom0', 'vm1', 'vm2', 'hypervisor', 'spmd', 'spmc', 'gic', 'orchestrator']) {
      assert.ok([...processes.values()].includes(component), `a process for ${component}`);
    }
    for (const e of timed(trace.traceEvents)) {
      assert.ok(processes.has(`${e.pid}/0`), `pid ${e.pid} (${e.name}) has a process_name`);
      assert.ok(threads.has(`${e.pid}/${e.tid}`), `thread ${e.pid}/${e.tid} (${e.name}) has a thread_name`);
    }
    const starts = new Map<number, TraceEvent>();
    const ends = new Map<number, TraceEvent>();
    for (const e of trace.traceEvents) {
      if (e.ph === 's') {
        assert.ok(!starts.has(e.id ?? -1), `flow ${e.id} starts once`);
        starts.set(e.id ?? -1, e);
      }
      if (e.ph === 'f') {
        assert.ok(!ends.has(e.id ?? -1), `flow ${e.id} ends once`);
        assert.equal(e.bp, 'e');
        ends.set(e.id ?? -1, e);
      }
    }
    assert.ok(starts.size > 100, `flows for calls and interrupts (${starts.size})`);
    assert.deepEqual([...starts.keys()].sort((a, b) => a - b), [...ends.keys()].sort((a, b) => a - b));
    for (const [id, start] of starts) {
      const end = ends.get(id) as TraceEvent;
      assert.equal(start.name, end.name, 'a v1 flow is matched by id, category and name');
      assert.equal(start.cat, end.cat);
      assert.ok((end.ts ?? 0) >= (start.ts ?? 0), `flow ${id} goes forward in time`);
    }
  });

  it('binds each flow end inside a slice on its own thread', async () => {
    const trace = buildTrace(await defaultWorldHistory());
    const slices = trace.traceEvents.filter((e) => e.ph === 'X');
    for (const flow of trace.traceEvents.filter((e) => e.ph === 's' || e.ph === 'f')) {
      const ts = flow.ts ?? 0;
      const enclosing = slices.some((s) => s.pid === flow.pid && s.tid === flow.tid && (s.ts ?? 0) <= ts && ts <= (s.ts ?? 0) + (s.dur ?? 0));
      assert.ok(enclosing, `flow ${flow.ph} ${flow.id} at ${ts} on ${flow.pid}/${flow.tid} has a slice around it`);
    }
  });

  it('has no partially overlapping slices on any track', async () => {
    const trace = buildTrace(await defaultWorldHistory());
    assert.deepEqual(nestingViolations(trace.traceEvents), []);
  });

  it('keeps timed events in time order, metadata first', async () => {
    const events = buildTrace(await defaultWorldHistory()).traceEvents;
    const firstTimed = events.findIndex((e) => e.ph !== 'M');
    assert.ok(events.slice(firstTimed).every((e) => e.ph !== 'M'), 'metadata before timed events');
    const ts = timed(events).map((e) => e.ts ?? -1);
    for (let i = 1; i < ts.length; i++) assert.ok((ts[i] ?? 0) >= (ts[i - 1] ?? 0), `ts non-decreasing at ${i}`);
  });

  it('names call slices by ABI, with caller, endpoint and result', async () => {
    const events = buildTrace(await defaultWorldHistory()).traceEvents;
    const processes = names(events, 'process_name');
    const spmc = [...processes].find(([, name]) => name === 'spmc')?.[0].split('/')[0];
    const served = events.filter((e) => e.ph === 'X' && e.cat === 'call' && String(e.pid) === spmc);
    assert.ok(served.some((e) => e.name === 'FFA_NOTIFICATION_INFO_GET_64' || e.name === 'FFA_NOTIFICATION_INFO_GET_32'), 'the SPMC serves INFO_GET');
    for (const e of served) {
      const args = e.args as Record<string, unknown>;
      assert.equal(args.caller, 'spmd');
      assert.match(String(args.endpoint), /^0x[0-9a-f]{4}$/);
      assert.equal(typeof args.result, 'string');
    }
    const callerSide = events.filter((e) => e.ph === 'X' && e.cat === 'call-out');
    assert.equal(callerSide.length, events.filter((e) => e.ph === 'X' && e.cat === 'call').length, 'a caller slice per served call (none dropped here)');
  });

  it('puts guests on vCPU threads and firmware on CPU threads, faults process-scoped', async () => {
    const entries = await defaultWorldHistory();
    const events = buildTrace(entries).traceEvents;
    const threads = [...names(events, 'thread_name').values()];
    assert.ok(threads.includes('vcpu 0') && threads.includes('cpu 0') && threads.includes('main'));
    const faults = events.filter((e) => e.cat === 'fault');
    assert.equal(faults.length, entries.filter((e) => e.event.type === 'fault').length);
    for (const fault of faults) assert.deepEqual([fault.ph, fault.s], ['i', 'p']);
    const records = events.filter((e) => e.cat === 'record');
    assert.equal(records.length, entries.filter((e) => e.event.type === 'record').length);
    assert.ok(records.every((r) => r.ph === 'i' && r.s === 't'));
  });

  it('is the same for the same history, and JSON-serialisable', async () => {
    const entries = await defaultWorldHistory();
    assert.equal(JSON.stringify(buildTrace(entries)), JSON.stringify(buildTrace(entries)));
  });
});

describe('trace.json from hand-made histories', () => {
  it('moves a call that overlaps another on the same CPU to an overlap thread', () => {
    // Two guests' calls served by the hypervisor on cpu 0, interleaved: [10, 50] and [20, 60].
    const entries = history([
      [0, { type: 'send', from: 'g1', to: 'hyp', message: call(1, FFA_FIDS.FFA_ID_GET, 0, 0) }],
      [10, { type: 'deliver', from: 'g1', to: 'hyp', message: call(1, FFA_FIDS.FFA_ID_GET, 0, 0) }],
      [15, { type: 'send', from: 'g2', to: 'hyp', message: call(1, FFA_FIDS.FFA_VERSION, 0, 0) }],
      [20, { type: 'deliver', from: 'g2', to: 'hyp', message: call(1, FFA_FIDS.FFA_VERSION, 0, 0) }],
      [50, { type: 'send', from: 'hyp', to: 'g1', message: ret(1) }],
      [55, { type: 'deliver', from: 'hyp', to: 'g1', message: ret(1) }],
      [60, { type: 'send', from: 'hyp', to: 'g2', message: ret(1) }],
      [65, { type: 'deliver', from: 'hyp', to: 'g2', message: ret(1) }],
    ]);
    const events = buildTrace(entries).traceEvents;
    assert.deepEqual(nestingViolations(events), []);
    const served = events.filter((e) => e.ph === 'X' && e.cat === 'call');
    assert.deepEqual(
      served.map((e) => [e.name, e.tid, e.ts, e.dur]),
      [
        ['FFA_ID_GET', 1, 0.01, 0.04],
        ['FFA_VERSION', 1001, 0.02, 0.04],
      ],
    );
    assert.equal(names(events, 'thread_name').get(`${served[1]?.pid}/1001`), 'cpu 0 (overlap 1)');
  });

  it('keeps a nested forward on the same thread as the call it serves', () => {
    const entries = history([
      [0, { type: 'send', from: 'g1', to: 'hyp', message: call(7, FFA_FIDS.FFA_NOTIFICATION_GET, 1, 2) }],
      [10, { type: 'deliver', from: 'g1', to: 'hyp', message: call(7, FFA_FIDS.FFA_NOTIFICATION_GET, 1, 2) }],
      [10, { type: 'send', from: 'hyp', to: 'spmd', message: call(3, FFA_FIDS.FFA_NOTIFICATION_GET, 2, 2) }],
      [20, { type: 'deliver', from: 'hyp', to: 'spmd', message: call(3, FFA_FIDS.FFA_NOTIFICATION_GET, 2, 2) }],
      [20, { type: 'send', from: 'spmd', to: 'hyp', message: ret(3) }],
      [30, { type: 'deliver', from: 'spmd', to: 'hyp', message: ret(3) }],
      [30, { type: 'send', from: 'hyp', to: 'g1', message: ret(7) }],
      [40, { type: 'deliver', from: 'hyp', to: 'g1', message: ret(7) }],
    ]);
    const events = buildTrace(entries).traceEvents;
    assert.deepEqual(nestingViolations(events), []);
    const hyp = events.filter((e) => e.ph === 'X' && e.name.startsWith('FFA_NOTIFICATION_GET') && names(events, 'process_name').get(`${e.pid}/0`) === 'hyp');
    assert.deepEqual(hyp.map((e) => [e.cat, e.tid, e.ts, e.dur]), [
      ['call', 3, 0.01, 0.02],
      ['call-out', 3, 0.01, 0.02],
    ]);
    const guest = events.find((e) => e.cat === 'call-out' && names(events, 'process_name').get(`${e.pid}/0`) === 'g1');
    assert.equal(guest?.tid, 2, 'the guest (a pure caller) is on its vCPU 1 thread');
  });

  it('draws an interrupt raiser → GIC → target, and leaves an unanswered call open to the end', () => {
    const entries = history([
      [0, { type: 'send', from: 'spmc', to: 'gic', message: irq('raise', 1) }],
      [5, { type: 'deliver', from: 'spmc', to: 'gic', message: irq('raise', 1) }],
      [5, { type: 'send', from: 'gic', to: 'hyp', message: irq('deliver', 1) }],
      [9, { type: 'deliver', from: 'gic', to: 'hyp', message: irq('deliver', 1) }],
      [12, { type: 'send', from: 'hyp', to: 'gic', message: irq('eoi', 1) }],
      [12, { type: 'send', from: 'hyp', to: 'spmd', message: call(1, FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64, 1, 1) }],
      [20, { type: 'fault', rule: 'drop <all>', action: 'drop', from: 'spmd', to: 'spmc', message: call(1, FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64, 1, 1) }],
      [30, { type: 'record', component: 'hyp', data: { event: 'driver-log', text: '<script>', cpu: 1, big: 1n << 63n } }],
    ]);
    const events = buildTrace(entries).traceEvents;
    const irqSlices = events.filter((e) => e.ph === 'X' && e.cat === 'irq');
    assert.deepEqual(irqSlices.map((e) => [e.name, e.ts, e.dur]), [
      ['raise irq 8', 0, 0],
      ['gic: irq 8 raised', 0.005, 0],
      ['irq 8', 0.009, 0.003],
    ]);
    const flows = events.filter((e) => e.ph === 's' || e.ph === 'f');
    assert.equal(flows.filter((e) => e.ph === 's').length, 2, 'raiser → GIC, GIC → target');
    const open = events.find((e) => e.cat === 'call-out');
    assert.deepEqual([open?.ts, open?.dur, (open?.args as { result: string }).result], [0.012, 0.018, 'no return']);
    const fault = events.find((e) => e.cat === 'fault');
    assert.deepEqual([fault?.ph, fault?.s, fault?.name], ['i', 'p', 'fault: drop (drop <all>)']);
    const record = events.find((e) => e.cat === 'record');
    assert.deepEqual(record?.args, { event: 'driver-log', text: '<script>', cpu: 1, big: '0x8000000000000000' });
    assert.equal(names(events, 'thread_name').get(`${record?.pid}/${record?.tid}`), 'cpu 1');
  });
});

describe('nsToUs', () => {
  it('reads back as the same nanoseconds the way Perfetto truncates', () => {
    for (let ns = 0; ns < 200_000; ns += 7) assert.equal(Math.trunc(nsToUs(ns) * 1000), ns, `${ns} ns`);
    for (const ns of [2_087_747, 1_234_567_891, 9_007_199_254]) assert.equal(Math.trunc(nsToUs(ns) * 1000), ns);
  });
});

describe('trace.json counter tracks', () => {
  const counters = (events: readonly TraceEvent[], name: string) => events.filter((e) => e.ph === 'C' && e.name === name);

  it('counts messages and interrupts in flight per component, and bits pending at the SPMC per receiver', async () => {
    const trace = buildTrace(await defaultWorldHistory(), { model: await defaultWorldModel() });
    const processes = names(trace.traceEvents, 'process_name');
    const processOf = (e: TraceEvent) => processes.get(`${e.pid}/0`);
    const messages = counters(trace.traceEvents, 'messages in flight');
    assert.ok(new Set(messages.map(processOf)).has('spmc'), 'the SPMC has a queue track');
    const interrupts = counters(trace.traceEvents, 'interrupts in flight');
    assert.ok(interrupts.length > 0, 'interrupt tracks');
    const pending = counters(trace.traceEvents, 'bits pending at the SPMC');
    assert.ok(pending.every((e) => processOf(e) === 'spmc'));
    const series = new Set(pending.flatMap((e) => Object.keys(e.args ?? {})));
    assert.deepEqual([...series].sort(), ['dom0', 'vm1', 'vm2']);
    for (const receiver of series) {
      const values = pending.filter((e) => receiver in (e.args ?? {})).map((e) => Number(e.args?.[receiver]));
      assert.ok(Math.max(...values) >= 1, `${receiver}: a bit was pending`);
      assert.equal(values.at(-1), 0, `${receiver}: every bit was returned by the end`);
    }
    for (const e of [...messages, ...interrupts, ...pending]) assert.ok(Object.values(e.args ?? {}).every((v) => Number(v) >= 0), 'never below zero');
    const ts = timed(trace.traceEvents).map((e) => e.ts ?? 0);
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b), 'counters merged in time order');
  });

  it('summary keeps the counters, faults and component events, and leaves out the slices and flows', async () => {
    const entries = await defaultWorldHistory();
    const full = buildTrace(entries, { model: await defaultWorldModel() });
    const summary = buildTrace(entries, { detail: 'summary', model: await defaultWorldModel() });
    const phases = new Set(summary.traceEvents.map((e) => e.ph));
    for (const ph of ['X', 's', 'f'] as const) assert.ok(!phases.has(ph), `no ${ph} events`);
    assert.ok(phases.has('C'));
    assert.ok(summary.traceEvents.some((e) => e.ph === 'i' && e.cat === 'fault'), 'faults kept');
    assert.ok(summary.traceEvents.length * 2 < full.traceEvents.length, `${summary.traceEvents.length} events against ${full.traceEvents.length}`);
  });

  it('downsamples a series to its peaks', () => {
    const points: CounterPoint[] = Array.from({ length: 1000 }, (_, i) => ({ component: 'spmc', name: 'q', series: 's', t: i, value: i % 10 === 3 ? 50 : 1 }));
    const kept = downsample(points, 100);
    assert.ok(kept.length <= 100);
    assert.ok(kept.every((p) => p.value === 50), 'each span keeps its peak');
  });
});
