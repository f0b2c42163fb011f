/**
 * A run's history as a Chrome trace-event file (design world.md §8: `trace.json`, "one track per
 * component and vCPU, flow arrows for each call and interrupt"), in the object form that Perfetto
 * and chrome://tracing both open.
 *
 * - One process per component (pids in order of first appearance, from 1: Perfetto reserves 0).
 * - Threads: a component that runs vCPUs (it takes virtual interrupts, or it makes calls, is never
 *   called and takes no physical interrupt: the guests, the test world's callers) gets a thread per
 *   vCPU; every other component (hypervisor, SPMD, SPMC, GIC, the bare-metal host, …) works on a
 *   physical CPU and gets a thread per CPU. What names neither goes on thread 0, "main".
 * - A call is a complete slice on the callee from the call's delivery to its return's send, named
 *   by its ABI, and a slice on the caller from its send to the return's delivery; a flow arrow
 *   joins the caller's send to the callee's delivery.
 * - An interrupt: a zero-length slice where it is raised, a slice at the GIC from the raise's
 *   arrival to the delivery it ends in, and a slice on the target from delivery to EOI; flows join
 *   raiser → GIC and GIC → target.
 * - Records, refusals, failed calls and control/lifecycle messages are instants on their thread;
 *   faults and component start/stop/crash are process-scoped instants (category "fault" for faults).
 *
 * Slices on one track must nest: where a component serves overlapping calls on one vCPU or CPU
 * (possible under the ws runtime, or with delayed messages), the later slice moves to an extra
 * thread of the same track ("cpu 0 (overlap 1)"), so nothing partially overlaps.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CallMessage, InterruptMessage } from '../../../shared/protocol/messages.ts';
import { hex } from '../../../shared/ffa/format.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import { abiOfRegs, describeMessage, recordName, resultOfRegs } from './describe.ts';
import { jsonSafe } from './escape.ts';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  /** Instant scope: thread or process. */
  s?: 't' | 'p';
  /** Flow id (v1 flow events). */
  id?: number;
  /** Flow end binding: the enclosing slice. */
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
}

// ---------------------------------------------------------------- time

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

// ---------------------------------------------------------------- what the history says

interface CallRecord {
  caller: string;
  callee: string;
  call: CallMessage;
  sendT: number;
  sendSeq: number;
  deliverT: number | null;
  deliverSeq: number;
  returnSendT: number | null;
  returnRegs: RegisterFile | null;
  returnDeliverT: number | null;
  failedT: number | null;
  failReason: string | null;
}

/** An interrupt frame sent (raise or deliver), and where and when it arrived. */
interface IrqFrame {
  from: string;
  to: string;
  irq: InterruptMessage;
  sendT: number;
  sendSeq: number;
  deliverT: number | null;
  deliverSeq: number;
  /** deliver frames: the raises this delivery answers (several raises can merge into one). */
  raises: IrqFrame[];
  /** deliver frames: when the target sent its EOI. */
  eoiT: number | null;
  /** raise frames: the GIC's slice, once built (flow source towards the target). */
  gicSlice: Slice | null;
}

interface Slice {
  pid: number;
  /** The track's own thread (vCPU or CPU); `tid` may be an overlap thread of it. */
  base: number;
  tid: number;
  startNs: number;
  endNs: number;
  name: string;
  cat: string;
  args: Record<string, unknown>;
  /** Seq of the entry that opened it: orders slices that start together. */
  order: number;
}

interface Flow {
  id: number;
  name: string;
  from: Slice;
  to: Slice;
}

interface Instant {
  pid: number;
  tid: number;
  t: number;
  name: string;
  cat: string;
  scope: 't' | 'p';
  args: Record<string, unknown>;
  order: number;
}

const FIFO_KEY_SEP = '\u0000';

/** FIFO queues keyed by string: sends waiting for their delivery, calls for their return. */
class Queues<T> {
  private readonly map = new Map<string, T[]>();
  push(key: string, value: T): void {
    const list = this.map.get(key);
    if (list) list.push(value);
    else this.map.set(key, [value]);
  }
  /** The first value for `key` that satisfies `pred`. */
  find(key: string, pred: (value: T) => boolean): T | undefined {
    return this.map.get(key)?.find(pred);
  }
  /** The last value for `key` that satisfies `pred`. */
  findLast(key: string, pred: (value: T) => boolean): T | undefined {
    const list = this.map.get(key);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const value = list[i] as T;
      if (pred(value)) return value;
    }
    return undefined;
  }
  take(key: string): T[] {
    const list = this.map.get(key) ?? [];
    this.map.delete(key);
    return list;
  }
  /** Drops values at the head of `key`'s queue that are finished, so queues stay short. */
  trim(key: string, done: (value: T) => boolean): void {
    const list = this.map.get(key);
    if (!list) return;
    let n = 0;
    while (n < list.length && done(list[n] as T)) n++;
    if (n === list.length) this.map.delete(key);
    else if (n > 0) list.splice(0, n);
  }
}

const callKey = (caller: string, callee: string, id: number) => `${caller}${FIFO_KEY_SEP}${callee}${FIFO_KEY_SEP}${id}`;
const irqKey = (irq: InterruptMessage) => `${irq.intid}/${irq.cpu}/${irq.vm}/${irq.vcpu}`;
const frameKey = (from: string, to: string, irq: InterruptMessage) => `${from}${FIFO_KEY_SEP}${to}${FIFO_KEY_SEP}${irq.op}${FIFO_KEY_SEP}${irqKey(irq)}`;

/** Registers as hex, trailing zero registers left out (most of x0..x17 are zero). */
function regsArg(regs: RegisterFile): string[] {
  let last = regs.length - 1;
  while (last > 0 && regs[last] === 0n) last--;
  return regs.slice(0, last + 1).map((r) => hex(r));
}

const endpointHex = (id: number) => `0x${id.toString(16).padStart(4, '0')}`;

// ---------------------------------------------------------------- the builder

class TraceBuilder {
  private readonly pids = new Map<string, number>();
  private readonly vcpuComponents = new Set<string>();
  private readonly slices: Slice[] = [];
  private readonly flows: Flow[] = [];
  private readonly instants: Instant[] = [];
  private nextFlowId = 1;
  private endNs = 0;

  constructor(private readonly entries: readonly HistoryEntry[]) {}

  build(): ChromeTrace {
    this.survey();
    const calls = this.collectCalls();
    const irqs = this.collectInterrupts();
    this.collectInstants();
    this.callSlices(calls);
    this.interruptSlices(irqs);
    const threads = assignLanes(this.slices);
    return { traceEvents: this.emit(threads), displayTimeUnit: 'ns' };
  }

  /** Components in order of first appearance, which of them run vCPUs, and when the run ended. */
  private survey(): void {
    const calls = new Set<string>();
    const called = new Set<string>();
    const virtualIrq = new Set<string>();
    const physicalIrq = new Set<string>();
    for (const { t, event } of this.entries) {
      this.endNs = Math.max(this.endNs, t);
      if (event.type === 'component' || event.type === 'record' || event.type === 'call-failed') {
        this.pid(event.component);
        continue;
      }
      this.pid(event.from);
      this.pid(event.to);
      if (event.type !== 'send') continue;
      const { message } = event;
      if (message.kind === 'call') {
        calls.add(event.from);
        called.add(event.to);
      } else if (message.kind === 'irq' && message.op === 'deliver') {
        (message.vm >= 0 ? virtualIrq : physicalIrq).add(event.to);
      }
    }
    for (const name of calls) if (!called.has(name) && !physicalIrq.has(name)) this.vcpuComponents.add(name);
    for (const name of virtualIrq) this.vcpuComponents.add(name);
  }

  private pid(component: string): number {
    let pid = this.pids.get(component);
    if (pid === undefined) {
      pid = this.pids.size + 1;
      this.pids.set(component, pid);
    }
    return pid;
  }

  /** The base thread of `component` for something done on behalf of this vCPU and CPU. */
  private thread(component: string, vcpu: number, cpu: number): number {
    if (this.vcpuComponents.has(component)) {
      if (vcpu >= 0) return vcpu + 1;
      return cpu >= 0 ? cpu + 1 : 0;
    }
    return cpu >= 0 ? cpu + 1 : 0;
  }

  private threadName(component: string, tid: number): string {
    if (tid === 0) return 'main';
    return `${this.vcpuComponents.has(component) ? 'vcpu' : 'cpu'} ${tid - 1}`;
  }

  private collectCalls(): CallRecord[] {
    const all: CallRecord[] = [];
    const open = new Queues<CallRecord>();
    for (const { seq, t, event } of this.entries) {
      if (event.type === 'call-failed') {
        const key = callKey(event.component, event.to, event.id);
        const record = open.find(key, (r) => r.returnDeliverT === null && r.failedT === null);
        if (record) {
          record.failedT = t;
          record.failReason = event.reason;
        }
        continue;
      }
      if (event.type !== 'send' && event.type !== 'deliver') continue;
      const { message } = event;
      if (message.kind === 'call') {
        const key = callKey(event.from, event.to, message.id);
        if (event.type === 'send') {
          const record: CallRecord = {
            caller: event.from,
            callee: event.to,
            call: message,
            sendT: t,
            sendSeq: seq,
            deliverT: null,
            deliverSeq: seq,
            returnSendT: null,
            returnRegs: null,
            returnDeliverT: null,
            failedT: null,
            failReason: null,
          };
          open.trim(key, (r) => r.returnDeliverT !== null || r.failedT !== null);
          open.push(key, record);
          all.push(record);
        } else {
          const record = open.find(key, (r) => r.deliverT === null);
          if (record) {
            record.deliverT = t;
            record.deliverSeq = seq;
          }
        }
      } else if (message.kind === 'return') {
        // A return travels callee → caller with the call's id.
        const key = callKey(event.to, event.from, message.id);
        if (event.type === 'send') {
          const record = open.find(key, (r) => r.deliverT !== null && r.returnSendT === null);
          if (record) {
            record.returnSendT = t;
            record.returnRegs = message.regs;
          }
        } else {
          const record = open.find(key, (r) => r.returnSendT !== null && r.returnDeliverT === null);
          if (record) record.returnDeliverT = t;
        }
      }
    }
    return all;
  }

  private collectInterrupts(): IrqFrame[] {
    const frames: IrqFrame[] = [];
    const inTransit = new Queues<IrqFrame>();
    /** Per GIC: raises that arrived and wait for the delivery they end in. */
    const waiting = new Queues<IrqFrame>();
    /** Per target: deliveries that arrived and wait for their EOI. */
    const handling = new Queues<IrqFrame>();
    for (const { seq, t, event } of this.entries) {
      if (event.type !== 'send' && event.type !== 'deliver') continue;
      const { message: irq } = event;
      if (irq.kind !== 'irq') continue;
      if (event.type === 'send') {
        if (irq.op === 'raise' || irq.op === 'deliver') {
          const frame: IrqFrame = { from: event.from, to: event.to, irq, sendT: t, sendSeq: seq, deliverT: null, deliverSeq: seq, raises: [], eoiT: null, gicSlice: null };
          if (irq.op === 'deliver') {
            // The raises this delivery answers: those for the same INTID and target, or raised for
            // no particular CPU and delivered on this one.
            frame.raises = waiting.take(`${event.from}${FIFO_KEY_SEP}${irqKey(irq)}`);
            if (frame.raises.length === 0 && irq.cpu >= 0) frame.raises = waiting.take(`${event.from}${FIFO_KEY_SEP}${irqKey({ ...irq, cpu: -1 })}`);
          }
          inTransit.push(frameKey(event.from, event.to, irq), frame);
          frames.push(frame);
        } else if (irq.op === 'eoi') {
          const key = `${event.from}${FIFO_KEY_SEP}${irqKey(irq)}`;
          const frame = handling.findLast(key, (f) => f.eoiT === null);
          if (frame) frame.eoiT = t;
          handling.trim(key, (f) => f.eoiT !== null);
        }
        continue;
      }
      if (irq.op !== 'raise' && irq.op !== 'deliver') continue;
      const key = frameKey(event.from, event.to, irq);
      const frame = inTransit.find(key, (f) => f.deliverT === null);
      if (!frame) continue;
      frame.deliverT = t;
      frame.deliverSeq = seq;
      inTransit.trim(key, (f) => f.deliverT !== null);
      if (irq.op === 'raise') waiting.push(`${event.to}${FIFO_KEY_SEP}${irqKey(irq)}`, frame);
      else handling.push(`${event.to}${FIFO_KEY_SEP}${irqKey(irq)}`, frame);
    }
    return frames;
  }

  private collectInstants(): void {
    for (const { seq, t, event } of this.entries) {
      switch (event.type) {
        case 'record': {
          const data = event.data;
          // A guest's record names its vCPU; a firmware component's, the physical CPU (its `vcpu`
          // fields are the guest's, which is not where it runs).
          const field = this.vcpuComponents.has(event.component) ? data.vcpu : data.cpu;
          const index = typeof field === 'number' && Number.isInteger(field) ? field : -1;
          const tid = this.vcpuComponents.has(event.component) ? this.thread(event.component, index, -1) : this.thread(event.component, -1, index);
          this.instant(event.component, tid, t, recordName(data), 'record', 't', jsonSafe(data) as Record<string, unknown>, seq);
          break;
        }
        case 'fault':
          this.instant(event.from, 0, t, `fault: ${event.action} (${event.rule})`, 'fault', 'p', {
            rule: event.rule,
            action: event.action,
            from: event.from,
            to: event.to,
            message: describeMessage(event.message),
          }, seq);
          break;
        case 'refused':
          this.instant(event.from, 0, t, `refused: ${event.reason}`, 'refused', 't', { to: event.to, reason: event.reason, message: describeMessage(event.message) }, seq);
          break;
        case 'call-failed':
          this.instant(event.component, 0, t, `call failed: ${event.reason}`, 'call-failed', 't', { to: event.to, id: event.id, reason: event.reason }, seq);
          break;
        case 'component':
          this.instant(event.component, 0, t, `${event.component} ${event.event}`, 'component', 'p', { event: event.event, detail: event.detail }, seq);
          break;
        case 'deliver': {
          const { message } = event;
          if (message.kind === 'control' || message.kind === 'lifecycle' || message.kind === 'protocol-error') {
            this.instant(event.to, 0, t, describeMessage(message), message.kind, 't', { from: event.from, message: jsonSafe(message) }, seq);
          }
          break;
        }
        case 'send':
          break;
      }
    }
  }

  private instant(component: string, tid: number, t: number, name: string, cat: string, scope: 't' | 'p', args: Record<string, unknown>, order: number): void {
    this.instants.push({ pid: this.pid(component), tid, t, name, cat, scope, args, order });
  }

  private slice(component: string, base: number, startNs: number, endNs: number, name: string, cat: string, args: Record<string, unknown>, order: number): Slice {
    const slice: Slice = { pid: this.pid(component), base, tid: base, startNs, endNs: Math.max(startNs, endNs), name, cat, args, order };
    this.slices.push(slice);
    return slice;
  }

  private flow(name: string, from: Slice, to: Slice): void {
    this.flows.push({ id: this.nextFlowId++, name, from, to });
  }

  private callSlices(calls: readonly CallRecord[]): void {
    for (const record of calls) {
      const { call } = record;
      const abi = abiOfRegs(call.regs);
      const result = record.returnRegs
        ? resultOfRegs(record.returnRegs)
        : record.failReason !== null
          ? `failed: ${record.failReason}`
          : 'no return';
      const common = { id: call.id, endpoint: endpointHex(call.endpoint), conduit: call.conduit, vcpu: call.vcpu, cpu: call.cpu, result };
      const callerEnd = record.returnDeliverT ?? record.failedT ?? this.endNs;
      const callerSlice = this.slice(
        record.caller,
        this.thread(record.caller, call.vcpu, call.cpu),
        record.sendT,
        callerEnd,
        `${abi} → ${record.callee}`,
        'call-out',
        { callee: record.callee, ...common, in: regsArg(call.regs) },
        record.sendSeq,
      );
      if (record.deliverT === null) continue;
      const calleeSlice = this.slice(
        record.callee,
        this.thread(record.callee, call.vcpu, call.cpu),
        record.deliverT,
        record.returnSendT ?? this.endNs,
        abi,
        'call',
        { caller: record.caller, ...common, in: regsArg(call.regs), out: record.returnRegs ? regsArg(record.returnRegs) : null },
        record.deliverSeq,
      );
      this.flow('call', callerSlice, calleeSlice);
    }
  }

  private interruptSlices(frames: readonly IrqFrame[]): void {
    for (const frame of frames) {
      const { irq } = frame;
      const args = { intid: irq.intid, group: irq.group, cpu: irq.cpu, vm: irq.vm, vcpu: irq.vcpu, from: frame.from, to: frame.to };
      if (irq.op === 'raise') {
        // Where it is raised: an instant-like slice, so the flow has something to start from.
        const raised = this.slice(frame.from, this.thread(frame.from, irq.vcpu, irq.cpu), frame.sendT, frame.sendT, `raise irq ${irq.intid}`, 'irq', args, frame.sendSeq);
        if (frame.deliverT === null) continue;
        // Ended by the delivery it merges into; filled in below when that delivery is seen.
        frame.gicSlice = this.slice(frame.to, this.thread(frame.to, -1, irq.cpu), frame.deliverT, frame.deliverT, `gic: irq ${irq.intid} raised`, 'irq', args, frame.deliverSeq);
        this.flow('irq', raised, frame.gicSlice);
        continue;
      }
      if (frame.deliverT === null) continue;
      for (const raise of frame.raises) {
        if (raise.gicSlice) raise.gicSlice.endNs = Math.max(raise.gicSlice.endNs, frame.sendT);
      }
      const handled = this.slice(
        frame.to,
        this.thread(frame.to, irq.vcpu, irq.cpu),
        frame.deliverT,
        frame.eoiT !== null && frame.eoiT >= frame.deliverT ? frame.eoiT : frame.deliverT,
        `irq ${irq.intid}`,
        'irq',
        { ...args, eoi: frame.eoiT !== null, raises: frame.raises.length },
        frame.deliverSeq,
      );
      for (const raise of frame.raises) {
        if (raise.gicSlice) this.flow('irq', raise.gicSlice, handled);
      }
    }
  }

  private emit(overlapThreads: ReadonlyMap<string, { pid: number; base: number; lane: number }>): TraceEvent[] {
    const metadata: TraceEvent[] = [];
    const componentOf = new Map<number, string>();
    for (const [component, pid] of this.pids) {
      componentOf.set(pid, component);
      metadata.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: component } });
      metadata.push({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } });
    }
    const threads = new Map<string, { pid: number; tid: number; name: string; sort: number }>();
    const useThread = (pid: number, tid: number, base: number, lane: number) => {
      const key = `${pid}/${tid}`;
      if (threads.has(key)) return;
      const baseName = this.threadName(componentOf.get(pid) ?? '', base);
      threads.set(key, { pid, tid, name: lane === 0 ? baseName : `${baseName} (overlap ${lane})`, sort: base * 100 + lane });
    };
    for (const { pid, base, lane } of overlapThreads.values()) useThread(pid, base + lane * LANE_STRIDE, base, lane);
    for (const instant of this.instants) useThread(instant.pid, instant.tid, instant.tid, 0);
    for (const pid of this.pids.values()) useThread(pid, 0, 0, 0);
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
    for (const flow of this.flows) {
      add(flowsFrom, flow.from, flow);
      add(flowsTo, flow.to, flow);
    }
    for (const slice of this.slices) {
      const ts = nsToUs(slice.startNs);
      const negDur = -(slice.endNs - slice.startNs);
      const keyed = (sub: number, event: TraceEvent): Keyed => ({ t: slice.startNs, group: 0, negDur, order: slice.order, sub, event });
      timed.push(keyed(0, { name: slice.name, cat: slice.cat, ph: 'X', ts, dur: nsToUs(slice.endNs - slice.startNs), pid: slice.pid, tid: slice.tid, args: slice.args }));
      let sub = 1;
      for (const flow of flowsFrom.get(slice) ?? []) timed.push(keyed(sub++, { name: flow.name, cat: 'flow', ph: 's', id: flow.id, ts, pid: slice.pid, tid: slice.tid }));
      for (const flow of flowsTo.get(slice) ?? []) timed.push(keyed(sub++, { name: flow.name, cat: 'flow', ph: 'f', bp: 'e', id: flow.id, ts, pid: slice.pid, tid: slice.tid }));
    }
    for (const instant of this.instants) {
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
}

/** Overlap threads of a track get tids base + lane × LANE_STRIDE. */
export const LANE_STRIDE = 1000;

/**
 * Puts each slice on its track's own thread when it nests there, else on the first overlap thread
 * where it nests (a new one if none). A slice nests on a thread when every slice still open there
 * at its start also contains its end. Returns the threads used, keyed "pid/tid".
 */
function assignLanes(slices: Slice[]): Map<string, { pid: number; base: number; lane: number }> {
  const used = new Map<string, { pid: number; base: number; lane: number }>();
  const byTrack = new Map<string, Slice[]>();
  for (const slice of slices) {
    const key = `${slice.pid}/${slice.base}`;
    const list = byTrack.get(key);
    if (list) list.push(slice);
    else byTrack.set(key, [slice]);
  }
  for (const list of byTrack.values()) {
    list.sort((a, b) => a.startNs - b.startNs || b.endNs - a.endNs || a.order - b.order);
    /** Per lane: the ends of the slices open there, innermost last. */
    const lanes: number[][] = [];
    for (const slice of list) {
      let lane = 0;
      for (; lane < lanes.length; lane++) {
        const open = lanes[lane] as number[];
        while (open.length > 0 && (open[open.length - 1] as number) <= slice.startNs) open.pop();
        if (open.length === 0 || slice.endNs <= (open[open.length - 1] as number)) break;
      }
      if (lane === lanes.length) lanes.push([]);
      (lanes[lane] as number[]).push(slice.endNs);
      slice.tid = slice.base + lane * LANE_STRIDE;
      used.set(`${slice.pid}/${slice.tid}`, { pid: slice.pid, base: slice.base, lane });
    }
  }
  return used;
}

/** The history as a Chrome trace-event object: `JSON.stringify` it to write trace.json. */
export function buildTrace(entries: readonly HistoryEntry[]): ChromeTrace {
  return new TraceBuilder(entries).build();
}
