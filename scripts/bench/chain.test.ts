import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Chain, loadWorldThreads } from './chain.ts';

describe('chain floor', () => {
  it('has one thread per platform component and the orchestrator, and the guests\' workers', () => {
    // gic, spmd, spmc, hypervisor, orchestrator alone; 64 guests in 4 workers (scripts/load.ts).
    assert.equal(loadWorldThreads(64), 9);
    assert.equal(loadWorldThreads(1), 6);
  });

  it('carries every arrival its hops round the ring and lands it once', async () => {
    const chain = await Chain.start(3, 5);
    try {
      assert.equal(chain.landingMember, 2);
      const figures = await chain.trial(200, 100, 30_000);
      assert.equal(figures.arrivals, 20);
      assert.equal(figures.landed, 20);
      assert.equal(figures.complete, true);
      assert.equal(figures.latencyNs.count, 20);
      // A second trial on the same ring: the first's frames are all accounted for.
      const again = await chain.trial(200, 50, 30_000);
      assert.equal(again.landed, again.arrivals);
    } finally {
      await chain.stop();
    }
  });

  it('refuses a ring it cannot make', async () => {
    await assert.rejects(Chain.start(1, 14), /at least 2 threads/);
    await assert.rejects(Chain.start(9, 0), /at least 1 hop/);
  });
});
