/**
 * Writes a trace's parts as Chrome trace events: the names and order of processes and threads
 * (metadata), then the timed events in an order every importer takes.
 */
import { LANE_STRIDE, type LaneThread } from './trace-lanes.ts';
import type { Flow, Instant, Slice, TraceEvent } from './trace-model.ts';

const scratch = new Float64Array(1);
const scratchBits = new BigUint64Array(scratch.buffer);

function nextUp(value: number): number {
  if (value === 0) return Number.MIN_VALUE;
  scratch[0] = value;
  scratchBits[0] = (scratchBits[0] ?? 0n) + 1n;
  return scratch[0] ?? value;
}

/**
 * Nanoseconds as trace-event microseconds, fractional. Perfetto reads a fractional value as
 * trunc(µs × 1000) ns (json_trace_utils.cc CoerceToNs), and for some n the double nearest n / 1000
 * is just below it, which would lose a nanosecond and could make a child slice end after its
 * parent. So the value is nudged up to the next double until it reads back as exactly n.
 */
export function nsToUs(ns: number): number {
  const n = Math.max(0, Math.round(ns));
  let us = n / 1000;
  for (let i = 0; i < 8 && Math.trunc(us * 1000) < n; i++) us = nextUp(us);
  return us;
}

/** What the builder made: processes by component, and the slices, flows and instants on their threads. */
export interface TraceParts {
  readonly processes: ReadonlyMap<string, number>;
  /** "vcpu 1", "cpu 0", "main": a component's base thread by its tid. */
  readonly threadName: (component: string, tid: number) => string;
  readonly slices: readonly Slice[];
  readonly flows: readonly Flow[];
  readonly instants: readonly Instant[];
  /** The threads the slices were put on (trace-lanes.ts), keyed "pid/tid". */
  readonly lanes: ReadonlyMap<string, LaneThread>;
}

/** Metadata first, then every slice, flow end and instant in time order. */
export function emitTrace(parts: TraceParts): TraceEvent[] {
  const metadata: TraceEvent[] = [];
  const componentOf = new Map<number, string>();
  for (const [component, pid] of parts.processes) {
    componentOf.set(pid, component);
    metadata.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: component } });
    metadata.push({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } });
  }
  const threads = new Map<string, { pid: number; tid: number; name: string; sort: number }>();
  const useThread = (pid: number, tid: number, base: number, lane: number) => {
    const key = `${pid}/${tid}`;
    if (threads.has(key)) return;
    const baseName = parts.threadName(componentOf.get(pid) ?? '', base);
    threads.set(key, { pid, tid, name: lane === 0 ? baseName : `${baseName} (overlap ${lane})`, sort: base * 100 + lane });
  };
  for (const { pid, base, lane } of parts.lanes.values()) useThread(pid, base + lane * LANE_STRIDE, base, lane);
  for (const instant of parts.instants) useThread(instant.pid, instant.tid, instant.tid, 0);
  for (const pid of parts.processes.values()) useThread(pid, 0, 0, 0);
  for (const thread of [...threads.values()].sort((a, b) => a.pid - b.pid || a.sort - b.sort)) {
    metadata.push({ name: 'thread_name', ph: 'M', pid: thread.pid, tid: thread.tid, args: { name: thread.name } });
    metadata.push({ name: 'thread_sort_index', ph: 'M', pid: thread.pid, tid: thread.tid, args: { sort_index: thread.sort } });
  }

  // Timed events, ordered for importers that take slices as they come: by time; at one time,
  // slices longest first (a parent before its children) each followed by its flow ends, then
  // instants.
  interface Keyed {
    t: number;
    group: number;
    negDur: number;
    order: number;
    sub: number;
    event: TraceEvent;
  }
  const timed: Keyed[] = [];
  const flowsFrom = new Map<Slice, Flow[]>();
  const flowsTo = new Map<Slice, Flow[]>();
  const add = (map: Map<Slice, Flow[]>, slice: Slice, flow: Flow) => {
    const list = map.get(slice);
    if (list) list.push(flow);
    else map.set(slice, [flow]);
  };
  for (const flow of parts.flows) {
    add(flowsFrom, flow.from, flow);
    add(flowsTo, flow.to, flow);
  }
  for (const slice of parts.slices) {
    const ts = nsToUs(slice.startNs);
    const negDur = -(slice.endNs - slice.startNs);
    const keyed = (sub: number, event: TraceEvent): Keyed => ({ t: slice.startNs, group: 0, negDur, order: slice.order, sub, event });
    timed.push(keyed(0, { name: slice.name, cat: slice.cat, ph: 'X', ts, dur: nsToUs(slice.endNs - slice.startNs), pid: slice.pid, tid: slice.tid, args: slice.args }));
    let sub = 1;
    for (const flow of flowsFrom.get(slice) ?? []) timed.push(keyed(sub++, { name: flow.name, cat: 'flow', ph: 's', id: flow.id, ts, pid: slice.pid, tid: slice.tid }));
    for (const flow of flowsTo.get(slice) ?? []) timed.push(keyed(sub++, { name: flow.name, cat: 'flow', ph: 'f', bp: 'e', id: flow.id, ts, pid: slice.pid, tid: slice.tid }));
  }
  for (const instant of parts.instants) {
    timed.push({
      t: instant.t,
      group: 1,
      negDur: 0,
      order: instant.order,
      sub: 0,
      event: { name: instant.name, cat: instant.cat, ph: 'i', s: instant.scope, ts: nsToUs(instant.t), pid: instant.pid, tid: instant.tid, args: instant.args },
    });
  }
  timed.sort((a, b) => a.t - b.t || a.group - b.group || a.negDur - b.negDur || a.order - b.order || a.sub - b.sub);
  return [...metadata, ...timed.map((k) => k.event)];
}
