import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CapacityPoint, curves, gridPoints, saturation } from './capacity.ts';
import { renderCapacityReport } from './capacity-report.ts';

const point = (offeredPerSecond: number, over: Partial<CapacityPoint> = {}): CapacityPoint => ({
  spmc: 'optee',
  guests: 16,
  offeredPerSecond,
  callbacksPerSecond: offeredPerSecond,
  deliveredSendsPerSecond: offeredPerSecond,
  sendsPerCallback: 1,
  mergedAtSpmc: 0,
  sriMerged: 0,
  npiMerged: 0,
  p50Ns: 100_000,
  p99Ns: 200_000,
  infoGetPerLoop: 1,
  infoGetLoopBoundHits: 0,
  passed: true,
  ...over,
});

test('the grid runs every combination, SPMC first, then guests, then rate', () => {
  const points = gridPoints({ spmcs: ['optee', 'hafnium'], guests: [16, 64], ratesPerSecond: [500, 1000] });
  assert.equal(points.length, 8);
  assert.deepEqual(points.slice(0, 3), [
    { spmc: 'optee', guests: 16, ratePerSecond: 500 },
    { spmc: 'optee', guests: 16, ratePerSecond: 1000 },
    { spmc: 'optee', guests: 64, ratePerSecond: 500 },
  ]);
  assert.throws(() => gridPoints({ spmcs: ['optee'], guests: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], ratesPerSecond: Array.from({ length: 20 }, (_, i) => i + 1) }), /at most 200/);
});

test('a curve saturates where sends fall behind or start to merge, and not before', () => {
  const keepingUp = [point(500), point(1000), point(2000)];
  assert.deepEqual(saturation(keepingUp), { peakCallbacksPerSecond: 2000, kneePerSecond: null });
  const behind = [point(500), point(5000, { callbacksPerSecond: 3000, deliveredSendsPerSecond: 3000 }), point(2000)];
  assert.equal(saturation(behind).kneePerSecond, 5000);
  const merging = [point(1000), point(2000, { callbacksPerSecond: 1500, sendsPerCallback: 1.33 })];
  assert.deepEqual(saturation(merging), { peakCallbacksPerSecond: 1500, kneePerSecond: 2000 });
});

test('points group into one curve per SPMC and guest count, by offered rate', () => {
  const grouped = curves([point(2000), point(500, { spmc: 'hafnium' }), point(500)]);
  assert.deepEqual(grouped.map((c) => [c.spmc, c.guests, c.points.map((p) => p.offeredPerSecond)]), [['optee', 16, [500, 2000]], ['hafnium', 16, [500]]]);
});

test('the capacity report draws the four curves and lists every point', async () => {
  const html = await renderCapacityReport({ serviceTimes: 'cortex-a57-estimate', seed: 3, points: [point(500), point(1000, { spmc: 'hafnium', passed: false })] });
  assert.equal((html.match(/<svg/g) ?? []).length, 4);
  for (const title of ['Distinct deliveries', 'p99 end to end', 'INFO_GET calls per loop', 'Merges']) assert.ok(html.includes(title), title);
  assert.match(html, /<td>hafnium<\/td><td>16<\/td><td>1000<\/td>/);
  assert.match(html, /<td>failed<\/td>/);
});
