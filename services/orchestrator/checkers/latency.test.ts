/**
 * latency: end to end and per hop on real runs under Xen and on bare metal, HDR percentiles, and
 * the check against thresholds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { Percentiles } from '../scenario/types.ts';
import { awaitBottomHalf, awaitProbe, HOST, opteeSend } from '../../guest/test-support/world.ts';
import { measureLatency, notificationLedger } from './index.ts';
import { percentilesOf, type Sample } from './latency.ts';
import { check, runUnderSim, xenSends } from './test-support/worlds.ts';

const XEN_HOPS = ['set→sri-raise', 'sri-raise→sri-deliver', 'sri-deliver→info-get', 'info-get→npi-inject', 'npi-inject→npi-deliver', 'npi-deliver→get', 'get→callback', 'callback→bottom-half'];
const BARE_METAL_HOPS = ['set→sri-raise', 'sri-raise→sri-deliver', 'sri-deliver→info-get', 'info-get→get', 'get→callback', 'callback→bottom-half'];

function assertOrdered(p: Percentiles): void {
  assert.ok(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p['p99.9'] && p['p99.9'] <= p.max, JSON.stringify(p));
}

const sample = (ns: number): Sample => ({ ns, from: { seq: 0, t: 0, event: { type: 'record', component: 'x', data: {} } } as HistoryEntry, to: { seq: 1, t: ns, event: { type: 'record', component: 'x', data: {} } } as HistoryEntry });

describe('latency', () => {
  it('measures every hop of the path under Xen, and end to end from each send to its callback', async () => {
    const { entries, model } = await runUnderSim(xenSends(2));
    const report = measureLatency(entries, model);
    assert.equal(report.endToEnd.count, 4);
    assertOrdered(report.endToEnd);
    assert.deepEqual(Object.keys(report.hops), XEN_HOPS);
    for (const hop of XEN_HOPS) assert.equal(report.hops[hop]?.count, 4, hop);
    const ledger = notificationLedger(entries, model);
    const longest = Math.max(...ledger.map((n) => (n.callbackNs ?? 0) - n.setNs));
    assert.ok(Math.abs(report.endToEnd.max - longest) <= longest / 1000, `max ${report.endToEnd.max} vs ${longest} (HDR keeps 3 digits)`);
  });

  it('shows a delayed interrupt delivery in its own hop', async () => {
    const delay = { id: 'delay-sri', match: { kind: 'irq' as const, from: 'gic', to: 'hypervisor', irqOp: 'deliver' }, then: { action: 'delay' as const, byNs: 5_000_000 }, count: 1 };
    const { entries, model } = await runUnderSim(xenSends(1), [delay]);
    const report = measureLatency(entries, model);
    assert.ok((report.hops['sri-raise→sri-deliver']?.max ?? 0) >= 5_000_000);
    assert.ok((report.hops['npi-inject→npi-deliver']?.max ?? Infinity) < 5_000_000);
  });

  it('takes the bare-metal path: the host\'s INFO_GET, then its GET', async () => {
    const world = { hypervisor: 'none' as const, spmcProfile: 'optee' as const, guests: [{ name: HOST, variant: 'linux-6.10' as const, vcpus: 4, opteeClient: true }], actor: [awaitProbe(HOST), opteeSend(0, 2), awaitBottomHalf(HOST)] };
    const { entries, model } = await runUnderSim(world);
    const report = measureLatency(entries, model);
    assert.equal(report.endToEnd.count, 1);
    assert.deepEqual(Object.keys(report.hops), BARE_METAL_HOPS);
  });

  it('gives HDR percentiles in ns, 0 ns included', () => {
    const p = percentilesOf([0, 10, 10, 1000].map(sample));
    assert.deepEqual(p, { count: 4, p50: 10, p90: 1000, p99: 1000, 'p99.9': 1000, max: 1000 });
    assert.deepEqual(percentilesOf([]), { count: 0, p50: 0, p90: 0, p99: 0, 'p99.9': 0, max: 0 });
  });

  it('holds to thresholds, fails one exceeded or one with no samples, naming the measure', async () => {
    const { entries, model } = await runUnderSim(xenSends(1));
    assert.equal(check(entries, model, 'latency', { 'end-to-end': { p99: 1e9 }, 'get→callback': { max: 1e6 } }).held, true);
    const exceeded = check(entries, model, 'latency', { 'end-to-end': { p50: 1 } });
    assert.equal(exceeded.held, false);
    assert.match(exceeded.failures[0]?.message ?? '', /^end-to-end p50 is \d+\.\d{3} ms, above its threshold of 0\.000 ms \(2 samples; the slowest shown\)$/);
    assert.equal(exceeded.failures[0]?.events.length, 2);
    assert.match(exceeded.detail, /^1 threshold exceeded; end-to-end p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms \(2 samples\)$/, 'one threshold, in the singular');
    const unknown = check(entries, model, 'latency', { 'set→teleport': { max: 1 } });
    assert.deepEqual(unknown.failures.map((f) => f.message), ['set→teleport: no samples to hold to its thresholds']);
    assert.match(unknown.detail, /^1 measure with no samples; /, 'a measure without samples is not called an exceeded threshold');
    assert.equal(check(entries, model, 'latency').held, true, 'no thresholds: nothing to fail');
  });
});
