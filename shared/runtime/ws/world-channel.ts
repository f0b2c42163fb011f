/**
 * The world channel: what a supervisor does for a world of worker threads (supervisor.ts), done
 * over the links of a world whose components run as separate processes or containers (docker
 * compose). An orchestrator that attaches to a running world (services/orchestrator/run/attach.ts) sends
 * control frames with `world.*` ops on its link to each component; the component's node answers
 * them itself, and they never reach the component:
 *
 *   world.subscribe {}                        → world.clock {name, baseNs, backlog}, then world.history
 *                                               frames: the node's history so far, then each new event
 *   world.faults {ref, rules, remove}         → the node's interception point changes; world.ack {ref, ok, reason}
 *   world.component {ref, op, detail}         → crash | restart | stall | resume this component; world.ack
 *
 * History travels as text: JSON lines (history.ts encoding, times on the node's own clock, whose
 * base world.clock gives) cut into strings that fit the wire's bounds (wire/validate.ts: 4096
 * characters a string, 64 KiB a frame); the receiver joins them and splits at newlines. A node
 * keeps a bounded backlog of its history, so an orchestrator that attaches late still sees how
 * the guests probed; what the bound dropped is counted and reported (`lost`), never hidden.
 */
import type { Logger } from 'pino';
import type { ComponentHost } from '../component-host.ts';
import { encodeHistoryLine, type HistoryEvent } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import type { ControlOp, SentControlMessage, WorldComponentOp } from '../../protocol/control.ts';
import type { ControlMessage, Message } from '../../protocol/messages.ts';
import type { LinkSendRefusal } from './link.ts';

export const WORLD_OPS = {
  subscribe: 'world.subscribe',
  clock: 'world.clock',
  history: 'world.history',
  faults: 'world.faults',
  component: 'world.component',
  ack: 'world.ack',
} as const satisfies Record<string, ControlOp>;

export type { WorldComponentOp };
const COMPONENT_OPS: readonly string[] = ['crash', 'restart', 'stall', 'resume'] satisfies readonly WorldComponentOp[];

/** One string of a text payload (wire/validate.ts FIELD_LIMITS.dataStringLength is 4096). */
export const TEXT_PART_CHARS = 4000;
/** Text bytes per frame, well inside the 64 KiB maxPayload with msgpack's overhead. */
export const TEXT_FRAME_BYTES = 48 * 1024;

export interface BacklogLimits {
  /** History lines kept for subscribers (and for those that subscribe late). */
  lines: number;
  /** …and their total characters. */
  chars: number;
}

export const DEFAULT_BACKLOG: BacklogLimits = { lines: 500_000, chars: 128 * 1024 * 1024 };
/** Retry after the link's queue was full (backpressure), in ms. */
const RETRY_MS = 5;
/**
 * New events wait this long to go out together: one frame, and one wake-up of the orchestrator's
 * process, per interval instead of per event. On a machine with fewer cores than processes every
 * wake-up is time another component waits for a core (a 10 ms batch took the default world's
 * p50 under compose:local from 82 ms to 22–55 ms). The orchestrator's awaits allow for it
 * (orchestrator.ts WS_OBSERVATION_GRACE_NS).
 */
const FLUSH_MS = 20;

export function isWorldControl(message: Message): message is ControlMessage {
  return message.kind === 'control' && message.op.startsWith('world.');
}

/** Cut text into parts no longer than TEXT_PART_CHARS. */
export function textParts(text: string): string[] {
  const parts: string[] = [];
  for (let at = 0; at < text.length; at += TEXT_PART_CHARS) parts.push(text.slice(at, at + TEXT_PART_CHARS));
  return parts;
}

/** JSON that keeps bigints (fault rules match 64-bit function IDs). */
export function encodeJson(value: unknown): string[] {
  return textParts(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v)));
}

export function decodeJson(parts: unknown): unknown {
  if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) throw new TypeError('want an array of strings');
  return JSON.parse(parts.join(''), (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { $bigint?: unknown }).$bigint === 'string') {
      return BigInt((v as { $bigint: string }).$bigint);
    }
    return v;
  });
}

export interface WorldChannelServerOptions {
  name: string;
  /** The node clock's base: process.hrtime.bigint() at its start. */
  baseNs: bigint;
  host: ComponentHost;
  /** Send on the link to `to`, bypassing the component; undefined: queued. */
  send(to: string, message: SentControlMessage): LinkSendRefusal | undefined | 'no-link';
  changeFaults(install: readonly FaultRule[], remove: readonly string[]): void;
  log: Logger;
  backlog?: BacklogLimits;
}

interface Subscriber {
  /** Absolute index of the next line to send… */
  next: number;
  /** …and how many of its characters were already sent (a line longer than a frame goes in slices). */
  offset: number;
  /** Lines the backlog's bound dropped before this subscriber had them, not yet reported. */
  lost: number;
}

/** A component's side of the world channel: its history backlog and its subscribers. */
export class WorldChannelServer {
  private readonly lines: string[] = [];
  /** Absolute index of lines[head]. */
  private firstIndex = 0;
  private head = 0;
  private chars = 0;
  private readonly subscribers = new Map<string, Subscriber>();
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly limits: BacklogLimits;

  constructor(private readonly options: WorldChannelServerOptions) {
    this.limits = options.backlog ?? DEFAULT_BACKLOG;
  }

  /** Every history event of this node. */
  record(t: number, event: HistoryEvent): void {
    const line = encodeHistoryLine({ seq: this.firstIndex + this.lines.length - this.head, t, event });
    this.lines.push(line);
    this.chars += line.length;
    while (this.lines.length - this.head > this.limits.lines || this.chars > this.limits.chars) this.dropOldest();
    if (this.subscribers.size > 0) this.scheduleFlush(FLUSH_MS);
  }

  /** A `world.*` control from `from` (whose link presented `role`). Always consumed. */
  handle(from: string, role: string, message: ControlMessage): void {
    const data = (typeof message.data === 'object' && message.data !== null ? message.data : {}) as Record<string, unknown>;
    const ref = typeof data['ref'] === 'number' ? data['ref'] : -1;
    if (role !== 'orchestrator') {
      this.options.log.warn({ from, op: message.op }, 'world control from a peer that is not an orchestrator: refused');
      this.ack(from, ref, `${message.op} refused: ${from} is not an orchestrator`);
      return;
    }
    switch (message.op) {
      case WORLD_OPS.subscribe:
        return this.subscribe(from);
      case WORLD_OPS.faults:
        return this.ack(from, ref, this.applyFaults(data));
      case WORLD_OPS.component:
        return this.ack(from, ref, this.applyComponentOp(data));
      default:
        return this.ack(from, ref, `unknown world op ${message.op}`);
    }
  }

  /** The subscriber's link is gone. */
  forget(peer: string): void {
    this.subscribers.delete(peer);
  }

  stop(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.subscribers.clear();
  }

  private subscribe(from: string): void {
    // `backlog`: the lines the subscriber is about to get, so it can wait until it has them all.
    const backlog = this.endIndex - this.firstIndex;
    this.options.send(from, { kind: 'control', op: WORLD_OPS.clock, data: { name: this.options.name, baseNs: this.options.baseNs.toString(), backlog } });
    this.subscribers.set(from, { next: 0, offset: 0, lost: 0 });
    this.scheduleFlush(0);
  }

  private applyFaults(data: Record<string, unknown>): string | null {
    try {
      const rules = decodeJson(data['rules']);
      const remove = data['remove'];
      if (!Array.isArray(rules) || !Array.isArray(remove) || !remove.every((id) => typeof id === 'string')) return 'rules and remove must be lists';
      this.options.changeFaults(rules as FaultRule[], remove as string[]);
      return null;
    } catch (error) {
      return `bad fault rules: ${(error as Error).message}`;
    }
  }

  private applyComponentOp(data: Record<string, unknown>): string | null {
    const op = data['op'];
    const detail = typeof data['detail'] === 'string' ? data['detail'] : '';
    if (typeof op !== 'string' || !COMPONENT_OPS.includes(op)) return `op must be one of ${COMPONENT_OPS.join(', ')}`;
    const { host } = this.options;
    if (op === 'crash') host.crash(detail);
    else if (op === 'restart') host.restart(detail);
    else if (op === 'stall') host.stall();
    else host.resume();
    return null;
  }

  private ack(to: string, ref: number, problem: string | null): void {
    this.options.send(to, { kind: 'control', op: WORLD_OPS.ack, data: { ref, ok: problem === null, reason: problem } });
  }

  private dropOldest(): void {
    const line = this.lines[this.head] as string;
    this.chars -= line.length;
    this.head++;
    this.firstIndex++;
    // Compact now and then: shifting a long array each time would be quadratic.
    if (this.head >= 4096 && this.head * 2 >= this.lines.length) {
      this.lines.splice(0, this.head);
      this.head = 0;
    }
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, delayMs);
  }

  private get endIndex(): number {
    return this.firstIndex + this.lines.length - this.head;
  }

  private flush(): void {
    let blocked = false;
    for (const [peer, subscriber] of this.subscribers) {
      const outcome = this.flushTo(peer, subscriber);
      if (outcome === 'no-link') this.subscribers.delete(peer);
      if (outcome === 'blocked') blocked = true;
    }
    if (blocked) this.scheduleFlush(RETRY_MS);
  }

  /** Send what this subscriber has not had, a frame at a time, until done or the link pushes back. */
  private flushTo(peer: string, subscriber: Subscriber): 'done' | 'blocked' | 'no-link' {
    for (;;) {
      if (subscriber.next < this.firstIndex) {
        // The backlog's bound dropped lines this subscriber had not had (a partial line among them).
        subscriber.lost += this.firstIndex - subscriber.next;
        subscriber.next = this.firstIndex;
        subscriber.offset = 0;
      }
      if (subscriber.next >= this.endIndex) return 'done';
      const frame = this.nextText(subscriber);
      const outcome = this.options.send(peer, { kind: 'control', op: WORLD_OPS.history, data: { parts: textParts(frame.text), lost: subscriber.lost } });
      if (outcome === 'no-link') return 'no-link';
      if (outcome !== undefined) return 'blocked';
      subscriber.lost = 0;
      subscriber.next = frame.next;
      subscriber.offset = frame.offset;
    }
  }

  /**
   * The next frame's text from the subscriber's position: whole lines (each with its newline)
   * while they fit, and a slice of a line too long for one frame (the receiver joins the slices).
   */
  private nextText(subscriber: Subscriber): { text: string; next: number; offset: number } {
    const pieces: string[] = [];
    let bytes = 0;
    let next = subscriber.next;
    let offset = subscriber.offset;
    while (next < this.endIndex) {
      const rest = `${(this.lines[this.head + next - this.firstIndex] as string).slice(offset)}\n`;
      const size = Buffer.byteLength(rest, 'utf8');
      if (bytes + size <= TEXT_FRAME_BYTES) {
        pieces.push(rest);
        bytes += size;
        next++;
        offset = 0;
        continue;
      }
      if (pieces.length > 0) break;
      // One line longer than a frame: a slice, counted in characters of at most 3 UTF-8 bytes each.
      const chars = Math.floor(TEXT_FRAME_BYTES / 3);
      pieces.push(rest.slice(0, chars));
      offset += chars;
      break;
    }
    return { text: pieces.join(''), next, offset };
  }
}
