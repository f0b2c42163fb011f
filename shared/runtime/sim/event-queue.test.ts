import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EventQueue } from './event-queue.ts';

test('pops in (time, tiebreak, insertion) order, whatever the push order', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(50), fc.nat(3)), { maxLength: 200 }), (items) => {
      const queue = new EventQueue();
      const fired: number[] = [];
      items.forEach(([time, tiebreak], index) => queue.push(time, tiebreak, () => fired.push(index)));
      for (let event = queue.pop(); event; event = queue.pop()) event.fire();
      const expected = items
        .map(([time, tiebreak], index) => ({ time, tiebreak, index }))
        .sort((a, b) => a.time - b.time || a.tiebreak - b.tiebreak || a.index - b.index)
        .map((e) => e.index);
      assert.deepEqual(fired, expected);
    }),
  );
});

test('a cancelled event never fires; cancelling a fired one is harmless', () => {
  const queue = new EventQueue();
  const fired: string[] = [];
  const a = queue.push(1, 0, () => fired.push('a'));
  const b = queue.push(2, 0, () => fired.push('b'));
  queue.cancel(b);
  queue.pop()?.fire();
  queue.cancel(a);
  assert.equal(queue.size, 0);
  assert.equal(queue.pop(), undefined);
  assert.deepEqual(fired, ['a']);
});
