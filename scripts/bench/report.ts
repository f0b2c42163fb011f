/**
 * The bench's comparisons: each figure as a ratio to the floor measured in the same run, and each
 * target beside its figure, met or missed. Pure: it reads the figures the sections measured (any
 * of them may be missing: its targets are then "not measured"), so it is tested on fixtures.
 *
 * - Latency: the world's corrected end-to-end p50/p99 (intended arrival → the guest's callback) over
 *   the chain's (intended arrival → the frame's last hop) at the same offered rate.
 * - Capacity: the world's distinct deliveries a second at saturation (callbacks, with the sends
 *   each covered beside it as the merge ratio) over the chain's saturation rate.
 * - CPU per message: the process's CPU time per frame the world's links carried under load, over
 *   the bare echo's per message with 256 in flight. Under load: the saturation run's CPU time and
 *   frames less those of the same world run with one notification (its baseline: code warming up,
 *   64 kernels probing and binding, the drain, the stop), as the echo's figure leaves out its
 *   connection and warm-up. The whole run's figure is kept beside it.
 */
import { judge, type LatencyMs, latencyTargets, ratio, type Target } from './targets.ts';

export const PROFILES = ['optee', 'hafnium'] as const;
export type Profile = (typeof PROFILES)[number];

/** The targets' limits, in one place. */
export const LIMITS = {
  latencyToChain: 2,
  capacityToChain: 0.5,
  cpuPerMessageToEcho: 2,
  wsHopToEcho: 1.5,
  simMessagesPerSecond: 500_000,
  thousandUpMs: 10_000,
  thousandRssMiB: 1536,
} as const;

/** What the report reads of one world run (bench/load.ts LoadSummary). */
export interface WorldRun {
  offeredPerSecond: number;
  callbacksPerSecond: number;
  deliveredSendsPerSecond: number;
  mergeRatio: number | null;
  endToEndCorrectedMs: LatencyMs;
  traffic: { frames: { sent: number }; cpuMicros: number; cpuMicrosPerFrame: number | null } | null;
}

export interface WorldFigures {
  /** The same world with one notification (bench/load.ts measureLoad64); null when not run. */
  baseline: WorldRun | null;
  saturation: WorldRun;
  halfCapacity: WorldRun;
  /** The saturation run and its baseline with the platform in one worker (--platform-workers 1), when run: shown, not judged. */
  onePlatformWorker?: { baseline: WorldRun; saturation: WorldRun } | null;
  /** The p99 search's runs (bench/load.ts measureRateWithinP99), when it ran. */
  withinP99: { tried: { rate: number; p50Ms: number; p99Ms: number }[] } | null;
}

export interface ChainRate {
  latencyMs: LatencyMs;
  complete: boolean;
}

export interface BenchFigures {
  sim: { messagesPerSecond: number } | null;
  bareEcho: { sequential: { microsecondsPerRoundTrip: number }; pipelined256: { cpuMicrosPerMessage: number } } | null;
  ws: { sequential: { microsecondsPerRoundTrip: number } } | null;
  world: Partial<Record<Profile, WorldFigures>>;
  chain: { byRate: Record<string, ChainRate>; saturation: { ratePerSecond: number | null } } | null;
  thousand: { upProbedBoundMs: number; rssPeakMiB: number | null } | null;
}

export interface LatencyComparison {
  ratePerSecond: number;
  world: LatencyMs;
  chain: LatencyMs | null;
  /** False: the chain's trial ran out of time and its percentiles are lower bounds. */
  chainComplete: boolean | null;
  p50Ratio: number | null;
  p99Ratio: number | null;
  /** At or below half the world's capacity: held to the target. */
  judged: boolean;
}

/** Every rate the world was driven at, with its corrected latency, lowest first. */
export function worldRates(world: WorldFigures): { ratePerSecond: number; world: LatencyMs }[] {
  const runs = [world.saturation, world.halfCapacity].map((r) => ({ ratePerSecond: r.offeredPerSecond, world: { p50: r.endToEndCorrectedMs.p50, p99: r.endToEndCorrectedMs.p99 } }));
  const tried = (world.withinP99?.tried ?? []).map((t) => ({ ratePerSecond: t.rate, world: { p50: t.p50Ms, p99: t.p99Ms } }));
  const byRate = new Map([...runs, ...tried].map((r) => [r.ratePerSecond, r]));
  return [...byRate.values()].sort((a, b) => a.ratePerSecond - b.ratePerSecond);
}

/**
 * Half the world's capacity, the highest rate its latency is held to the target at: half its
 * distinct deliveries a second at saturation. The half-capacity run is offered at most this
 * (bench/load.ts), unless the capacity is so low that it is offered its lowest rate instead.
 */
export function halfCapacityOf(world: WorldFigures): number {
  return world.saturation.callbacksPerSecond / 2;
}

function latencyComparisons(world: WorldFigures, chain: BenchFigures['chain']): LatencyComparison[] {
  const half = halfCapacityOf(world);
  return worldRates(world).map(({ ratePerSecond, world: w }) => {
    const c = chain?.byRate[String(ratePerSecond)];
    return {
      ratePerSecond,
      world: w,
      chain: c ? { p50: c.latencyMs.p50, p99: c.latencyMs.p99 } : null,
      chainComplete: c ? c.complete : null,
      p50Ratio: ratio(w.p50, c?.latencyMs.p50),
      p99Ratio: ratio(w.p99, c?.latencyMs.p99),
      judged: ratePerSecond <= half,
    };
  });
}

/** A saturation run's CPU time per frame: under load (judged) and over the whole run. */
export interface WorldCpu {
  /** The saturation run less its baseline: the load's own frames and CPU time. */
  loaded: { frames: number; cpuMicros: number; micros: number | null } | null;
  wholeRun: { frames: number; cpuMicros: number; micros: number | null };
  /** loaded.micros over the echo's (null without a baseline). */
  ratio: number | null;
}

/** The load's own frames and CPU time: the saturation run's less the baseline's. */
export function loadedCpu(saturation: WorldRun['traffic'], baseline: WorldRun['traffic'] | undefined): WorldCpu['loaded'] {
  if (!saturation || !baseline) return null;
  const frames = saturation.frames.sent - baseline.frames.sent;
  const cpuMicros = saturation.cpuMicros - baseline.cpuMicros;
  return { frames, cpuMicros, micros: frames > 0 && cpuMicros > 0 ? Math.round((cpuMicros / frames) * 100) / 100 : null };
}

/** The same world with the platform in one worker: its capacity and CPU per frame under load beside the default's. */
export interface PlacementComparison {
  callbacksPerSecond: number;
  capacityRatio: number | null;
  loaded: WorldCpu['loaded'];
  cpuRatio: number | null;
}

export interface BenchReport {
  /** --platform-workers 1, per profile, when the bench ran it. */
  onePlatformWorker: Partial<Record<Profile, PlacementComparison>>;
  latency: Partial<Record<Profile, LatencyComparison[]>>;
  capacity: Partial<Record<Profile, { callbacksPerSecond: number; mergeRatio: number | null; deliveredSendsPerSecond: number; chainSaturationPerSecond: number | null; ratio: number | null }>>;
  cpuPerMessage: { echoMicros: number | null; world: Partial<Record<Profile, WorldCpu>> };
  wsHop: { wsMicros: number | null; echoMicros: number | null; ratio: number | null };
  targets: Target[];
}

export function benchReport(f: BenchFigures): BenchReport {
  const report: BenchReport = { onePlatformWorker: {}, latency: {}, capacity: {}, cpuPerMessage: { echoMicros: f.bareEcho?.pipelined256.cpuMicrosPerMessage ?? null, world: {} }, wsHop: { wsMicros: null, echoMicros: null, ratio: null }, targets: [] };
  const chainSaturation = f.chain?.saturation.ratePerSecond ?? null;
  const { targets } = report;
  for (const profile of PROFILES) {
    const world = f.world[profile];
    if (!world) {
      targets.push(judge(`${profile}: world / chain latency up to half capacity`, null, '<=', LIMITS.latencyToChain, 'x'));
      targets.push(judge(`${profile}: capacity (callbacks/s) / chain saturation`, null, '>=', LIMITS.capacityToChain, 'x'));
      targets.push(judge(`${profile}: CPU per ws message / echo's`, null, '<=', LIMITS.cpuPerMessageToEcho, 'x'));
      continue;
    }
    const comparisons = latencyComparisons(world, f.chain);
    report.latency[profile] = comparisons;
    targets.push(...latencyTargets(profile, comparisons, halfCapacityOf(world), LIMITS.latencyToChain));
    const { saturation } = world;
    const capacityRatio = ratio(saturation.callbacksPerSecond, chainSaturation);
    report.capacity[profile] = {
      callbacksPerSecond: saturation.callbacksPerSecond,
      mergeRatio: saturation.mergeRatio,
      deliveredSendsPerSecond: saturation.deliveredSendsPerSecond,
      chainSaturationPerSecond: chainSaturation,
      ratio: capacityRatio,
    };
    targets.push(judge(`${profile}: capacity ${saturation.callbacksPerSecond} callbacks/s (${saturation.mergeRatio ?? '—'} sends each) / chain saturation`, capacityRatio, '>=', LIMITS.capacityToChain, 'x'));
    const traffic = saturation.traffic;
    const loaded = loadedCpu(traffic, world.baseline?.traffic);
    const cpuRatio = ratio(loaded?.micros, report.cpuPerMessage.echoMicros);
    if (traffic) {
      const wholeRun = { frames: traffic.frames.sent, cpuMicros: traffic.cpuMicros, micros: traffic.cpuMicrosPerFrame };
      report.cpuPerMessage.world[profile] = { loaded, wholeRun, ratio: cpuRatio };
    }
    targets.push(judge(`${profile}: CPU per ws message under load / echo's`, cpuRatio, '<=', LIMITS.cpuPerMessageToEcho, 'x'));
    const shared = world.onePlatformWorker;
    if (shared) {
      const sharedLoaded = loadedCpu(shared.saturation.traffic, shared.baseline.traffic);
      report.onePlatformWorker[profile] = {
        callbacksPerSecond: shared.saturation.callbacksPerSecond,
        capacityRatio: ratio(shared.saturation.callbacksPerSecond, chainSaturation),
        loaded: sharedLoaded,
        cpuRatio: ratio(sharedLoaded?.micros, report.cpuPerMessage.echoMicros),
      };
    }
  }
  const wsMicros = f.ws?.sequential.microsecondsPerRoundTrip ?? null;
  const echoMicros = f.bareEcho?.sequential.microsecondsPerRoundTrip ?? null;
  report.wsHop = { wsMicros, echoMicros, ratio: ratio(wsMicros, echoMicros) };
  targets.push(judge('ws hop / bare echo, one at a time', report.wsHop.ratio, '<=', LIMITS.wsHopToEcho, 'x'));
  targets.push(judge('sim with full history', f.sim?.messagesPerSecond ?? null, '>=', LIMITS.simMessagesPerSecond, ' msgs/s'));
  targets.push(judge('1,000 guests x 2 vCPUs up, probed, bound', f.thousand?.upProbedBoundMs ?? null, '<=', LIMITS.thousandUpMs, ' ms'));
  targets.push(judge('1,000 guests x 2 vCPUs: peak RSS', f.thousand?.rssPeakMiB ?? null, '<=', LIMITS.thousandRssMiB, ' MiB'));
  return report;
}
