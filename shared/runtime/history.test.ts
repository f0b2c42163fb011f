import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { decodeHistoryLine, encodeHistoryLine, encodeHistoryLineGeneric, type HistoryEntry, MemoryHistorySink } from './history.ts';
import { CONDUITS } from '../protocol/messages.ts';

const registerFile = fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 18, maxLength: 18 });
const name = fc.string({ maxLength: 12 });
const call = fc.record({
  kind: fc.constant('call' as const),
  id: fc.nat(),
  conduit: fc.constantFrom(...CONDUITS),
  endpoint: fc.nat(0xffff),
  vcpu: fc.nat(64),
  cpu: fc.nat(64),
  regs: registerFile,
}, { noNullPrototype: true });
const ret = fc.record({ kind: fc.constant('return' as const), id: fc.nat(), regs: registerFile }, { noNullPrototype: true });
const entry = fc.record({
  seq: fc.nat(),
  t: fc.nat(),
  event: fc.record(
    { type: fc.constantFrom('send' as const, 'deliver' as const), from: name, to: name, message: fc.oneof(call, ret) },
    { noNullPrototype: true },
  ),
}, { noNullPrototype: true });

test('the hot-path encoder writes the same bytes as the generic one', () => {
  fc.assert(
    fc.property(entry, (e) => {
      assert.equal(encodeHistoryLine(e as HistoryEntry), encodeHistoryLineGeneric(e as HistoryEntry));
    }),
  );
});

test('a history line decodes back to the same entry, registers as exact 64-bit values', () => {
  fc.assert(
    fc.property(entry, (e) => {
      assert.deepEqual(decodeHistoryLine(encodeHistoryLine(e as HistoryEntry)), e);
    }),
  );
});

test('the in-memory sink hashes the same bytes whether it keeps every entry, some, or none', () => {
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 30 }), fc.nat(40), (entries, limit) => {
      const expected = createHash('sha256');
      for (const e of entries) expected.update(`${encodeHistoryLine(e)}\n`);
      const sink = new MemoryHistorySink(limit);
      entries.forEach((e, i) => {
        sink.append(e);
        if (i === 3) sink.digest(); // asked mid-run: the entries after still count, once
      });
      assert.equal(sink.digest(), expected.digest('hex'));
      assert.equal(sink.count, entries.length);
      assert.deepEqual(sink.entries, entries.slice(0, limit));
    }),
  );
});
