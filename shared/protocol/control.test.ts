/**
 * The control plane is a type: these lines hold only while `tsc` refuses an op control.ts does
 * not declare and data of another shape (the @ts-expect-error lines fail the type check if the
 * error goes away), and while the runtime list names every op once.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { answerMessage, answerOpOf, CONTROL_OPS, controlMessage, isControlOp, knownControlOp, type ControlOp } from './control.ts';
import type { SentMessage } from './messages.ts';

const sent: SentMessage[] = [];
const send = (message: SentMessage): void => void sent.push(message);

test('a declared op with its data compiles; a misspelt op or data of another shape does not', () => {
  send({ kind: 'control', op: 'notifier-set', data: { sp: 0x8005, receiver: 1, bitmap: '0x10', cpu: 0 } });
  // @ts-expect-error 'notifier-sett' is no control op
  send({ kind: 'control', op: 'notifier-sett', data: { sp: 0x8005, receiver: 1, bitmap: '0x10' } });
  // @ts-expect-error notifier-set's data has no `vm`, and needs sp, receiver and bitmap
  send({ kind: 'control', op: 'notifier-set', data: { vm: 1 } });
  // @ts-expect-error an answer's op is made by answerOpOf, not written out
  send({ kind: 'control', op: 'frobnicate-result', data: { ok: false, why: 'unknown op' } });
  send({ kind: 'control', op: answerOpOf('frobnicate'), data: { ok: false, why: 'unknown op' } });
  assert.equal(sent.length, 5);
});

test('the generic builders keep the frame keys and their order', () => {
  assert.deepEqual(Object.keys(controlMessage('gic-sync', 7)), ['kind', 'op', 'data']);
  const answer = answerMessage('spmc-sync', { ok: true });
  assert.deepEqual(answer, { kind: 'control', op: 'spmc-sync-result', data: { ok: true } });
  assert.deepEqual(Object.keys(answer), ['kind', 'op', 'data']);
});

test('CONTROL_OPS names each op once, and only declared ops narrow', () => {
  assert.equal(new Set(CONTROL_OPS).size, CONTROL_OPS.length);
  assert.equal(isControlOp('vm-create'), true);
  assert.equal(isControlOp('vm-creat'), false);
  const op: ControlOp | null = knownControlOp('world.ack');
  assert.equal(op, 'world.ack');
  assert.equal(knownControlOp('frobnicate'), null);
});
