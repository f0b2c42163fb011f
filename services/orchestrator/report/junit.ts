/**
 * JUnit XML for CI: one <testsuite> per scenario, one <testcase> per step and per check, a
 * <failure> with the detail (and, for a check, each failure's message) where one failed.
 *
 * A run can fail with every step and check passing (the world crashed or timed out: `ended`);
 * then the suite gets one more testcase, "run", so the failure is not silent.
 */
import type { CheckResult, ScenarioResult, StepResult } from '../scenario/types.ts';
import { escapeXml as x } from './escape.ts';

const seconds = (ns: number) => (Math.max(0, ns) / 1e9).toFixed(6);

function failure(message: string, type: string, body: string): string {
  return `<failure message="${x(message)}" type="${x(type)}">${x(body)}</failure>`;
}

function stepCase(suite: string, step: StepResult, replay: string): string {
  const name = `step ${step.index}: ${step.label}`;
  const open = `    <testcase classname="${x(`${suite}.steps`)}" name="${x(name)}" time="${seconds(step.endNs - step.startNs)}"`;
  if (step.passed) return `${open}/>`;
  return `${open}>\n      ${failure(step.detail, 'step', `${step.detail}\nreplay: ${replay}`)}\n    </testcase>`;
}

function checkCase(suite: string, check: CheckResult, replay: string): string {
  const open = `    <testcase classname="${x(`${suite}.checks`)}" name="${x(`check ${check.name}`)}" time="0"`;
  if (check.passed) return `${open}/>`;
  const lines = [check.detail, ...check.failures.map((f, i) => `${i + 1}. ${f.message}${f.events.length > 0 ? `\n   ${f.events.map((e) => `#${e.seq} @${e.t} ns ${e.what}`).join('\n   ')}` : ''}`), `replay: ${replay}`];
  const message = check.failures[0]?.message ?? check.detail;
  return `${open}>\n      ${failure(message, 'check', lines.join('\n'))}\n    </testcase>`;
}

interface Suite {
  xml: string;
  tests: number;
  failures: number;
}

function suite(result: ScenarioResult): Suite {
  const cases = [...result.steps.map((s) => stepCase(result.name, s, result.replay)), ...result.checks.map((c) => checkCase(result.name, c, result.replay))];
  let failures = result.steps.filter((s) => !s.passed).length + result.checks.filter((c) => !c.passed).length;
  if (!result.passed && failures === 0) {
    cases.push(`    <testcase classname="${x(result.name)}" name="run" time="${(result.wallMs / 1000).toFixed(3)}">\n      ${failure(`the run ended: ${result.ended}`, 'run', `the run ended: ${result.ended}\nreplay: ${result.replay}`)}\n    </testcase>`);
    failures = 1;
  }
  const properties = [
    ['file', result.file],
    ['seed', String(result.seed)],
    ['runtime', result.runtime],
    ['ended', result.ended],
    ['faultsApplied', String(result.faultsApplied)],
    ['historyEntries', String(result.historyEntries)],
    ['historyHash', result.historyHash],
    ['replay', result.replay],
  ]
    .map(([name, value]) => `      <property name="${x(name)}" value="${x(value)}"/>`)
    .join('\n');
  const xml = [
    `  <testsuite name="${x(result.name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${(result.wallMs / 1000).toFixed(3)}" file="${x(result.file)}">`,
    `    <properties>\n${properties}\n    </properties>`,
    ...cases,
    '  </testsuite>',
  ].join('\n');
  return { xml, tests: cases.length, failures };
}

/** One JUnit document for several scenario runs. */
export function junitXml(results: readonly ScenarioResult[]): string {
  const suites = results.map(suite);
  const tests = suites.reduce((n, s) => n + s.tests, 0);
  const failures = suites.reduce((n, s) => n + s.failures, 0);
  const time = results.reduce((t, r) => t + r.wallMs, 0) / 1000;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ffa-world" tests="${tests}" failures="${failures}" errors="0" time="${time.toFixed(3)}">\n${suites.map((s) => s.xml).join('\n')}\n</testsuites>\n`;
}
