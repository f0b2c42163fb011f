import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge, latencyTargets, ratio, tally, targetLine } from './targets.ts';

describe('bench targets', () => {
  it('ratio: two decimals, null without a positive floor', () => {
    assert.equal(ratio(3, 2), 1.5);
    assert.equal(ratio(1, 3), 0.33);
    assert.equal(ratio(5, 0), null);
    assert.equal(ratio(5, null), null);
    assert.equal(ratio(undefined, 2), null);
    assert.equal(ratio(Number.POSITIVE_INFINITY, 2), null);
  });

  it('judge: the limit itself is met, either way round; a missing figure is not measured', () => {
    assert.equal(judge('a', 2, '<=', 2, 'x').verdict, 'met');
    assert.equal(judge('a', 2.01, '<=', 2, 'x').verdict, 'missed');
    assert.equal(judge('a', 0.5, '>=', 0.5, 'x').verdict, 'met');
    assert.equal(judge('a', 0.49, '>=', 0.5, 'x').verdict, 'missed');
    assert.equal(judge('a', null, '>=', 0.5, 'x').verdict, 'not measured');
  });

  it('latencyTargets: p50 and p99 at each rate up to half capacity, none above', () => {
    const rates = [
      { ratePerSecond: 50, world: { p50: 4, p99: 30 }, chain: { p50: 1, p99: 10 } },
      { ratePerSecond: 88, world: { p50: 2, p99: 5 }, chain: { p50: 1, p99: 4 } },
      { ratePerSecond: 5000, world: { p50: 900, p99: 2000 }, chain: { p50: 1, p99: 4 } },
    ];
    const targets = latencyTargets('optee', rates, 88, 2);
    assert.deepEqual(
      targets.map((t) => [t.name, t.figure, t.verdict]),
      [
        ['optee at 50/s: world p50 / chain p50', 4, 'missed'],
        ['optee at 50/s: world p99 / chain p99', 3, 'missed'],
        ['optee at 88/s: world p50 / chain p50', 2, 'met'],
        ['optee at 88/s: world p99 / chain p99', 1.25, 'met'],
      ],
    );
    assert.deepEqual(tally(targets), { met: 2, missed: 2, 'not measured': 0 });
  });

  it('latencyTargets: no rate at or below half capacity is one target not measured, never silence', () => {
    const targets = latencyTargets('hafnium', [{ ratePerSecond: 50, world: { p50: 1, p99: 1 }, chain: null }], 40, 2);
    assert.equal(targets.length, 1);
    assert.equal(targets[0]?.verdict, 'not measured');
  });

  it('a missing chain figure leaves the ratio not measured', () => {
    const [p50] = latencyTargets('optee', [{ ratePerSecond: 50, world: { p50: 1, p99: 1 }, chain: null }], 88, 2);
    assert.equal(p50?.verdict, 'not measured');
  });

  it('targetLine names the figure, the target and the verdict', () => {
    assert.match(targetLine(judge('sim with full history', 68583, '>=', 500000, ' msgs/s')), /68,583 msgs\/s\s+\(target >= 500,000 msgs\/s\)\s+missed$/);
    assert.match(targetLine(judge('x', null, '<=', 2, 'x')), /—\s+\(target <= 2x\)\s+not measured$/);
  });
});
