/**
 * The one msgpackr structure table both ends of every link use (docs/design.md §4, libraries.md
 * msgpackr trap). Each frame kind's keys are listed exactly as messages.ts / frames.ts declare them,
 * so a frame of a known kind is a record that refers to a slot of this table and carries no record
 * definition of its own: a dropped frame can never break a later one.
 *
 * The order of the table is part of the wire protocol: append only, and bump
 * WIRE_PROTOCOL_VERSION on any change.
 */
import type { FrameKind, WireFrame } from './frames.ts';

type FrameOf<K extends FrameKind> = Extract<WireFrame, { kind: K }>;

/** Compile-time check that a key list names every key of the frame kind (and only those). */
type EveryKey<K extends FrameKind, L extends readonly (keyof FrameOf<K>)[]> = [
  Exclude<keyof FrameOf<K>, L[number]>,
] extends [never]
  ? L
  : { missingKeys: Exclude<keyof FrameOf<K>, L[number]> };

function keysOf<K extends FrameKind>() {
  return <const L extends readonly (keyof FrameOf<K>)[]>(keys: L & EveryKey<K, L>): L => keys;
}

/** Keys of each frame kind, in declaration order. */
export const FRAME_KEYS = {
  call: keysOf<'call'>()(['kind', 'id', 'conduit', 'endpoint', 'vcpu', 'cpu', 'regs', 'memory']),
  return: keysOf<'return'>()(['kind', 'id', 'regs', 'memory']),
  irq: keysOf<'irq'>()(['kind', 'op', 'intid', 'group', 'cpu', 'vm', 'vcpu']),
  lifecycle: keysOf<'lifecycle'>()(['kind', 'event', 'subject', 'args']),
  control: keysOf<'control'>()(['kind', 'op', 'data']),
  'protocol-error': keysOf<'protocol-error'>()(['kind', 'code', 'reason', 'ref']),
  hello: keysOf<'hello'>()(['kind', 'protocol', 'role', 'identity', 'nonce']),
  welcome: keysOf<'welcome'>()(['kind', 'issued']),
  challenge: keysOf<'challenge'>()(['kind', 'protocol', 'role', 'identity', 'credential', 'nonce', 'proof']),
  proof: keysOf<'proof'>()(['kind', 'proof']),
} as const satisfies { [K in FrameKind]: readonly (keyof FrameOf<K>)[] };

/** Table order: slot i is record id 0x40 + i on the wire. */
export const FRAME_KINDS: readonly FrameKind[] = [
  'call',
  'return',
  'irq',
  'lifecycle',
  'control',
  'protocol-error',
  'hello',
  'welcome',
  'challenge',
  'proof',
];

/** The structure table itself; give each Packr/Unpackr its own copy (msgpackr annotates it). */
export function structureTable(): string[][] {
  return FRAME_KINDS.map((kind) => [...FRAME_KEYS[kind]]);
}

export const STRUCTURE_COUNT = FRAME_KINDS.length;
