/**
 * The `ffa-world run` command as a user meets it: a separate process, its exit status and what
 * it prints (docs/design.md §9: 0 passed, 1 failed, 2 invalid).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ffaWorld as runCli, workFolder } from './test-support/cli.ts';

const { dir: work, scenarioFile } = workFolder('ffa-cli-');
const ffaWorld = (...args: string[]) => runCli(120_000, ...args);

const RAW_WORLD = `world:
  hypervisor: { profile: xen }
  vms: [{ name: vm, count: 2, vcpus: 1, driver: raw }]
`;

/** vm1 expects DENIED for a BIND that succeeds: step 1 fails. */
const FAILING = `name: wrong-expectation
${RAW_WORLD}steps:
  - { from: vm1, call: FFA_VERSION, args: { version: "1.2" }, expect: { version: "1.2" } }
  - { from: vm1, call: FFA_NOTIFICATION_BIND, args: { sender: 0x8001, receiver: vm1, flags: 0, bitmap: 0x1 }, expect: { error: DENIED } }
`;

describe('ffa-world run', () => {
  it('passes a valid scenario (exit 0) and writes the report, the trace, the summary and the history', () => {
    const out = join(work, 'example');
    const run = ffaWorld('run', 'scenarios/examples/guest-gets-sp-notification.yaml', '--out', out);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^seed 7 \(guest-gets-sp-notification, runtime sim\)$/m);
    assert.match(run.stdout, /^PASS guest-gets-sp-notification/m);
    for (const file of ['report.html', 'trace.json', 'summary.json', 'history.jsonl']) assert.ok(existsSync(join(out, file)), file);
  });

  it('refuses an invalid scenario with exit 2 and its file, line and column, running nothing', () => {
    const bad = scenarioFile('bad.yaml', `name: bad\n${RAW_WORLD}steps:\n  - { from: vm3, call: FFA_VERSION, args: { version: "1.2" } }\n`);
    const run = ffaWorld('run', bad);
    assert.equal(run.status, 2);
    assert.match(run.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:13: .*vm3`));
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(run.stdout, '');
  });

  it('fails a scenario whose expectation fails (exit 1), naming the step', () => {
    const run = ffaWorld('run', scenarioFile('failing.yaml', FAILING), '--seed', '3', '--out', join(work, 'failing'));
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /step 1 FFA_NOTIFICATION_BIND from vm1.*: expected FFA_ERROR\(DENIED\), got FFA_SUCCESS_32/);
  });

  it('prints the format\'s result object with --json, and its replay command reproduces the failing sim run exactly', () => {
    const file = scenarioFile('failing-json.yaml', FAILING);
    const first = ffaWorld('run', file, '--json', '--seed', '11', '--out', join(work, 'replay-1'));
    assert.equal(first.status, 1);
    const result = JSON.parse(first.stdout) as Record<string, unknown>;
    for (const key of ['name', 'passed', 'seed', 'runtime', 'steps', 'checks', 'historyHash', 'replay']) assert.ok(key in result, key);
    const replay = String(result['replay']).replace(/^npx ffa-world /, '').split(' ');
    const second = ffaWorld(...replay, '--json', '--out', join(work, 'replay-2'));
    assert.equal((JSON.parse(second.stdout) as Record<string, unknown>)['historyHash'], result['historyHash']);
  });

  it('writes JUnit XML for CI systems', () => {
    const junit = join(work, 'junit.xml');
    ffaWorld('run', scenarioFile('failing-junit.yaml', FAILING), '--junit', junit, '--out', join(work, 'junit'));
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuite [^>]*name="wrong-expectation"/);
    assert.match(xml, /<failure message="[^"]*expected FFA_ERROR\(DENIED\)/);
  });
});
