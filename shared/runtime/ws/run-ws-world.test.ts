import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorldSpec } from '../component.ts';
import { MemoryHistorySink } from '../history.ts';
import { testWorldSpec } from '../test-world/index.ts';
import { runWsWorld } from './run-ws-world.ts';

describe('runWsWorld', () => {
  it('runs a world with finishers until each has recorded done', async () => {
    const spec: WorldSpec = {
      seed: 11,
      components: [
        { name: 'one-call', role: 'test', module: 'shared/runtime/ws/test-support/one-call.ts', config: { target: 'echo' } },
        { name: 'echo', role: 'test', module: 'shared/runtime/test-world/echo.ts', config: { recordCalls: false } },
      ],
      links: [['one-call', 'echo']],
      finishers: ['one-call'],
    };
    const history = new MemoryHistorySink();
    const result = await runWsWorld(spec, { history, timeoutMs: 30_000 });
    assert.equal(result.ended, 'done');
    assert.deepEqual(Object.keys(result.memory.heapPeakBytes).sort(), ['echo', 'one-call'], 'a heap peak per worker');
    assert.ok(result.memory.rssPeakBytes > 0);
    // One call and its return, each one frame; the world stops once both have arrived.
    assert.deepEqual(result.traffic.frames, { sent: 2, received: 2 });
    assert.ok(result.traffic.cpuMicros > 0);
    const done = history.entries.find((e) => e.event.type === 'record' && e.event.data['event'] === 'done');
    assert.ok(done?.event.type === 'record' && done.event.data['echoed'] === true);
  });

  it('runs a world without finishers until its history goes quiet', async () => {
    const { finishers: _finishers, ...withoutFinishers } = testWorldSpec({ seed: 12, vcpus: 2, callsPerVcpu: 5 });
    const history = new MemoryHistorySink();
    // A long quiet window: on a loaded machine the callers' first calls can come a second or more
    // after the workers are ready, and silence before them would end the world early.
    const result = await runWsWorld(withoutFinishers, { history, timeoutMs: 60_000, quietMs: 5_000 });
    assert.equal(result.ended, 'idle');
    const returns = history.entries.filter((e) => e.event.type === 'record' && e.event.data['event'] === 'caller-return');
    assert.equal(returns.length, 10);
  });
});
