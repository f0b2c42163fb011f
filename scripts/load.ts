/**
 * `ffa-world load`: a world of N guests under the Xen-like hypervisor and the
 * OP-TEE-like SPMC (services/orchestrator/load-test/load-world.ts), OP-TEE's SP notifying every guest at an
 * open-model rate, then a drain, run by the scenario runner and judged by no-lost-notification
 * and no-phantom-notification, and by the latency thresholds given (load-thresholds.ts), with the
 * load statistics of services/orchestrator/load-test/load-stats.ts: offered vs achieved
 * throughput, end-to-end latency corrected for coordinated omission and not, per-hop latency split
 * into transport and protocol, INFO_GET calls per SRI, SRI merges.
 *
 * Exit status (docs/load-and-benchmarks.md): 0 everything held; 1 a correctness failure (a check
 * other than latency, a step, the run itself); 2 invalid arguments; 3 only latency thresholds
 * missed. Late is not lost: a notification delivered past the liveness bound fails no check by
 * itself; a threshold on its latency does.
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { makeFolder } from '../shared/runtime/files.ts';
import { join, relative, resolve } from 'node:path';
import { thresholdVerdicts, type ThresholdVerdict } from '../services/orchestrator/checkers/latency.ts';
import { checkVerdicts, LoadStatsFold, type LoadStats } from '../services/orchestrator/load-test/load-stats.ts';
import type { FigureUncertainty } from '../services/orchestrator/load-test/per-host.ts';
import { buildLoadScenario, loadWorldCapacity, LoadWorldError, type LoadWorldOptions } from '../services/orchestrator/load-test/load-world.ts';
import { ScenarioError } from '../services/orchestrator/scenario/reader/index.ts';
import { failedOnlyThresholds, runScenario } from '../services/orchestrator/run/runner.ts';
import { DEFAULT_DRAIN_NS, durationNs, ratePerSecond, SCENARIO_LIMITS } from '../services/orchestrator/scenario/value-shapes.ts';
import type { Percentiles, ScenarioResult, SpmcProfile, StepResult } from '../services/orchestrator/scenario/types.ts';
import { PROFILE_NAMES } from '../services/spmc/profiles.ts';
import { PLATFORM_WORKERS, type PlatformWorkers } from '../shared/runtime/ws/worker-placement.ts';
import { DEFAULT_LOAD_SERVICE_TIMES, SERVICE_TIME_NAMES } from '../services/orchestrator/scenario/service-times.ts';
import { DEFAULT_MEASURE, parseThreshold, thresholdsOf, thresholdText, type LoadThreshold } from './load-thresholds.ts';

import { LOAD_DEFAULTS, LOAD_LIMITS, type TraceDetail } from './cli/limits.ts';
import { formatMs } from '../shared/duration.ts';

export { LOAD_DEFAULTS, LOAD_LIMITS };
export const EXIT = { passed: 0, failed: 1, invalid: 2, thresholdsMissed: 3 } as const;
/**
 * MemoryHistorySink's bound (shared/runtime/history.ts): without --out the runner keeps at most
 * this many events in memory and drops the rest, so a longer history cannot be judged whole.
 */
export const IN_MEMORY_HISTORY_LIMIT = 1_000_000;

/** The world's shape and workload (LoadWorldOptions), with the run's own choices. */
export interface LoadCommand extends Omit<LoadWorldOptions, 'seed' | 'runtime' | 'thresholds'> {
  runtime: 'sim' | 'ws';
  /** --threshold and --p99, in the order given. */
  thresholds: LoadThreshold[];
  seed: number;
  out: string | null;
  json: boolean;
  /** Progress on stdout while it runs (a TTY, not CI, not --json). */
  progress: boolean;
  /** ws: guests sharing one worker thread (the runtime's default when null). */
  guestsPerWorker: number | null;
  /** ws: worker threads for the platform's components (the runtime's default, one each, when null). */
  platformWorkers: PlatformWorkers | null;
  logLevel?: string;
  /** trace.json with --out (the CLI's default for a load run: summary). */
  trace?: TraceDetail;
}

/** Memory peaks the ws runtime reports: the process's RSS and each worker's V8 heap (ScenarioResult.memory). */
export type LoadMemory = NonNullable<ScenarioResult['memory']>;

/** passed: exit 0; failed: a correctness failure, exit 1; thresholds-missed: only latency thresholds failed, exit 3. */
export type LoadVerdict = 'passed' | 'failed' | 'thresholds-missed';

export interface LoadResult {
  name: string;
  /** verdict === 'passed'. */
  passed: boolean;
  verdict: LoadVerdict;
  seed: number;
  runtime: 'sim' | 'ws';
  world: { guests: number; vcpus: number; cpus: number; spmc: SpmcProfile };
  workload: { ratePerSecond: number; durationNs: number | null; count: number | null };
  /** How the world ended (the runner's: done, timeout, crashed …). */
  ended: string;
  wallMs: number;
  steps: StepResult[];
  checks: { name: string; passed: boolean; detail: string }[];
  /** Each --threshold (and --p99) against the figure it names; the `latency` check holds the same. */
  thresholds: ThresholdVerdict[];
  stats: LoadStats;
  /** Null under sim (and whenever the runtime reports none); its RSS peak counts the judging's. */
  memory: LoadMemory | null;
  /** Judging the history: wall time and the process's peak RSS meanwhile (any runtime). */
  judging: NonNullable<ScenarioResult['judging']> | null;
  /** Frames the ws links carried and the CPU time that cost (ScenarioResult.traffic); null under sim. */
  traffic: NonNullable<ScenarioResult['traffic']> | null;
  historyEntries: number;
  /**
   * Without --out the runner keeps at most IN_MEMORY_HISTORY_LIMIT events: past it the checks and
   * the statistics see part of the run only, so the result fails (run again with --out).
   */
  historyTruncated: boolean;
  historyHash: string;
  /** The command that runs the same load with the same seed. */
  replay: string;
  /** Output folder, when --out was given. */
  out: string | null;
}

// ---------------------------------------------------------------- arguments

function integerIn(name: string, value: unknown, min: number, max: number): number | string {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) return `--${name} must be an integer in ${min}..${max}, not ${String(value)}`;
  return n;
}

/** 5000/s, 5/ms, or a bare number of notifications a second. */
function rateOf(value: unknown): number | string {
  const text = String(value).trim();
  const perSecond = /^\d+(\.\d+)?$/.test(text) ? Number(text) : ratePerSecond(text);
  if (perSecond === null || !(perSecond > 0) || perSecond > SCENARIO_LIMITS.ratePerSecondMax) {
    return `--rate must be a rate such as 5000/s or 5/ms (at most ${SCENARIO_LIMITS.ratePerSecondMax}/s), not ${text}`;
  }
  return perSecond;
}

function durationOf(name: string, value: unknown): number | string {
  const ns = durationNs(String(value).trim());
  if (ns === null || ns <= 0 || ns > SCENARIO_LIMITS.durationNsMax) return `--${name} must be a duration with its unit (ns, us, ms or s) such as 2s or 500ms, not ${String(value)}`;
  return ns;
}

/** --p99: milliseconds (20, 2.5) or a duration with its unit (20ms, 500us); the corrected end-to-end p99's threshold. */
function p99Of(value: unknown): LoadThreshold | string {
  const text = String(value).trim();
  const ns = /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1e6) : durationNs(text);
  if (ns === null || ns <= 0 || ns > SCENARIO_LIMITS.durationNsMax) return `--p99 must be milliseconds (20) or a duration (20ms), not ${text}`;
  return { measure: DEFAULT_MEASURE, percentile: 'p99', limitNs: ns };
}

/** Every --threshold (cac gives one value, or an array when the flag is repeated) and --p99. */
function thresholdsOfOptions(options: Record<string, unknown>, problems: string[]): LoadThreshold[] {
  const given = options['threshold'] === undefined ? [] : [options['threshold']].flat();
  const parsed = [...given.map((value) => parseThreshold(String(value))), ...(options['p99'] === undefined ? [] : [p99Of(options['p99'])])];
  problems.push(...parsed.filter((t): t is string => typeof t === 'string'));
  const thresholds = parsed.filter((t): t is LoadThreshold => typeof t !== 'string');
  const merged = thresholdsOf(thresholds);
  if (typeof merged === 'string') problems.push(merged);
  return thresholds;
}

const isGiven = (value: unknown): boolean => value !== undefined && value !== false;

/** The command from cac's options, or a message naming what is wrong (exit 2). */
export function parseLoadOptions(options: Record<string, unknown>, tty = Boolean(process.stdout.isTTY) && !process.env['CI']): LoadCommand | string {
  const problems: string[] = [];
  const take = <T>(result: T | string): T | null => {
    if (typeof result === 'string') {
      problems.push(result);
      return null;
    }
    return result;
  };
  const guests = take(integerIn('guests', options['guests'] ?? LOAD_DEFAULTS.guests, 1, LOAD_LIMITS.guests));
  const vcpus = take(integerIn('vcpus', options['vcpus'] ?? LOAD_DEFAULTS.vcpus, 1, LOAD_LIMITS.vcpus));
  const cpus = take(integerIn('cpus', options['cpus'] ?? LOAD_DEFAULTS.cpus, 1, Math.min(LOAD_LIMITS.cpus, SCENARIO_LIMITS.cpus)));
  const rate = take(rateOf(options['rate'] ?? LOAD_DEFAULTS.rate));
  if (isGiven(options['duration']) && isGiven(options['count'])) problems.push('give --duration or --count, not both');
  const count = isGiven(options['count']) ? take(integerIn('count', options['count'], 1, SCENARIO_LIMITS.count)) : null;
  const duration = isGiven(options['count']) ? null : take(durationOf('duration', options['duration'] ?? LOAD_DEFAULTS.duration));
  const runtime = options['runtime'] ?? LOAD_DEFAULTS.runtime;
  if (runtime !== 'sim' && runtime !== 'ws') problems.push(`--runtime must be sim or ws, not ${String(runtime)}`);
  const seed = options['seed'] === undefined ? randomInt(0, 2 ** 32 - 1) : take(integerIn('seed', options['seed'], 0, SCENARIO_LIMITS.seedMax));
  const thresholds = thresholdsOfOptions(options, problems);
  const drainNs = options['drain'] === undefined ? null : take(durationOf('drain', options['drain']));
  const spmc = options['spmc'] ?? LOAD_DEFAULTS.spmc;
  if (!(PROFILE_NAMES as readonly unknown[]).includes(spmc)) problems.push(`--spmc must be ${PROFILE_NAMES.join(' or ')}, not ${String(spmc)}`);
  const serviceTimes = take(serviceTimesOf(options['serviceTimes'], runtime));
  const guestsPerWorker = options['guestsPerWorker'] === undefined ? null : take(integerIn('guests-per-worker', options['guestsPerWorker'], 1, LOAD_LIMITS.guests));
  const platformWorkers = options['platformWorkers'] === undefined ? null : take(platformWorkersOf(options['platformWorkers'], runtime));
  if (options['out'] !== undefined && (typeof options['out'] !== 'string' || options['out'] === '')) problems.push('--out needs a folder');
  if (guests !== null && rate !== null && count === null && duration !== null && (duration / 1e9) * rate > SCENARIO_LIMITS.count) {
    problems.push(`--rate × --duration asks for ${Math.floor((duration / 1e9) * rate)} notifications, more than ${SCENARIO_LIMITS.count}`);
  }
  if (problems.length > 0) return problems.join('; ');
  const json = options['json'] === true;
  return {
    guests: guests as number,
    vcpus: vcpus as number,
    cpus: cpus as number,
    ratePerSecond: rate as number,
    durationNs: duration,
    count,
    runtime: runtime as 'sim' | 'ws',
    seed: seed as number,
    out: typeof options['out'] === 'string' ? options['out'] : null,
    json,
    thresholds,
    drainNs,
    progress: tty && !json,
    guestsPerWorker,
    platformWorkers,
    spmc: spmc as SpmcProfile,
    serviceTimes: serviceTimes?.table ?? null,
  };
}

/** --platform-workers: 1, 2 or 4 worker threads for the platform's components; ws only (sim runs every component in one thread). */
function platformWorkersOf(value: unknown, runtime: unknown): PlatformWorkers | string {
  if (runtime === 'sim') return '--platform-workers is for --runtime ws: sim runs every component in one thread';
  const workers = PLATFORM_WORKERS.find((n) => String(n) === String(value).trim());
  return workers ?? `--platform-workers must be 1, 2 or 4, not ${String(value)}`;
}

/**
 * --service-times: a table's name or none. Under sim the default is DEFAULT_LOAD_SERVICE_TIMES, so
 * the load measures the protocol's capacity; ws runs on real time and takes none.
 */
function serviceTimesOf(value: unknown, runtime: unknown): { table: string | null } | string {
  if (value === undefined) return { table: runtime === 'sim' ? DEFAULT_LOAD_SERVICE_TIMES : null };
  const name = String(value);
  if (!(SERVICE_TIME_NAMES as readonly string[]).includes(name)) return `--service-times must be one of ${SERVICE_TIME_NAMES.join(', ')}, not ${name}`;
  if (runtime !== 'sim' && name !== 'none') return '--service-times is for --runtime sim (under ws, handlers take the time they take)';
  return { table: name === 'none' ? null : name };
}

/** The command line that runs the same load again. */
export function loadReplay(command: LoadCommand): string {
  const end = command.count !== null ? `--count ${command.count}` : `--duration ${durationText(command.durationNs ?? 0)}`;
  const drain = command.drainNs === null ? '' : ` --drain ${durationText(command.drainNs)}`;
  const thresholds = command.thresholds.map((t) => ` --threshold '${thresholdText(t)}'`).join('');
  const times = command.runtime === 'sim' && command.serviceTimes !== DEFAULT_LOAD_SERVICE_TIMES ? ` --service-times ${command.serviceTimes ?? 'none'}` : '';
  const packed = command.guestsPerWorker === null || command.runtime !== 'ws' ? '' : ` --guests-per-worker ${command.guestsPerWorker}`;
  const platform = command.platformWorkers === null ? '' : ` --platform-workers ${command.platformWorkers}`;
  return `npx ffa-world load --spmc ${command.spmc} --guests ${command.guests} --vcpus ${command.vcpus} --cpus ${command.cpus} --rate ${command.ratePerSecond}/s ${end} --runtime ${command.runtime} --seed ${command.seed}${drain}${thresholds}${times}${packed}${platform}`;
}

export const durationText = (ns: number): string => (ns % 1e9 === 0 ? `${ns / 1e9}s` : ns % 1e6 === 0 ? `${ns / 1e6}ms` : `${ns}ns`);

// ---------------------------------------------------------------- the run

function worldOptions(command: LoadCommand): LoadWorldOptions {
  const { guests, vcpus, cpus, ratePerSecond, durationNs, count, drainNs, seed, runtime, spmc, serviceTimes } = command;
  const thresholds = thresholdsOf(command.thresholds);
  if (typeof thresholds === 'string') throw new Error(`bug: thresholds not checked when parsed: ${thresholds}`);
  return { guests, vcpus, cpus, ratePerSecond, durationNs, count, drainNs, thresholds: command.thresholds.length > 0 ? thresholds : null, seed, runtime, spmc, serviceTimes };
}

/** The workload's length: its duration, or count / rate. */
function workloadNs(command: LoadCommand): number {
  return command.durationNs ?? ((command.count ?? 0) / command.ratePerSecond) * 1e9;
}

/** A progress line, rewritten in place: elapsed wall time against the workload's length. */
function progressLine(command: LoadCommand): { onStep: (done: number, total: number) => void; stop: () => void } | null {
  if (!command.progress) return null;
  const started = Date.now();
  let steps = '0/2';
  const show = () => {
    const elapsed = (Date.now() - started) / 1000;
    process.stdout.write(`\r\x1b[K  running: ${elapsed.toFixed(1)} s, steps ${steps} (workload ${(workloadNs(command) / 1e9).toFixed(1)} s after ${command.guests} guests probe)`);
  };
  const timer = setInterval(show, 250);
  show();
  return {
    onStep: (done, total) => {
      steps = `${done}/${total}`;
      show();
    },
    stop: () => {
      clearInterval(timer);
      process.stdout.write('\r\x1b[K');
    },
  };
}

/** Guest workers per world by default: a guest is not a thread, and on a small machine a few busy workers beat many. */
const DEFAULT_GUEST_WORKERS = 4;

export function defaultGuestsPerWorker(guests: number): number {
  return Math.max(1, Math.ceil(guests / DEFAULT_GUEST_WORKERS));
}

/** Runs the load; throws LoadWorldError (exit 2) for a world the components cannot hold. */
export async function runLoad(command: LoadCommand): Promise<LoadResult> {
  const out = command.out === null ? null : resolve(command.out);
  // With --out the scenario is written beside the outputs, so the runner's replay command works.
  const file = out ? join(out, 'scenario.yaml') : undefined;
  const { scenario, yaml } = buildLoadScenario(worldOptions(command), file ? relative(process.cwd(), file) || file : undefined);
  if (out && file) {
    makeFolder(out);
    writeFileSync(file, yaml);
  }
  const progress = progressLine(command);
  // The statistics read the judging pass (load-stats.ts), beside the checkers.
  let statsFold: LoadStatsFold | null = null;
  let run;
  try {
    run = await runScenario(scenario, {
      runtime: command.runtime,
      seed: command.seed,
      ...(out ? { out } : {}),
      ...(command.logLevel ? { logLevel: command.logLevel } : {}),
      ...(command.trace ? { trace: command.trace } : {}),
      guestsPerWorker: command.guestsPerWorker ?? defaultGuestsPerWorker(command.guests),
      ...(command.platformWorkers === null ? {} : { platformWorkers: command.platformWorkers }),
      // Boot, the workload and the drain, with room: under sim, virtual time; under ws, wall time.
      timeoutMs: 120_000 + Math.ceil((2 * workloadNs(command) + (command.drainNs ?? DEFAULT_DRAIN_NS)) / 1e6),
      ...(progress ? { onStep: progress.onStep } : {}),
      observers: (model, facts) => {
        statsFold = new LoadStatsFold(model, facts, { ratePerSecond: command.ratePerSecond });
        return [statsFold];
      },
    });
  } finally {
    progress?.stop();
  }
  const { result } = run;
  if (!statsFold) throw new Error('bug: the runner judged the load run without its statistics');
  const stats = (statsFold as LoadStatsFold).stats(result.latency);
  const thresholds = command.thresholds.length > 0 ? thresholdVerdicts(result.latency, worldOptions(command).thresholds ?? {}) : [];
  const historyTruncated = out === null && result.historyEntries >= IN_MEMORY_HISTORY_LIMIT;
  const verdict: LoadVerdict = historyTruncated ? 'failed' : result.passed ? 'passed' : failedOnlyThresholds(result) ? 'thresholds-missed' : 'failed';
  const load: LoadResult = {
    name: scenario.name,
    passed: verdict === 'passed',
    verdict,
    seed: command.seed,
    runtime: command.runtime,
    world: { guests: command.guests, vcpus: command.vcpus, cpus: command.cpus, spmc: command.spmc },
    workload: { ratePerSecond: command.ratePerSecond, durationNs: command.durationNs, count: command.count },
    ended: result.ended,
    wallMs: result.wallMs,
    steps: result.steps,
    checks: checkVerdicts(result.checks),
    thresholds,
    stats,
    memory: result.memory ?? null,
    judging: result.judging ?? null,
    traffic: result.traffic ?? null,
    historyEntries: result.historyEntries,
    historyTruncated,
    historyHash: result.historyHash,
    replay: loadReplay(command),
    out,
  };
  if (out) writeFileSync(join(out, 'load.json'), `${JSON.stringify(load, null, 2)}\n`);
  return load;
}

// ---------------------------------------------------------------- the terminal

const perSecond = (n: number): string => `${Math.round(n).toLocaleString('en')}/s`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** A worker hosting several components is named by them all joined with '+': g1+…+g16 (16). */
function workerName(name: string): string {
  const parts = name.split('+');
  return parts.length > 3 ? `${parts[0]}+…+${parts.at(-1)} (${parts.length})` : name;
}

function percentiles(p: Percentiles): string {
  return `p50 ${formatMs(p.p50)}, p90 ${formatMs(p.p90)}, p99 ${formatMs(p.p99)}, p99.9 ${formatMs(p['p99.9'])}, max ${formatMs(p.max)} (${p.count})`;
}

const VERDICT_WORD: Record<LoadVerdict, string> = { passed: 'PASS', failed: 'FAIL', 'thresholds-missed': 'SLOW' };

/** Each hop, and under it its time split: frames in flight (transport) and the rest (protocol). */
function printHops(latency: LoadStats['latency'], clocks: (figure: keyof FigureUncertainty) => string): void {
  const split = (p: Percentiles | undefined) => (p ? `p50 ${formatMs(p.p50)}, p99 ${formatMs(p.p99)}` : '-');
  for (const [hop, p] of Object.entries(latency.hops)) {
    console.log(`    ${hop.padEnd(24)} ${percentiles(p)}${clocks('hops')}`);
    const parts = latency.parts[hop];
    if (parts) console.log(`    ${''.padEnd(24)} transport ${split(parts.transport)}; protocol ${split(parts.protocol)}`);
  }
}

/** The workload's drain, late notifications, and each threshold's verdict. */
function printVerdicts(load: LoadResult): void {
  const { drain } = load.stats.workload;
  const pending = drain?.settled ? '' : ', notifications still pending';
  if (drain) console.log(`  drain: ${drain.quiet ? `quiet ${formatMs(drain.afterLastArrivalNs)} after the last arrival${pending} (bound ${durationText(drain.boundNs)})` : `its ${durationText(drain.boundNs)} bound (--drain) passed with the world still busy`}`);
  const late = load.stats.latency.pastLivenessBound;
  if (late.sends > 0) console.log(`  late: ${late.sends} sends called back more than the ${formatMs(late.boundNs)} liveness bound after their set: late, not lost (hold latency with --threshold)`);
  for (const check of load.checks) if (check.name !== 'latency') console.log(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  for (const t of load.thresholds) {
    const measured = t.measuredNs === null ? 'no samples' : `${formatMs(t.measuredNs)} (${t.count} samples)`;
    console.log(`  ${t.passed ? 'ok  ' : 'MISS'} threshold ${t.measure} ${t.percentile} ${measured}, limit ${formatMs(t.limitNs)}`);
  }
}

/**
 * A latency figure's clock bound, as printed beside it: `± 0.045 ms (clocks)`, `± ? (a clock not
 * known)`; nothing for a run in one process (load-test/per-host.ts FigureUncertainty).
 */
export function clockNote(ns: number | null | undefined): string {
  if (ns === undefined) return '';
  return ns === null ? ' ± ? (a clock not known)' : ` ± ${formatMs(ns)} (clocks)`;
}

/** What an attached load adds to the summary (scripts/load-attach.ts): each figure's clock bound, and its own lines before the verdicts. */
export interface LoadPrintExtras {
  uncertainty?: FigureUncertainty;
  beforeVerdicts?: () => void;
}

/** The short summary. */
export function printLoad(load: LoadResult, extras: LoadPrintExtras = {}): void {
  const { stats } = load;
  const clocks = (figure: keyof FigureUncertainty): string => clockNote(extras.uncertainty?.[figure]);
  const { throughput: tp, notifications: n, infoGet: ig } = stats;
  const end = load.workload.count !== null ? `${load.workload.count} notifications` : `for ${durationText(load.workload.durationNs ?? 0)}`;
  const missed = load.verdict === 'thresholds-missed' ? '; latency thresholds missed, nothing else failed' : '';
  console.log(`${VERDICT_WORD[load.verdict]} ${load.name}: ${load.world.guests} guests × ${load.world.vcpus} vCPUs, ${load.world.cpus} CPUs, ${load.runtime}, seed ${load.seed}, ${load.ended}, ${(load.wallMs / 1000).toFixed(1)} s${missed}`);
  for (const step of load.steps.filter((s) => !s.passed)) console.log(`  step ${step.index} ${step.label}: ${step.detail}`);
  console.log(`  offered   ${perSecond(tp.offeredPerSecond)} ${end}: ${stats.workload.arrivals} sent at ${perSecond(stats.workload.sentPerSecond)} (send lag p99 ${formatMs(stats.workload.sendLag.p99)}, max ${formatMs(stats.workload.sendLag.max)})`);
  console.log(`  achieved  pending at the SPMC ${perSecond(tp.pendingAtSpmc.perSecondInWindow)} in the window, ${perSecond(tp.pendingAtSpmc.perSecond)} to the last (${tp.pendingAtSpmc.count})`);
  console.log(`            callbacks at the guests ${perSecond(tp.callbacks.perSecondInWindow)} in the window, ${perSecond(tp.callbacks.perSecond)} to the last (${tp.callbacks.count}, last ${formatMs(tp.callbacks.lastAfterStartNs)} after the start)`);
  console.log(`            sends delivered (a callback covered them) ${perSecond(tp.deliveredSends.perSecondInWindow)} in the window, ${perSecond(tp.deliveredSends.perSecond)} to the last (${tp.deliveredSends.count})`);
  const outcomes = Object.entries(n.outcomes).map(([k, v]) => `${v} ${k}`).join(', ');
  const notSent = Object.entries(n.spmcOutcomes).filter(([k]) => k !== 'sent').map(([k, v]) => `${v} ${k}`);
  console.log(`  notifications: ${n.madePending} made pending${notSent.length > 0 ? ` (${notSent.join(', ')})` : ''}, ${n.mergedAtSpmc} merged at the SPMC into ${n.episodes} pending: ${outcomes || 'none'}`);
  console.log(`  end to end, corrected    ${percentiles(stats.latency.corrected)}${clocks('corrected')}`);
  console.log(`  end to end, uncorrected  ${percentiles(stats.latency.uncorrected)}${clocks('uncorrected')}`);
  console.log(`  arrival → set            ${percentiles(stats.latency.arrivalToSet)}${clocks('arrivalToSet')}`);
  printHops(stats.latency, clocks);
  console.log(`  INFO_GET: ${ig.calls} calls in ${ig.loops} loops, ${ig.perLoop.mean.toFixed(2)} per loop (max ${ig.perLoop.max}), ${ig.perSriTaken.toFixed(2)} per SRI taken; ${ig.srisTaken} SRIs taken, ${ig.srisCoalesced} during a running loop; ${ig.loopBoundHits} loop-bound hits; ${ig.idsPerCall.toFixed(2)} VMs per answer`);
  const interrupt = (s: typeof stats.sri) => `${s.raised} raised, ${s.merged} merged at the GIC, ${s.kept} kept for after the acknowledge, ${s.delivered} delivered`;
  console.log(`  SRI (INTID ${stats.sri.intid ?? '-'}): ${interrupt(stats.sri)}; NPI (INTID ${stats.npi.intid ?? '-'}): ${interrupt(stats.npi)}`);
  extras.beforeVerdicts?.();
  printVerdicts(load);
  if (load.memory) {
    const workers = Object.entries(load.memory.heapPeakBytes).sort((a, b) => b[1] - a[1]);
    const top = workers.slice(0, 5).map(([name, bytes]) => `${workerName(name)} ${mib(bytes)}`).join(', ');
    console.log(`  memory: RSS peak ${mib(load.memory.rssPeakBytes)}${top ? `; heap peaks ${top}${workers.length > 5 ? `, … (${workers.length} workers)` : ''}` : ''}`);
  }
  if (load.judging) console.log(`  judging: ${(load.judging.wallMs / 1000).toFixed(1)} s, RSS peak ${mib(load.judging.rssPeakBytes)} meanwhile`);
  console.log(`  history ${load.historyEntries} events, sha256 ${load.historyHash.slice(0, 16)}…`);
  if (load.historyTruncated) {
    console.log(`  FAIL the history outgrew the in-memory bound (${IN_MEMORY_HISTORY_LIMIT.toLocaleString('en')} events): the checks and figures above saw part of the run; run again with --out DIR`);
  }
  if (load.out) console.log(`  out ${relative(process.cwd(), load.out) || '.'}: load.json, scenario.yaml, summary.json, history.jsonl, trace.json, report.html`);
  console.log(`  replay: ${load.replay}`);
}

/** The command: runs, prints, returns the exit status (a world that cannot be built is exit 2). */
export async function loadCommand(command: LoadCommand): Promise<number> {
  const capacity = loadWorldCapacity();
  if (command.guests > capacity.guests) {
    console.error(`ffa-world: ${command.guests} guests: a world holds at most ${capacity.guests}, the bound of ${capacity.bound}`);
    return EXIT.invalid;
  }
  if (!command.json) console.log(`seed ${command.seed} (load: ${command.guests} guests, runtime ${command.runtime})`);
  let load: LoadResult;
  try {
    load = await runLoad(command);
  } catch (error) {
    // A world the components cannot hold, or (a bug here) one the loader refuses: invalid input.
    if (!(error instanceof LoadWorldError || error instanceof ScenarioError)) throw error;
    console.error(`ffa-world: ${error.message}`);
    return EXIT.invalid;
  }
  if (command.json) console.log(JSON.stringify(load));
  else printLoad(load);
  return load.verdict === 'passed' ? EXIT.passed : load.verdict === 'thresholds-missed' ? EXIT.thresholdsMissed : EXIT.failed;
}
