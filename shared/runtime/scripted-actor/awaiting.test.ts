import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Awaiting, type InboxEntry } from './awaiting.ts';
import { InboxFullError, TooManyWaitersError } from './errors.ts';
import { ManualContext } from './test-support/manual-timers.ts';

const LIMITS = { inboxMax: 100, waitersMax: 100 };

function kernel(limits = LIMITS): { ctx: ManualContext; awaiting: Awaiting<string> } {
  const ctx = new ManualContext();
  return { ctx, awaiting: new Awaiting<string>(ctx, limits) };
}

/** Awaits `key` and writes what happened to `log`. */
function awaitInto(awaiting: Awaiting<string>, log: string[], label: string, key: string, timeoutNs = 100, accepts?: (e: InboxEntry<string>) => boolean): void {
  awaiting.await({
    label,
    key,
    ...(accepts ? { accepts } : {}),
    timeoutNs,
    onMatch: (entry) => log.push(`${label} got ${entry.item}`),
    onTimeout: (timeout) => log.push(`${timeout.label} timed out after ${timeout.waitedNs}`),
  });
}

test('a wait takes what was kept before it began, oldest first, and only once', () => {
  const { awaiting } = kernel();
  const log: string[] = [];
  awaiting.offer('k', 0, 'first');
  awaiting.offer('k', 1, 'second');
  awaitInto(awaiting, log, 'w1', 'k');
  awaitInto(awaiting, log, 'w2', 'k');
  awaitInto(awaiting, log, 'w3', 'k');
  assert.deepEqual(log, ['w1 got first', 'w2 got second']);
  awaiting.offer('k', 2, 'third');
  assert.deepEqual(log, ['w1 got first', 'w2 got second', 'w3 got third']);
  assert.equal(awaiting.kept, 0);
});

test('an arrival goes to the oldest waiter of its key that accepts it; the others go on waiting', () => {
  const { awaiting } = kernel();
  const log: string[] = [];
  awaitInto(awaiting, log, 'wants-b', 'k', 100, (e) => e.item === 'b');
  awaitInto(awaiting, log, 'any', 'k');
  awaitInto(awaiting, log, 'other-key', 'j');
  awaiting.offer('k', 0, 'a');
  awaiting.offer('k', 0, 'b');
  assert.deepEqual(log, ['any got a', 'wants-b got b']);
  assert.deepEqual(awaiting.pending(), ['other-key']);
});

test('a wait times out on the context timer, with its label; what comes later is kept for the next wait', () => {
  const { ctx, awaiting } = kernel();
  const log: string[] = [];
  awaitInto(awaiting, log, 'w', 'k', 50);
  ctx.advance(49);
  assert.deepEqual(log, []);
  ctx.advance(1);
  assert.deepEqual(log, ['w timed out after 50']);
  awaiting.offer('k', 60, 'late');
  assert.equal(awaiting.kept, 1);
  assert.equal(ctx.timersSet, 0);
});

test('a match cancels the wait\'s timer', () => {
  const { ctx, awaiting } = kernel();
  const log: string[] = [];
  awaitInto(awaiting, log, 'w', 'k', 50);
  awaiting.offer('k', 1, 'x');
  assert.equal(ctx.timersSet, 0);
  ctx.advance(100);
  assert.deepEqual(log, ['w got x']);
});

test('deliver hands an arrival to a pending wait only, and never keeps it', () => {
  const { awaiting } = kernel();
  const log: string[] = [];
  assert.equal(awaiting.deliver('answer', 0, 'stale'), false);
  assert.equal(awaiting.kept, 0);
  awaitInto(awaiting, log, 'w', 'answer');
  assert.equal(awaiting.deliver('answer', 1, 'fresh'), true);
  assert.deepEqual(log, ['w got fresh']);
});

test('an arrival no waiter takes, at the inbox bound, is an error, not a loss', () => {
  const { awaiting } = kernel({ inboxMax: 2, waitersMax: 10 });
  const log: string[] = [];
  awaiting.offer('k', 0, 'a');
  awaiting.offer('k', 0, 'b');
  assert.throws(() => awaiting.offer('k', 0, 'c'), (error: unknown) => error instanceof InboxFullError && error.code === 'INBOX_FULL');
  // A waiter still takes an arrival at the bound: nothing needs keeping.
  awaitInto(awaiting, log, 'wants-d', 'k', 100, (e) => e.item === 'd');
  awaiting.offer('k', 0, 'd');
  assert.deepEqual(log, ['wants-d got d']);
});

test('more waits pending than the bound is an error', () => {
  const { awaiting } = kernel({ inboxMax: 10, waitersMax: 1 });
  awaitInto(awaiting, [], 'one', 'k');
  assert.throws(() => awaitInto(awaiting, [], 'two', 'k'), TooManyWaitersError);
});

test('awaitEach takes what was kept, then each as it comes; its timer starts again at each match', () => {
  const { ctx, awaiting } = kernel();
  const log: string[] = [];
  awaiting.offer('b', 0, 'b0');
  awaiting.awaitEach({
    label: 'probes',
    wanted: ['a', 'b', 'c'].map((key) => ({ key })),
    progressTimeoutNs: 10,
    onEach: (entry, index) => log.push(`${index}: ${entry.item}`),
    onEnd: (missing) => log.push(`end, missing ${missing.join(',') || 'none'}`),
  });
  ctx.advance(8);
  awaiting.offer('c', 8, 'c8');
  ctx.advance(8);
  awaiting.offer('a', 16, 'a16');
  assert.deepEqual(log, ['1: b0', '2: c8', '0: a16', 'end, missing none']);
  assert.equal(ctx.timersSet, 0);
});

test('awaitEach ends with the ones missing when no progress comes in time', () => {
  const { ctx, awaiting } = kernel();
  const log: string[] = [];
  awaiting.awaitEach({
    label: 'probes',
    wanted: ['a', 'b', 'c'].map((key) => ({ key, label: `probe ${key}` })),
    progressTimeoutNs: 10,
    onEnd: (missing) => log.push(`missing ${missing.join(',')}`),
  });
  assert.deepEqual(awaiting.pending().sort(), ['probe a', 'probe b', 'probe c']);
  ctx.advance(5);
  awaiting.offer('b', 5, 'b5');
  ctx.advance(9);
  assert.deepEqual(log, []);
  ctx.advance(1);
  assert.deepEqual(log, ['missing 0,2']);
  assert.deepEqual(awaiting.pending(), []);
  awaiting.offer('a', 20, 'late');
  assert.equal(awaiting.kept, 1);
});

test('cancelAll calls off every wait without its callbacks', () => {
  const { ctx, awaiting } = kernel();
  const log: string[] = [];
  awaitInto(awaiting, log, 'w', 'k');
  awaiting.awaitEach({ label: 'each', wanted: [{ key: 'j' }], progressTimeoutNs: 10, onEnd: () => log.push('each ended') });
  awaiting.cancelAll();
  assert.equal(ctx.timersSet, 0);
  assert.deepEqual(awaiting.pending(), []);
  ctx.advance(1000);
  awaiting.offer('k', 0, 'x');
  assert.deepEqual(log, []);
  assert.equal(awaiting.kept, 1);
});

test('a call\'s return is awaited under its label', () => {
  const { ctx, awaiting } = kernel();
  const outcomes: boolean[] = [];
  awaiting.call('step 2', 'spmc', { conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: [0n] }, (outcome) => outcomes.push(outcome.ok));
  assert.deepEqual(awaiting.pending(), ['the return of step 2']);
  ctx.callsMade[0]?.answer({ ok: true, regs: [0n], memory: null });
  assert.deepEqual(outcomes, [true]);
  assert.deepEqual(awaiting.pending(), []);
});

/**
 * Against a model that keeps everything in one list and the waits in another, searching both from
 * the front: the same matches, in the same order, the same timeouts and the same refusals.
 */
test('matches, times out and refuses as the one-list model does', () => {
  type Operation =
    | { op: 'offer'; key: number; value: number }
    | { op: 'await'; key: number; parity: number | null; timeoutNs: number }
    | { op: 'advance'; ns: number };
  const operation = fc.oneof(
    fc.record({ op: fc.constant('offer' as const), key: fc.nat(2), value: fc.nat(9) }),
    fc.record({ op: fc.constant('await' as const), key: fc.nat(2), parity: fc.option(fc.nat(1)), timeoutNs: fc.integer({ min: 1, max: 30 }) }),
    fc.record({ op: fc.constant('advance' as const), ns: fc.nat(20) }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), (operations: Operation[], inboxMax) => {
      const ctx = new ManualContext();
      const awaiting = new Awaiting<number>(ctx, { inboxMax, waitersMax: 1000 });
      const actual: string[] = [];
      const expected: string[] = [];
      interface ModelWait { id: number; key: string; parity: number | null; deadlineNs: number }
      const kept: { key: string; value: number }[] = [];
      let waits: ModelWait[] = [];
      let nowNs = 0;
      const fits = (parity: number | null, value: number) => parity === null || value % 2 === parity;
      operations.forEach((operation, id) => {
        if (operation.op === 'offer') {
          const key = `k${operation.key}`;
          const wait = waits.find((w) => w.key === key && fits(w.parity, operation.value));
          if (wait) {
            waits = waits.filter((w) => w !== wait);
            expected.push(`${wait.id} got ${operation.value}`);
          } else if (kept.length >= inboxMax) expected.push('full');
          else kept.push({ key, value: operation.value });
          try {
            awaiting.offer(key, nowNs, operation.value);
          } catch (error) {
            if (!(error instanceof InboxFullError)) throw error;
            actual.push('full');
          }
        } else if (operation.op === 'await') {
          const key = `k${operation.key}`;
          const index = kept.findIndex((k) => k.key === key && fits(operation.parity, k.value));
          if (index >= 0) expected.push(`${id} got ${kept.splice(index, 1)[0]?.value}`);
          else waits.push({ id, key, parity: operation.parity, deadlineNs: nowNs + operation.timeoutNs });
          awaiting.await({
            label: String(id),
            key,
            accepts: (entry) => fits(operation.parity, entry.item),
            timeoutNs: operation.timeoutNs,
            onMatch: (entry) => actual.push(`${id} got ${entry.item}`),
            onTimeout: () => actual.push(`${id} timed out`),
          });
        } else {
          nowNs += operation.ns;
          const due = waits.filter((w) => w.deadlineNs <= nowNs).sort((a, b) => a.deadlineNs - b.deadlineNs || a.id - b.id);
          for (const wait of due) expected.push(`${wait.id} timed out`);
          waits = waits.filter((w) => w.deadlineNs > nowNs);
          ctx.advance(operation.ns);
        }
        assert.deepEqual(actual, expected);
        assert.equal(awaiting.kept, kept.length);
      });
    }),
    { numRuns: 300 },
  );
});
