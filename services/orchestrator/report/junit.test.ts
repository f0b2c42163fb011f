import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScenarioResult } from '../scenario/types.ts';
import { junitXml } from './junit.ts';
import { defaultWorldHistory, failingResult, HOSTILE, parseXmlElements, passingResult } from '../test-support/report-runs.ts';

const HOSTILE_READ_BACK = HOSTILE.replace('\u0001', '\ufffd');

describe('JUnit XML', () => {
  it('has a suite per scenario and a case per step and per check, with the right counts', async () => {
    const entries = await defaultWorldHistory();
    const passing = passingResult(entries);
    const failing = { ...failingResult(entries), name: `failing ${HOSTILE}` };
    const elements = parseXmlElements(junitXml([passing, failing]));

    const root = elements[0];
    assert.equal(root?.name, 'testsuites');
    assert.deepEqual([root?.attrs.tests, root?.attrs.failures], ['11', '2']);

    const suites = elements.filter((e) => e.name === 'testsuite');
    assert.deepEqual(
      suites.map((s) => [s.attrs.name, s.attrs.tests, s.attrs.failures]),
      [
        ['default world', '5', '0'],
        [`failing ${HOSTILE_READ_BACK}`, '6', '2'],
      ],
    );
    const cases = elements.filter((e) => e.name === 'testcase');
    assert.equal(cases.length, 11);
    assert.deepEqual(
      cases.slice(5).map((c) => c.attrs.name),
      ['step 0: FFA_VERSION from vm1', 'step 1: await callback in vm1', 'check no-lost-notification', 'check conformance', 'check latency', 'check no-phantom-notification'],
    );
  });

  it('escapes failure messages and details, and they read back the same', async () => {
    const entries = await defaultWorldHistory();
    const xml = junitXml([failingResult(entries)]);
    assert.doesNotMatch(xml, /<script/);
    const failures = parseXmlElements(xml).filter((e) => e.name === 'failure');
    assert.equal(failures.length, 2);
    const [step, check] = failures;
    assert.equal(step?.attrs.type, 'step');
    assert.equal(step?.attrs.message, `no callback within 2 ms ${HOSTILE_READ_BACK}`);
    assert.equal(check?.attrs.type, 'check');
    assert.equal(check?.attrs.message, `GET returned bit 0 to vm1 with no SET since ${HOSTILE_READ_BACK}`);
    assert.match(check?.text ?? '', /^1 phantom <script>/);
    assert.match(check?.text ?? '', /\nreplay: ffa-world run scenarios\/default\.yaml --runtime sim --seed 7$/);
    assert.match(check?.text ?? '', /#\d+ @\d+ ns callback <script>/, 'evidence events listed');
  });

  it('writes attributes on one line (a parser would fold their line breaks) and keeps them in the failure text', () => {
    const result: ScenarioResult = {
      ...passingResultShape(),
      passed: false,
      steps: [{ index: 0, label: 'two\nlines', passed: false, detail: 'a\nb\tc', startNs: 0, endNs: 1_500_000_000 }],
    };
    const elements = parseXmlElements(junitXml([result]));
    const testcase = elements.find((e) => e.name === 'testcase');
    assert.deepEqual([testcase?.attrs.name, testcase?.attrs.time], ['step 0: two lines', '1.500000']);
    const failure = elements.find((e) => e.name === 'failure');
    assert.equal(failure?.attrs.message, 'a b c');
    assert.match(failure?.text ?? '', /^a\nb\tc\nreplay: /);
  });

  it('reports a step that never ran as skipped, not as a failure', () => {
    const result: ScenarioResult = {
      ...passingResultShape(),
      passed: false,
      ended: 'timeout',
      steps: [
        { index: 0, label: 'FFA_VERSION from vm1', passed: false, detail: 'expected 1.2, got 1.1', startNs: 0, endNs: 10 },
        { index: 1, label: 'await idle', passed: false, skipped: true, detail: 'not reached: the world ended timeout', startNs: 0, endNs: 0 },
      ],
    };
    const elements = parseXmlElements(junitXml([result]));
    const suite = elements.find((e) => e.name === 'testsuite');
    assert.deepEqual([suite?.attrs.tests, suite?.attrs.failures, suite?.attrs.skipped], ['2', '1', '1']);
    assert.equal(elements.find((e) => e.name === 'testsuites')?.attrs.skipped, '1');
    assert.deepEqual(elements.filter((e) => e.name === 'skipped').map((e) => e.attrs.message), ['not reached: the world ended timeout']);
    assert.equal(elements.filter((e) => e.name === 'failure').length, 1);
  });

  it('fails a run that ended badly though every step and check passed', () => {
    const result: ScenarioResult = { ...passingResultShape(), passed: false, ended: 'crashed' };
    const elements = parseXmlElements(junitXml([result]));
    const suite = elements.find((e) => e.name === 'testsuite');
    assert.deepEqual([suite?.attrs.tests, suite?.attrs.failures], ['1', '1']);
    assert.equal(elements.find((e) => e.name === 'failure')?.attrs.message, 'the run ended: crashed');
  });

  it('is a well-formed document for no scenarios at all', () => {
    const elements = parseXmlElements(junitXml([]));
    assert.deepEqual(elements.map((e) => [e.name, e.attrs.tests]), [['testsuites', '0']]);
  });

  it('rejects what is not well-formed (the checker itself)', () => {
    assert.throws(() => parseXmlElements('<a><b></a></b>'));
    assert.throws(() => parseXmlElements('<a x="1 & 2"/>'));
    assert.throws(() => parseXmlElements('<a>'));
    assert.throws(() => parseXmlElements('<a x=1/>'));
  });
});

const NONE = { count: 0, p50: 0, p90: 0, p99: 0, 'p99.9': 0, max: 0 };

function passingResultShape(): ScenarioResult {
  return {
    name: 'tiny',
    file: 't.yaml',
    passed: true,
    seed: 1,
    runtime: 'sim',
    ended: 'done',
    steps: [],
    checks: [],
    latency: { endToEnd: NONE, corrected: NONE, arrivalToSet: NONE, hops: {}, parts: {} },
    faultsApplied: 0,
    historyEntries: 0,
    historyHash: '',
    replay: 'ffa-world run t.yaml --seed 1',
    wallMs: 5,
  };
}
