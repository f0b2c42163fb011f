import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InboxFullError } from './errors.ts';
import { Inbox, type InboxEntry } from './inbox.ts';

const entry = (seq: number, t = seq): InboxEntry<string> => ({ seq, t, item: `item ${seq}` });

test('takes the oldest entry of a key, and only of that key', () => {
  const inbox = new Inbox<string>(10);
  inbox.put('a', entry(0));
  inbox.put('b', entry(1));
  inbox.put('a', entry(2));
  assert.equal(inbox.take('a')?.seq, 0);
  assert.equal(inbox.take('a')?.seq, 2);
  assert.equal(inbox.take('a'), undefined);
  assert.equal(inbox.take('b')?.seq, 1);
  assert.equal(inbox.size, 0);
});

test('a refinement passes over older entries, which stay for a later take', () => {
  const inbox = new Inbox<string>(10);
  for (let seq = 0; seq < 5; seq++) inbox.put('k', entry(seq));
  assert.equal(inbox.take('k', (e) => e.seq === 3)?.seq, 3);
  assert.equal(inbox.find('k', (e) => e.seq > 1)?.seq, 2);
  assert.deepEqual([0, 1, 2, 4].map(() => inbox.take('k')?.seq), [0, 1, 2, 4]);
});

test('at the bound, put throws INBOX_FULL and keeps nothing; a take makes room again', () => {
  const inbox = new Inbox<string>(2);
  inbox.put('a', entry(0));
  inbox.put('b', entry(1));
  assert.throws(
    () => inbox.put('a', entry(2)),
    (error: unknown) => error instanceof InboxFullError && error.code === 'INBOX_FULL' && error.bound === 2 && error.key === 'a',
  );
  assert.equal(inbox.size, 2);
  assert.equal(inbox.take('a')?.seq, 0);
  inbox.put('a', entry(3));
  assert.equal(inbox.size, 2);
});

test('dropBefore forgets what happened before a time, key by key', () => {
  const inbox = new Inbox<string>(10);
  inbox.put('a', entry(0, 5));
  inbox.put('a', entry(1, 10));
  inbox.put('b', entry(2, 7));
  inbox.dropBefore(8);
  assert.equal(inbox.size, 1);
  assert.equal(inbox.take('a')?.seq, 1);
  assert.equal(inbox.take('b'), undefined);
});

test('rejects a bound that is not a positive integer', () => {
  for (const bound of [0, -1, 1.5, Number.NaN]) assert.throws(() => new Inbox(bound), RangeError);
});

/** The model: a plain list in arrival order, searched from the front. */
test('behaves as a list searched from the front, whatever the puts, takes and drops', () => {
  type Operation = { op: 'put'; key: number; t: number } | { op: 'take'; key: number; parity: number | null } | { op: 'drop'; t: number };
  const operation = fc.oneof(
    fc.record({ op: fc.constant('put' as const), key: fc.nat(2), t: fc.nat(20) }),
    fc.record({ op: fc.constant('take' as const), key: fc.nat(2), parity: fc.option(fc.nat(1)) }),
    fc.record({ op: fc.constant('drop' as const), t: fc.nat(20) }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (operations: Operation[], bound) => {
      const inbox = new Inbox<string>(bound);
      let model: { key: string; entry: InboxEntry<string> }[] = [];
      let seq = 0;
      // Times only grow per key, as they do for entries that come from one component.
      const lastT = new Map<string, number>();
      for (const operation of operations) {
        if (operation.op === 'put') {
          const key = `k${operation.key}`;
          const t = Math.max(operation.t, lastT.get(key) ?? 0);
          lastT.set(key, t);
          const filed = entry(seq++, t);
          if (model.length >= bound) {
            assert.throws(() => inbox.put(key, filed), InboxFullError);
          } else {
            inbox.put(key, filed);
            model.push({ key, entry: filed });
          }
        } else if (operation.op === 'take') {
          const key = `k${operation.key}`;
          const accepts = (e: InboxEntry<string>) => operation.parity === null || e.seq % 2 === operation.parity;
          const index = model.findIndex((m) => m.key === key && accepts(m.entry));
          const expected = index < 0 ? undefined : model.splice(index, 1)[0]?.entry;
          assert.equal(inbox.take(key, accepts), expected);
        } else {
          inbox.dropBefore(operation.t);
          model = model.filter((m) => m.entry.t >= operation.t);
        }
        assert.equal(inbox.size, model.length);
      }
    }),
    { numRuns: 300 },
  );
});
