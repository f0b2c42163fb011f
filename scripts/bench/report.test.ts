import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BenchFigures, benchReport, type WorldFigures, worldRates } from './report.ts';

const run = (offered: number, callbacks: number, delivered: number, p50: number, p99: number, cpuMicrosPerFrame: number | null = null): WorldFigures['saturation'] => ({
  offeredPerSecond: offered,
  callbacksPerSecond: callbacks,
  deliveredSendsPerSecond: delivered,
  mergeRatio: callbacks > 0 ? Math.round((delivered / callbacks) * 100) / 100 : null,
  endToEndCorrectedMs: { p50, p99 },
  traffic: cpuMicrosPerFrame === null ? null : { frames: { sent: 1000 }, cpuMicros: 1000 * cpuMicrosPerFrame, cpuMicrosPerFrame },
});

/** The same world with one notification: 200 frames for 22,000 µs of CPU time. */
const baseline: WorldFigures['saturation'] = { ...run(10, 1, 1, 5, 5), traffic: { frames: { sent: 200 }, cpuMicros: 22_000, cpuMicrosPerFrame: 110 } };

const optee: WorldFigures = {
  baseline,
  saturation: run(5000, 176, 946, 900, 2700, 30),
  halfCapacity: run(88, 80, 88, 40, 300),
  withinP99: { tried: [{ rate: 44, p50Ms: 6, p99Ms: 30 }, { rate: 25, p50Ms: 3, p99Ms: 10 }] },
};

const figures: BenchFigures = {
  sim: { messagesPerSecond: 68_583 },
  bareEcho: { sequential: { microsecondsPerRoundTrip: 52 }, pipelined256: { cpuMicrosPerMessage: 10 } },
  ws: { sequential: { microsecondsPerRoundTrip: 165 } },
  world: { optee },
  chain: {
    byRate: {
      '25': { latencyMs: { p50: 2, p99: 4 }, complete: true },
      '44': { latencyMs: { p50: 2, p99: 5 }, complete: true },
      '88': { latencyMs: { p50: 2, p99: 6 }, complete: true },
      '5000': { latencyMs: { p50: 6000, p99: 7000 }, complete: false },
    },
    saturation: { ratePerSecond: 570 },
  },
  thousand: null,
};

describe('bench report', () => {
  it('lists every rate the world ran at, lowest first, once each', () => {
    assert.deepEqual(worldRates(optee).map((r) => r.ratePerSecond), [25, 44, 88, 5000]);
  });

  it('latency: ratios at every rate, judged only up to half capacity', () => {
    const report = benchReport(figures);
    const rows = report.latency.optee ?? [];
    assert.deepEqual(rows.map((r) => [r.ratePerSecond, r.p50Ratio, r.p99Ratio, r.judged]), [
      [25, 1.5, 2.5, true],
      [44, 3, 6, true],
      [88, 20, 50, true],
      [5000, 0.15, 0.39, false],
    ]);
    const judged = report.targets.filter((t) => t.name.startsWith('optee at'));
    assert.equal(judged.length, 6, 'p50 and p99 at 25, 44 and 88/s; none at 5000/s');
    assert.deepEqual(judged.map((t) => t.verdict), ['met', 'missed', 'missed', 'missed', 'missed', 'missed']);
  });

  it('capacity is distinct deliveries over the chain saturation, the merge ratio beside it', () => {
    const { capacity, targets } = benchReport(figures);
    assert.deepEqual(capacity.optee, { callbacksPerSecond: 176, mergeRatio: 5.38, deliveredSendsPerSecond: 946, chainSaturationPerSecond: 570, ratio: 0.31 });
    const target = targets.find((t) => t.name.includes('capacity'));
    assert.equal(target?.verdict, 'missed');
    assert.match(target?.name ?? '', /176 callbacks\/s \(5\.38 sends each\)/);
  });

  it('a world whose half capacity is below every rate it ran at has no latency judged, and says so', () => {
    const slow: WorldFigures = { baseline: null, saturation: run(5000, 19, 65, 13_000, 19_000), halfCapacity: run(25, 12, 25, 400, 750), withinP99: null };
    const { latency, targets } = benchReport({ ...figures, world: { optee: slow } });
    assert.ok((latency.optee ?? []).every((r) => !r.judged));
    const optee = targets.filter((t) => t.name.startsWith('optee') && t.name.includes('latency'));
    assert.deepEqual(optee.map((t) => t.verdict), ['not measured']);
    assert.match(optee[0]?.name ?? '', /no rate run at or below 9\.5\/s/);
  });

  it('CPU per message: the load\'s own per frame (the saturation run less its baseline) over the echo\'s, the whole run\'s beside it', () => {
    const { cpuPerMessage, targets } = benchReport(figures);
    assert.deepEqual(cpuPerMessage.world.optee, {
      loaded: { frames: 800, cpuMicros: 8000, micros: 10 },
      wholeRun: { frames: 1000, cpuMicros: 30_000, micros: 30 },
      ratio: 1,
    });
    assert.equal(targets.find((t) => t.name.startsWith('optee: CPU'))?.verdict, 'met', '10 µs against the echo\'s 10');
  });

  it('the platform in one worker: its capacity and CPU per frame under load beside the default\'s, not judged', () => {
    const shared = { baseline, saturation: { ...run(5000, 285, 946, 900, 2700), traffic: { frames: { sent: 1200 }, cpuMicros: 31_000, cpuMicrosPerFrame: 25.83 } } };
    const withShared = benchReport({ ...figures, world: { optee: { ...optee, onePlatformWorker: shared } } });
    assert.deepEqual(withShared.onePlatformWorker.optee, { callbacksPerSecond: 285, capacityRatio: 0.5, loaded: { frames: 1000, cpuMicros: 9000, micros: 9 }, cpuRatio: 0.9 });
    assert.deepEqual(withShared.targets, benchReport(figures).targets, 'the targets judge the default placement');
    assert.deepEqual(benchReport(figures).onePlatformWorker, {});
  });

  it('CPU per message without a baseline is not measured: the whole run\'s figure is not judged in its place', () => {
    const { cpuPerMessage, targets } = benchReport({ ...figures, world: { optee: { ...optee, baseline: null } } });
    assert.equal(cpuPerMessage.world.optee?.loaded, null);
    assert.equal(cpuPerMessage.world.optee?.ratio, null);
    assert.equal(targets.find((t) => t.name.startsWith('optee: CPU'))?.verdict, 'not measured');
  });

  it('what was not measured is said so: a profile not run, the thousand guests', () => {
    const { targets, wsHop } = benchReport(figures);
    assert.deepEqual(wsHop, { wsMicros: 165, echoMicros: 52, ratio: 3.17 });
    const hafnium = targets.filter((t) => t.name.startsWith('hafnium'));
    assert.equal(hafnium.length, 3);
    assert.ok(hafnium.every((t) => t.verdict === 'not measured'));
    assert.equal(targets.find((t) => t.name.includes('peak RSS'))?.verdict, 'not measured');
    assert.equal(targets.find((t) => t.name === 'sim with full history')?.verdict, 'missed');
  });

  it('no chain: every comparison to it is not measured, never a division by nothing', () => {
    const { targets } = benchReport({ ...figures, chain: null });
    assert.ok(targets.filter((t) => t.name.startsWith('optee at') || t.name.includes('capacity')).every((t) => t.verdict === 'not measured'));
  });
});
