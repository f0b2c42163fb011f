/**
 * A run's history as a Chrome trace-event file (docs/design.md §8: `trace.json`, "one track per
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
import type { TraceDetail } from './trace-detail.ts';
import { CounterTracks, type Span } from './trace-counters.ts';
import type { WorldModel } from '../scenario/types.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import { abiOfRegs, describeMessage, recordName, resultOfRegs } from './describe.ts';
import { hex } from '../../../shared/ffa/format.ts';
import { jsonSafe } from './escape.ts';
import { emitTrace, nsToUs } from './trace-emit.ts';
import { assignLanes } from './trace-lanes.ts';
import type { ChromeTrace, Flow, Instant, Slice, TraceEvent } from './trace-model.ts';
import { CallPairing, InterruptPairing, type CallRecord, type IrqFrame } from './trace-pairing.ts';
import type { JudgeObserver } from '../checkers/judge.ts';
import { judgeEntries } from '../checkers/judge.ts';
import type { Episode } from '../checkers/ledger.ts';

/** Registers as hex, trailing zero registers left out (most of x0..x17 are zero). */
function regsArg(regs: RegisterFile): string[] {
  let last = regs.length - 1;
  while (last > 0 && regs[last] === 0n) last--;
  return regs.slice(0, last + 1).map((r) => hex(r));
}

const endpointHex = (id: number) => `0x${id.toString(16).padStart(4, '0')}`;

/** An instant whose thread is known only once the whole history has said which components run vCPUs. */
interface PendingInstant extends Omit<Instant, 'pid' | 'tid'> {
  component: string;
  /** A record's `vcpu` and `cpu` fields; null for an instant on thread 0. */
  fields: { vcpu: unknown; cpu: unknown } | null;
}

/** Counter points kept per series: in a full trace, and in a summary (a load run's default). */
const FULL_COUNTER_POINTS = 20_000;
const SUMMARY_COUNTER_POINTS = 500;
/** A summary keeps faults and components' starts, stops and crashes: what explains the counters. */
const SUMMARY_INSTANTS: ReadonlySet<HistoryEntry['event']['type']> = new Set(['fault', 'component']);

// ---------------------------------------------------------------- the builder

/**
 * The trace as a fold over the judging pass (checkers/judge.ts): components and their threads,
 * instants and, in a full trace, every call and interrupt frame paired as the entries come; the
 * counter tracks (trace-counters.ts) with the ledger's episodes. A full trace holds a slice per
 * message: it is for histories small enough to draw, and the runner makes a summary of larger ones.
 */
export class TraceFold implements JudgeObserver {
  private readonly pids = new Map<string, number>();
  private readonly vcpuComponents = new Set<string>();
  private readonly callers = new Set<string>();
  private readonly called = new Set<string>();
  private readonly virtualIrq = new Set<string>();
  private readonly physicalIrq = new Set<string>();
  private readonly slices: Slice[] = [];
  private readonly flows: Flow[] = [];
  private readonly pendingInstants: PendingInstant[] = [];
  private readonly callPairing: CallPairing | null;
  private readonly irqPairing: InterruptPairing | null;
  private readonly counters: CounterTracks;
  private nextFlowId = 1;
  private endNs = 0;

  constructor(
    readonly detail: Exclude<TraceDetail, 'none'>,
    model: WorldModel | null,
    span: Span,
  ) {
    const full = detail === 'full';
    this.callPairing = full ? new CallPairing() : null;
    this.irqPairing = full ? new InterruptPairing() : null;
    this.counters = new CounterTracks(model, span, full ? FULL_COUNTER_POINTS : SUMMARY_COUNTER_POINTS);
  }

  take(entry: HistoryEntry): void {
    this.survey(entry);
    if (this.detail === 'full' || SUMMARY_INSTANTS.has(entry.event.type)) this.collectInstant(entry);
    this.callPairing?.take(entry);
    this.irqPairing?.take(entry);
    this.counters.take(entry);
  }

  created(episode: Episode): void {
    this.counters.created(episode);
  }

  returned(episode: Episode): void {
    this.counters.returned(episode);
  }

  build(): ChromeTrace {
    for (const name of this.callers) if (!this.called.has(name) && !this.physicalIrq.has(name)) this.vcpuComponents.add(name);
    for (const name of this.virtualIrq) this.vcpuComponents.add(name);
    if (this.callPairing) this.callSlices(this.callPairing.all);
    if (this.irqPairing) this.interruptSlices(this.irqPairing.frames);
    const instants = this.pendingInstants.map((i) => this.placeInstant(i));
    const lanes = assignLanes(this.slices);
    const threadName = (component: string, tid: number) => this.threadName(component, tid);
    const events = emitTrace({ processes: this.pids, threadName, slices: this.slices, flows: this.flows, instants, lanes });
    const counterEvents: TraceEvent[] = this.counters.points().map((p) => ({ name: p.name, ph: 'C', pid: this.pid(p.component), tid: 0, ts: nsToUs(p.t), args: { [p.series]: p.value } }));
    const firstTimed = events.findIndex((e) => e.ph !== 'M');
    const at = firstTimed < 0 ? events.length : firstTimed;
    return { traceEvents: [...events.slice(0, at), ...mergeByTime(events.slice(at), counterEvents)], displayTimeUnit: 'ns' };
  }

  /** Components in order of first appearance, which of them run vCPUs, and when the run ended. */
  private survey({ t, event }: HistoryEntry): void {
    this.endNs = Math.max(this.endNs, t);
    if (event.type === 'component' || event.type === 'record' || event.type === 'call-failed') {
      this.pid(event.component);
      return;
    }
    this.pid(event.from);
    this.pid(event.to);
    if (event.type !== 'send') return;
    const { message } = event;
    if (message.kind === 'call') {
      this.callers.add(event.from);
      this.called.add(event.to);
    } else if (message.kind === 'irq' && message.op === 'deliver') {
      (message.vm >= 0 ? this.virtualIrq : this.physicalIrq).add(event.to);
    }
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

  private collectInstant({ seq, t, event }: HistoryEntry): void {
    switch (event.type) {
      case 'record':
        this.instant(event.component, { vcpu: event.data.vcpu, cpu: event.data.cpu }, t, recordName(event.data), 'record', 't', jsonSafe(event.data) as Record<string, unknown>, seq);
        break;
      case 'fault':
        this.instant(event.from, null, t, `fault: ${event.action} (${event.rule})`, 'fault', 'p', {
          rule: event.rule,
          action: event.action,
          from: event.from,
          to: event.to,
          message: describeMessage(event.message),
        }, seq);
        break;
      case 'refused':
        this.instant(event.from, null, t, `refused: ${event.reason}`, 'refused', 't', { to: event.to, reason: event.reason, message: describeMessage(event.message) }, seq);
        break;
      case 'call-failed':
        this.instant(event.component, null, t, `call failed: ${event.reason}`, 'call-failed', 't', { to: event.to, id: event.id, reason: event.reason }, seq);
        break;
      case 'component':
        this.instant(event.component, null, t, `${event.component} ${event.event}`, 'component', 'p', { event: event.event, detail: event.detail }, seq);
        break;
      case 'deliver': {
        const { message } = event;
        if (message.kind === 'control' || message.kind === 'lifecycle' || message.kind === 'protocol-error') {
          this.instant(event.to, null, t, describeMessage(message), message.kind, 't', { from: event.from, message: jsonSafe(message) }, seq);
        }
        break;
      }
      case 'send':
        break;
    }
  }

  private instant(component: string, fields: PendingInstant['fields'], t: number, name: string, cat: string, scope: 't' | 'p', args: Record<string, unknown>, order: number): void {
    this.pendingInstants.push({ component, fields, t, name, cat, scope, args, order });
  }

  /**
   * An instant on its thread: a guest's record names its vCPU; a firmware component's, the
   * physical CPU (its `vcpu` fields are the guest's, which is not where it runs).
   */
  private placeInstant({ component, fields, ...instant }: PendingInstant): Instant {
    if (!fields) return { ...instant, pid: this.pid(component), tid: 0 };
    const runsVcpus = this.vcpuComponents.has(component);
    const field = runsVcpus ? fields.vcpu : fields.cpu;
    const index = typeof field === 'number' && Number.isInteger(field) ? field : -1;
    return { ...instant, pid: this.pid(component), tid: runsVcpus ? this.thread(component, index, -1) : this.thread(component, -1, index) };
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
}

/** Two lists each sorted by ts, merged (counters after other events at the same time). */
function mergeByTime(events: readonly TraceEvent[], counters: readonly TraceEvent[]): TraceEvent[] {
  const merged: TraceEvent[] = [];
  let c = 0;
  for (const event of events) {
    while (c < counters.length && (counters[c]?.ts ?? 0) < (event.ts ?? 0)) merged.push(counters[c++] as TraceEvent);
    merged.push(event);
  }
  while (c < counters.length) merged.push(counters[c++] as TraceEvent);
  return merged;
}

/**
 * A history held in memory as a Chrome trace-event object: `JSON.stringify` it to write
 * trace.json. `detail` summary leaves out the slices, flows and records (one each per message or
 * event) and keeps the counter tracks, faults and component events; the model, when known, adds
 * the SPMC's pending bits (the checkers' ledger, so the history is judged for it).
 */
export function buildTrace(entries: readonly HistoryEntry[], options: { detail?: Exclude<TraceDetail, 'none'>; model?: WorldModel } = {}): ChromeTrace {
  let startNs = entries.length > 0 ? Infinity : 0;
  let endNs = 0;
  for (const { t } of entries) {
    startNs = Math.min(startNs, t);
    endNs = Math.max(endNs, t);
  }
  const span = { startNs, endNs };
  const fold = new TraceFold(options.detail ?? 'full', options.model ?? null, span);
  if (options.model) judgeEntries(entries, options.model, { observers: [fold] });
  else for (const entry of entries) fold.take(entry);
  return fold.build();
}
