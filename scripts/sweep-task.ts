/**
 * One seed of a sweep (`ffa-world sweep`), run in a piscina worker (sweep-worker.mjs loads this
 * file through tsx). The scenario is loaded once per worker and file; each task runs it under the
 * sim runtime in memory and returns a small summary, never the history (a few hundred bytes
 * cross the thread boundary instead of the whole run).
 *
 * A task never throws: a run that throws (a component's bug under sim throws out of the run) is
 * that seed's failure, with its message and where it was thrown.
 */
import { threadId } from 'node:worker_threads';
import { readScenarioFile } from '../services/orchestrator/scenario/reader/index.ts';
import { replayCommand, runScenario } from '../services/orchestrator/run/runner.ts';
import type { Scenario } from '../services/orchestrator/scenario/types.ts';

export interface SweepTask {
  file: string;
  seed: number;
}

export interface SeedSummary {
  seed: number;
  passed: boolean;
  /** How the world ended (runner's `ended`), or `threw` when the run threw. */
  ended: string;
  failingSteps: { index: number; label: string; detail: string }[];
  failingChecks: { name: string; detail: string; firstFailure: string | null }[];
  /** Set when the run threw: the error's message and the first frame of its stack. */
  error: string | null;
  /** sha256 of the history; empty when the run threw. */
  historyHash: string;
  replay: string;
  wallMs: number;
  /** The worker thread that ran it (determinism runs each seed in two). */
  threadId: number;
}

const scenarios = new Map<string, Scenario>();

function scenarioOf(file: string): Scenario {
  let scenario = scenarios.get(file);
  if (!scenario) {
    scenario = readScenarioFile(file);
    scenarios.set(file, scenario);
  }
  return scenario;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `threw ${String(error)}`;
  const frame = error.stack?.split('\n').find((line) => /^\s+at /.test(line))?.trim();
  return `${error.name}: ${error.message}${frame ? ` (${frame})` : ''}`;
}

export async function runSweepTask(task: SweepTask): Promise<SeedSummary> {
  const { file, seed } = task;
  const started = process.hrtime.bigint();
  const wallMs = (): number => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  let scenario: Scenario | undefined;
  try {
    scenario = scenarioOf(file);
    const { result } = await runScenario(scenario, { runtime: 'sim', seed });
    return {
      seed,
      passed: result.passed,
      ended: result.ended,
      failingSteps: result.steps.filter((s) => !s.passed).map(({ index, label, detail }) => ({ index, label, detail })),
      failingChecks: result.checks
        .filter((c) => !c.passed)
        .map(({ name, detail, failures }) => ({ name, detail, firstFailure: failures[0]?.message ?? null })),
      error: null,
      historyHash: result.historyHash,
      replay: result.replay,
      wallMs: wallMs(),
      threadId,
    };
  } catch (error) {
    return {
      seed,
      passed: false,
      ended: 'threw',
      failingSteps: [],
      failingChecks: [],
      error: describeError(error),
      historyHash: '',
      replay: scenario ? replayCommand(scenario, 'sim', seed) : `npx ffa-world run ${file} --runtime sim --seed ${seed}`,
      wallMs: wallMs(),
      threadId,
    };
  }
}
