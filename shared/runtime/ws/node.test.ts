import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry } from '../history.ts';
import { newSecret } from './credentials.ts';
import { type InProcessNode, inProcessNode } from './test-support/in-process-node.ts';

const KEY = newSecret();

async function pair(): Promise<{ caller: InProcessNode; echo: InProcessNode }> {
  const worldNames = ['echo', 'one-call'];
  const echo = await inProcessNode({
    component: { name: 'echo', role: 'test', module: 'shared/runtime/test-world/echo.ts', config: { recordCalls: true } },
    worldNames,
    credentials: { accept: { 'one-call': { key: KEY, role: 'test' } }, dial: {} },
  });
  const caller = await inProcessNode({
    component: { name: 'one-call', role: 'test', module: 'shared/runtime/ws/test-support/one-call.ts', config: { target: 'echo' } },
    worldNames,
    credentials: { accept: {}, dial: { echo: KEY } },
  });
  await caller.node.connect([{ name: 'echo', url: echo.node.url }], 5_000);
  await echo.node.waitForInbound(['one-call'], 5_000);
  return { caller, echo };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const giveUp = performance.now() + timeoutMs;
  while (!condition() && performance.now() < giveUp) await new Promise((r) => setTimeout(r, 10));
  return condition();
}

function doneRecord(history: HistoryEntry[]): Record<string, unknown> | undefined {
  const entry = history.find((e) => e.event.type === 'record' && e.event.data['event'] === 'done');
  return entry?.event.type === 'record' ? entry.event.data : undefined;
}

describe('WsNode', () => {
  it('keeps messages that arrive before start and delivers them once started', async () => {
    const { caller, echo } = await pair();
    try {
      caller.node.start(); // its call reaches echo before echo has started
      assert.ok(await until(() => echo.history.length === 0 && caller.history.some((e) => e.event.type === 'send'), 5_000));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(doneRecord(caller.history), undefined, 'no return before echo starts');
      echo.node.start();
      assert.ok(await until(() => doneRecord(caller.history) !== undefined, 5_000));
      assert.deepEqual(doneRecord(caller.history), { event: 'done', ok: true, echoed: true });
    } finally {
      await Promise.all([caller.node.stop('test over'), echo.node.stop('test over')]);
    }
  });

  it('survives its peer going away: sends become unreachable, the node keeps running', async () => {
    const { caller, echo } = await pair();
    try {
      await echo.node.stop('peer leaves');
      assert.ok(await until(() => caller.node.linkedPeers.length === 0, 5_000), 'the closed link is forgotten');
      caller.node.start();
      assert.ok(await until(() => doneRecord(caller.history) !== undefined, 5_000));
      assert.deepEqual(doneRecord(caller.history), { event: 'done', ok: false, echoed: false });
      const refused = caller.history.find((e) => e.event.type === 'refused');
      assert.ok(refused?.event.type === 'refused' && refused.event.reason === 'unreachable');
      assert.ok(caller.node.host.isRunning);
    } finally {
      await caller.node.stop('test over');
    }
  });

  it('stops cleanly: onStop, links closed, the component no longer running', async () => {
    const { caller, echo } = await pair();
    caller.node.start();
    echo.node.start();
    assert.ok(await until(() => doneRecord(caller.history) !== undefined, 5_000));
    await Promise.all([caller.node.stop('test over'), echo.node.stop('test over')]);
    assert.equal(caller.node.host.isRunning, false);
    assert.deepEqual(caller.node.linkedPeers, []);
    assert.ok(echo.history.some((e) => e.event.type === 'component' && e.event.event === 'stop'));
  });
});
