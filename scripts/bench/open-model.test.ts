import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { afterProbe, arrivalsOf, intendedNs, nextSaturationProbe, type SaturationBounds, type SaturationSearch, timerFor, trialFigures } from './open-model.ts';

const times = (rate: number, startNs: number, landed: number[], collectedNs = 0) => {
  const intended = Float64Array.from(landed, (_, i) => intendedNs(startNs, rate, i));
  return { ratePerSecond: rate, startNs, intendedNs: intended, landedNs: Float64Array.from(landed), collectedNs };
};

describe('open model', () => {
  it('arrival i is due at start + i / rate', () => {
    assert.equal(intendedNs(1000, 1000, 0), 1000);
    assert.equal(intendedNs(1000, 1000, 3), 1000 + 3e6);
    assert.equal(arrivalsOf(88, 2000), 176);
    assert.equal(arrivalsOf(0.1, 1000), 1);
  });

  it('waits as the ws runtime does: under a millisecond on the next turn, else whole milliseconds', () => {
    assert.deepEqual(timerFor(200_000), { kind: 'immediate' });
    assert.deepEqual(timerFor(-5), { kind: 'immediate' });
    assert.deepEqual(timerFor(1_400_000), { kind: 'timeout', ms: 1 });
    assert.deepEqual(timerFor(2_600_000), { kind: 'timeout', ms: 3 });
  });

  it('latency runs from the intended time, so a late generator shows as latency', () => {
    // 1000/s from t=0: intended 0, 1, 2 ms; all landed 5 ms after t=0 (sent late, together).
    const figures = trialFigures(times(1000, 0, [5e6, 5e6, 5e6]));
    // HDR percentiles: three significant figures.
    assert.ok(Math.abs(figures.latencyNs.max - 5e6) <= 5e6 * 1e-3, `${figures.latencyNs.max}`);
    assert.equal(figures.latencyNs.count, 3);
    assert.equal(figures.landed, 3);
    assert.equal(figures.complete, true);
  });

  it('sustained: every arrival landed and the chain kept up with the rate', () => {
    const keptUp = trialFigures(times(1000, 0, [0.1e6, 1.1e6, 2.1e6, 3.1e6]));
    assert.equal(keptUp.sustained, true);
    assert.equal(keptUp.landedPerSecondInWindow, 1000);
    // The backlog grew: the last landed at 8 ms for a 4 ms window.
    const fellBehind = trialFigures(times(1000, 0, [2e6, 4e6, 6e6, 8e6]));
    assert.equal(fellBehind.sustained, false);
    assert.equal(fellBehind.carriedPerSecond, 500);
    assert.equal(fellBehind.landedPerSecondInWindow, 250);
  });

  it('an arrival that never landed counts as late as the collection, and the trial is incomplete', () => {
    const figures = trialFigures(times(1000, 0, [0.5e6, Number.NaN], 50e6));
    assert.equal(figures.complete, false);
    assert.equal(figures.sustained, false);
    assert.equal(figures.landed, 1);
    assert.ok(Math.abs(figures.latencyNs.max - 49e6) <= 49e6 * 1e-3, `${figures.latencyNs.max}`);
  });

  it('saturation search: doubles, halves, then bisects to the precision', () => {
    const search: SaturationSearch = { startRate: 1000, minRate: 50, maxRate: 20_000, precision: 0.05 };
    let bounds: SaturationBounds = { sustained: null, notSustained: null };
    const tried: number[] = [];
    for (let probe = nextSaturationProbe(bounds, search); probe !== null; probe = nextSaturationProbe(bounds, search)) {
      tried.push(probe);
      bounds = afterProbe(bounds, probe, probe <= 2600);
    }
    assert.deepEqual(tried.slice(0, 3), [1000, 2000, 4000]);
    assert.ok(bounds.sustained !== null && bounds.sustained <= 2600 && bounds.sustained >= 2600 / 1.05, JSON.stringify(bounds));
  });

  it('saturation search ends, within its rates, whatever the trials say', () => {
    const search: SaturationSearch = { startRate: 700, minRate: 50, maxRate: 10_000, precision: 0.05 };
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (answers) => {
        let bounds: SaturationBounds = { sustained: null, notSustained: null };
        let probes = 0;
        for (let probe = nextSaturationProbe(bounds, search); probe !== null; probe = nextSaturationProbe(bounds, search)) {
          assert.ok(probe >= search.minRate && probe <= search.maxRate);
          bounds = afterProbe(bounds, probe, answers[probes] ?? false);
          probes++;
          assert.ok(probes <= 40, 'the search runs away');
        }
      }),
    );
  });
});
