/**
 * Pairs a history's frames for the trace (trace.ts): each call's send with its delivery, its
 * return's send and delivery (or the failure that ended it); each interrupt frame's send with its
 * delivery, a delivery with the raises it answers, and with its EOI. Frames pair first in, first
 * out per link and key, as links keep their order.
 */
import type { CallMessage, InterruptMessage } from '../../../shared/protocol/messages.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { Slice } from './trace-model.ts';

/** A call: its send, its delivery, and its return's send and delivery, or the failure that ended it. */
export interface CallRecord {
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
export interface IrqFrame {
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

/** Every call of the history, in the order they were sent, paired as the entries come. */
export class CallPairing {
  readonly all: CallRecord[] = [];
  private readonly open = new Queues<CallRecord>();

  take({ seq, t, event }: HistoryEntry): void {
    const { open } = this;
    if (event.type === 'call-failed') {
      const key = callKey(event.component, event.to, event.id);
      const record = open.find(key, (r) => r.returnDeliverT === null && r.failedT === null);
      if (record) {
        record.failedT = t;
        record.failReason = event.reason;
      }
      return;
    }
    if (event.type !== 'send' && event.type !== 'deliver') return;
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
        this.all.push(record);
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
}

export function pairCalls(entries: readonly HistoryEntry[]): CallRecord[] {
  const pairing = new CallPairing();
  for (const entry of entries) pairing.take(entry);
  return pairing.all;
}

/** Every raise and deliver frame of the history, in the order they were sent, paired as the entries come. */
export class InterruptPairing {
  readonly frames: IrqFrame[] = [];
  private readonly inTransit = new Queues<IrqFrame>();
  /** Per GIC: raises that arrived and wait for the delivery they end in. */
  private readonly waiting = new Queues<IrqFrame>();
  /** Per target: deliveries that arrived and wait for their EOI. */
  private readonly handling = new Queues<IrqFrame>();

  take({ seq, t, event }: HistoryEntry): void {
    if (event.type !== 'send' && event.type !== 'deliver') return;
    const { message: irq } = event;
    if (irq.kind !== 'irq') return;
    if (event.type === 'send') return this.sent(seq, t, event.from, event.to, irq);
    if (irq.op !== 'raise' && irq.op !== 'deliver') return;
    const key = frameKey(event.from, event.to, irq);
    const frame = this.inTransit.find(key, (f) => f.deliverT === null);
    if (!frame) return;
    frame.deliverT = t;
    frame.deliverSeq = seq;
    this.inTransit.trim(key, (f) => f.deliverT !== null);
    if (irq.op === 'raise') this.waiting.push(`${event.to}${FIFO_KEY_SEP}${irqKey(irq)}`, frame);
    else this.handling.push(`${event.to}${FIFO_KEY_SEP}${irqKey(irq)}`, frame);
  }

  private sent(seq: number, t: number, from: string, to: string, irq: InterruptMessage): void {
    if (irq.op === 'raise' || irq.op === 'deliver') {
      const frame: IrqFrame = { from, to, irq, sendT: t, sendSeq: seq, deliverT: null, deliverSeq: seq, raises: [], eoiT: null, gicSlice: null };
      if (irq.op === 'deliver') {
        // The raises this delivery answers: those for the same INTID and target, or raised for
        // no particular CPU and delivered on this one.
        frame.raises = this.waiting.take(`${from}${FIFO_KEY_SEP}${irqKey(irq)}`);
        if (frame.raises.length === 0 && irq.cpu >= 0) frame.raises = this.waiting.take(`${from}${FIFO_KEY_SEP}${irqKey({ ...irq, cpu: -1 })}`);
      }
      this.inTransit.push(frameKey(from, to, irq), frame);
      this.frames.push(frame);
    } else if (irq.op === 'eoi') {
      const key = `${from}${FIFO_KEY_SEP}${irqKey(irq)}`;
      const frame = this.handling.findLast(key, (f) => f.eoiT === null);
      if (frame) frame.eoiT = t;
      this.handling.trim(key, (f) => f.eoiT !== null);
    }
  }
}

export function pairInterrupts(entries: readonly HistoryEntry[]): IrqFrame[] {
  const pairing = new InterruptPairing();
  for (const entry of entries) pairing.take(entry);
  return pairing.frames;
}
