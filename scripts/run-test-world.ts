/**
 * Runs the two-component test world under either runtime, writes its history and summary into
 * an output folder, and returns the summary. `npm start` runs it under ws until the default
 * world (the scenario issue) replaces it.
 */
import { writeFileSync } from 'node:fs';
import { makeFolder } from '../shared/runtime/files.ts';
import { join, resolve } from 'node:path';
import { FileHistorySink, type HistoryEntry, readHistory } from '../shared/runtime/history.ts';
import { type RuntimeName, runWorld } from '../shared/runtime/run-world.ts';
import { testWorldSpec } from '../shared/runtime/test-world/index.ts';

export type { RuntimeName };

export interface TestWorldRun {
  runtime: RuntimeName;
  seed: number;
  vcpus: number;
  callsPerVcpu: number;
  out: string;
}

export interface TestWorldSummary {
  name: string;
  passed: boolean;
  seed: number;
  runtime: RuntimeName;
  /** How the run ended: done (every caller vCPU finished), timeout, crashed, … */
  ended: string;
  calls: { issued: number; returned: number; echoedExactly: number; failed: number };
  historyEntries: number;
  historyHash: string;
  historyFile: string;
  wallMs: number;
  replay: string;
}

export async function runTestWorld(run: TestWorldRun): Promise<TestWorldSummary> {
  const out = resolve(run.out);
  makeFolder(out);
  const historyFile = join(out, 'history.jsonl');
  const history = new FileHistorySink(historyFile);
  const spec = testWorldSpec({ seed: run.seed, vcpus: run.vcpus, callsPerVcpu: run.callsPerVcpu });
  const started = process.hrtime.bigint();
  let ended: string;
  try {
    ({ ended } = await runWorld(spec, { runtime: run.runtime, history, logLevel: process.env.FFA_LOG_LEVEL ?? 'warn', timeoutMs: 120_000 }));
  } finally {
    history.close();
  }
  const wallMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const summary = summarize(run, readHistory(historyFile), history.digest(), historyFile, wallMs, ended);
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

function summarize(
  run: TestWorldRun,
  entries: HistoryEntry[],
  hash: string,
  historyFile: string,
  wallMs: number,
  ended: string,
): TestWorldSummary {
  const returns = entries.flatMap((e) => (e.event.type === 'record' && e.event.data.event === 'caller-return' ? [e.event.data] : []));
  const issued = run.vcpus * run.callsPerVcpu;
  const echoedExactly = returns.filter((r) => r.echoed === true).length;
  const crashed = entries.some((e) => e.event.type === 'component' && e.event.event === 'crash');
  return {
    name: 'test-world',
    passed: !crashed && ended === 'done' && echoedExactly === issued,
    ended,
    seed: run.seed,
    runtime: run.runtime,
    calls: { issued, returned: returns.length, echoedExactly, failed: returns.filter((r) => r.ok !== true).length },
    historyEntries: entries.length,
    historyHash: hash,
    historyFile,
    wallMs,
    replay: `ffa-world world --runtime ${run.runtime} --seed ${run.seed} --vcpus ${run.vcpus} --calls ${run.callsPerVcpu}`,
  };
}
