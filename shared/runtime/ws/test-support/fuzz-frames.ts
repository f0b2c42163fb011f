/**
 * Malformed frames for the fuzz test, drawn from a seeded stream: random bytes, wrong types in
 * each field, unknown kinds, extra and missing keys, truncated valid frames, text frames, and
 * oversize frames. Every frame returned is one the receiver must refuse (checked here against
 * decodeFrame, so a lucky draw that happens to be valid is drawn again).
 */
import { Packr } from 'msgpackr';
import { decodeFrame, encodeFrame } from '../../../wire/codec.ts';
import { WIRE_PROTOCOL_VERSION, type WireFrame } from '../../../wire/frames.ts';
import { FRAME_KEYS } from '../../../wire/structures.ts';
import type { RandomSource } from '../../component.ts';
import { REGISTER_COUNT } from '../../../protocol/messages.ts';

export type FuzzCategory =
  | 'random-bytes'
  | 'wrong-type'
  | 'unknown-kind'
  | 'extra-key'
  | 'missing-key'
  | 'truncated'
  | 'text'
  | 'oversize'
  | 'hello-again';

export interface FuzzFrame {
  category: FuzzCategory;
  data: Buffer | string;
}

const U64_MAX = (1n << 64n) - 1n;
const REGS = Array.from({ length: REGISTER_COUNT }, (_, i) => (i % 2 === 0 ? U64_MAX : BigInt(i)));

const VALID: WireFrame[] = [
  { kind: 'call', id: 5, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: REGS, memory: null },
  { kind: 'return', id: 5, regs: REGS, memory: null },
  { kind: 'irq', op: 'raise', intid: 8, group: 'nonsecure', cpu: 0, vm: -1, vcpu: -1 },
  { kind: 'lifecycle', event: 'vm-created', subject: 'vm1', args: [2, 2] },
  { kind: 'control', op: 'report', data: { a: [1, 2], b: 'text' } },
  { kind: 'protocol-error', code: 'QUEUE_FULL', reason: 'r', ref: -1 },
];

const WRONG_VALUES: unknown[] = [
  'a string',
  '',
  -7,
  -1,
  1.5,
  2 ** 60,
  Number.NaN,
  12n,
  -3n,
  null,
  true,
  [],
  [1, 2, 3],
  { nested: 1 },
  'x'.repeat(5000),
  new Array<number>(REGISTER_COUNT).fill(1),
];

/** Plain maps (no records): the other way a peer may encode a frame. */
const mapPackr = new Packr({ useRecords: false });

export const FUZZ_CATEGORIES: readonly FuzzCategory[] = [
  'random-bytes',
  'wrong-type',
  'unknown-kind',
  'extra-key',
  'missing-key',
  'truncated',
  'text',
  'oversize',
  'hello-again',
];

export class FuzzFrames {
  constructor(
    private readonly random: RandomSource,
    private readonly maxPayloadBytes: number,
  ) {}

  /** A frame the receiver must refuse; `oversizeOneIn` makes oversize frames rarer (each costs a connection). */
  next(oversizeOneIn = 50): FuzzFrame {
    for (let attempt = 0; attempt < 100; attempt++) {
      const category = this.pickCategory(oversizeOneIn);
      const data = this.make(category);
      if (typeof data === 'string' || data.length > this.maxPayloadBytes || category === 'hello-again' || !decodeFrame(data).ok) {
        return { category, data };
      }
    }
    throw new Error('fuzz generator drew 100 valid frames in a row');
  }

  private pickCategory(oversizeOneIn: number): FuzzCategory {
    if (this.random.intBelow(oversizeOneIn) === 0) return 'oversize';
    const others = FUZZ_CATEGORIES.filter((c) => c !== 'oversize');
    return others[this.random.intBelow(others.length)] ?? 'random-bytes';
  }

  private make(category: FuzzCategory): Buffer | string {
    switch (category) {
      case 'random-bytes':
        return this.bytes(this.random.intBelow(300));
      case 'wrong-type':
        return this.wrongType();
      case 'unknown-kind':
        return this.encode({ ...this.validFrame(), kind: this.word() });
      case 'extra-key':
        return this.encode({ ...this.validFrame(), [this.word()]: this.pick(WRONG_VALUES) });
      case 'missing-key': {
        const frame: Record<string, unknown> = { ...this.validFrame() };
        const keys = Object.keys(frame).filter((k) => k !== 'kind');
        delete frame[this.pick(keys)];
        return this.encode(frame);
      }
      case 'truncated': {
        const bytes = encodeFrame(this.validFrame());
        return bytes.subarray(0, 1 + this.random.intBelow(bytes.length - 1));
      }
      case 'text':
        return this.random.intBelow(2) === 0 ? JSON.stringify(this.validFrame(), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)) : this.word();
      case 'oversize':
        return this.bytes(this.maxPayloadBytes + 1 + this.random.intBelow(32 * 1024));
      case 'hello-again':
        return encodeFrame({ kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, role: 'test', identity: 'fuzzer', nonce: 'n'.repeat(43) });
    }
  }

  private wrongType(): Buffer {
    const frame: Record<string, unknown> = { ...this.validFrame() };
    const kind = frame['kind'] as WireFrame['kind'];
    const fields = FRAME_KEYS[kind].filter((k) => k !== 'kind');
    frame[this.pick(fields)] = this.pick(WRONG_VALUES);
    return this.encode(frame);
  }

  /** Half as records of the structure table (when the shape fits), half as plain maps. */
  private encode(frame: Record<string, unknown>): Buffer {
    if (this.random.intBelow(2) === 0) {
      try {
        return encodeFrame(frame as unknown as WireFrame);
      } catch {
        // a value the record encoder will not take: send it as a plain map instead
      }
    }
    return mapPackr.pack(frame);
  }

  private validFrame(): WireFrame {
    return this.pick(VALID);
  }

  private bytes(length: number): Buffer {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = this.random.intBelow(256);
    return bytes;
  }

  private word(): string {
    const length = 1 + this.random.intBelow(12);
    let word = '';
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + this.random.intBelow(26));
    return word;
  }

  private pick<T>(values: readonly T[]): T {
    const value = values[this.random.intBelow(values.length)];
    if (value === undefined) throw new Error('pick from an empty list');
    return value;
  }
}
