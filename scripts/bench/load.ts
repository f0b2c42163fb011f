/**
 * Load figures for `npm run bench` (issue 9): end-to-end notifications a second with 64 guests
 * at saturation, the latency at half the rate they reached, and the time for 1,000 guests x 2
 * vCPUs to come up, probe and bind, with peak memory. Each is one `ffa-world load` run under ws.
 */
import { type LoadCommand, type LoadResult, parseLoadOptions, runLoad } from '../load.ts';
import type { SpmcProfile } from '../../services/orchestrator/scenario/types.ts';

const ms = (ns: number): number => Math.round(ns / 1e4) / 100;

function command(options: Record<string, string>): LoadCommand {
  const parsed = parseLoadOptions({ runtime: 'ws', seed: '7', ...options }, false);
  if (typeof parsed === 'string') throw new Error(`bug: bench load options: ${parsed}`);
  return parsed;
}

function summary(result: LoadResult) {
  const { throughput, latency } = result.stats;
  return {
    passed: result.passed,
    offeredPerSecond: throughput.offeredPerSecond,
    pendingAtSpmcPerSecond: Math.round(throughput.pendingAtSpmc.perSecondInWindow),
    callbacksPerSecond: Math.round(throughput.callbacks.perSecondInWindow),
    deliveredSendsPerSecond: Math.round(throughput.deliveredSends.perSecondInWindow),
    endToEndCorrectedMs: { p50: ms(latency.corrected.p50), p99: ms(latency.corrected.p99), max: ms(latency.corrected.max) },
    endToEndUncorrectedMs: { p50: ms(latency.uncorrected.p50), p99: ms(latency.uncorrected.p99) },
    rssPeakMiB: result.memory ? Math.round(result.memory.rssPeakBytes / 2 ** 20) : null,
    wallMs: result.wallMs,
    replay: result.replay,
  };
}

/**
 * 64 guests offered 5,000/s for 2 s, then half of what got through end to end; against an
 * OP-TEE-like SPMC (INFO_GET not destructive) or a Hafnium-like one (destructive).
 */
export async function measureLoad64(spmc: SpmcProfile): Promise<{ saturation: ReturnType<typeof summary>; halfRate: ReturnType<typeof summary> }> {
  const saturated = await runLoad(command({ spmc, guests: '64', rate: '5000/s', duration: '2s' }));
  const reached = saturated.stats.throughput.deliveredSends.perSecondInWindow;
  const half = Math.max(50, Math.round(reached / 2));
  const halfRate = await runLoad(command({ spmc, guests: '64', rate: `${half}/s`, duration: '2s' }));
  return { saturation: summary(saturated), halfRate: summary(halfRate) };
}

/** The latency target of issue 9, a corrected p99 in milliseconds. */
export const P99_TARGET_MS = 20;
/** Bound on the halvings of measureRateWithinP99 (each is one run of a few seconds). */
const HALVINGS_MAX = 5;

/**
 * The highest rate, halving from `startRate`, at which 64 guests keep the corrected end-to-end
 * p99 within P99_TARGET_MS and every check holds: the half-rate figure alone says only that the
 * target is missed there, not where it would hold.
 */
export async function measureRateWithinP99(spmc: SpmcProfile, startRate: number): Promise<{ ratePerSecond: number | null; tried: { rate: number; p99Ms: number; passed: boolean }[] }> {
  const tried: { rate: number; p99Ms: number; passed: boolean }[] = [];
  let rate = Math.max(50, Math.round(startRate));
  for (let halving = 0; halving <= HALVINGS_MAX; halving++, rate = Math.max(50, Math.round(rate / 2))) {
    const result = await runLoad(command({ spmc, guests: '64', rate: `${rate}/s`, duration: '2s', p99: `${P99_TARGET_MS}ms` }));
    const p99Ms = ms(result.stats.latency.corrected.p99);
    tried.push({ rate, p99Ms, passed: result.passed });
    if (result.passed) return { ratePerSecond: rate, tried };
    if (rate === 50) break;
  }
  return { ratePerSecond: null, tried };
}

/** 1,000 guests x 2 vCPUs: until every kernel has probed and OP-TEE's client bound (the workload's first step starts then). */
export async function measureThousandGuestsUp(): Promise<{ upProbedBoundMs: number; rssPeakMiB: number | null; passed: boolean; replay: string }> {
  const result = await runLoad(command({ guests: '1000', rate: '100/s', count: '100' }));
  const firstStep = result.steps[0];
  return {
    upProbedBoundMs: firstStep ? ms(firstStep.startNs) : Number.NaN,
    rssPeakMiB: result.memory ? Math.round(result.memory.rssPeakBytes / 2 ** 20) : null,
    passed: result.passed,
    replay: result.replay,
  };
}
