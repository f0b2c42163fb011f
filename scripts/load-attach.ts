/**
 * `ffa-world load --attach`: the load test against a world that is already running as services
 * (docker compose, a swarm, `npm run compose:local -- --world-only`), so its guests may run on
 * several hosts. The command attaches as the compose orchestrator does (run/attach.ts, with the
 * orchestrator's credentials and the FFA_* settings the orchestrator service reads:
 * scripts/service.ts), takes the guests that registered as the load's receivers, and runs the
 * load world's workload over them (load-test/load-world.ts, its `world.vms` replaced by those
 * guests), judged as `ffa-world load` judges (scripts/load.ts: no-lost, no-phantom, thresholds,
 * the drain). Beside the world's figures: each host's (load-test/per-host.ts) and the clock bound
 * on every latency figure (docs/beyond-one-machine.md "Load across hosts").
 *
 * Exit status: 0 everything held; 1 a correctness failure, or a world that failed during the run
 * (a platform service's link dropped, the run's bound passed); 2 invalid input, or a world that
 * could not be attached (nothing listening, credentials refused, too few guests registered, no
 * registered guest answering); 3 only latency thresholds missed.
 */
import { writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import pino from 'pino';
import { makeFolder } from '../shared/runtime/files.ts';
import { logDestination, logFormatOf } from '../shared/runtime/log-format.ts';
import { thresholdVerdicts } from '../services/orchestrator/checkers/latency.ts';
import { WORKLOAD_OPS } from '../services/orchestrator/checkers/arrivals.ts';
import { checkVerdicts, loadStatsWithSends } from '../services/orchestrator/load-test/load-stats.ts';
import { buildLoadScenario } from '../services/orchestrator/load-test/load-world.ts';
import { figureUncertainty, hostOf, perHostFigures } from '../services/orchestrator/load-test/per-host.ts';
import { AttachError, attachScenario } from '../services/orchestrator/run/attach.ts';
import { failedOnlyThresholds } from '../services/orchestrator/run/runner.ts';
import { worldModelOf } from '../services/orchestrator/run/world-builder.ts';
import { DEFAULT_DRAIN_NS } from '../services/orchestrator/scenario/value-shapes.ts';
import type { Scenario, WorldModel } from '../services/orchestrator/scenario/types.ts';
import type { HistoryEntry } from '../shared/runtime/history.ts';
import type { HistorySource } from '../shared/runtime/history-source.ts';
import { type AttachSettings, readAttachSettings } from './load-attach-settings.ts';
import { type AttachedLoadResult, printAttachedLoad } from './load-attach-print.ts';
import { durationText, EXIT, parseLoadOptions, type LoadCommand, type LoadVerdict } from './load.ts';
import { thresholdsOf, thresholdText } from './load-thresholds.ts';

export { type AttachedLoadResult } from './load-attach-print.ts';

/** The workload and its judging (as `ffa-world load` takes them), and where the world is. */
export interface AttachLoadCommand {
  load: Pick<LoadCommand, 'ratePerSecond' | 'durationNs' | 'count' | 'thresholds' | 'drainNs' | 'seed' | 'out' | 'json'>;
  attach: AttachSettings;
  logLevel?: string;
}

/** `ffa-world load`'s options that say what world to build: an attached load runs over the world that is there. */
const NOT_WITH_ATTACH: Record<string, string> = {
  guests: '--guests: the load runs over the guests that registered (--min-guests N waits for N)',
  vcpus: '--vcpus: each guest has the vCPUs it registered with',
  cpus: '--cpus: the world\'s own (its scenario: --scenario)',
  spmc: '--spmc: the world\'s own (its scenario: --scenario)',
  runtime: '--runtime: an attached load runs on the world\'s services',
  guestsPerWorker: '--guests-per-worker: the guests are the world\'s services',
  platformWorkers: '--platform-workers: the platform\'s components are the world\'s services',
  serviceTimes: '--service-times: for --runtime sim',
  rates: '--rates: capacity curves run under sim',
  trace: '--trace: an attached run writes the full trace.json',
};

/** The command from cac's options and the environment, or what is wrong with them (exit 2), in one line. */
export function parseAttachLoadOptions(options: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): AttachLoadCommand | string {
  const problems = Object.entries(NOT_WITH_ATTACH).filter(([key]) => options[key] !== undefined).map(([, why]) => `${why.split(':')[0]} is not taken with --attach:${why.slice(why.indexOf(':') + 1)}`);
  const shared = Object.fromEntries(['rate', 'duration', 'count', 'seed', 'threshold', 'p99', 'drain', 'out', 'json'].flatMap((key) => (options[key] === undefined ? [] : [[key, options[key]]])));
  const load = parseLoadOptions(shared, false);
  if (typeof load === 'string') problems.push(load);
  const attach = readAttachSettings(options, env);
  if (Array.isArray(attach)) problems.push(...attach);
  if (problems.length > 0 || typeof load === 'string' || Array.isArray(attach)) return problems.join('; ');
  const { ratePerSecond, durationNs, count, thresholds, drainNs, seed, out, json } = load;
  return { load: { ratePerSecond, durationNs, count, thresholds, drainNs, seed, out, json }, attach };
}

/** The load world's scenario on the attached world's platform; its VMs are the registered guests once attached. */
function attachedLoadScenario(command: AttachLoadCommand, file: string | undefined): { scenario: Scenario; yaml: string } {
  const { load, attach } = command;
  const thresholds = thresholdsOf(load.thresholds);
  if (typeof thresholds === 'string') throw new Error(`bug: thresholds not checked when parsed: ${thresholds}`);
  const options = {
    guests: attach.minGuests,
    vcpus: attach.world.world.vms[0]?.vcpus ?? 2,
    cpus: attach.world.world.cpus,
    spmc: attach.world.world.spmc.profile,
    ratePerSecond: load.ratePerSecond,
    durationNs: load.durationNs,
    count: load.count,
    drainNs: load.drainNs,
    thresholds: load.thresholds.length > 0 ? thresholds : null,
    seed: load.seed,
    runtime: 'ws' as const,
    serviceTimes: null,
  };
  return file === undefined ? buildLoadScenario(options) : buildLoadScenario(options, file);
}

/** The command line that runs the same load against the same world (its addresses and credentials as given). */
export function attachReplay(load: AttachLoadCommand['load'], attach: AttachSettings): string {
  const end = load.count !== null ? `--count ${load.count}` : `--duration ${durationText(load.durationNs ?? 0)}`;
  const drain = load.drainNs === null ? '' : ` --drain ${durationText(load.drainNs)}`;
  const thresholds = load.thresholds.map((t) => ` --threshold '${thresholdText(t)}'`).join('');
  const given = attach.given.map((option) => ` ${option}`).join('');
  return `npx ffa-world load --attach${given} --min-guests ${attach.minGuests} --rate ${load.ratePerSecond}/s ${end} --seed ${load.seed}${drain}${thresholds}`;
}

/**
 * An attached history holds each component's history since it started (the world channel's
 * backlog: shared/runtime/ws/world-channel.ts), so a world that carried a workload before this
 * attach holds that one's arrivals at the SPMC too. Arrivals are paired k-th send with k-th SPMC
 * delivery (checkers/arrivals.ts), so every figure would be off: the run is failed, saying why.
 */
export function earlierWorkload(entries: readonly HistoryEntry[], model: WorldModel, startNs: number): string[] {
  const earlier = entries.filter(({ t, event }) => t < startNs && event.type === 'deliver' && event.from === model.orchestrator && event.to === model.spmc && event.message.kind === 'control' && WORKLOAD_OPS.has(event.message.op)).length;
  if (earlier === 0) return [];
  return [`the world had carried ${earlier} workload arrivals before this load started (an earlier run's: its components keep their history from their start), which this load's figures would be paired with: start the world again for each load`];
}

/** The run's bound: boot is over, so the workload twice over and its drain, with a margin (as runLoad's). */
function runTimeoutMs(load: AttachLoadCommand['load']): number {
  const workloadNs = load.durationNs ?? ((load.count ?? 0) / load.ratePerSecond) * 1e9;
  return 120_000 + Math.ceil((2 * workloadNs + (load.drainNs ?? DEFAULT_DRAIN_NS)) / 1e6);
}

/** Attach, run the load, judge it. Throws AttachError when the world could not be attached. */
export async function runAttachedLoad(command: AttachLoadCommand): Promise<AttachedLoadResult> {
  const { load, attach } = command;
  const out = load.out === null ? null : resolve(load.out);
  const file = out ? join(out, 'scenario.yaml') : undefined;
  const { scenario, yaml } = attachedLoadScenario(command, file ? relative(process.cwd(), file) || file : undefined);
  if (out && file) {
    makeFolder(out);
    writeFileSync(file, yaml);
  }
  const log = pino({ level: command.logLevel ?? 'silent', base: { role: 'orchestrator' } }, logDestination(logFormatOf()));
  const run = await attachScenario(scenario, yaml, {
    nowMs: () => performance.now(),
    addresses: attach.addresses,
    credentials: attach.credentials,
    seed: load.seed,
    ...(out ? { out } : {}),
    minGuests: attach.minGuests,
    settleMs: attach.settleMs,
    attachTimeoutMs: attach.attachTimeoutMs,
    runTimeoutMs: runTimeoutMs(load),
    guestAnswerMs: attach.guestAnswerMs,
    livenessBoundMs: attach.livenessBoundMs,
    log,
    replay: attachReplay(command.load, attach),
  });
  if (run.guests.length === 0) throw new AttachError(`no registered guest answered the attach: ${run.result.absent?.join('; ') ?? 'none registered'}`);
  const { result } = run;
  // An attached history is bounded by the attach (attach.ts): read back whole, it fits.
  const entries: readonly HistoryEntry[] = run.history.held ?? (await readWhole(run.history));
  const model = worldModelOf(run.scenario, attach.livenessBoundMs * 1e6);
  const { stats, sends } = loadStatsWithSends(entries, model, { ratePerSecond: load.ratePerSecond }, { latency: result.latency });
  const problems = earlierWorkload(entries, model, stats.workload.startNs);
  const thresholds = load.thresholds.length > 0 ? thresholdVerdicts(result.latency, thresholdsOf(load.thresholds) as Exclude<ReturnType<typeof thresholdsOf>, string>) : [];
  const verdict: LoadVerdict = problems.length > 0 ? 'failed' : result.passed ? 'passed' : failedOnlyThresholds(result) ? 'thresholds-missed' : 'failed';
  const attachedResult: AttachedLoadResult = {
    name: scenario.name,
    passed: verdict === 'passed',
    verdict,
    seed: load.seed,
    runtime: 'ws',
    world: { guests: run.guests.length, vcpus: Math.max(...run.guests.map((g) => g.vcpus)), cpus: run.scenario.world.cpus, spmc: run.scenario.world.spmc.profile },
    workload: { ratePerSecond: load.ratePerSecond, durationNs: load.durationNs, count: load.count },
    ended: result.ended,
    wallMs: result.wallMs,
    steps: result.steps,
    checks: checkVerdicts(result.checks),
    thresholds,
    stats: { ...stats, latency: { ...stats.latency, clockUncertaintyNs: figureUncertainty(run.clocks, model) } },
    memory: null,
    judging: result.judging ?? null,
    traffic: null,
    historyEntries: result.historyEntries,
    historyTruncated: false,
    historyHash: result.historyHash,
    replay: result.replay,
    out,
    attached: {
      addresses: attach.addresses,
      guests: run.guests.map((g) => ({ name: g.name, id: g.id, vcpus: g.vcpus, url: g.url, label: g.host, host: hostOf(g) })),
      absent: result.absent ?? [],
      missingTails: result.missingTails ?? [],
      clocks: run.clocks,
      perHost: perHostFigures(entries, model, run.guests, run.clocks, sends),
      problems,
    },
  };
  if (out) writeFileSync(join(out, 'load.json'), `${JSON.stringify(attachedResult, null, 2)}\n`);
  return attachedResult;
}

async function readWhole(history: HistorySource): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  for await (const entry of history.read()) entries.push(entry);
  return entries;
}

/** The command: attaches, runs, prints, returns the exit status. */
export async function attachedLoadCommand(command: AttachLoadCommand): Promise<number> {
  if (!command.load.json) console.log(`seed ${command.load.seed} (load --attach: the world's hypervisor at ${command.attach.addresses.hypervisor}, at least ${command.attach.minGuests} guest${command.attach.minGuests === 1 ? '' : 's'})`);
  let load: AttachedLoadResult;
  try {
    load = await runAttachedLoad(command);
  } catch (error) {
    if (!(error instanceof AttachError)) throw error;
    console.error(`ffa-world: load --attach: the world could not be attached: ${error.message}`);
    return EXIT.invalid;
  }
  if (command.load.json) console.log(JSON.stringify(load));
  else printAttachedLoad(load);
  return load.verdict === 'passed' ? EXIT.passed : load.verdict === 'thresholds-missed' ? EXIT.thresholdsMissed : EXIT.failed;
}
