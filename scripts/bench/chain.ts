/**
 * The chain floor: what the world's critical path would cost if every hop were a bare ws +
 * msgpackr frame and nothing else. N worker threads in a ring (chain-member.ts), N the threads the
 * loaded world runs on (loadWorldThreads), each linked to the next by one websocket; one frame per
 * arrival carried HOPS hops, the number of frames between the SP's set and the guest's callback.
 * Driven open-model (open-model.ts) at the rates the bench drives the world at, and searched for
 * its saturation: the highest arrival rate it sustains.
 */
import { Worker } from 'node:worker_threads';
import { buildLoadScenario } from '../../services/orchestrator/load-test/load-world.ts';
import { orchestratorConfig } from '../../services/orchestrator/run/runner.ts';
import { buildWorldSpec } from '../../services/orchestrator/run/world-builder.ts';
import { DEFAULT_LINK_LIMITS } from '../../shared/runtime/ws/limits.ts';
import { workerGroups } from '../../shared/runtime/ws/worker-placement.ts';
import { defaultGuestsPerWorker } from '../load.ts';
import type { ChainCommand, ChainMemberSetup, ChainReport } from './chain-protocol.ts';
import { afterProbe, arrivalsOf, intendedNs, nextSaturationProbe, type SaturationBounds, type TrialFigures, trialFigures } from './open-model.ts';

/**
 * Frames on a notification's critical path, the SPMC's set to the guest's callback, counted from
 * real histories (`ffa-world load --out`, both SPMC profiles, tracing each callback back through
 * the deliver that caused each send): the per-hop breakdown `ffa-world load` prints, in frames:
 *
 *   set→sri-raise→sri-deliver    spmc→gic (raise), gic→hypervisor (deliver)                   2
 *   sri-deliver→info-get         hypervisor→spmd→spmc (INFO_GET), spmc→spmd→hypervisor (return) 4
 *   info-get→npi-inject→deliver  hypervisor→gic (raise), gic→guest (deliver)                   2
 *   npi-deliver→get→callback     guest→hypervisor→spmd→spmc (GET), spmc→spmd→hypervisor→guest   6
 *
 * 14 in all. The acks and EOIs on the way are sent without waiting and are off the path; an
 * INFO_GET loop that needs a second call (more pending) adds 4, so 14 is the shortest path, the
 * one an unloaded world takes. The orchestrator → SPMC frame before the set is not counted: the
 * world's corrected latency includes it, so its ratio to the chain is, if anything, pessimistic.
 */
export const CRITICAL_PATH_HOPS = 14;

/** Guests in the loaded world the bench measures. */
export const LOAD_GUESTS = 64;

/** Worker threads the ws runtime runs a loaded world of `guests` on, placed as the supervisor places them. */
export function loadWorldThreads(guests: number): number {
  const options = { guests, vcpus: 2, cpus: 4, ratePerSecond: 1000, durationNs: 1e9, count: null, thresholds: null, drainNs: null, seed: 7, runtime: 'ws', spmc: 'optee', serviceTimes: null } as const;
  const { scenario } = buildLoadScenario(options);
  const spec = buildWorldSpec(scenario, 7, orchestratorConfig(scenario, 'ws', 7));
  return workerGroups(spec, defaultGuestsPerWorker(guests)).length;
}

const MEMBER_ENTRY = new URL('./chain-member.mjs', import.meta.url);
/** Bounds on bringing the ring up, on arming a trial, and on a collect answering. */
const START_BOUND_MS = 60_000;
const ARM_BOUND_MS = 10_000;
const COLLECT_BOUND_MS = 10_000;
const STOP_BOUND_MS = 2_000;
/** After an incomplete trial, time for the frames still in the ring to be dropped before the next. */
const SETTLE_MS = 500;

interface Waiter {
  member: number;
  accept(report: ChainReport): boolean;
  resolve(report: ChainReport): void;
  reject(error: Error): void;
}

export class Chain {
  private readonly workers: Worker[] = [];
  private readonly exits: Promise<number>[] = [];
  private readonly waiters = new Set<Waiter>();
  private failure: Error | undefined;
  private lastTrial = 0;

  private constructor(
    readonly threads: number,
    readonly hops: number,
  ) {
    for (let index = 0; index < threads; index++) {
      const setup: ChainMemberSetup = { index, threads, hops, maxPayloadBytes: DEFAULT_LINK_LIMITS.maxPayloadBytes };
      const worker = new Worker(MEMBER_ENTRY, { workerData: setup, execArgv: [] });
      worker.on('message', (report: ChainReport) => this.onReport(index, report));
      worker.on('error', (error) => this.fail(new Error(`chain member ${index} crashed: ${error.stack ?? error.message}`)));
      this.exits.push(
        new Promise((resolve) =>
          worker.on('exit', (code) => {
            if (code !== 0) this.fail(new Error(`chain member ${index} exited with code ${code}`));
            resolve(code);
          }),
        ),
      );
      this.workers.push(worker);
    }
  }

  /** The ring up: every member listening, then each linked to the next. */
  static async start(threads: number, hops: number): Promise<Chain> {
    if (!(Number.isInteger(threads) && threads >= 2)) throw new RangeError(`a chain needs at least 2 threads, not ${threads}`);
    if (!(Number.isInteger(hops) && hops >= 1)) throw new RangeError(`a chain carries a frame at least 1 hop, not ${hops}`);
    const chain = new Chain(threads, hops);
    try {
      const urls = await Promise.all(chain.workers.map((_, i) => chain.next(i, (r) => r.type === 'listening', START_BOUND_MS)));
      const linked = chain.workers.map((_, i) => chain.next(i, (r) => r.type === 'linked', START_BOUND_MS));
      urls.forEach((_, i) => {
        const successor = urls[(i + 1) % threads];
        if (successor?.type !== 'listening') throw new Error('unreachable: every member reported listening');
        chain.command(i, { type: 'connect', url: successor.url });
      });
      await Promise.all(linked);
      return chain;
    } catch (error) {
      await chain.stop();
      throw error;
    }
  }

  /** The member hop `hops` arrives at. */
  get landingMember(): number {
    return this.hops % this.threads;
  }

  /** One open-model trial at `ratePerSecond` for `durationMs`, given up on `drainMs` after its window. */
  async trial(ratePerSecond: number, durationMs: number, drainMs: number): Promise<TrialFigures> {
    const spec = { id: ++this.lastTrial, ratePerSecond, arrivals: arrivalsOf(ratePerSecond, durationMs) };
    await this.armAll(spec);
    const started = this.next(0, (r) => r.type === 'started' && r.id === spec.id, ARM_BOUND_MS);
    const landed = this.next(this.landingMember, (r) => r.type === 'landed' && r.id === spec.id, durationMs + drainMs);
    this.command(0, { type: 'start', id: spec.id });
    const start = await started;
    let landing = await landed.catch((error: unknown) => {
      if (this.failure) throw error;
      return null; // out of time: collect what landed
    });
    if (landing === null) {
      const collected = this.next(this.landingMember, (r) => r.type === 'landed' && r.id === spec.id, COLLECT_BOUND_MS);
      this.command(this.landingMember, { type: 'collect', id: spec.id });
      landing = await collected;
    }
    if (start.type !== 'started' || landing.type !== 'landed') throw new Error('unreachable: the reports were matched by type');
    const { startNs } = start;
    const figures = trialFigures({
      ratePerSecond,
      startNs,
      intendedNs: Float64Array.from({ length: spec.arrivals }, (_, i) => intendedNs(startNs, ratePerSecond, i)),
      landedNs: landing.landedNs,
      collectedNs: landing.collectedNs,
    });
    if (!figures.complete) await this.settle();
    return figures;
  }

  /** Every member stops and exits; one that has not within STOP_BOUND_MS is terminated. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.workers.length; i++) this.command(i, { type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_BOUND_MS)));
    await Promise.race([Promise.all(this.exits), bound]);
    clearTimeout(timer);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /** Arm a trial of no arrivals: every member drops what is still in the ring. */
  private async settle(): Promise<void> {
    await this.armAll({ id: ++this.lastTrial, ratePerSecond: 1, arrivals: 0 });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }

  private async armAll(trial: { id: number; ratePerSecond: number; arrivals: number }): Promise<void> {
    const armed = this.workers.map((_, i) => this.next(i, (r) => r.type === 'armed' && r.id === trial.id, ARM_BOUND_MS));
    for (let i = 0; i < this.workers.length; i++) this.command(i, { type: 'arm', trial });
    await Promise.all(armed);
  }

  private command(member: number, command: ChainCommand): void {
    this.workers[member]?.postMessage(command);
  }

  /** The member's next report that `accept`s, within `boundMs`. */
  private next(member: number, accept: (report: ChainReport) => boolean, boundMs: number): Promise<ChainReport> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`chain member ${member}: no such report within ${boundMs} ms`));
      }, boundMs);
      const waiter: Waiter = {
        member,
        accept,
        resolve: (report) => {
          clearTimeout(timer);
          resolve(report);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
    });
  }

  private onReport(member: number, report: ChainReport): void {
    for (const waiter of this.waiters) {
      if (waiter.member !== member || !waiter.accept(report)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(report);
      return;
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of [...this.waiters]) {
      this.waiters.delete(waiter);
      waiter.reject(error);
    }
  }
}

const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;

/** A trial's figures for the bench's output: latency in ms. */
export function trialSummary(figures: TrialFigures) {
  const { latencyNs: l } = figures;
  return {
    ratePerSecond: figures.ratePerSecond,
    arrivals: figures.arrivals,
    landed: figures.landed,
    /** False: the trial ran out of time; the percentiles are lower bounds. */
    complete: figures.complete,
    latencyMs: { p50: ms(l.p50), p90: ms(l.p90), p99: ms(l.p99), max: ms(l.max) },
    landedPerSecondInWindow: Math.round(figures.landedPerSecondInWindow),
    carriedPerSecond: Math.round(figures.carriedPerSecond),
    sustained: figures.sustained,
  };
}

export type ChainTrialSummary = ReturnType<typeof trialSummary>;

export interface ChainPlan {
  /** The rates the world was driven at: one trial each. */
  rates: readonly number[];
  /** Each rate's trial lasts as long as the world's workload did. */
  durationMs: number;
  /** Each saturation probe. */
  probeDurationMs: number;
  /** Bound on the saturation probes. */
  probesMax: number;
}

export interface ChainFigures {
  threads: number;
  hops: number;
  landingMember: number;
  /** Rate (arrivals/s) → its trial. */
  byRate: Record<string, ChainTrialSummary>;
  saturation: { ratePerSecond: number | null; probes: { ratePerSecond: number; sustained: boolean; carriedPerSecond: number }[] };
}

/** Drain allowed past a trial's window before it is given up on: twice the window, at least 2 s. */
const drainFor = (durationMs: number): number => Math.max(2_000, 2 * durationMs);

/** Run the chain at every rate of the plan, then search its saturation rate starting from what it carried. */
export async function measureChain(threads: number, hops: number, plan: ChainPlan, log: (line: string) => void = () => {}): Promise<ChainFigures> {
  const chain = await Chain.start(threads, hops);
  try {
    await chain.trial(200, 300, 2_000); // warm-up: JIT, sockets
    const byRate: Record<string, ChainTrialSummary> = {};
    for (const rate of [...new Set(plan.rates)].sort((a, b) => a - b)) {
      const summary = trialSummary(await chain.trial(rate, plan.durationMs, drainFor(plan.durationMs)));
      byRate[String(rate)] = summary;
      log(`  ${rate}/s: p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, max ${summary.latencyMs.max} ms${summary.complete ? '' : ` (${summary.landed} of ${summary.arrivals} landed in time: lower bounds)`}`);
    }
    // Start where the chain is known to be: the most it carried, or twice the rates it held.
    const carried = Object.values(byRate).map((t) => (t.sustained ? 2 * t.ratePerSecond : t.carriedPerSecond));
    const search = { startRate: Math.max(100, ...carried), minRate: 10, maxRate: 100_000, precision: 0.05 };
    let bounds: SaturationBounds = { sustained: null, notSustained: null };
    const probes: ChainFigures['saturation']['probes'] = [];
    for (let rate = nextSaturationProbe(bounds, search); rate !== null && probes.length < plan.probesMax; rate = nextSaturationProbe(bounds, search)) {
      const figures = await chain.trial(rate, plan.probeDurationMs, drainFor(plan.probeDurationMs));
      probes.push({ ratePerSecond: rate, sustained: figures.sustained, carriedPerSecond: Math.round(figures.carriedPerSecond) });
      bounds = afterProbe(bounds, rate, figures.sustained);
    }
    log(`  saturation: ${bounds.sustained ?? 'none'} arrivals/s sustained (${probes.map((p) => `${p.ratePerSecond}${p.sustained ? '' : '✗'}`).join(', ')})`);
    return { threads, hops, landingMember: chain.landingMember, byRate, saturation: { ratePerSecond: bounds.sustained, probes } };
  } finally {
    await chain.stop();
  }
}
