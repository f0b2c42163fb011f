/**
 * Runs one loaded scenario (docs/design.md §6, §8): builds its world, runs it under the chosen
 * runtime with the orchestrator carrying out the steps, then judges the history with the
 * checkers. The result is the format page's result object; the outputs (summary.json, trace.json,
 * report.html) are written by services/orchestrator/report when an output folder is given.
 *
 * The history is judged as a stream (checkers/judge.ts): read from the file the run wrote, line
 * by line, its facts first, then the checkers, the load statistics and the report's figures in
 * one pass, then (when something failed) the evidence and the report's sequence view. Memory
 * follows what is outstanding in the history, not its length; the process's RSS is sampled while
 * judging and counted in the run's peak.
 */
import { join, relative, resolve } from 'node:path';
import { HistoryFacts, judgeHistory, type JudgeObserver } from '../checkers/index.ts';
import { foldEntries, foldHistory } from '../checkers/fold.ts';
import { FaultTable, failureFocus, PlotSamples, sequenceWindowOf, TraceFold, writeOutputs, type ReportInput } from '../report/index.ts';
import { makeFolder } from '../../../shared/runtime/files.ts';
import type { TraceDetail } from '../report/trace-detail.ts';
import { FileHistorySink, type HistoryEntry, type HistorySink, MemoryHistorySink } from '../../../shared/runtime/history.ts';
import { historyFile, historyInMemory, type HistorySource } from '../../../shared/runtime/history-source.ts';
import { RssPeak } from '../../../shared/runtime/rss-peak.ts';
import { type RuntimeName, runWorld } from '../../../shared/runtime/run-world.ts';
import type { PlatformWorkers } from '../../../shared/runtime/ws/worker-placement.ts';
import type { OrchestratorConfig } from '../config.ts';
import type { Scenario, ScenarioResult, StepResult, WorldModel } from '../scenario/types.ts';
import { swarmProfile } from '../swarm.ts';
import { buildWorldSpec, COMPONENTS, worldModelOf } from './world-builder.ts';
import { formatMs } from '../../../shared/duration.ts';

/** What else reads the judging pass (the load statistics): made once the history's facts are known. */
export type ObserverFactory = (model: WorldModel, facts: HistoryFacts) => JudgeObserver[];

export interface ScenarioRunOptions {
  runtime: RuntimeName;
  seed: number;
  /** Output folder: history.jsonl, summary.json, trace.json, report.html. Absent: in memory only. */
  out?: string;
  logLevel?: string;
  /** How much goes into trace.json (default full). */
  trace?: TraceDetail;
  /** Bound on the run: virtual time under sim, wall time under ws (default 120 s). */
  timeoutMs?: number;
  /** Called as each step ends (progress on long runs). */
  onStep?: (done: number, total: number) => void;
  /** ws only: guests per worker thread (default 1). */
  guestsPerWorker?: number;
  /** ws only: worker threads for the platform's components (default 4, one each). */
  platformWorkers?: PlatformWorkers;
  /** Beside the checkers, in the same pass over the history. */
  observers?: ObserverFactory;
}

export interface ScenarioRun {
  result: ScenarioResult;
  /** The history held in memory; reading it for a run whose history is on disk (--out) is a bug, and throws. */
  readonly entries: HistoryEntry[];
  /** The history, to read again. */
  history: HistorySource;
  /** Paths of the files written, when `out` was given. */
  files: { history: string; summary: string; trace: string | null; report: string } | null;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export function orchestratorConfig(scenario: Scenario, runtime: RuntimeName, seed: number): OrchestratorConfig {
  const { world } = scenario;
  return {
    runtime,
    cpus: world.cpus,
    steps: scenario.steps,
    timedFaults: scenario.faults,
    bootedGuests: world.vms.filter((vm) => vm.boot).map((vm) => vm.name),
    vms: world.vms.map((vm) => ({ name: vm.name, id: vm.id, vcpus: vm.vcpus, pcpus: vm.pcpus })),
    sps: world.spmc.partitions.map((sp) => ({ id: sp.id, behaviour: sp.behaviour })),
    hypervisor: world.hypervisor.profile !== 'none',
    swarms: swarmProfile(scenario, seed),
  };
}

/** The command that runs the same scenario, with the same settings, and the same seed. */
export function replayCommand(scenario: Scenario, runtime: RuntimeName, seed: number): string {
  const file = relative(process.cwd(), resolve(scenario.file)) || scenario.file;
  const settings = (scenario.settings ?? []).map(({ key, value }) => ` --set ${shellWord(`${key}=${value}`)}`).join('');
  return `npx ffa-world run ${file}${settings} --runtime ${runtime} --seed ${seed}`;
}

/** A word a POSIX shell reads back as is: quoted unless it is plain. */
function shellWord(word: string): string {
  return /^[\w.,:/=+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Step outcomes from the orchestrator's `step` records; a step never reached is skipped, with the world's ending. */
function stepResults(scenario: Scenario, facts: HistoryFacts, ended: string): StepResult[] {
  return scenario.steps.map(
    (step) =>
      facts.steps.get(step.index) ?? { index: step.index, label: step.label, passed: false, skipped: true, detail: `not reached: the world ended ${ended}`, startNs: 0, endNs: 0 },
  );
}

/** Crashes and unfinished probes, as the facts pass found them. */
function problems(facts: HistoryFacts): string[] {
  return facts.problemsNotListed > 0 ? [...facts.problems, `and ${facts.problemsNotListed} more`] : facts.problems;
}

/** The orchestrator's `step` records, counted as they are written. */
function withStepProgress(sink: HistorySink, total: number, onStep: (done: number, total: number) => void): HistorySink {
  let done = 0;
  return {
    append(entry) {
      sink.append(entry);
      const { event } = entry;
      if (event.type === 'record' && event.component === COMPONENTS.orchestrator && event.data['event'] === 'step') onStep(++done, total);
    },
    close: () => sink.close(),
  };
}

export async function runScenario(scenario: Scenario, options: ScenarioRunOptions): Promise<ScenarioRun> {
  const { runtime, seed } = options;
  const spec = buildWorldSpec(scenario, seed, orchestratorConfig(scenario, runtime, seed));
  const out = options.out === undefined ? null : resolve(options.out);
  if (out) makeFolder(out);
  const historyFile_ = out ? join(out, 'history.jsonl') : null;
  const sink = historyFile_ ? new FileHistorySink(historyFile_) : new MemoryHistorySink();
  const history = options.onStep ? withStepProgress(sink, scenario.steps.length, options.onStep) : sink;
  const started = process.hrtime.bigint();
  let ended: string;
  let memory: ScenarioResult['memory'];
  let traffic: ScenarioResult['traffic'];
  try {
    ({ ended, memory, traffic } = await runWorld(spec, {
      runtime,
      history,
      logLevel: options.logLevel ?? 'silent',
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.guestsPerWorker === undefined ? {} : { guestsPerWorker: options.guestsPerWorker }),
      ...(options.platformWorkers === undefined ? {} : { platformWorkers: options.platformWorkers }),
    }));
  } finally {
    sink.close();
  }
  const wallMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const source = sink instanceof MemoryHistorySink ? historyInMemory(sink.entries) : historyFile(historyFile_ ?? '');
  const trouble: string[] = [];
  // In memory the history is bounded (MemoryHistorySink): checkers over a truncated history would judge a part as the whole.
  if (sink instanceof MemoryHistorySink && sink.count > sink.entries.length) {
    trouble.push(`the history kept in memory was truncated (${sink.entries.length} of ${sink.count} events): run with an output folder (--out), which keeps it all`);
  }
  const ending: RunEnding = {
    ended,
    wallMs,
    trouble,
    historyEntries: sink.count,
    historyHash: sink.digest(),
    ...(memory ? { memory } : {}),
    ...(traffic ? { traffic } : {}),
  };
  const outputs = out && historyFile_ ? { out, history: historyFile_, trace: options.trace ?? 'full' } : null;
  return judgeRun(scenario, { runtime, seed, replay: replayCommand(scenario, runtime, seed) }, source, ending, outputs, [], options.observers);
}

/**
 * A failed run that failed only its latency thresholds: the world ended done with nothing amiss,
 * every step held, and the only checks that failed are `latency` ones (not expect-fail). Slow is
 * not wrong: `ffa-world run` and `ffa-world load` give it its own exit status (3).
 */
export function failedOnlyThresholds(result: ScenarioResult): boolean {
  if (result.passed || result.ended !== 'done' || !result.steps.every((s) => s.passed)) return false;
  const failed = result.checks.filter((c) => !c.passed);
  return failed.length > 0 && failed.every((c) => c.name === 'latency' && !c.expectFail);
}

/** How a run ended, as the runtime saw it (the checkers then judge its history). */
export interface RunEnding {
  ended: string;
  wallMs: number;
  /** What went wrong beside the steps and checks (a truncated history, lines lost on the way). */
  trouble: string[];
  historyEntries: number;
  historyHash: string;
  memory?: ScenarioResult['memory'];
  traffic?: ScenarioResult['traffic'];
  /** An attached run: how each component's clock was mapped onto the orchestrator's. */
  clocks?: ScenarioResult['clocks'];
}

/**
 * Guests whose link dropped while the world ran (a container or process killed; the hypervisor's
 * guest-link-lost), each with what the hypervisor then did: its VM destroyed and its bitmaps freed
 * at the SPMC (BITMAP_DESTROY), as vm-lifecycle.ts records them.
 */
function departures(facts: HistoryFacts): string[] {
  return facts.linkLost.map(({ id, component }) => {
    const destroyed = facts.destroyedVms.has(id);
    const freed = facts.bitmapsDestroyed.get(id);
    const vm = id === null ? 'its VM was still queued' : `VM ${String(id)} ${destroyed ? 'destroyed' : 'NOT destroyed'}`;
    const bitmaps = freed === undefined ? '' : `, ${bitmapsFate(freed)}`;
    return `${String(component)} went away (link lost): ${vm}${bitmaps}`;
  });
}

/** The model of the world that made this history, as the checkers and the report read it. */
export function runModel(scenario: Scenario, history: readonly HistoryEntry[] | HistoryFacts, livenessBoundNs?: number): WorldModel {
  const model = worldModelOf(scenario, livenessBoundNs);
  const facts = history instanceof HistoryFacts ? history : new HistoryFacts(model);
  if (!(history instanceof HistoryFacts)) foldEntries(history, [facts]);
  return { ...model, lastFaultHealNs: facts.lastFaultHealNs, quietAtEndNs: facts.quietAtEndNs };
}

/**
 * What BITMAP_DESTROY's answer means for the VM's bitmaps. The SPMC refuses it with DENIED while
 * a bit is pending or bound (OP-TEE) or pending (Hafnium) (docs/ffa-reference.md §2.2); Xen ignores the answer
 * at teardown (xen/arch/arm/tee/ffa_notif.c ffa_notif_domain_destroy), so the bitmaps then stay.
 */
export function bitmapsFate(status: string): string {
  if (status === 'OK') return 'its bitmaps freed at the SPMC (BITMAP_DESTROY succeeded)';
  const why = status === 'DENIED' ? ': a notification was still pending or bound' : '';
  return `its bitmaps NOT freed at the SPMC (BITMAP_DESTROY answered ${status}${why}; the hypervisor ignores that at teardown, as Xen does)`;
}

/** A history read back: held in memory, or (--out) on disk. */
function runOf(result: ScenarioResult, history: HistorySource, files: ScenarioRun['files']): ScenarioRun {
  return {
    result,
    history,
    files,
    get entries(): HistoryEntry[] {
      if (!history.held) throw new Error(`bug: the history of this run is on disk (${history.name}): read it as a stream (ScenarioRun.history)`);
      return history.held as HistoryEntry[];
    },
  };
}

/** What the report and the trace gather in the judging pass. */
interface OutputFolds {
  faults: FaultTable;
  plot: PlotSamples;
  trace: TraceFold | null;
}

/** Histories longer than this get a summary trace: a full one holds a slice per message, in memory. */
export const TRACE_FULL_EVENTS_MAX = 250_000;

function outputFolds(detail: TraceDetail, facts: HistoryFacts, model: WorldModel): OutputFolds {
  const traceDetail = detail === 'full' && facts.count > TRACE_FULL_EVENTS_MAX ? 'summary' : detail;
  return { faults: new FaultTable(), plot: new PlotSamples(), trace: traceDetail === 'none' ? null : new TraceFold(traceDetail, model, { startNs: facts.startNs, endNs: facts.endNs }) };
}

/** Judge a run's history: its steps, the checkers, latency; write the outputs when asked. */
export async function judgeRun(
  scenario: Scenario,
  run: { runtime: RuntimeName; seed: number; replay: string; livenessBoundNs?: number },
  history: HistorySource | HistoryEntry[],
  ending: RunEnding,
  outputs: { out: string; history: string; trace?: TraceDetail } | null,
  absent: readonly string[] = [],
  observers?: ObserverFactory,
): Promise<ScenarioRun> {
  const started = process.hrtime.bigint();
  const source = Array.isArray(history) ? historyInMemory(history) : history;
  const rss = new RssPeak();
  const facts = new HistoryFacts(worldModelOf(scenario, run.livenessBoundNs));
  await foldHistory(source, [facts], rss);
  const model = runModel(scenario, facts, run.livenessBoundNs);
  const folds = outputs ? outputFolds(outputs.trace ?? 'full', facts, model) : null;
  const extra = observers?.(model, facts) ?? [];
  const judge = await judgeHistory(source, model, facts, { rss, observers: [...extra, ...(folds ? [folds.plot, folds.faults, ...(folds.trace ? [folds.trace] : [])] : [])] });
  const { ended } = ending;
  const steps = stepResults(scenario, facts, ended);
  const checks = judge.checks(scenario.checks);
  const trouble = [...problems(facts), ...ending.trouble];
  const result: ScenarioResult = {
    name: scenario.name,
    file: scenario.file,
    passed: ended === 'done' && trouble.length === 0 && steps.every((s) => s.passed) && checks.every((c) => c.passed),
    seed: run.seed,
    runtime: run.runtime,
    ended: trouble.length === 0 ? ended : `${ended} (${trouble.join('; ')})`,
    steps,
    checks,
    latency: judge.latencyReport(),
    faultsApplied: facts.faultsApplied,
    historyEntries: ending.historyEntries,
    historyHash: ending.historyHash,
    replay: run.replay,
    wallMs: ending.wallMs,
    ...(ending.memory ? { memory: ending.memory } : {}),
    ...(ending.traffic ? { traffic: ending.traffic } : {}),
  };
  const gone = departures(facts);
  if (gone.length > 0) result.departures = gone;
  const estimated = Object.values(ending.clocks ?? {}).filter((c) => c.clock === 'estimated');
  if (estimated.length > 0) {
    result.clocks = ending.clocks;
    // A figure between components A and B is off by at most A's uncertainty plus B's.
    const [first = 0, second = 0] = estimated.map((c) => c.uncertaintyNs).sort((a, b) => b - a);
    result.latency.clockUncertaintyNs = Math.ceil(first + second);
  }
  if (absent.length > 0) result.absent = [...absent];
  const tails = [...facts.missingTails.values()].map((tail) => `${tail.component}'s history stops at ${formatMs(tail.lastNs)}: ${tail.detail}`);
  if (tails.length > 0) result.missingTails = tails;
  judged(result, rss, started);
  const files = outputs && folds ? { history: outputs.history, ...(await writeRunFiles(outputs.out, result, source, facts, folds, rss)) } : null;
  // The outputs' own cost (the report's sequence view reads the history again) counts too.
  if (files) judged(result, rss, started);
  return runOf(result, source, files);
}

/** The judging's own cost, and the peak RSS counting it (ws reports the run's; judging may be higher). */
function judged(result: ScenarioResult, rss: RssPeak, started: bigint): void {
  rss.sample();
  result.judging = { wallMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6), rssPeakBytes: rss.peakBytes };
  if (result.memory) result.memory = { ...result.memory, rssPeakBytes: Math.max(result.memory.rssPeakBytes, rss.peakBytes) };
}

async function writeRunFiles(out: string, result: ScenarioResult, source: HistorySource, facts: HistoryFacts, folds: OutputFolds, rss: RssPeak) {
  const focus = failureFocus(result);
  const report: ReportInput = {
    result,
    sequence: focus ? await sequenceWindowOf(source, focus) : null,
    faults: folds.faults.all(),
    plot: { samples: folds.plot.sorted(), total: folds.plot.total },
    lastNs: facts.lastNs,
  };
  rss.sample();
  return writeOutputs(out, report, folds.trace?.build() ?? null);
}
