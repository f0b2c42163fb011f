import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REGISTER_COUNT } from '../protocol/messages.ts';
import { WIRE_PROTOCOL_VERSION, type WireFrame } from './frames.ts';
import { FIELD_LIMITS, validateFrame } from './validate.ts';

const U64_MAX = (1n << 64n) - 1n;
const UUID = '486178e0-e7f8-11e3-bc5e-0002a5d5c51b';
const message = { kind: 'message', sender: 0x8001, receiver: 1, offset: 40, size: 16, uuid: UUID };
const descriptor = { id: 0x8001, vcpus: 1, properties: 0x101, uuid: UUID };

/** Buffer memory that is not a bounded BufferWrite (shared/ffa/buffer-content.ts). */
const WRONG_MEMORY: unknown[] = [
  'rx',
  { buffer: 'rx', owner: 0 },
  { buffer: 'ram', owner: 0, content: message },
  { buffer: 'rx', owner: 0x10000, content: message },
  { buffer: 'rx', owner: 0, content: { ...message, extra: 1 } },
  { buffer: 'rx', owner: 0, content: { ...message, kind: 'pointer' } },
  { buffer: 'rx', owner: 0, content: { ...message, size: -1 } },
  { buffer: 'rx', owner: 0, content: { ...message, uuid: 'not-a-uuid' } },
  { buffer: 'tx', owner: 0, content: { kind: 'rxtx-descriptor', endpoint: 2, rx: 0x1000, tx: 0x2000n, pageCount: 1 } }, // an address as a number
  { buffer: 'tx', owner: 0, content: { kind: 'rxtx-descriptor', endpoint: 2, rx: 1n << 64n, tx: 0x2000n, pageCount: 1 } },
  { buffer: 'rx', owner: 0, content: { kind: 'partition-info', descriptorSize: 16, partitions: [] } },
  { buffer: 'rx', owner: 0, content: { kind: 'partition-info', descriptorSize: 24, partitions: new Array<unknown>(513).fill(descriptor) } },
  { buffer: 'rx', owner: 0, content: { kind: 'partition-info', descriptorSize: 24, partitions: [{ ...descriptor, properties: 2 ** 32 }] } },
  { buffer: 'rx', owner: 0, content: { kind: 'partition-info', descriptorSize: 24, partitions: [{ id: 1 }] } },
];
const REGS = new Array<bigint>(REGISTER_COUNT).fill(U64_MAX);
/** 32 bytes as unpadded base64url, as credentials.ts writes nonces, proofs and keys. */
const NONCE = 'n'.repeat(43);
const TOO_SHORT = 'n'.repeat(FIELD_LIMITS.secretTextMin - 1);
const TOO_LONG = 'n'.repeat(FIELD_LIMITS.secretTextMax + 1);

const VALID: Record<WireFrame['kind'], Record<string, unknown>> = {
  call: { kind: 'call', id: 1, conduit: 'hvc', endpoint: 0xffff, vcpu: 0, cpu: 0, regs: REGS, memory: null },
  return: {
    kind: 'return',
    id: 1,
    regs: REGS,
    memory: { buffer: 'rx', owner: 0, content: { kind: 'partition-info', descriptorSize: 24, partitions: [{ id: 0x8001, vcpus: 1, properties: 0x101, uuid: UUID }] } },
  },
  irq: { kind: 'irq', op: 'deliver', intid: 8, group: 'secure', cpu: -1, vm: 2, vcpu: 1 },
  lifecycle: { kind: 'lifecycle', event: 'vcpu-offline', subject: 'vm1', args: [] },
  control: { kind: 'control', op: 'start', data: { rate: 1.5, names: ['a'] } },
  'protocol-error': { kind: 'protocol-error', code: 'QUEUE_FULL', reason: '', ref: -1 },
  hello: { kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, role: 'spmc', identity: 'spmc', nonce: NONCE },
  challenge: { kind: 'challenge', protocol: WIRE_PROTOCOL_VERSION, role: 'gic', identity: 'gic', credential: 'enroll', nonce: NONCE, proof: NONCE },
  proof: { kind: 'proof', proof: NONCE },
  welcome: { kind: 'welcome', issued: '' },
};

/** Wrong values per field: each must be refused with INVALID_FIELD. */
const WRONG: Record<string, Record<string, unknown[]>> = {
  call: {
    id: [-1, 1.5, '1', 1n, null, Number.MAX_SAFE_INTEGER + 1, Number.NaN],
    conduit: ['svc', 0, null],
    endpoint: [-1, 0x10000, '1', 1n],
    vcpu: [-1, 0x10000, 0.5, true],
    cpu: [-1, 0x10000, [0]],
    memory: WRONG_MEMORY,
    regs: [
      new Array<number>(REGISTER_COUNT).fill(0), // numbers, not bigints
      [...REGS.slice(1), 5], // one number among bigints
      [...REGS.slice(1), -1n], // negative
      [...REGS.slice(1), 1n << 64n], // beyond 64 bits
      REGS.slice(1), // 17 registers
      [...REGS, 0n], // 19 registers
      'regs',
      { 0: 0n },
    ],
  },
  return: { id: [-2, '7'], regs: [[], null], memory: WRONG_MEMORY },
  irq: {
    op: ['fire', 1],
    intid: [-1, FIELD_LIMITS.intidMax + 1, '8'],
    group: ['group0', null],
    cpu: [-2, 0x10000, 'x'],
    vm: [-2, 0x10000],
    vcpu: [-2, 0x10000, 1.25],
  },
  lifecycle: {
    event: ['', 'e'.repeat(FIELD_LIMITS.nameLength + 1), 5],
    subject: ['s'.repeat(FIELD_LIMITS.nameLength + 1), null],
    args: [[Number.POSITIVE_INFINITY], ['1'], new Array<number>(FIELD_LIMITS.argsLength + 1).fill(0), 'args', [1n]],
  },
  control: {
    op: ['', 7],
    data: [
      new Date(0),
      new Map(),
      new Set([1]),
      new Uint8Array(4),
      [Number.NaN],
      { s: 'x'.repeat(FIELD_LIMITS.dataStringLength + 1) },
      { ['k'.repeat(FIELD_LIMITS.dataKeyLength + 1)]: 1 },
      JSON.parse('['.repeat(FIELD_LIMITS.dataDepth + 2) + ']'.repeat(FIELD_LIMITS.dataDepth + 2)) as unknown,
      new Array<number>(FIELD_LIMITS.dataNodes + 1).fill(0),
      undefined,
    ],
  },
  'protocol-error': { code: ['OOPS', 1], reason: ['r'.repeat(FIELD_LIMITS.reasonLength + 1), null], ref: [-2, 'x'] },
  hello: {
    protocol: [-1, '1', 1.5],
    role: ['root', '', 3],
    identity: ['', 'n'.repeat(FIELD_LIMITS.nameLength + 1), 5],
    nonce: [7, null, '', TOO_SHORT, TOO_LONG],
  },
  challenge: {
    protocol: [null],
    role: ['admin'],
    identity: [''],
    credential: ['token', 'LINK', null],
    nonce: [TOO_SHORT, TOO_LONG],
    proof: ['', TOO_LONG, 5],
  },
  proof: { proof: ['', TOO_SHORT, TOO_LONG, null] },
  welcome: { issued: [null, TOO_SHORT, TOO_LONG, 7] },
};

describe('validateFrame', () => {
  it('accepts a valid frame of every kind', () => {
    for (const frame of Object.values(VALID)) {
      const result = validateFrame(frame);
      assert.ok(result.ok, result.ok ? '' : result.reason);
    }
  });

  it('refuses each wrong-typed or out-of-range field with INVALID_FIELD, naming the field', () => {
    let cases = 0;
    for (const [kind, fields] of Object.entries(WRONG)) {
      for (const [field, values] of Object.entries(fields)) {
        for (const value of values) {
          const result = validateFrame({ ...VALID[kind as WireFrame['kind']], [field]: value });
          assert.equal(result.ok, false, `${kind}.${field} = ${String(value).slice(0, 40)} was accepted`);
          if (result.ok) continue;
          assert.equal(result.code, 'INVALID_FIELD', `${kind}.${field}`);
          assert.match(result.reason, new RegExp(`^${kind}\\.${field}`));
          cases++;
        }
      }
    }
    assert.ok(cases > 80);
  });

  it('covers every field of every kind in the wrong-value table', () => {
    for (const [kind, frame] of Object.entries(VALID)) {
      for (const key of Object.keys(frame)) {
        if (key !== 'kind') assert.ok(WRONG[kind]?.[key], `no wrong values for ${kind}.${key}`);
      }
    }
  });

  it('refuses extra and missing keys with INVALID_FIELD', () => {
    const extra = validateFrame({ ...VALID.call, from: 'spmd' });
    assert.deepEqual(extra.ok ? undefined : [extra.code, extra.ref], ['INVALID_FIELD', 1]);
    const { regs: _regs, ...missing } = VALID.return;
    const result = validateFrame(missing);
    assert.deepEqual(result.ok ? undefined : result.code, 'INVALID_FIELD');
  });

  it('refuses unknown kinds with UNKNOWN_KIND and non-maps with MALFORMED_FRAME', () => {
    for (const kind of ['teleport', '', 7, null, undefined, '__proto__', 'toString']) {
      const result = validateFrame({ ...VALID.return, kind });
      assert.deepEqual(result.ok ? undefined : result.code, 'UNKNOWN_KIND', String(kind));
    }
    for (const value of [null, 5, 'call', [VALID.call], new Map(Object.entries(VALID.call)), 1n]) {
      const result = validateFrame(value);
      assert.deepEqual(result.ok ? undefined : result.code, 'MALFORMED_FRAME');
    }
  });

  it('gives the offending call id as ref, or -1', () => {
    const bad = validateFrame({ ...VALID.call, id: 42, vcpu: -3 });
    assert.deepEqual(bad.ok ? undefined : bad.ref, 42);
    const noId = validateFrame({ ...VALID.irq, op: 'nope' });
    assert.deepEqual(noId.ok ? undefined : noId.ref, -1);
  });
});
