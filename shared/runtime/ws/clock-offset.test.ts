/**
 * The NTP-style offset estimate of a peer's clock (clock-offset.ts): whatever the two one-way
 * delays and the peer's holding time, the true offset lies within the estimate ± its uncertainty;
 * timestamps that cannot be of one exchange are refused; the freshest good sample wins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ClockOffsetEstimator, type ClockProbe, DRIFT_PER_NS, offsetSample } from './clock-offset.ts';

/** A probe between two clocks `offsetNs` apart, with these delays out and back and this holding time. */
function probeOf(t1: bigint, offsetNs: bigint, outNs: bigint, holdNs: bigint, backNs: bigint): ClockProbe {
  const t2 = t1 + offsetNs + outNs;
  const t3 = t2 + holdNs;
  return { t1, t2, t3, t4: t3 - offsetNs + backNs };
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);
const delay = fc.bigInt({ min: 0n, max: 10n ** 10n });
/** Two machines' monotonic clocks: years apart, past what a double holds exactly. */
const offset = fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n });

describe('a peer clock\'s offset', () => {
  it('is within half the round trip of the truth, whatever the delays each way', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 10n ** 17n, max: 10n ** 18n }), offset, delay, delay, delay, (t1, truth, out, hold, back) => {
        const sample = offsetSample(probeOf(t1, truth, out, hold, back));
        if (typeof sample === 'string') return assert.fail(sample);
        assert.equal(sample.roundTripNs, out + back);
        const estimator = new ClockOffsetEstimator();
        estimator.add(probeOf(t1, truth, out, hold, back));
        const estimate = estimator.estimate(sample.atNs);
        assert.ok(estimate && Number(abs(estimate.offsetNs - truth)) <= estimate.uncertaintyNs, `off by ${estimate?.offsetNs ?? 0n - truth}`);
      }),
    );
  });

  it('takes, of its last samples, the one with the least uncertainty now, and keeps the truth within it', () => {
    fc.assert(
      fc.property(offset, fc.array(fc.tuple(delay, delay, delay), { minLength: 1, maxLength: 20 }), (truth, delays) => {
        const estimator = new ClockOffsetEstimator(8);
        let t1 = 10n ** 15n;
        for (const [out, hold, back] of delays) {
          estimator.add(probeOf(t1, truth, out, hold, back));
          t1 += out + hold + back + 1_000_000n;
        }
        const estimate = estimator.estimate(t1);
        assert.ok(estimate);
        assert.equal(estimate.samples, Math.min(8, delays.length));
        assert.ok(Number(abs(estimate.offsetNs - truth)) <= estimate.uncertaintyNs);
        const shortest = Math.min(...delays.slice(-8).map(([out, , back]) => Number(out + back)));
        assert.ok(estimate.roundTripNs >= shortest);
      }),
    );
  });

  it('grows a sample\'s uncertainty by 15 ppm of its age, so a fresh sample wins over a stale shorter one', () => {
    const estimator = new ClockOffsetEstimator();
    estimator.add(probeOf(0n, 500n, 1_000n, 10n, 1_000n)); // round trip 2 µs, at 2.01 µs
    const stale = estimator.estimate(2_010n + 1_000_000_000n);
    assert.equal(stale?.uncertaintyNs, 1_000.5 + 1e9 * DRIFT_PER_NS);
    estimator.add(probeOf(1_000_000_000n, 500n, 2_000n, 10n, 2_000n)); // round trip 4 µs, fresh
    assert.equal(estimator.estimate(1_000_004_010n)?.roundTripNs, 4_000);
  });

  it('refuses timestamps that cannot be of one exchange, counting them, and keeps estimating without them', () => {
    const estimator = new ClockOffsetEstimator();
    assert.match(String(estimator.add({ t1: 10n, t2: 5n, t3: 6n, t4: 9n })), /arrived .* before the probe left/);
    assert.match(String(estimator.add({ t1: 10n, t2: 7n, t3: 6n, t4: 20n })), /answered .* before it received/);
    assert.match(String(estimator.add({ t1: 10n, t2: 0n, t3: 50n, t4: 20n })), /held the probe 50 ns, longer than its whole round trip, 10 ns/);
    assert.equal(estimator.refused, 3);
    assert.equal(estimator.estimate(100n), null);
    assert.throws(() => new ClockOffsetEstimator(0), RangeError);
  });
});
