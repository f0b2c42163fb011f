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
  /** Its place among the history's calls (first seen first): failures are listed in this order. */
  readonly order: number;
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
  /** The callee recorded `call-refused` while the call was open there (delivered, not yet answered). */
  refusedWhileOpen: boolean;
  /** Nothing more can happen to it: answered and the answer delivered, failed in place, or the history ended. */
  settled: boolean;
  /** It and every call made to serve it are settled. */
  subtreeSettled: boolean;
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

/** What one entry did to the calls: the call it answered (the callee's first return), and the call whose answer it delivered. */
export interface CallStep {
  answered: CallRecord | null;
  answerDelivered: CallRecord | null;
}

const NO_STEP: CallStep = { answered: null, answerDelivered: null };

/**
 * The calls of a history, folded as they come. A call is kept until it is settled: answered and
 * the answer delivered (or failed in place by a fault). A forwarding chain (a tree of calls, the
 * first call at its root) is handed on once every call in it is settled, for the checkers to judge
 * as a whole; calls never settled are handed on at the end of the history. Only the unsettled
 * calls and the trees still waiting are kept, so memory follows the calls in flight.
 */
export class CallIndex {
  /** Every call, first seen first: kept only when the index is made from entries held in memory. */
  readonly calls: CallRecord[] = [];
  private readonly current = new Map<string, CallRecord>();
  /** Calls not yet settled, those a restart took out of `current` included. */
  private readonly unsettled = new Set<CallRecord>();
  /** Per component: calls delivered to it that it has not answered yet, in delivery order. */
  private readonly open = new Map<string, CallRecord[]>();
  /** Per callee: calls delivered and not yet answered, for `call-refused` (not cleared by a restart's forgetting). */
  private readonly awaitingAnswer = new Map<string, Set<CallRecord>>();
  private readonly subtreeWaiters = new Map<CallRecord, (() => void)[]>();
  private readonly rootWaiters = new Map<CallRecord, (() => void)[]>();
  private readonly rootListeners: ((root: CallRecord) => void)[] = [];
  /** Calls settled by the entry being taken, whose trees are looked at once every fold has taken it. */
  private readonly settledNow: CallRecord[] = [];
  private nextOrder = 0;
  private readonly keepAll: boolean;

  /** With entries: every call of them, kept in `calls`, the history taken as ended. */
  constructor(entries?: readonly HistoryEntry[]) {
    this.keepAll = entries !== undefined;
    if (!entries) return;
    for (const entry of entries) {
      this.take(entry);
      this.afterTake();
    }
    this.finish();
  }

  /** Called with each tree of calls (its root) once all of it is settled. */
  onRootSettled(listener: (root: CallRecord) => void): void {
    this.rootListeners.push(listener);
  }

  /** Runs `then` once the call and the calls made to serve it are settled (at once if they are). */
  whenSubtreeSettled(call: CallRecord, then: () => void): void {
    if (call.subtreeSettled) return then();
    waitOn(this.subtreeWaiters, call, then);
  }

  /** Runs `then` once the whole chain the call is part of is settled. */
  whenRootSettled(call: CallRecord, then: () => void): void {
    let root = call;
    while (root.parent) root = root.parent;
    if (root.subtreeSettled) return then();
    waitOn(this.rootWaiters, call, then);
  }

  /** Calls kept because they are not settled yet (for tests of the bound). */
  get unsettledCount(): number {
    return this.unsettled.size;
  }

  /** Calls delivered to `component` and not answered yet. */
  openAtComponent(component: string): readonly CallRecord[] {
    return this.open.get(component) ?? [];
  }

  take(entry: HistoryEntry): CallStep {
    const { event } = entry;
    if (event.type === 'component' && (event.event === 'start' || event.event === 'restart')) {
      this.forget(event.component);
      return NO_STEP;
    }
    if (event.type === 'call-failed') {
      const call = this.current.get(keyOf(event.component, event.to, event.id));
      if (call && !call.failed) call.failed = entry;
      return NO_STEP;
    }
    if (event.type === 'record' && event.data.event === 'call-refused') {
      for (const call of this.awaitingAnswer.get(event.component) ?? []) call.refusedWhileOpen = true;
      return NO_STEP;
    }
    const traffic = trafficOf(entry);
    if (traffic?.message.kind === 'call') this.onCall(traffic, traffic.message);
    else if (traffic?.message.kind === 'return') return this.onReturn(traffic, traffic.message.id, traffic.message.regs);
    return NO_STEP;
  }

  /**
   * Hands on what the entry just taken settled. Called once every fold has taken the entry, so a
   * listener finds the other folds' view of it (a GET answer's callback window) already there.
   */
  afterTake(): void {
    for (const call of this.settledNow.splice(0)) this.settleSubtree(call);
  }

  /** The end of the history: every call still unsettled is as settled as it will be. */
  finish(): void {
    for (const call of [...this.unsettled].sort((a, b) => a.order - b.order)) this.settle(call);
    this.afterTake();
  }

  /** A component (re)started: its call ids may start again, and nothing is open at it. */
  private forget(component: string): void {
    for (const [key, call] of this.current) if (call.caller === component) this.current.delete(key);
    this.open.delete(component);
    this.awaitingAnswer.delete(component);
  }

  private record(caller: string, callee: string, id: number): CallRecord {
    const key = keyOf(caller, callee, id);
    let call = this.current.get(key);
    if (!call) {
      call = {
        caller, callee, id, order: this.nextOrder++, message: null, sent: null, delivered: null, returned: null, returnRegs: null,
        returnDelivered: null, faults: [], failedInPlace: null, failed: null, parent: null, children: [], refusedWhileOpen: false,
        settled: false, subtreeSettled: false,
      };
      this.current.set(key, call);
      this.unsettled.add(call);
      if (this.keepAll) this.calls.push(call);
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
      waitingAt(this.awaitingAnswer, call.callee).add(call);
      return;
    }
    if (firstFromCaller && call.parent === null) this.linkParent(call, message);
    if (traffic.kind === 'send') call.sent ??= traffic.entry;
    else {
      call.faults.push(traffic.entry);
      if (traffic.entry.event.type === 'fault' && traffic.entry.event.action === 'fail' && !call.failedInPlace) {
        call.failedInPlace = traffic.entry;
        this.settleIfDone(call);
      }
    }
  }

  private onReturn(traffic: Traffic, id: number, regs: RegisterFile): CallStep {
    const call = this.current.get(keyOf(traffic.to, traffic.from, id));
    if (!call) return NO_STEP;
    if (traffic.kind === 'deliver') {
      if (call.returnDelivered) return NO_STEP;
      call.returnDelivered = traffic.entry;
      this.settleIfDone(call);
      return { answered: null, answerDelivered: call };
    }
    if (traffic.kind === 'fault') call.faults.push(traffic.entry);
    if (call.returned) return NO_STEP;
    call.returned = traffic.entry;
    call.returnRegs = regs;
    this.close(call);
    this.settleIfDone(call);
    return { answered: call, answerDelivered: null };
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
    this.awaitingAnswer.get(call.callee)?.delete(call);
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

  private settleIfDone(call: CallRecord): void {
    if ((call.returned && call.returnDelivered) || call.failedInPlace) this.settle(call);
  }

  private settle(call: CallRecord): void {
    if (call.settled) return;
    call.settled = true;
    this.unsettled.delete(call);
    const key = keyOf(call.caller, call.callee, call.id);
    if (this.current.get(key) === call) this.current.delete(key);
    this.settledNow.push(call);
  }

  /** A call whose own part and whose children are settled settles its subtree, and may its parent's. */
  private settleSubtree(call: CallRecord): void {
    if (call.subtreeSettled || !call.settled || !call.children.every((c) => c.subtreeSettled)) return;
    call.subtreeSettled = true;
    fire(this.subtreeWaiters, call);
    if (call.parent) return this.settleSubtree(call.parent);
    this.fireRoot(call, call);
    for (const listener of this.rootListeners) listener(call);
  }

  private fireRoot(root: CallRecord, call: CallRecord): void {
    fire(this.rootWaiters, call);
    for (const child of call.children) this.fireRoot(root, child);
  }
}

function waitOn(waiters: Map<CallRecord, (() => void)[]>, call: CallRecord, then: () => void): void {
  const list = waiters.get(call);
  if (list) list.push(then);
  else waiters.set(call, [then]);
}

function fire(waiters: Map<CallRecord, (() => void)[]>, call: CallRecord): void {
  const list = waiters.get(call);
  if (!list) return;
  waiters.delete(call);
  for (const then of list) then();
}

function waitingAt(map: Map<string, Set<CallRecord>>, component: string): Set<CallRecord> {
  let set = map.get(component);
  if (!set) {
    set = new Set();
    map.set(component, set);
  }
  return set;
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
