/**
 * The orchestrator's end of the world channel (world-channel.ts): it subscribes to each
 * component's history, joins the text back into events on one time base, and offers the
 * experimenter's powers (WorldControl) over the links, each change acknowledged by every node
 * before its `done` runs, as the supervisor's are for worker threads.
 *
 * Times: every node reports the base of its clock (process.hrtime.bigint() at its start). On one
 * machine (one kernel: processes and the containers of one docker engine) CLOCK_MONOTONIC is
 * shared, so `t + (peerBase - worldBase)` puts every event on the world's base: the earliest
 * component's start. A peer on another machine counts from its own boot: the orchestrator's node
 * estimates each peer's clock over its link (link-clocks.ts), and `t + (peerBase - offset -
 * worldBase)` puts its events on the orchestrator's clock, within that estimate's uncertainty.
 * The offsets are taken once, when the world's base is set, so one peer's events keep their order.
 */
import type { Logger } from 'pino';
import type { WorldControl } from '../component.ts';
import { decodeHistoryLine, type HistoryEvent } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import type { SentControlMessage } from '../../protocol/control.ts';
import type { Message } from '../../protocol/messages.ts';
import type { PeerClock } from './link-clocks.ts';
import { encodeJson, WORLD_OPS, type WorldComponentOp } from './world-channel.ts';

export interface WorldClientOptions {
  /** Send on the link to a peer, past any interception (WsNode.sendDirect). */
  send(to: string, message: SentControlMessage): unknown;
  /** Apply a fault change at the orchestrator's own node too. */
  changeOwnFaults(install: readonly FaultRule[], remove: readonly string[]): void;
  /** Each event of each subscribed component, on the world's time base, in arrival order. */
  onEvent(peer: string, t: number, event: HistoryEvent): void;
  log: Logger;
  /** Bound on an acknowledgement (a node that does not answer is logged, and not waited for). */
  ackTimeoutMs?: number;
  /** What the orchestrator's node knows of a peer's clock; absent or null: taken to be its own. */
  peerClock?(peer: string): PeerClock | null;
}

/** A peer's clock as the world's base was set: how its times were mapped. */
export interface PeerClockUsed {
  /** Same boot as the orchestrator's (exact), estimated over the link, or not known (taken as the same). */
  clock: 'same' | 'estimated' | 'unknown';
  /** The peer's clock minus the orchestrator's, in ns, as a bigint's decimal digits. */
  offsetNs: string;
  /** The peer's times are right within this, at the moment the base was set. */
  uncertaintyNs: number;
}

/** Characters of a partial line kept per peer (a line longer than this is a bug at the sender). */
const PARTIAL_LINE_MAX = 16 * 1024 * 1024;
const DEFAULT_ACK_TIMEOUT_MS = 5_000;

interface PeerStream {
  baseNs: bigint | null;
  /** Lines of history the peer held when it was subscribed (its world.clock says). */
  backlog: number;
  /** Lines received so far, and lines its bound dropped. */
  received: number;
  partial: string;
  /** Lines that arrived before the world's base was known. */
  early: string[];
  lost: number;
  /** Its clock minus the orchestrator's, fixed when the world's base is set. */
  offsetNs: bigint;
}

interface PendingAck {
  waiting: Set<string>;
  done: () => void;
  timer: NodeJS.Timeout;
  label: string;
}

export class WorldChannelClient {
  private readonly streams = new Map<string, PeerStream>();
  private readonly acks = new Map<number, PendingAck>();
  private readonly clockWaiters = new Set<() => void>();
  private worldBaseNs: bigint | null = null;
  private readonly clocksUsed = new Map<string, PeerClockUsed>();
  private nextRef = 1;

  constructor(private readonly options: WorldClientOptions) {}

  /** A message on the orchestrator's node; true when it was the world channel's. */
  handle(from: string, message: Message): boolean {
    if (message.kind !== 'control' || !message.op.startsWith('world.')) return false;
    const data = (typeof message.data === 'object' && message.data !== null ? message.data : {}) as Record<string, unknown>;
    if (message.op === WORLD_OPS.clock) this.onClock(from, data);
    else if (message.op === WORLD_OPS.history) this.onHistory(from, data);
    else if (message.op === WORLD_OPS.ack) this.onAck(from, data);
    else this.options.log.warn({ from, op: message.op }, 'unexpected world op: ignored');
    return true;
  }

  /** Subscribe to these peers' histories; resolves with their clock bases once every one has answered. */
  subscribe(peers: readonly string[], timeoutMs: number): Promise<Map<string, bigint>> {
    for (const peer of peers) {
      if (!this.streams.has(peer)) this.streams.set(peer, { baseNs: null, backlog: 0, received: 0, partial: '', early: [], lost: 0, offsetNs: 0n });
      this.options.send(peer, { kind: 'control', op: WORLD_OPS.subscribe, data: {} });
    }
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const missing = peers.filter((p) => this.streams.get(p)?.baseNs === null);
        if (missing.length > 0) return;
        this.clockWaiters.delete(check);
        clearTimeout(timer);
        resolve(new Map(peers.map((p) => [p, this.streams.get(p)?.baseNs as bigint])));
      };
      const timer = setTimeout(() => {
        this.clockWaiters.delete(check);
        const missing = peers.filter((p) => this.streams.get(p)?.baseNs === null);
        reject(new Error(`no world.clock answer from ${missing.join(', ')} within ${timeoutMs} ms (do they serve the world channel?)`));
      }, timeoutMs);
      this.clockWaiters.add(check);
      check();
    });
  }

  /**
   * Resolves once every subscribed peer's history so far has arrived (what world.clock said it
   * held), or after `timeoutMs` (the run then starts anyway: lateness is not loss). A scenario
   * started while every component is still streaming its past would compete with that for the
   * machine's cores.
   */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const behind = (): boolean => [...this.streams.values()].some((s) => s.received + s.lost < s.backlog);
    while (behind()) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** Resolves (bounded) once the orchestrator's node knows every subscribed peer's clock; the peers it does not know. */
  async clocksKnown(timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const unknown = (): string[] => [...this.streams.keys()].filter((peer) => !this.options.peerClock?.(peer));
    while (this.options.peerClock && unknown().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.options.peerClock ? unknown() : [];
  }

  /**
   * The earliest start of the subscribed peers and `ownBaseNs`, on the orchestrator's clock: the
   * world's base. Fixes each peer's offset as its node knows it now.
   */
  earliestBase(ownBaseNs: bigint): bigint {
    let earliest = ownBaseNs;
    for (const [peer, stream] of this.streams) {
      stream.offsetNs = this.fixClock(peer);
      if (stream.baseNs !== null && stream.baseNs - stream.offsetNs < earliest) earliest = stream.baseNs - stream.offsetNs;
    }
    return earliest;
  }

  /** How each peer's times were put on the orchestrator's clock (after earliestBase). */
  peerClocks(): Record<string, PeerClockUsed> {
    return Object.fromEntries(this.clocksUsed);
  }

  /** The world's time base: from now on events flow to onEvent (those that came early first). */
  setWorldBase(baseNs: bigint): void {
    this.worldBaseNs = baseNs;
    for (const [peer, stream] of this.streams) {
      for (const line of stream.early.splice(0)) this.emit(peer, stream, line);
    }
  }

  private fixClock(peer: string): bigint {
    const clock = this.options.peerClock?.(peer) ?? null;
    if (clock === null || clock.sameClock) {
      this.clocksUsed.set(peer, { clock: clock === null ? 'unknown' : 'same', offsetNs: '0', uncertaintyNs: 0 });
      return 0n;
    }
    this.clocksUsed.set(peer, { clock: 'estimated', offsetNs: clock.offsetNs.toString(), uncertaintyNs: clock.uncertaintyNs });
    return clock.offsetNs;
  }

  /** Lines the peers' backlog bounds dropped, by peer (only non-zero ones). */
  lostLines(): Record<string, number> {
    return Object.fromEntries([...this.streams].filter(([, s]) => s.lost > 0).map(([peer, s]) => [peer, s.lost]));
  }

  /** The experimenter's powers over these peers (the ones subscribed), acknowledged by each. */
  control(): WorldControl {
    const everyone = (): string[] => [...this.streams.keys()];
    return {
      installFaults: (rules, done) => this.changeFaults(everyone(), rules, [], done),
      removeFaults: (ids, done) => this.changeFaults(everyone(), [], ids, done),
      crash: (component, detail, done) => this.componentOp(component, 'crash', detail, done),
      restart: (component, detail, done) => this.componentOp(component, 'restart', detail, done),
      stall: (component, done) => this.componentOp(component, 'stall', '', done),
      resume: (component, done) => this.componentOp(component, 'resume', '', done),
    };
  }

  /** A peer left out of the run: its stream is dropped (what it sends from now on is ignored), and nobody waits for its answers. */
  forget(peer: string): void {
    this.streams.delete(peer);
    this.peerGone(peer);
  }

  /** A peer's link closed: nothing more will come from it, and nobody waits for its answers. */
  peerGone(peer: string): void {
    for (const [ref, pending] of this.acks) {
      if (pending.waiting.delete(peer) && pending.waiting.size === 0) this.settle(ref);
    }
  }

  stop(): void {
    for (const pending of this.acks.values()) clearTimeout(pending.timer);
    this.acks.clear();
  }

  private changeFaults(peers: string[], install: FaultRule[], remove: string[], done?: () => void): void {
    this.options.changeOwnFaults(install, remove);
    const ref = this.expectAcks(peers, `faults (+${install.length} -${remove.length})`, done);
    const data = { ref, rules: encodeJson(install), remove };
    for (const peer of peers) this.options.send(peer, { kind: 'control', op: WORLD_OPS.faults, data });
  }

  private componentOp(component: string, op: WorldComponentOp, detail: string, done?: () => void): void {
    const ref = this.expectAcks([component], `${op} ${component}`, done);
    this.options.send(component, { kind: 'control', op: WORLD_OPS.component, data: { ref, op, detail } });
  }

  private expectAcks(peers: string[], label: string, done?: () => void): number {
    const ref = this.nextRef++;
    const timeoutMs = this.options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    const timer = setTimeout(() => {
      const pending = this.acks.get(ref);
      if (pending) this.options.log.warn({ label, waiting: [...pending.waiting] }, `no acknowledgement within ${timeoutMs} ms; going on`);
      this.settle(ref);
    }, timeoutMs);
    this.acks.set(ref, { waiting: new Set(peers), done: done ?? (() => {}), timer, label });
    if (peers.length === 0) this.settle(ref);
    return ref;
  }

  private settle(ref: number): void {
    const pending = this.acks.get(ref);
    if (!pending) return;
    this.acks.delete(ref);
    clearTimeout(pending.timer);
    pending.done();
  }

  private onAck(from: string, data: Record<string, unknown>): void {
    const ref = typeof data['ref'] === 'number' ? data['ref'] : -1;
    if (data['ok'] !== true) this.options.log.warn({ from, ref, reason: data['reason'] }, 'a world change was refused');
    const pending = this.acks.get(ref);
    if (pending?.waiting.delete(from) && pending.waiting.size === 0) this.settle(ref);
  }

  private onClock(from: string, data: Record<string, unknown>): void {
    const stream = this.streams.get(from);
    const base = data['baseNs'];
    if (!stream || typeof base !== 'string' || !/^\d{1,20}$/.test(base)) {
      this.options.log.warn({ from }, 'world.clock not asked for, or without a base: ignored');
      return;
    }
    stream.baseNs = BigInt(base);
    stream.backlog = typeof data['backlog'] === 'number' ? data['backlog'] : 0;
    for (const waiter of [...this.clockWaiters]) waiter();
  }

  private onHistory(from: string, data: Record<string, unknown>): void {
    const stream = this.streams.get(from);
    if (!stream) return;
    const lost = typeof data['lost'] === 'number' ? data['lost'] : 0;
    if (lost > 0) {
      // The lines between are gone, a partial one with them.
      stream.lost += lost;
      stream.partial = '';
    }
    const parts = data['parts'];
    if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) {
      this.options.log.warn({ from }, 'world.history without text parts: ignored');
      return;
    }
    const text = stream.partial + parts.join('');
    const lines = text.split('\n');
    stream.partial = lines.pop() ?? '';
    if (stream.partial.length > PARTIAL_LINE_MAX) throw new Error(`bug: ${from} sent a history line longer than ${PARTIAL_LINE_MAX} characters`);
    stream.received += lines.length;
    for (const line of lines) {
      if (this.worldBaseNs === null) stream.early.push(line);
      else this.emit(from, stream, line);
    }
  }

  private emit(peer: string, stream: PeerStream, line: string): void {
    if (line.length === 0) return;
    const entry = decodeHistoryLine(line);
    const offset = Number((stream.baseNs ?? 0n) - stream.offsetNs - (this.worldBaseNs ?? 0n));
    this.options.onEvent(peer, entry.t + offset, entry.event);
  }
}
