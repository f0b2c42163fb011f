/**
 * Runs one loaded scenario (docs/design.md §6, §8): builds its world, runs it under the chosen
 * runtime with the orchestrator carrying out the steps, then judges the history with the
 * checkers. The result is the format page's result object; the outputs (summary.json, trace.json,
 * report.html) are written by services/orchestrator/report when an output folder is given.
 */
import { join, relative, resolve } from 'node:path';
import { measureLatency, runChecks } from '../checkers/index.ts';
import { writeRunOutputs } from '../report/index.ts';
import { makeFolder } from '../../../shared/runtime/files.ts';
import type { TraceDetail } from '../report/trace-detail.ts';
import { FileHistorySink, type HistoryEntry, type HistorySink, MemoryHistorySink, readHistory } from '../../../shared/runtime/history.ts';
import { type RuntimeName, runWorld } from '../../../shared/runtime/run-world.ts';
import type { OrchestratorConfig } from '../config.ts';
import type { Scenario, ScenarioResult, StepResult, WorldModel } from '../scenario/types.ts';
import { swarmProfile } from '../swarm.ts';
import { buildWorldSpec, COMPONENTS, worldModelOf } from './world-builder.ts';

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
}

export interface ScenarioRun {
  result: ScenarioResult;
  entries: HistoryEntry[];
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
function stepResults(scenario: Scenario, entries: readonly HistoryEntry[], orchestrator: string, ended: string): StepResult[] {
  const recorded = new Map<number, StepResult>();
  for (const { event } of entries) {
    if (event.type !== 'record' || event.component !== orchestrator || event.data['event'] !== 'step') continue;
    const d = event.data;
    const returned = d['returned'];
    recorded.set(Number(d['index']), {
      index: Number(d['index']),
      label: String(d['label']),
      passed: d['passed'] === true,
      detail: String(d['detail']),
      startNs: Number(d['startNs']),
      endNs: Number(d['endNs']),
      ...(Array.isArray(returned) ? { returned: returned.map(String) } : {}),
    });
  }
  return scenario.steps.map(
    (step) =>
      recorded.get(step.index) ?? { index: step.index, label: step.label, passed: false, skipped: true, detail: `not reached: the world ended ${ended}`, startNs: 0, endNs: 0 },
  );
}

/** When the last fault healed: the last fault applied, or the last timed heal. */
function lastFaultHealNs(entries: readonly HistoryEntry[], orchestrator: string): number | null {
  let last: number | null = null;
  for (const { t, event } of entries) {
    const heal = event.type === 'fault' || (event.type === 'record' && event.component === orchestrator && event.data['event'] === 'fault-healed');
    if (heal) last = Math.max(last ?? 0, t);
  }
  return last;
}

/** The orchestrator's last record says whether the world went quiet after the steps. */
function quietAtEnd(entries: readonly HistoryEntry[]): number | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const { event } = entries[i] as HistoryEntry;
    if (event.type === 'record' && event.component === COMPONENTS.orchestrator && event.data['event'] === 'done') {
      return event.data['quiet'] === true ? Number(event.data['atNs']) : null;
    }
  }
  return null;
}

function problems(entries: readonly HistoryEntry[], model: WorldModel): string[] {
  const found: string[] = [];
  for (const { event } of entries) {
    if (event.type === 'component' && event.event === 'crash' && !event.detail.startsWith('fault ')) found.push(`${event.component} crashed: ${event.detail.split('\n')[0] ?? ''}`);
    if (event.type === 'record' && event.component === model.orchestrator && event.data['event'] === 'probe-timeout') found.push(`${String(event.data['guest'])} did not finish its probe`);
  }
  return found;
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
  const historyFile = out ? join(out, 'history.jsonl') : null;
  const sink = historyFile ? new FileHistorySink(historyFile) : new MemoryHistorySink();
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
    }));
  } finally {
    sink.close();
  }
  const wallMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const entries = sink instanceof MemoryHistorySink ? sink.entries : readHistory(historyFile ?? '');
  const trouble: string[] = [];
  // In memory the history is bounded (MemoryHistorySink): checkers over a truncated history would judge a part as the whole.
  if (sink instanceof MemoryHistorySink && sink.count > entries.length) {
    trouble.push(`the history kept in memory was truncated (${entries.length} of ${sink.count} events): run with an output folder (--out), which keeps it all`);
  }
  const ending: RunEnding = {
    ended,
    wallMs,
    trouble,
    historyEntries: sink instanceof MemoryHistorySink ? sink.count : entries.length,
    historyHash: sink.digest(),
    ...(memory ? { memory } : {}),
    ...(traffic ? { traffic } : {}),
  };
  const outputs = out && historyFile ? { out, history: historyFile, trace: options.trace ?? 'full' } : null;
  return judgeRun(scenario, { runtime, seed, replay: replayCommand(scenario, runtime, seed) }, entries, ending, outputs);
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
export function departures(entries: readonly HistoryEntry[], hypervisor: string | null): string[] {
  const records = entries.flatMap((e) => (e.event.type === 'record' && e.event.component === hypervisor ? [e.event.data] : []));
  return records
    .filter((r) => r['event'] === 'guest-link-lost')
    .map((lost) => {
      const id = lost['id'];
      const destroyed = records.some((r) => r['event'] === 'vm-destroyed' && r['id'] === id);
      const freed = records.find((r) => r['event'] === 'fw-call' && r['abi'] === 'FFA_NOTIFICATION_BITMAP_DESTROY' && r['vm'] === id);
      const vm = id === null ? 'its VM was still queued' : `VM ${String(id)} ${destroyed ? 'destroyed' : 'NOT destroyed'}`;
      const bitmaps = freed ? `, ${bitmapsFate(String(freed['status']))}` : '';
      return `${String(lost['component'])} went away (link lost): ${vm}${bitmaps}`;
    });
}

/** The model of the world that made this history, as the checkers and the report read it. */
export function runModel(scenario: Scenario, entries: readonly HistoryEntry[], livenessBoundNs?: number): WorldModel {
  return { ...worldModelOf(scenario, livenessBoundNs), lastFaultHealNs: lastFaultHealNs(entries, COMPONENTS.orchestrator), quietAtEndNs: quietAtEnd(entries) };
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

/** Judge a run's history: its steps, the checkers, latency; write the outputs when asked. */
export async function judgeRun(
  scenario: Scenario,
  run: { runtime: RuntimeName; seed: number; replay: string; livenessBoundNs?: number },
  entries: HistoryEntry[],
  ending: RunEnding,
  outputs: { out: string; history: string; trace?: TraceDetail } | null,
  absent: readonly string[] = [],
): Promise<ScenarioRun> {
  const { ended } = ending;
  const model = runModel(scenario, entries, run.livenessBoundNs);
  const steps = stepResults(scenario, entries, model.orchestrator, ended);
  const checks = runChecks(entries, model, scenario.checks);
  const trouble = [...problems(entries, model), ...ending.trouble];
  const result: ScenarioResult = {
    name: scenario.name,
    file: scenario.file,
    passed: ended === 'done' && trouble.length === 0 && steps.every((s) => s.passed) && checks.every((c) => c.passed),
    seed: run.seed,
    runtime: run.runtime,
    ended: trouble.length === 0 ? ended : `${ended} (${trouble.join('; ')})`,
    steps,
    checks,
    latency: measureLatency(entries, model),
    faultsApplied: entries.filter((e) => e.event.type === 'fault').length,
    historyEntries: ending.historyEntries,
    historyHash: ending.historyHash,
    replay: run.replay,
    wallMs: ending.wallMs,
    ...(ending.memory ? { memory: ending.memory } : {}),
    ...(ending.traffic ? { traffic: ending.traffic } : {}),
  };
  const gone = departures(entries, model.hypervisor);
  if (gone.length > 0) result.departures = gone;
  const estimated = Object.values(ending.clocks ?? {}).filter((c) => c.clock === 'estimated');
  if (estimated.length > 0) {
    result.clocks = ending.clocks;
    // A figure between components A and B is off by at most A's uncertainty plus B's.
    const [first = 0, second = 0] = estimated.map((c) => c.uncertaintyNs).sort((a, b) => b - a);
    result.latency.clockUncertaintyNs = Math.ceil(first + second);
  }
  if (absent.length > 0) result.absent = [...absent];
  const files = outputs ? { history: outputs.history, ...(await writeRunOutputs(outputs.out, { result, entries, model }, { trace: outputs.trace ?? 'full' })) } : null;
  return { result, entries, files };
}
