/**
 * The record names are a type: these lines hold only while `tsc` refuses a name records.ts does
 * not declare, or a record without the fields declared for it (the @ts-expect-error lines fail
 * the type check if the error goes away).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import type { RecordData, RecordEvent } from './records.ts';

const kept: RecordData[] = [];
const record = (data: RecordData): void => void kept.push(data);

test('a declared record name compiles, a misspelt one does not', () => {
  record({ event: 'gic-merge', intid: 8, kept: true });
  // @ts-expect-error 'gic-mrege' is no record name
  record({ event: 'gic-mrege', intid: 8 });
  const matches = (name: RecordEvent): boolean =>
    // @ts-expect-error a comparison with an undeclared name cannot be true
    name === 'notification-calback';
  assert.equal(matches('notification-callback'), false);
  assert.equal(kept.length, 2);
});

test('a record whose fields are read back must carry them, with their types', () => {
  record({ event: 'sri-raise', cpu: 1, intid: 9, delayed: false, extra: 'any other field' });
  // @ts-expect-error sri-raise without its cpu
  record({ event: 'sri-raise', intid: 9, delayed: false });
  // @ts-expect-error notification-callback's type is sp, vm or fwk
  record({ event: 'notification-callback', id: 1, type: 'framework', vcpu: 0, sender: 0x8001 });
  assert.equal(kept.length, 5);
});
