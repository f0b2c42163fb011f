import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeHistoryLine, encodeHistoryLine, encodeHistoryLineGeneric, FileHistorySink, type HistoryEntry, HistoryLineError, MemoryHistorySink, readHistory } from './history.ts';
import { FileInputError } from './files.ts';
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
  memory: fc.constant(null),
}, { noNullPrototype: true });
/** A return's buffer memory: none, or a forwarded RX/TX descriptor (64-bit addresses) or partition descriptors. */
const memory = fc.oneof(
  fc.constant(null),
  fc.record({
    buffer: fc.constant('tx' as const),
    owner: fc.nat(0xffff),
    content: fc.record({ kind: fc.constant('rxtx-descriptor' as const), endpoint: fc.nat(0xffff), rx: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), tx: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), pageCount: fc.nat(64) }, { noNullPrototype: true }),
  }, { noNullPrototype: true }),
  fc.record({
    buffer: fc.constant('rx' as const),
    owner: fc.nat(0xffff),
    content: fc.record({ kind: fc.constant('partition-info' as const), descriptorSize: fc.constant(24), partitions: fc.array(fc.record({ id: fc.nat(0xffff), vcpus: fc.nat(8), properties: fc.nat(0x1ff), uuid: fc.uuid() }, { noNullPrototype: true }), { maxLength: 3 }) }, { noNullPrototype: true }),
  }, { noNullPrototype: true }),
);
const ret = fc.record({ kind: fc.constant('return' as const), id: fc.nat(), regs: registerFile, memory }, { noNullPrototype: true });
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

test('the file sink\'s digest is the file\'s, and the in-memory sink\'s the same, asked mid-run or at the end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ffa-history-hash-'));
  try {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 200, maxLength: 500 }), fc.nat(199), (entries, askAt) => {
        const file = new FileHistorySink(join(dir, 'h.jsonl'));
        const memory = new MemoryHistorySink(0);
        const expected = createHash('sha256');
        entries.forEach((e, i) => {
          file.append(e);
          memory.append(e);
          expected.update(`${encodeHistoryLine(e)}\n`);
          if (i === askAt) assert.equal(file.digest(), expected.copy().digest('hex'), 'mid-run, the bytes so far');
        });
        file.close();
        const whole = expected.digest('hex');
        assert.equal(file.digest(), whole);
        assert.equal(memory.digest(), whole);
        assert.equal(createHash('sha256').update(readFileSync(join(dir, 'h.jsonl'))).digest('hex'), whole, 'the digest is the file\'s');
      }),
      { numRuns: 20 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a history that is not one is refused with its file and line, or as a file that cannot be read', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ffa-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = '{"seq":0,"t":0,"event":{"type":"record","component":"a","data":{}}}';
  const refusal = (lines: string[]): unknown => {
    const file = join(dir, 'h.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    try {
      readHistory(file);
    } catch (error) {
      return error;
    }
    return null;
  };
  const corrupt = refusal([good, '', '{"seq":1,"t":']);
  assert.ok(corrupt instanceof HistoryLineError);
  assert.equal(corrupt.line, 3, 'blank lines count');
  assert.match(corrupt.message, /h\.jsonl:3: not JSON \(.*\): is this a history\.jsonl\?$/);
  const notAnEntry = refusal([good, '[1, 2]']);
  assert.ok(notAnEntry instanceof HistoryLineError);
  assert.match(notAnEntry.message, /h\.jsonl:2: not a history entry/);
  assert.equal(refusal([good]), null);
  assert.throws(() => readHistory('/dev/zero'), (error: unknown) => error instanceof FileInputError && error.code === 'NOT_A_FILE');
  assert.throws(() => readHistory(join(dir, 'none.jsonl')), (error: unknown) => error instanceof FileInputError && /none\.jsonl: cannot read \(no such file\)$/.test(error.message));
});
