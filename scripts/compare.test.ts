/**
 * `ffa-world compare` as a user meets it: a separate process, its exit status (0 the runs showed
 * the same, 1 they differ, 2 invalid input), its --json and --out outputs, and its refusals of a
 * bad setting before anything runs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ffaWorld as runCli, workFolder } from './test-support/cli.ts';

const { dir: work } = workFolder('ffa-compare-');
const ffaWorld = (...args: string[]) => runCli(120_000, ...args);
const EXAMPLE = 'scenarios/examples/spmc-profiles-side-by-side.yaml';

interface CompareJson {
  runs: { settings: Record<string, string>; seed: number; passed: boolean; steps: { index: number; returned: string[] | null }[]; checks: { name: string; passed: boolean }[] }[];
  differences: { key: string; kind: string; values: string[] }[];
}

describe('ffa-world compare', () => {
  it('runs OP-TEE and Hafnium side by side and finds where they answer differently (exit 1), with compare.html', () => {
    const out = join(work, 'profiles');
    const run = ffaWorld('compare', EXAMPLE, '--set', 'spmc.profile=optee,hafnium', '--json', '--out', out);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    const result = JSON.parse(run.stdout) as CompareJson;
    assert.deepEqual(result.runs.map((r) => [r.settings, r.seed, r.passed]), [[{ 'spmc.profile': 'optee' }, 7, true], [{ 'spmc.profile': 'hafnium' }, 7, true]]);
    const features = result.differences.find((d) => d.key === 'returned 0');
    assert.deepEqual(features?.values, ['FFA_ERROR(NOT_SUPPORTED)', 'FFA_SUCCESS_32'], 'FEATURES(PARTITION_INFO_GET_REGS)');
    assert.deepEqual(result.runs[1]?.steps[0]?.returned, ['0x84000061']);
    assert.ok(result.runs.every((r) => r.checks.every((c) => c.passed)));
    const page = readFileSync(join(out, 'compare.html'), 'utf8');
    assert.match(page, /--set spmc\.profile=hafnium --runtime sim --seed 7/);
    assert.ok(existsSync(join(out, 'compare.json')));
  });

  it('prints the differing rows as a table, each combination a column', () => {
    const run = ffaWorld('compare', EXAMPLE, '--set', 'spmc.profile=optee,hafnium');
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /^ {2}A {2}spmc\.profile=optee: PASS/m);
    assert.match(run.stdout, /^\d+ of \d+ rows differ:$/m);
    assert.match(run.stdout, /^ {2}step 0 returned: FFA_FEATURES from host \(vCPU 0\) +FFA_ERROR\(NOT_SUPPORTED\) +FFA_SUCCESS_32$/m);
  });

  it('exits 0 when every run shows the same (two seeds of a deterministic conformance world)', () => {
    const same = ffaWorld('compare', 'scenarios/conformance/spmd.yaml', '--seeds', '2');
    assert.equal(same.status, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /every run showed the same in all \d+ rows/);
  });

  it('refuses an unknown key, a bad value and too many combinations (exit 2, nothing run)', () => {
    const unknown = ffaWorld('compare', EXAMPLE, '--set', 'spmc.profle=optee,hafnium');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /--set spmc\.profle=optee: world\.spmc: unknown key 'profle': did you mean 'profile'\?/);
    assert.equal(unknown.stdout, '');
    const bad = ffaWorld('compare', EXAMPLE, '--set', 'spmc.profile=optee,tfa');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--set spmc\.profile=tfa: world\.spmc\.profile: must be one of optee, hafnium, got "tfa"/);
    const policy = ffaWorld('compare', EXAMPLE, '--set', 'spmc.policies.sriIntid=8,2000');
    assert.equal(policy.status, 2);
    assert.match(policy.stderr, /--set spmc\.policies\.sriIntid=2000: world\.spmc\.policies\.sriIntid: /);
    const many = ffaWorld('compare', EXAMPLE, '--set', 'cpus=1,2,3,4,5,6,7,8', '--set', 'spmc.profile=optee,hafnium', '--set', 'vms.0.vcpus=1,2,3,4,5');
    assert.equal(many.status, 2);
    assert.match(many.stderr, /8 × 2 × 5 = 80 combinations, more than 64/);
    const twice = ffaWorld('compare', EXAMPLE, '--set', 'spmc.profile=optee,optee');
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /--set spmc\.profile gives optee twice/);
    const nothing = ffaWorld('compare', EXAMPLE, '--set', 'spmc.profile=hafnium');
    assert.equal(nothing.status, 2);
    assert.match(nothing.stderr, /nothing to compare/);
  });
});

describe('ffa-world run --set', () => {
  it('runs the file with a value in place of its own, and its replay command keeps it', () => {
    const run = ffaWorld('run', EXAMPLE, '--set', 'spmc.profile=hafnium', '--json', '--out', join(work, 'run-set'));
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const result = JSON.parse(run.stdout) as { replay: string; steps: { returned?: string[] }[] };
    assert.match(result.replay, /^npx ffa-world run \S+spmc-profiles-side-by-side\.yaml --set spmc\.profile=hafnium --runtime sim --seed 7$/);
    assert.deepEqual(result.steps[0]?.returned, ['0x84000061'], 'Hafnium offers PARTITION_INFO_GET_REGS');
  });

  it('refuses a bad setting before anything runs (exit 2)', () => {
    const run = ffaWorld('run', EXAMPLE, '--set', 'spmc.profile');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--set spmc\.profile: 'spmc\.profile' is not KEY=VALUE/);
  });
});
