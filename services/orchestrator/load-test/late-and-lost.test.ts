/**
 * Late is not lost, in a load run (sim): a workload's notification delivered past the liveness
 * bound, but before its drain ended, fails a latency threshold and not no-lost-notification; one
 * whose interrupt a `drop` fault took is still pending when the drain ends, and is lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { failedOnlyThresholds, judgeRun, runScenario, type ScenarioRun } from '../run/runner.ts';
import { readScenarioText } from '../scenario/reader/index.ts';
import type { CheckResult } from '../scenario/types.ts';
import { loadScenarioInput, type LoadWorldOptions } from './load-world.ts';

const SEED = 5;

function options(overrides: Partial<LoadWorldOptions> = {}): LoadWorldOptions {
  return { guests: 4, vcpus: 1, cpus: 4, ratePerSecond: 2000, durationNs: null, count: 40, thresholds: null, drainNs: null, seed: SEED, runtime: 'sim', spmc: 'optee', serviceTimes: null, ...overrides };
}

async function run(world: LoadWorldOptions, extra: Record<string, unknown> = {}): Promise<ScenarioRun> {
  const scenario = readScenarioText(stringify({ ...loadScenarioInput(world), ...extra }), 'late-and-lost.yaml');
  return runScenario(scenario, { runtime: 'sim', seed: SEED });
}

const checkNamed = (checks: readonly CheckResult[], name: string): CheckResult => {
  const found = checks.find((c) => c.name === name);
  assert.ok(found, `a ${name} check`);
  return found;
};

describe('late is not lost (load runs, sim)', () => {
  it('a notification delivered past the liveness bound before the drain ended misses a latency threshold, not no-lost', async () => {
    // Every notification takes about 150 µs; with a 50 µs liveness bound each one is late.
    const world = options({ thresholds: { corrected: { max: 50_000 } } });
    const first = await run(world);
    assert.equal(checkNamed(first.result.checks, 'no-lost-notification').detail, '40 notifications, 40 delivered', 'with the default bound of 500 ms none is late');
    assert.match(first.result.steps[0]?.detail ?? '', /; drained: quiet [\d.]+ ms after the last arrival$/, 'every notification seen delivered, then quiet');
    const scenario = readScenarioText(stringify(loadScenarioInput(world)), 'late-and-lost.yaml');
    const { ended, wallMs, historyEntries, historyHash } = first.result;
    const judged = await judgeRun(scenario, { runtime: 'sim', seed: SEED, replay: '', livenessBoundNs: 50_000 }, first.entries, { ended, wallMs, trouble: [], historyEntries, historyHash }, null);
    const { result } = judged;
    const noLost = checkNamed(result.checks, 'no-lost-notification');
    assert.equal(noLost.passed, true, noLost.detail);
    assert.match(noLost.detail, /40 notifications, 40 delivered; 40 workload notifications delivered past the 0\.05 ms liveness bound before their drain ended: late, not lost/);
    const latency = checkNamed(result.checks, 'latency');
    assert.equal(latency.passed, false);
    assert.match(latency.failures[0]?.message ?? '', /^corrected max is \d+\.\d{3} ms, above its threshold of 0\.050 ms \(40 samples/);
    assert.equal(result.passed, false);
    assert.equal(failedOnlyThresholds(result), true, 'only the threshold failed');
  });

  it('a notification whose interrupts a drop fault takes is still pending when the drain ends: lost', async () => {
    // Every NPI to g1 dropped: Xen's INFO_GET names VM 1 again at each SRI (OP-TEE's INFO_GET is
    // not destructive), and each NPI injected for it is dropped again; g1's driver never calls GET.
    const { result } = await run(options(), { faults: [{ at: '0ms', fault: 'drop-interrupt', intid: 8, to: 'g1' }] });
    const noLost = checkNamed(result.checks, 'no-lost-notification');
    assert.equal(noLost.passed, false);
    assert.match(noLost.failures[0]?.message ?? '', /^notification 0 \(sp bitmap\) for g1 never returned by a GET: still pending when the workload's drain ended [\d.]+ ms after its last arrival, the world quiet with nothing left in flight to deliver it$/);
    assert.ok(noLost.failures[0]?.events.some((e) => e.what.includes('"event":"drain"')), 'the drain record is evidence');
    assert.ok(noLost.failures[0]?.events.some((e) => e.what.startsWith('fault drop')), 'the fault is evidence');
    assert.match(result.steps[0]?.detail ?? '', /; the world went quiet [\d.]+ ms after the last arrival with notifications still pending$/, 'the orchestrator never saw g1 get its bit');
    assert.equal(failedOnlyThresholds(result), false, 'a lost notification is a correctness failure');
    const others = result.checks.filter((c) => c.name !== 'no-lost-notification');
    assert.ok(others.every((c) => c.passed), JSON.stringify(others));
  });

  it('a notification still pending when a short drain\'s bound passes is lost, and says it was delivered later', async () => {
    // The workload ends one period (10 µs) after its last arrival, and the drain's bound is
    // shorter than one notification's path (about 150 µs): the last one is still on its way when
    // the drain ends, and arrives after.
    const { result } = await run(options({ ratePerSecond: 100_000, drainNs: 10_000 }));
    const noLost = checkNamed(result.checks, 'no-lost-notification');
    assert.equal(noLost.passed, false);
    assert.match(noLost.failures[0]?.message ?? '', /still pending when the workload's drain ended, its 0\.010 ms bound passed with the world still busy; delivered [\d.]+ ms later \(a longer drain tells very late from lost\)$/);
    assert.match(result.steps[0]?.detail ?? '', /the drain ended after 0\.01 ms with the world still busy$/);
  });
});
