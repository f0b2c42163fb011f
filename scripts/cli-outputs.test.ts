/**
 * `ffa-world run`'s output as a user meets it: quiet into a closed pipe (`| head`), a total line
 * after several files, and at most 5 failing steps listed.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ffaWorldIntoClosedPipe, ffaWorld as runCli, workFolder } from './test-support/cli.ts';

const { dir: work, scenarioFile } = workFolder('ffa-cli-outputs-');
const ffaWorld = (...args: string[]) => runCli(120_000, ...args);
const EXAMPLE = resolve('scenarios/examples/guest-gets-sp-notification.yaml');

const RAW_WORLD = `world:
  hypervisor: { profile: xen }
  vms: [{ name: vm, count: 2, vcpus: 1, driver: raw }]
`;

describe('ffa-world into a closed pipe', () => {
  it('stays quiet when the reader goes away (`| head`) and exits with the run\'s own status', () => {
    const run = ffaWorldIntoClosedPipe(120_000, 'run', EXAMPLE, '--out', join(work, 'piped'));
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /EPIPE|Error|\n\s+at /, 'no stack trace');
    assert.ok(existsSync(join(work, 'piped', 'report.html')), 'the run went on and wrote its outputs');
  });
});

describe('ffa-world run: the total', () => {
  it('ends a run of several files with the total (passed, failed, invalid), and lists at most 5 failing steps', () => {
    const steps = Array.from({ length: 7 }, () => '  - { from: vm1, call: FFA_VERSION, args: { version: "1.2" }, expect: { error: DENIED } }').join('\n');
    const seven = scenarioFile('seven.yaml', `name: seven-failures\n${RAW_WORLD}steps:\n${steps}\n`);
    const run = ffaWorld('run', EXAMPLE, seven, '--out', join(work, 'total'));
    assert.equal(run.status, 1);
    assert.match(run.stdout, /\n1 passed, 1 failed, 0 invalid\n$/);
    assert.match(run.stdout, /^ {2}steps: 0\/7 passed, 7 failed$/m);
    assert.equal((run.stdout.match(/^ {4}step \d+ /gm) ?? []).length, 5);
    assert.match(run.stdout, /^ {4}… 2 more failed steps/m);
  });

  it('counts the invalid files, and runs nothing', () => {
    const invalid = ffaWorld('run', EXAMPLE, scenarioFile('invalid-total.yaml', 'name: x\nworld: 7\n'));
    assert.equal(invalid.status, 2);
    assert.match(invalid.stderr, /^0 passed, 0 failed, 1 invalid \(nothing ran/m);
    assert.equal(invalid.stdout, '');
  });
});
