import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StepContinuedTwiceError } from './errors.ts';
import { runScript } from './script.ts';

test('runs the steps in order, whether each goes on at once or later, then ends once', () => {
  const ran: string[] = [];
  const later: (() => void)[] = [];
  runScript(
    ['a', 'b', 'c', 'd'],
    (step, index, next) => {
      ran.push(`${index}:${step}`);
      if (step === 'b') later.push(next);
      else next();
    },
    () => ran.push('end'),
  );
  assert.deepEqual(ran, ['0:a', '1:b']);
  later.shift()?.();
  assert.deepEqual(ran, ['0:a', '1:b', '2:c', '3:d', 'end']);
});

test('a long script of steps that go on at once does not grow the stack', () => {
  let count = 0;
  let ended = false;
  runScript(Array.from({ length: 200_000 }, (_, i) => i), (_step, _index, next) => {
    count++;
    next();
  }, () => (ended = true));
  assert.equal(count, 200_000);
  assert.ok(ended);
});

test('a step that goes on twice is a bug, and says which step it was', () => {
  let again: (() => void) | undefined;
  runScript([1, 2], (_step, index, next) => {
    if (index === 0) {
      again = next;
      next();
    }
  }, () => {});
  assert.throws(() => again?.(), (error: unknown) => error instanceof StepContinuedTwiceError && error.index === 0);
});
