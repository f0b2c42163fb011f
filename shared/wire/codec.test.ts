import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { CONDUITS, INTERRUPT_GROUPS, INTERRUPT_OPS, type Message, REGISTER_COUNT } from '../protocol/messages.ts';
import { decodeFrame, encodeFrame, unpackBytes } from './codec.ts';
import { WIRE_PROTOCOL_VERSION, type WireFrame } from './frames.ts';
import { FRAME_KINDS, STRUCTURE_COUNT, structureTable } from './structures.ts';
import { validateFrame } from './validate.ts';

const U64_MAX = (1n << 64n) - 1n;

function regs(...values: bigint[]): bigint[] {
  const file = new Array<bigint>(REGISTER_COUNT).fill(0n);
  values.forEach((value, i) => (file[i] = value));
  return file;
}

const SAMPLES: WireFrame[] = [
  { kind: 'call', id: 7, conduit: 'smc', endpoint: 0x8001, vcpu: 1, cpu: 3, regs: regs(0xc400006fn, U64_MAX, 0x8004000040000003n), memory: null },
  { kind: 'return', id: 7, regs: regs(0xc4000061n, ...new Array<bigint>(17).fill(U64_MAX)), memory: null },
  {
    kind: 'call', id: 8, conduit: 'smc', endpoint: 0, vcpu: 0, cpu: 0, regs: regs(0xc4000066n),
    memory: { buffer: 'tx', owner: 0, content: { kind: 'rxtx-descriptor', endpoint: 2, rx: U64_MAX, tx: 0x4000_1000n, pageCount: 1 } },
  },
  {
    kind: 'return', id: 8, regs: regs(0x84000061n, 0n, 1n, 24n),
    memory: { buffer: 'rx', owner: 0, content: { kind: 'partition-info', descriptorSize: 24, partitions: [{ id: 0x8001, vcpus: 4, properties: 0x101, uuid: '486178e0-e7f8-11e3-bc5e-0002a5d5c51b' }] } },
  },
  { kind: 'irq', op: 'raise', intid: 8, group: 'nonsecure', cpu: 0, vm: -1, vcpu: -1 },
  { kind: 'lifecycle', event: 'vm-created', subject: 'vm1', args: [2, 4] },
  { kind: 'control', op: 'report', data: { counts: [1, 2, 3], nested: { ok: true, big: U64_MAX }, none: null } },
  { kind: 'protocol-error', code: 'INVALID_FIELD', reason: 'call.regs: x3 is a number', ref: 12 },
  { kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, role: 'guest', identity: 'vm1', nonce: 'n'.repeat(43) },
  { kind: 'challenge', protocol: WIRE_PROTOCOL_VERSION, role: 'hypervisor', identity: 'hypervisor', credential: 'link', nonce: 'c'.repeat(43), proof: 'p'.repeat(43) },
  { kind: 'proof', proof: 'q'.repeat(43) },
  { kind: 'welcome', issued: '' },
];

function roundTrip(frame: WireFrame): WireFrame {
  const decoded = decodeFrame(encodeFrame(frame));
  assert.ok(decoded.ok, `decode failed: ${decoded.ok ? '' : decoded.reason}`);
  return decoded.frame;
}

describe('structure table', () => {
  it('has one slot per message kind and per wire-only frame', () => {
    assert.equal(STRUCTURE_COUNT, 10);
    for (const kind of ['call', 'return', 'irq', 'lifecycle', 'control', 'protocol-error', 'hello', 'welcome', 'challenge', 'proof']) {
      assert.ok(FRAME_KINDS.includes(kind as WireFrame['kind']), kind);
    }
  });

  it('encodes each known kind as a reference to its slot, with no record definition', () => {
    for (const frame of SAMPLES) {
      const bytes = encodeFrame(frame);
      assert.equal(bytes[0], 0x40 + FRAME_KINDS.indexOf(frame.kind), frame.kind);
      // Control data and buffer memory are nested shapes: their definitions are inline, in the same frame.
      const nested = frame.kind === 'control' || ((frame.kind === 'call' || frame.kind === 'return') && frame.memory !== null);
      if (!nested) assert.ok(!bytes.includes(Buffer.from([0xd4, 0x72])), `${frame.kind} defines a record`);
    }
  });

  it('decodes a frame without the frames before it (a dropped frame breaks nothing later)', () => {
    const first = encodeFrame({ kind: 'control', op: 'a', data: { shape: { x: 1 } } });
    const second = encodeFrame({ kind: 'control', op: 'b', data: { shape: { x: 2 } } });
    assert.ok(first.length > 0);
    const fresh = new Unpackr({ structures: structureTable(), maxSharedStructures: STRUCTURE_COUNT, int64AsType: 'bigint' });
    assert.deepEqual(fresh.unpack(second), { kind: 'control', op: 'b', data: { shape: { x: 2 } } });
  });
});

describe('codec round trips', () => {
  it('round-trips every sample frame', () => {
    for (const frame of SAMPLES) assert.deepEqual(roundTrip(frame), frame);
  });

  it('carries a register with all 64 bits set as msgpack uint64, and 0x8004000040000003', () => {
    const call: Message = { kind: 'return', id: 1, regs: regs(U64_MAX, 0x8004000040000003n, 1n << 63n, (1n << 63n) - 1n), memory: null };
    const bytes = encodeFrame(call);
    assert.ok(bytes.includes(Buffer.from('cfffffffffffffffff', 'hex')), 'all-ones register is not uint64 0xcf');
    assert.ok(bytes.includes(Buffer.from('cf8004000040000003', 'hex')));
    const back = roundTrip(call);
    assert.equal(back.kind, 'return');
    if (back.kind !== 'return') return;
    assert.equal(back.regs[0], U64_MAX);
    assert.equal(back.regs[1], 0x8004000040000003n);
    assert.equal(typeof back.regs[17], 'bigint');
  });

  it('refuses to encode a register beyond 64 bits (a bug, so it throws)', () => {
    assert.throws(() => encodeFrame({ kind: 'return', id: 1, regs: regs(1n << 64n), memory: null }), RangeError);
  });

  it('round-trips arbitrary calls, returns and interrupt frames (property)', () => {
    const register = fc.bigInt({ min: 0n, max: U64_MAX });
    const registerFile = fc.array(register, { minLength: REGISTER_COUNT, maxLength: REGISTER_COUNT });
    const id = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    const index = fc.integer({ min: 0, max: 0xffff });
    const call = fc.record({
      kind: fc.constant('call' as const),
      id,
      conduit: fc.constantFrom(...CONDUITS),
      endpoint: index,
      vcpu: index,
      cpu: index,
      regs: registerFile,
      memory: fc.constant(null),
    });
    const ret = fc.record({ kind: fc.constant('return' as const), id, regs: registerFile, memory: fc.constant(null) });
    const irq = fc.record({
      kind: fc.constant('irq' as const),
      op: fc.constantFrom(...INTERRUPT_OPS),
      intid: fc.integer({ min: 0, max: 1023 }),
      group: fc.constantFrom(...INTERRUPT_GROUPS),
      cpu: fc.integer({ min: -1, max: 255 }),
      vm: fc.integer({ min: -1, max: 0xffff }),
      vcpu: fc.integer({ min: -1, max: 255 }),
    });
    fc.assert(
      fc.property(fc.oneof(call, ret, irq), (generated: WireFrame) => {
        const frame = { ...generated }; // fast-check builds null-prototype records
        assert.deepEqual(roundTrip(frame), frame);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips arbitrary lifecycle and control frames (property)', () => {
    const key = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');
    const data = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
        fc.string({ maxLength: 20 }),
        fc.bigInt({ min: 0n, max: U64_MAX }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).value;
    const lifecycle = fc.record({
      kind: fc.constant('lifecycle' as const),
      event: fc.string({ minLength: 1, maxLength: 16 }),
      subject: fc.string({ maxLength: 16 }),
      args: fc.array(fc.integer(), { maxLength: 8 }),
    });
    const control = fc.record({ kind: fc.constant('control' as const), op: fc.string({ minLength: 1, maxLength: 16 }), data });
    fc.assert(
      fc.property(fc.oneof(lifecycle, control), (generated: WireFrame) => {
        const frame = { ...generated };
        assert.deepEqual(roundTrip(frame), frame);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeFrame on bad bytes', () => {
  it('never throws on arbitrary bytes, and never accepts a frame validation would refuse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const result = decodeFrame(bytes);
        if (result.ok) assert.ok(validateFrame(result.frame).ok);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers MALFORMED_FRAME for empty, truncated, trailing and deeply nested bytes', () => {
    const valid = encodeFrame(SAMPLES[0] as WireFrame);
    const cases = [
      Buffer.alloc(0),
      Buffer.from([0xc1]),
      valid.subarray(0, valid.length - 3),
      Buffer.concat([valid, Buffer.from([0x01])]),
      Buffer.alloc(60_000, 0x91), // 60,000 nested one-element arrays
    ];
    for (const bytes of cases) {
      const result = decodeFrame(bytes);
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.code, 'MALFORMED_FRAME');
    }
    // The decoder is still sound afterwards.
    assert.deepEqual(roundTrip(SAMPLES[0] as WireFrame), SAMPLES[0]);
  });

  it('answers INVALID_FIELD when registers arrive as JS numbers', () => {
    const plain = new Packr({ useRecords: false });
    const bytes = plain.pack({ kind: 'return', id: 1, regs: new Array<number>(REGISTER_COUNT).fill(5) });
    const result = decodeFrame(bytes);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.code, 'INVALID_FIELD');
      assert.equal(result.ref, 1);
    }
  });

  it('answers UNKNOWN_KIND for a well-formed map of an unknown kind', () => {
    const plain = new Packr({ useRecords: false });
    const result = decodeFrame(plain.pack({ kind: 'teleport', id: 3 }));
    assert.deepEqual(result.ok ? undefined : [result.code, result.ref], ['UNKNOWN_KIND', 3]);
  });

  it('unpackBytes reports undecodable bytes as values', () => {
    assert.equal(unpackBytes(Buffer.from([0xd9, 0x10, 0x41])).ok, false); // str 8 of 16 bytes, 1 present
    assert.deepEqual(unpackBytes(Buffer.from([0x05])), { ok: true, value: 5 });
  });
});
