/**
 * Calls and returns, correlated from the history (docs/design.md §8), and the forwarding chains
 * that carry one call across components (guest → hypervisor → SPMD → SPMC).
 *
 * - A return's id is its call's id, between the same two components, going the other way. Ids are
 *   unique per caller while in flight and count up per caller, so (caller, callee, id) names one
 *   call until the caller restarts.
 * - Under the ws runtime the history interleaves components in the order their reports arrive,
 *   not causally; one component's own events are in order. So every "before" this file decides is
 *   between two events of the same component.
 * - A forwarder P (SPMD, hypervisor) makes its outgoing call while the incoming one it serves is
 *   open at P (delivered, not yet answered by P), with the same function ID; it answers the
 *   incoming call after the outgoing one's return reached it.
 */
import { w, type RegisterFile } from '../../../shared/ffa/registers.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CallMessage, Message } from '../../../shared/protocol/messages.ts';

export interface CallRecord {
  readonly caller: string;
  readonly callee: string;
  readonly id: number;
  /** The call as first seen (send, fault or deliver). */
  message: CallMessage | null;
  /** The caller's first send; null when a fault dropped or failed it before it left. */
  sent: HistoryEntry | null;
  /** The callee's first delivery of it. */
  delivered: HistoryEntry | null;
  /**
   * The callee's answer: its first send of the return, or a fault applied to the return as it left
   * the callee (the answer was made, and its effects, such as GET clearing bits, happened).
   */
  returned: HistoryEntry | null;
  returnRegs: RegisterFile | null;
  /** The caller's first delivery of the return. */
  returnDelivered: HistoryEntry | null;
  /** Faults applied to the call or to its return. */
  faults: HistoryEntry[];
  /** A `fail` fault answered it in place of the callee. */
  failedInPlace: HistoryEntry | null;
  /** The caller gave up on it (timeout, unreachable, busy). */
  failed: HistoryEntry | null;
  /** The incoming call this one was made to serve, at a forwarder. */
  parent: CallRecord | null;
  children: CallRecord[];
}

export function fidOfCall(call: CallRecord): number | null {
  return call.message ? w(call.message.regs, 0) : null;
}

const isCallFault = (entry: HistoryEntry): boolean => entry.event.type === 'fault' && entry.event.message.kind === 'call';

const keyOf = (caller: string, callee: string, id: number): string => `${caller}>${callee}#${id}`;

type Traffic = { entry: HistoryEntry; kind: 'send' | 'deliver' | 'fault'; from: string; to: string; message: Message };

function trafficOf(entry: HistoryEntry): Traffic | null {
  const { event } = entry;
  if (event.type !== 'send' && event.type !== 'deliver' && event.type !== 'fault') return null;
  return { entry, kind: event.type, from: event.from, to: event.to, message: event.message };
}

/** Every call of a history, with its return and its place in a forwarding chain. */
export class CallIndex {
  readonly calls: CallRecord[] = [];
  /** A call by the seq of its callee's (first) return. */
  readonly byReturnSeq = new Map<number, CallRecord>();
  private readonly current = new Map<string, CallRecord>();
  /** Per component: calls delivered to it that it has not answered yet, in delivery order. */
  private readonly open = new Map<string, CallRecord[]>();

  constructor(entries: readonly HistoryEntry[]) {
    for (const entry of entries) this.take(entry);
  }

  private take(entry: HistoryEntry): void {
    const { event } = entry;
    if (event.type === 'component' && (event.event === 'start' || event.event === 'restart')) return this.forget(event.component);
    if (event.type === 'call-failed') {
      const call = this.current.get(keyOf(event.component, event.to, event.id));
      if (call && !call.failed) call.failed = entry;
      return;
    }
    const traffic = trafficOf(entry);
    if (traffic?.message.kind === 'call') this.onCall(traffic, traffic.message);
    else if (traffic?.message.kind === 'return') this.onReturn(traffic, traffic.message.id, traffic.message.regs);
  }

  /** A component (re)started: its call ids may start again, and nothing is open at it. */
  private forget(component: string): void {
    for (const [key, call] of this.current) if (call.caller === component) this.current.delete(key);
    this.open.delete(component);
  }

  private record(caller: string, callee: string, id: number): CallRecord {
    const key = keyOf(caller, callee, id);
    let call = this.current.get(key);
    if (!call) {
      call = {
        caller, callee, id, message: null, sent: null, delivered: null, returned: null, returnRegs: null,
        returnDelivered: null, faults: [], failedInPlace: null, failed: null, parent: null, children: [],
      };
      this.current.set(key, call);
      this.calls.push(call);
    }
    return call;
  }

  private onCall(traffic: Traffic, message: CallMessage): void {
    const call = this.record(traffic.from, traffic.to, message.id);
    const firstFromCaller = call.sent === null && !call.faults.some(isCallFault);
    call.message ??= message;
    if (traffic.kind === 'deliver') {
      if (call.delivered) return;
      call.delivered = traffic.entry;
      this.openAt(call.callee).push(call);
      return;
    }
    if (firstFromCaller && call.parent === null) this.linkParent(call, message);
    if (traffic.kind === 'send') call.sent ??= traffic.entry;
    else {
      call.faults.push(traffic.entry);
      if (traffic.entry.event.type === 'fault' && traffic.entry.event.action === 'fail') call.failedInPlace ??= traffic.entry;
    }
  }

  private onReturn(traffic: Traffic, id: number, regs: RegisterFile): void {
    const call = this.current.get(keyOf(traffic.to, traffic.from, id));
    if (!call) return;
    if (traffic.kind === 'deliver') {
      call.returnDelivered ??= traffic.entry;
      return;
    }
    if (traffic.kind === 'fault') call.faults.push(traffic.entry);
    if (call.returned) return;
    call.returned = traffic.entry;
    call.returnRegs = regs;
    this.byReturnSeq.set(traffic.entry.seq, call);
    this.close(call);
  }

  private openAt(component: string): CallRecord[] {
    let list = this.open.get(component);
    if (!list) {
      list = [];
      this.open.set(component, list);
    }
    return list;
  }

  private close(call: CallRecord): void {
    const list = this.open.get(call.callee);
    const index = list?.indexOf(call) ?? -1;
    if (list && index >= 0) list.splice(index, 1);
  }

  /** The open incoming call at the caller with the same function ID (and w1, when one matches). */
  private linkParent(call: CallRecord, message: CallMessage): void {
    const fid = w(message.regs, 0);
    const candidates = (this.open.get(call.caller) ?? []).filter((c) => c.children.length === 0 && c.message !== null && w(c.message.regs, 0) === fid);
    const sameW1 = candidates.filter((c) => c.message !== null && w(c.message.regs, 1) === w(message.regs, 1));
    const parent = sameW1.at(-1) ?? candidates.at(-1);
    if (!parent) return;
    call.parent = parent;
    parent.children.push(call);
  }
}

/** Where the answer to a call ended up. */
export type ChainEnd =
  /** The answer reached the component that made the first call of the chain. */
  | { kind: 'delivered'; top: CallRecord; component: string; entry: HistoryEntry; regs: RegisterFile }
  /** It stopped on the way: `at` is the call whose answer went no further. */
  | { kind: 'broken'; at: CallRecord; why: string; evidence: HistoryEntry[] };

/**
 * Follow a call's answer up its forwarding chain to the component that first asked (the answer
 * must leave each forwarder after it arrived there, both events of the forwarder's own).
 */
export function followAnswer(call: CallRecord): ChainEnd {
  let current = call;
  for (;;) {
    const broken = brokenHop(current);
    if (broken) return broken;
    const arrived = current.returnDelivered as HistoryEntry;
    const parent = current.parent;
    if (!parent) return { kind: 'delivered', top: current, component: current.caller, entry: arrived, regs: current.returnRegs as RegisterFile };
    if (parent.returned && parent.returned.seq < arrived.seq) {
      return broke(parent, `${parent.callee} answered ${parent.caller}'s call #${parent.id} before the forwarded call's answer arrived`, [parent.returned, arrived]);
    }
    current = parent;
  }
}

function brokenHop(call: CallRecord): ChainEnd | null {
  if (call.returnDelivered) return null;
  const stopped = call.faults.filter((f) => f.event.type === 'fault' && f.event.message.kind === 'return');
  if (stopped.length > 0) return broke(call, `a fault stopped ${call.callee}'s answer to ${call.caller}`, [call.returned, ...stopped, call.failed]);
  if (!call.returned) return broke(call, `${call.callee} never answered ${call.caller}'s call #${call.id}`, [call.delivered, ...call.faults, call.failed]);
  return broke(call, `${call.callee}'s answer to ${call.caller} was never delivered`, [call.returned, call.failed]);
}

function broke(at: CallRecord, why: string, evidence: readonly (HistoryEntry | null)[]): ChainEnd {
  return { kind: 'broken', at, why, evidence: evidence.filter((e): e is HistoryEntry => e !== null) };
}

/** The deepest call below `top` (same function ID all the way) that `component` answered. */
export function originAt(top: CallRecord, component: string): CallRecord | null {
  if (top.callee === component) return top;
  const fid = fidOfCall(top);
  for (let index = top.children.length - 1; index >= 0; index--) {
    const child = top.children[index] as CallRecord;
    if (fidOfCall(child) !== fid) continue;
    const found = originAt(child, component);
    if (found) return found;
  }
  return null;
}
