/**
 * The load's figures per host (per-host.ts): a guest's host is the label it registered with, else
 * its registered URL's host part;
 * the hosts' figures add up to the world's on a real sim run of the load world; and each figure's
 * clock bound is the bounds at its two ends added (exact on one boot, unknown when a clock is).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { PeerClockUsed } from '../../../shared/runtime/ws/world-client.ts';
import { runScenario } from '../run/runner.ts';
import { worldModelOf } from '../run/world-builder.ts';
import type { WorldModel } from '../scenario/types.ts';
import { loadStats, type LoadStats } from './load-stats.ts';
import { buildLoadScenario } from './load-world.ts';
import { figureUncertainty, guestsByHost, hostOf, hostOfUrl, perHostFigures, UNKNOWN_HOST } from './per-host.ts';

describe('per-host: a guest\'s host', () => {
  it('is the host part of the URL it registered with', () => {
    assert.equal(hostOfUrl('ws://10.0.0.7:7100'), '10.0.0.7');
    assert.equal(hostOfUrl('ws://guest-3.ffa:7100'), 'guest-3.ffa');
    assert.equal(hostOfUrl('ws://[::1]:7100'), '::1');
    assert.equal(hostOfUrl('ws://127.86.5.2:9'), '127.86.5.2');
  });

  it('is the label it registered with (FFA_HOST_LABEL) when it gave one: on an overlay network every container has its own address', () => {
    const grouped = guestsByHost([
      { name: 'guest-1', url: 'ws://10.0.1.5:7100', host: 'node-a' },
      { name: 'guest-2', url: 'ws://10.0.1.9:7100', host: 'node-a' },
      { name: 'guest-3', url: 'ws://10.0.1.6:7100', host: 'node-b' },
      { name: 'guest-4', url: 'ws://10.0.1.7:7100', host: null },
    ]);
    assert.deepEqual([...grouped], [['10.0.1.7', ['guest-4']], ['node-a', ['guest-1', 'guest-2']], ['node-b', ['guest-3']]]);
    assert.equal(hostOf({ name: 'guest-1', url: 'ws://10.0.1.5:7100', host: 'node-a' }), 'node-a');
    assert.equal(hostOf({ name: 'guest-1', url: 'ws://10.0.1.5:7100' }), '10.0.1.5');
  });

  it('is unknown for a missing URL or one that is not a URL', () => {
    assert.equal(hostOfUrl(null), UNKNOWN_HOST);
    assert.equal(hostOfUrl('no url'), UNKNOWN_HOST);
    assert.equal(hostOfUrl(''), UNKNOWN_HOST);
  });

  it('groups guests by host: one host per address whatever the port, addresses in numeric order, names in order', () => {
    const grouped = guestsByHost([
      { name: 'guest-10', url: 'ws://10.0.0.10:7100' },
      { name: 'guest-2', url: 'ws://10.0.0.9:7101' },
      { name: 'guest-1', url: 'ws://10.0.0.9:7100' },
      { name: 'guest-11', url: 'ws://10.0.0.9:7102' },
      { name: 'lost', url: null },
      { name: 'named', url: 'ws://node-a:7100' },
    ]);
    assert.deepEqual([...grouped], [
      ['10.0.0.9', ['guest-1', 'guest-2', 'guest-11']],
      ['10.0.0.10', ['guest-10']],
      ['node-a', ['named']],
      [UNKNOWN_HOST, ['lost']],
    ]);
  });
});

/** A clock as attach.ts reports it. */
const same = (): PeerClockUsed => ({ clock: 'same', offsetNs: '0', uncertaintyNs: 0 });
const estimated = (uncertaintyNs: number): PeerClockUsed => ({ clock: 'estimated', offsetNs: '123456789', uncertaintyNs });
const unknown = (): PeerClockUsed => ({ clock: 'unknown', offsetNs: '0', uncertaintyNs: 0 });

const model = (guests: string[]): WorldModel => ({
  gic: 'gic', spmd: 'spmd', spmc: 'spmc', hypervisor: 'hypervisor', orchestrator: 'orchestrator',
  guests: guests.map((component, i) => ({ component, vmId: i + 1, vcpus: 2, driver: 'linux-6.10' })),
  spIds: [0x8001], spmcProfile: 'optee', hypervisorProfile: 'xen', lastFaultHealNs: null, livenessBoundNs: 500e6,
});

describe('per-host: clock uncertainty beside each figure', () => {
  const platform = { gic: same(), spmd: same(), hypervisor: same() };

  it('is 0 for every figure when every component is on the orchestrator\'s boot', () => {
    const clocks = { ...platform, spmc: same(), a: same(), b: same() };
    assert.deepEqual(figureUncertainty(clocks, model(['a', 'b'])), { corrected: 0, uncorrected: 0, arrivalToSet: 0, hops: 0 });
  });

  it('adds the bounds at a figure\'s two ends: the orchestrator is exact, the SPMC and the guests are as estimated', () => {
    const clocks = { ...platform, spmc: estimated(3_000), a: estimated(10_000), b: same() };
    assert.deepEqual(figureUncertainty(clocks, model(['a', 'b'])), {
      corrected: 10_000, // orchestrator → the widest guest
      uncorrected: 13_000, // SPMC → the widest guest
      arrivalToSet: 3_000, // orchestrator → SPMC
      hops: 13_000, // the two widest of all
    });
  });

  it('is unknown (null) where a clock at one end was not known', () => {
    const clocks = { ...platform, spmc: unknown(), a: same() };
    assert.deepEqual(figureUncertainty(clocks, model(['a'])), { corrected: 0, uncorrected: null, arrivalToSet: null, hops: null });
    assert.deepEqual(figureUncertainty({ ...platform, spmc: same() }, model(['a'])).corrected, null, 'a guest the clocks do not name');
  });
});

describe('per-host: figures of a sim run of the load world', () => {
  const sends = 240;
  let entries: HistoryEntry[];
  let worldModel: WorldModel;
  let stats: LoadStats;
  // Four guests, placed on two hosts (the sim world has no URLs: the test gives each guest one).
  const placed = [
    { name: 'g1', url: 'ws://127.0.0.1:7100' },
    { name: 'g2', url: 'ws://127.0.0.2:7100' },
    { name: 'g3', url: 'ws://127.0.0.1:7101' },
    { name: 'g4', url: 'ws://127.0.0.2:7101' },
  ];
  const clocks = { gic: same(), spmd: same(), spmc: same(), hypervisor: same(), g1: same(), g2: estimated(40_000), g3: same(), g4: same() };

  before(async () => {
    const options = { guests: 4, vcpus: 2, cpus: 4, ratePerSecond: 2000, durationNs: null, count: sends, thresholds: null, drainNs: null, seed: 5, runtime: 'sim' as const, spmc: 'optee' as const, serviceTimes: null };
    const { scenario } = buildLoadScenario(options);
    const run = await runScenario(scenario, { runtime: 'sim', seed: 5 });
    entries = run.entries;
    worldModel = worldModelOf(scenario);
    stats = loadStats(entries, worldModel, { ratePerSecond: options.ratePerSecond }, { latency: run.result.latency });
  });

  it('adds up to the world\'s: every arrival sent to one host, every delivered send counted at one', () => {
    const hosts = perHostFigures(entries, worldModel, placed, clocks);
    assert.deepEqual(hosts.map((h) => [h.host, h.guests]), [['127.0.0.1', ['g1', 'g3']], ['127.0.0.2', ['g2', 'g4']]]);
    assert.equal(hosts.reduce((sum, h) => sum + h.sent, 0), stats.workload.arrivals);
    assert.equal(hosts.reduce((sum, h) => sum + h.delivered, 0), stats.throughput.deliveredSends.count);
    for (const h of hosts) {
      assert.ok(h.sent > 0 && h.delivered === h.sent, `${h.host}: ${h.delivered} of ${h.sent} delivered`);
      assert.equal(h.corrected.count, h.delivered);
      assert.ok(h.corrected.p99 >= h.uncorrected.p50);
    }
  });

  it('on one host, its figures are the world\'s', () => {
    const [only] = perHostFigures(entries, worldModel, placed.map((g) => ({ ...g, url: 'ws://10.1.1.1:7100' })), clocks);
    assert.deepEqual(only?.uncorrected, stats.latency.uncorrected);
    assert.equal(only?.corrected.count, stats.latency.corrected.count);
  });

  it('gives each host its own guests\' clock bound', () => {
    const hosts = perHostFigures(entries, worldModel, placed, clocks);
    assert.deepEqual(hosts.map((h) => [h.host, h.clockUncertaintyNs, h.clocks]), [
      ['127.0.0.1', { corrected: 0, uncorrected: 0 }, ['same']],
      ['127.0.0.2', { corrected: 40_000, uncorrected: 40_000 }, ['estimated', 'same']],
    ]);
  });
});
