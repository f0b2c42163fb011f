/**
 * The dial gate: at most its bound of handshakes to one peer under way, the rest waiting their turn
 * in order; a place is given back whether the handshake succeeds or fails; peers are paced apart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DialGate } from './dial-gate.ts';

/** A handshake that ends when told: succeed or fail. */
function pending(): { promise: Promise<string>; succeed(value: string): void; fail(error: Error): void } {
  let succeed!: (value: string) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<string>((resolve, reject) => {
    succeed = resolve;
    fail = reject;
  });
  return { promise, succeed, fail };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('at most the bound of handshakes to one peer at once; the others start in order as places free', async () => {
  const gate = new DialGate(2);
  const handshakes = [pending(), pending(), pending(), pending()];
  const started: number[] = [];
  const results = Promise.allSettled(handshakes.map((h, index) => gate.through('ws://a', () => (started.push(index), h.promise))));
  await turn();
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(gate.load('ws://a'), { active: 2, waiting: 2 });
  handshakes[1]?.succeed('one');
  await turn();
  assert.deepEqual(started, [0, 1, 2], 'the first in line takes the freed place');
  handshakes[0]?.fail(new Error('refused'));
  await turn();
  assert.deepEqual(started, [0, 1, 2, 3], 'a failed handshake gives its place back too');
  handshakes[2]?.succeed('two');
  handshakes[3]?.succeed('three');
  const settled = await results;
  assert.deepEqual(settled.map((s) => s.status), ['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  assert.deepEqual(gate.load('ws://a'), { active: 0, waiting: 0 }, 'nothing left behind');
});

test('each peer has its own places', async () => {
  const gate = new DialGate(1);
  const a = pending();
  const b = pending();
  const started: string[] = [];
  const both = [gate.through('ws://a', () => (started.push('a'), a.promise)), gate.through('ws://b', () => (started.push('b'), b.promise))];
  await turn();
  assert.deepEqual(started, ['a', 'b']);
  a.succeed('a');
  b.succeed('b');
  assert.deepEqual(await Promise.all(both), ['a', 'b']);
});

test('a gate of no places is a bug', () => {
  assert.throws(() => new DialGate(0), /bug: a dial gate of 0/);
});
