/**
 * JUnit XML for CI: one <testsuite> per scenario, one <testcase> per step and per check, a
 * <failure> with the detail (and, for a check, each failure's message) where one failed, and
 * <skipped/> for a step that never ran (the world ended before it): Jenkins, GitLab and GitHub's
 * test reporters count those apart from failures, as the terminal does.
 *
 * A run can fail with every step and check passing (the world crashed or timed out: `ended`);
 * then the suite gets one more testcase, "run", so the failure is not silent.
 *
 * The document is built with xmlbuilder2, which escapes; what XML 1.0 forbids even escaped (most
 * C0 controls) is replaced first, so a hostile history string still gives a well-formed file.
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type { CheckResult, ScenarioResult, StepResult } from '../scenario/types.ts';
import { stripInvalidXmlChars } from './escape.ts';

const seconds = (ns: number) => (Math.max(0, ns) / 1e9).toFixed(6);

/** Text as XML may hold it. */
const text = (value: string): string => stripInvalidXmlChars(value);
/**
 * An attribute's value on one line: a parser turns a literal tab or line break in an attribute
 * into a space (XML 1.0 §3.3.3), and xmlbuilder2 writes them literally, so the value is made to
 * read back as written. The whole text, line breaks and all, is the element's content.
 */
const attr = (value: string): string => text(value).replace(/[\t\n\r]+/g, ' ');

function failure(testcase: XMLBuilder, message: string, type: string, body: string): void {
  testcase.ele('failure', { message: attr(message), type }).txt(text(body));
}

function stepCase(suite: XMLBuilder, name: string, step: StepResult, replay: string): void {
  const testcase = suite.ele('testcase', { classname: attr(`${name}.steps`), name: attr(`step ${step.index}: ${step.label}`), time: seconds(step.endNs - step.startNs) });
  if (step.skipped) testcase.ele('skipped', { message: attr(step.detail) });
  else if (!step.passed) failure(testcase, step.detail, 'step', `${step.detail}\nreplay: ${replay}`);
}

function checkCase(suite: XMLBuilder, name: string, check: CheckResult, replay: string): void {
  const testcase = suite.ele('testcase', { classname: attr(`${name}.checks`), name: attr(`check ${check.name}`), time: '0' });
  if (check.passed) return;
  const lines = [check.detail, ...check.failures.map((f, i) => `${i + 1}. ${f.message}${f.events.length > 0 ? `\n   ${f.events.map((e) => `#${e.seq} @${e.t} ns ${e.what}`).join('\n   ')}` : ''}`), `replay: ${replay}`];
  failure(testcase, check.failures[0]?.message ?? check.detail, 'check', lines.join('\n'));
}

interface Counts {
  tests: number;
  failures: number;
  skipped: number;
}

function suite(root: XMLBuilder, result: ScenarioResult): Counts {
  const skipped = result.steps.filter((s) => s.skipped).length;
  let failures = result.steps.filter((s) => !s.passed && !s.skipped).length + result.checks.filter((c) => !c.passed).length;
  const endedBadly = !result.passed && failures === 0;
  const tests = result.steps.length + result.checks.length + (endedBadly ? 1 : 0);
  if (endedBadly) failures = 1;
  const element = root.ele('testsuite', {
    name: attr(result.name),
    tests: String(tests),
    failures: String(failures),
    errors: '0',
    skipped: String(skipped),
    time: (result.wallMs / 1000).toFixed(3),
    file: attr(result.file),
  });
  const properties = element.ele('properties');
  const facts: [string, string][] = [
    ['file', result.file],
    ['seed', String(result.seed)],
    ['runtime', result.runtime],
    ['ended', result.ended],
    ['faultsApplied', String(result.faultsApplied)],
    ['historyEntries', String(result.historyEntries)],
    ['historyHash', result.historyHash],
    ['replay', result.replay],
  ];
  for (const [name, value] of facts) properties.ele('property', { name, value: attr(value) });
  for (const step of result.steps) stepCase(element, result.name, step, result.replay);
  for (const check of result.checks) checkCase(element, result.name, check, result.replay);
  if (endedBadly) {
    const testcase = element.ele('testcase', { classname: attr(result.name), name: 'run', time: (result.wallMs / 1000).toFixed(3) });
    failure(testcase, `the run ended: ${result.ended}`, 'run', `the run ended: ${result.ended}\nreplay: ${result.replay}`);
  }
  return { tests, failures, skipped };
}

/** One JUnit document for several scenario runs. */
export function junitXml(results: readonly ScenarioResult[]): string {
  const document = create({ version: '1.0', encoding: 'UTF-8' });
  const root = document.ele('testsuites', { name: 'ffa-world' });
  const totals: Counts = { tests: 0, failures: 0, skipped: 0 };
  for (const result of results) {
    const counts = suite(root, result);
    totals.tests += counts.tests;
    totals.failures += counts.failures;
    totals.skipped += counts.skipped;
  }
  const time = results.reduce((t, r) => t + r.wallMs, 0) / 1000;
  root.att({ tests: String(totals.tests), failures: String(totals.failures), errors: '0', skipped: String(totals.skipped), time: time.toFixed(3) });
  return `${document.end({ prettyPrint: true })}\n`;
}
