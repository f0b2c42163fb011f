/**
 * Load statistics on real sim runs of the load world (services/orchestrator/load-test/load-world.ts): the counts
 * add up, every send's corrected latency is at least its uncorrected one, INFO_GET loops make at
 * least one call, and the figures are the same for the same seed.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { buildLoadScenario, type LoadWorldOptions } from './load-world.ts';
import { runScenario } from '../run/runner.ts';
import type { ScenarioResult, WorldModel } from '../scenario/types.ts';
import { worldModelOf } from '../run/world-builder.ts';
import { loadStats, percentilesOfNs, sendLatencies, type LoadStats } from './load-stats.ts';

const SEED = 11;

function world(overrides: Partial<LoadWorldOptions>): LoadWorldOptions {
  return { guests: 8, vcpus: 2, cpus: 4, ratePerSecond: 2000, durationNs: null, count: 200, thresholds: null, drainNs: null, seed: SEED, runtime: 'sim', spmc: 'optee', serviceTimes: null, ...overrides };
}

interface Run {
  entries: HistoryEntry[];
  model: WorldModel;
  result: ScenarioResult;
  stats: LoadStats;
}

async function run(options: LoadWorldOptions): Promise<Run> {
  const { scenario } = buildLoadScenario(options);
  const { entries, result } = await runScenario(scenario, { runtime: 'sim', seed: SEED });
  const model = worldModelOf(scenario);
  return { entries, model, result, stats: loadStats(entries, model, { ratePerSecond: options.ratePerSecond }, { latency: result.latency }) };
}

/** What must hold of any run of the load world in which every notification arrived. */
function assertCountsAddUp(r: Run, sends: number): void {
  const { stats } = r;
  const n = stats.notifications;
  assert.equal(stats.workload.arrivals, sends, 'the orchestrator sent every arrival');
  assert.deepEqual(n.spmcOutcomes, { sent: sends }, 'the SPMC made every one pending');
  assert.equal(n.madePending, sends);
  assert.equal(n.episodes + n.mergedAtSpmc, n.madePending, 'each send opened a pending notification or merged into one');
  assert.equal(n.delivered, n.episodes);
  assert.equal(n.calledBack, n.episodes);
  assert.deepEqual(n.outcomes, { delivered: n.episodes });
  assert.equal(n.sendsWithoutCallback, 0);
  assert.equal(stats.throughput.pendingAtSpmc.count, sends);
  assert.equal(stats.throughput.callbacks.count, n.calledBack, 'one driver callback per pending notification');
  assert.equal(stats.throughput.deliveredSends.count, sends);
  assert.equal(stats.latency.corrected.count, sends);
  assert.equal(stats.latency.uncorrected.count, sends);
  // The SRI: OP-TEE raises it for every send; the GIC takes it as new or merges it into a pending one.
  assert.equal(stats.sri.intid, 8);
  assert.equal(stats.sri.raised + stats.sri.merged + stats.sri.kept, sends);
  // The hypervisor is the SRI's only audience: one delivery per new edge, and one more after the
  // EOI for each edge kept because it reached the GIC before the acknowledge.
  assert.equal(stats.sri.delivered, stats.sri.raised + stats.sri.kept);
  assert.equal(stats.infoGet.srisTaken, stats.sri.delivered);
  assert.equal(stats.infoGet.loops + stats.infoGet.srisCoalesced, stats.infoGet.srisTaken);
  assert.ok(stats.infoGet.loops >= 1);
  assert.ok(stats.infoGet.perLoop.mean >= 1, `INFO_GET per loop ${stats.infoGet.perLoop.mean}`);
  assert.equal(Object.values(stats.infoGet.perLoop.histogram).reduce((a, b) => a + b, 0), stats.infoGet.loops);
  assert.equal(stats.infoGet.loopBoundHits, 0);
  // The per-hop figures are the latency checker's.
  assert.deepEqual(stats.latency.hops, r.result.latency.hops);
  assert.deepEqual(stats.latency.uncorrected, r.result.latency.endToEnd, 'uncorrected is the checker\'s end-to-end');
}

function assertCorrectedNotBelowUncorrected(r: Run, ratePerSecond: number): void {
  const latencies = sendLatencies(r.entries, r.model);
  assert.equal(latencies.length, r.stats.workload.arrivals);
  const periodNs = 1e9 / ratePerSecond;
  latencies.forEach((l, index) => {
    assert.equal(l.arrival, index, 'one latency per arrival, in order');
    assert.ok(Math.abs(l.intendedNs - (r.stats.workload.startNs + index * periodNs)) < 1e-3, 'arrival i is due at start + i / rate');
    assert.ok(l.intendedNs <= l.setNs, `arrival ${index}: due at ${l.intendedNs}, set at ${l.setNs}`);
    assert.ok(l.corrected >= l.uncorrected, `arrival ${index}: corrected ${l.corrected} < uncorrected ${l.uncorrected}`);
  });
  for (const key of ['p50', 'p90', 'p99', 'p99.9', 'max'] as const) {
    assert.ok(r.stats.latency.corrected[key] >= r.stats.latency.uncorrected[key], key);
  }
}

describe('load statistics: 8 guests, 2000/s, 200 notifications (sim)', () => {
  let r: Run;
  before(async () => {
    r = await run(world({}));
  });

  it('passes its checks', () => {
    assert.equal(r.result.passed, true, JSON.stringify(r.result.checks));
  });

  it('adds up: every send made pending, merged or not, called back; SRIs raised, merged, taken, looped', () => {
    assertCountsAddUp(r, 200);
  });

  it('measures each send from its intended arrival (corrected) and from its set (uncorrected)', () => {
    assertCorrectedNotBelowUncorrected(r, 2000);
  });

  it('offers and achieves 2000/s over the window of 100 ms', () => {
    const { workload, throughput } = r.stats;
    assert.equal(workload.periodNs, 500_000);
    assert.equal(workload.windowNs, 100_000_000);
    assert.equal(workload.sentPerSecond, 2000);
    assert.equal(workload.sendLag.max, 0, 'under sim the generator is never late');
    assert.equal(throughput.offeredPerSecond, 2000);
    assert.equal(throughput.pendingAtSpmc.inWindow, 200);
    assert.equal(throughput.pendingAtSpmc.perSecondInWindow, 2000);
    assert.ok(throughput.callbacks.perSecond > 1900 && throughput.callbacks.perSecond <= 2000, String(throughput.callbacks.perSecond));
  });

  it('is the same for the same seed', async () => {
    const again = await run(world({}));
    assert.equal(again.result.historyHash, r.result.historyHash);
    assert.deepEqual(again.stats, r.stats);
  });
});

describe('load statistics under merging: 8 guests, 40000/s, 2000 notifications (sim)', () => {
  let r: Run;
  before(async () => {
    r = await run(world({ ratePerSecond: 40_000, count: 2000 }));
  });

  it('adds up with SRIs merged at the GIC and taken during a running INFO_GET loop', () => {
    assert.equal(r.result.passed, true, JSON.stringify(r.result.checks));
    assertCountsAddUp(r, 2000);
    assert.ok(r.stats.sri.merged + r.stats.sri.kept > 0, 'some SRIs found it pending at the GIC');
    assert.ok(r.stats.infoGet.srisCoalesced > 0, 'some SRIs came while a loop ran');
    assert.ok(r.stats.infoGet.idsPerCall > 1, 'INFO_GET answers named several VMs');
  });

  it('keeps corrected at or above uncorrected for every send', () => {
    assertCorrectedNotBelowUncorrected(r, 40_000);
  });
});

describe('percentilesOfNs', () => {
  it('gives HDR percentiles (3 significant figures) and zeros for no samples', () => {
    assert.deepEqual(percentilesOfNs([]), { count: 0, p50: 0, p90: 0, p99: 0, 'p99.9': 0, max: 0 });
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 1000);
    const p = percentilesOfNs(values);
    assert.equal(p.count, 1000);
    for (const [got, want] of [[p.p50, 500_000], [p.p90, 900_000], [p.p99, 990_000], [p.max, 1_000_000]] as const) {
      assert.ok(Math.abs(got - want) / want < 2e-3, `${got} vs ${want}`);
    }
    assert.equal(percentilesOfNs([-5, 0]).max, 0, 'negative values count as 0');
  });
});
