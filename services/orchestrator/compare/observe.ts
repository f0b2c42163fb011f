/**
 * What one run of a comparison shows, as rows that line up across runs: each step's outcome, each
 * call's returned registers (the first COMPARE_LIMITS.stepsCompared steps), each check's verdict,
 * and the key figures of the result (how the world ended, steps passed, notifications delivered,
 * latency percentiles, faults applied). Every value is a short string, so two runs differ in a
 * row exactly when the strings do.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { hex, type RegisterFile } from '../../../shared/ffa/index.ts';
import { describeReturn } from '../expect.ts';
import type { Percentiles, Scenario, ScenarioResult } from '../scenario/types.ts';
import { COMPARE_LIMITS } from './limits.ts';
import { formatMs } from '../../../shared/duration.ts';

export type RowKind = 'step' | 'returned' | 'check' | 'figure';

/** One row's value in one run; `detail` is what a reader may want beside it (a step's or check's detail). */
export interface Observed {
  key: string;
  kind: RowKind;
  /** The row's title: "step 3: FFA_FEATURES from host", "check no-lost-notification", "end-to-end p99". */
  label: string;
  value: string;
  detail: string | null;
}

/** A row with no value in a run (a step never reached, a figure a run that threw does not have). */
export const ABSENT = '—';


/** FFA_SUCCESS_32 w2=0x4, with any non-zero register past w7 (PARTITION_INFO_GET_REGS fills x8..x17) as x8=…. */
export function returnedLine(fid: number, returned: readonly string[]): string {
  const regs: RegisterFile = returned.map((value) => BigInt(value));
  const upper = regs.slice(8).flatMap((value, index) => (value === 0n ? [] : [`x${index + 8}=${hex(value)}`]));
  return [describeReturn(fid, regs), ...upper].join(' ');
}

/**
 * The steps the orchestrator did not run because an earlier one failed (its `step` records with
 * `skipped`, orchestrator.ts skipFrom): the result counts them failed, a comparison says not run.
 */
function notRun(entries: readonly HistoryEntry[]): Set<number> {
  const indexes = new Set<number>();
  for (const { event } of entries) {
    if (event.type === 'record' && event.data['event'] === 'step' && event.data['skipped'] === true) indexes.add(Number(event.data['index']));
  }
  return indexes;
}

function stepRows(scenario: Scenario, result: ScenarioResult, entries: readonly HistoryEntry[]): Observed[] {
  const skipped = notRun(entries);
  return result.steps.slice(0, COMPARE_LIMITS.stepsCompared).flatMap((step) => {
    const label = `step ${step.index}: ${step.label}`;
    const verdict = step.skipped === true || skipped.has(step.index) ? 'not run' : step.passed ? 'pass' : 'FAIL';
    const outcome: Observed = { key: `step ${step.index}`, kind: 'step', label, value: verdict, detail: step.detail };
    const planned = scenario.steps[step.index];
    if (planned?.kind !== 'call') return [outcome];
    const value = step.returned === undefined ? ABSENT : returnedLine(planned.fid, step.returned);
    return [outcome, { key: `returned ${step.index}`, kind: 'returned', label: `step ${step.index} returned: ${step.label}`, value, detail: step.returned?.join(' ') ?? null }];
  });
}

function checkRows(result: ScenarioResult): Observed[] {
  return result.checks.map((check) => ({
    key: `check ${check.name}`,
    kind: 'check',
    label: `check ${check.name}`,
    value: check.passed ? (check.expectFail ? 'pass (failed as expected)' : 'pass') : 'FAIL',
    detail: check.detail,
  }));
}

function percentileRows(name: string, p: Percentiles): Observed[] {
  if (p.count === 0) return [];
  const figure = (which: string, value: string): Observed => ({ key: `figure ${name} ${which}`, kind: 'figure', label: `${name} ${which}`, value, detail: null });
  return [figure('count', String(p.count)), figure('p50', formatMs(p.p50)), figure('p99', formatMs(p.p99))];
}

/** Notifications handed to a registered callback (the guests' `notification-callback` records). */
function delivered(entries: readonly HistoryEntry[]): number {
  return entries.filter(({ event }) => event.type === 'record' && event.data['event'] === 'notification-callback').length;
}

function figureRows(result: ScenarioResult, entries: readonly HistoryEntry[]): Observed[] {
  const figure = (name: string, value: string): Observed => ({ key: `figure ${name}`, kind: 'figure', label: name, value, detail: null });
  return [
    figure('ended', result.ended),
    figure('steps', `${result.steps.filter((step) => step.passed).length}/${result.steps.length} passed`),
    figure('delivered', String(delivered(entries))),
    ...percentileRows('end-to-end', result.latency.endToEnd),
    ...percentileRows('corrected', result.latency.corrected),
    figure('faults applied', String(result.faultsApplied)),
  ];
}

/** The rows of a run that finished. */
export function observeRun(scenario: Scenario, result: ScenarioResult, entries: readonly HistoryEntry[]): Observed[] {
  return [...stepRows(scenario, result, entries), ...checkRows(result), ...figureRows(result, entries)];
}

/** The rows of a run that threw: its ending says why; every other row is absent. */
export function observeThrow(error: string): Observed[] {
  return [{ key: 'figure ended', kind: 'figure', label: 'ended', value: `threw: ${error}`, detail: null }];
}
