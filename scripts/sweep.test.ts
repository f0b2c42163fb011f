/**
 * `ffa-world sweep` as a user meets it: a separate process over small scenarios written here, its
 * exit status (0 every seed passed, 1 one failed, 2 invalid), its summary, and the replay
 * commands of the failing seeds. Also the option checks and the task's own failure path in
 * process.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ffaWorld as runCli, workFolder } from './test-support/cli.ts';
import { failureSignatureOf, parseSweepOptions, type SeedVerdict } from './sweep.ts';
import { runSweepTask } from './sweep-task.ts';

const { dir: work, scenarioFile } = workFolder('ffa-sweep-');
const ffaWorld = (...args: string[]) => runCli(60_000, ...args);

/** One guest under Xen, OP-TEE's SP sends it one notification; `faults` go before the workload. */
function oneNotification(name: string, faults: string): string {
  return `name: ${name}
runtime: ws
world:
  cpus: 2
  spmc: { profile: optee }
  hypervisor: { profile: xen }
  vms: [{ name: vm, count: 1, vcpus: 1, driver: linux-6.10 }]
steps:
${faults}  - { workload: notifications, senders: [0x8001], receivers: all, rate: 1000/s, count: 1 }
  - { await: idle }
checks: [no-lost-notification, no-phantom-notification]
`;
}

describe('ffa-world sweep', () => {
  it('passes a scenario over 6 seeds (exit 0), under sim even when the file says ws', () => {
    const file = scenarioFile('quiet.yaml', oneNotification('quiet', ''));
    const run = ffaWorld('sweep', file, '--seeds', '6', '--from', '10', '--jobs', '2');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout.split('\n')[0] ?? '', /^sweep quiet \(.*quiet\.yaml\): seeds 10\.\.15 \(6\), runtime sim, 2 workers$/);
    assert.match(run.stdout, /runtime: ws is not used, sweeps run under sim/);
    assert.match(run.stdout, /^PASS 6 passed, 0 failed of 6 seeds in [\d.]+ s \([\d.]+ seeds\/s\)$/m);
  });

  it('fails when some seeds lose an interrupt (exit 1), grouping them by how they failed, with one replay command that reproduces', () => {
    const file = scenarioFile('flaky.yaml', oneNotification('flaky', '  - { fault: drop-interrupt, intid: 8, to: hypervisor, probability: 0.5 }\n'));
    const run = ffaWorld('sweep', file, '--seeds', '8');
    assert.equal(run.status, 1, run.stdout + run.stderr);
    const summary = /^FAIL (\d+) passed, (\d+) failed of 8 seeds/m.exec(run.stdout);
    const failed = Number(summary?.[2]);
    assert.ok(failed > 1 && failed < 8, `some seeds fail, not all: ${run.stdout}`);
    // Every failing seed lost its one notification the same way: one group, its count, one replay.
    const groups = [...run.stdout.matchAll(/^ {2}(\d+) seeds \(([\d, ]+)\) failed this way; seed (\d+):$/gm)];
    assert.equal(groups.length, 1, run.stdout);
    assert.equal(Number(groups[0]?.[1]), failed);
    const seeds = (groups[0]?.[2] ?? '').split(', ').map(Number);
    assert.equal(seeds.length, failed);
    assert.equal(Number(groups[0]?.[3]), seeds[0], 'the lowest seed is the example');
    const replays = [...run.stdout.matchAll(/^ {4}replay: npx ffa-world (run .* --runtime sim --seed (\d+))$/gm)];
    assert.deepEqual(replays.map((m) => Number(m[2])), [seeds[0]], 'one replay command for the group');
    assert.equal((run.stdout.match(/never returned by a GET/g) ?? []).length, 1, 'the failure printed once');

    const replay = (replays[0]?.[1] ?? '').split(' ');
    assert.equal(ffaWorld(...replay, '--out', join(work, 'replay-failing')).status, 1, 'the failing seed fails again');
    const passing = [1, 2, 3, 4, 5, 6, 7, 8].find((seed) => !seeds.includes(seed));
    const again = ffaWorld('run', file, '--runtime', 'sim', '--seed', String(passing), '--out', join(work, 'replay-passing'));
    assert.equal(again.status, 0, again.stdout);
  });

  it('--check-determinism runs each seed twice in two workers and finds the same history (exit 0)', () => {
    const file = scenarioFile('delays.yaml', oneNotification('delays', '  - { fault: delay-interrupt, intid: 8, by: 1ms, probability: 0.5 }\n'));
    const run = ffaWorld('sweep', file, '--seeds', '4', '--jobs', '2', '--check-determinism', '--json');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(summary['passedSeeds'], 4);
    assert.equal(summary['nondeterministicSeeds'], 0);
    assert.equal(summary['sameWorkerPairs'], 0, 'each pair ran in two workers');
    assert.equal(summary['runtime'], 'sim');
  });

  it('refuses an invalid scenario with exit 2 and its file, line and column, running nothing', () => {
    const bad = scenarioFile('bad.yaml', oneNotification('bad', '').replace('receivers: all', 'receivers: [vm7]'));
    const run = ffaWorld('sweep', bad, '--seeds', '3');
    assert.equal(run.status, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /bad\.yaml:\d+:\d+: .*vm7/);
    assert.equal(run.stdout, '');
  });
});

describe('sweep options and task', () => {
  it('gives seeds that failed alike one signature, and seeds that failed otherwise another', () => {
    const verdict = (seed: number, message: string): SeedVerdict => ({
      seed,
      passed: false,
      ended: 'done',
      failingSteps: [],
      failingChecks: [{ name: 'no-lost-notification', detail: '1 lost notification', firstFailure: message }],
      error: null,
      historyHash: 'ab',
      replay: `npx ffa-world run f.yaml --runtime sim --seed ${seed}`,
      wallMs: 1,
      threadId: 1,
      second: null,
      nondeterministic: false,
    });
    const lost = (seed: number, at: string) => verdict(seed, `notification 0 (sp bitmap) for vm1 never returned by a GET: still pending at ${at} ms`);
    assert.equal(failureSignatureOf(lost(3, '7.005')), failureSignatureOf(lost(11, '9.310')));
    assert.notEqual(failureSignatureOf(lost(3, '7.005')), failureSignatureOf(verdict(4, 'GET returned bit 0 to vm1 with no SET')));
  });

  it('bounds the seeds, the first seed and the jobs', () => {
    assert.deepEqual(parseSweepOptions('f.yaml', { seeds: 5, jobs: 3 }), { file: 'f.yaml', seeds: 5, from: 1, jobs: 3, checkDeterminism: false, json: false, shard: null, out: null });
    assert.match(String(parseSweepOptions('f.yaml', {})), /needs --seeds/);
    assert.match(String(parseSweepOptions('f.yaml', { seeds: 1_000_001 })), /--seeds must be an integer in 1\.\.1000000/);
    assert.match(String(parseSweepOptions('f.yaml', { seeds: 2.5 })), /--seeds must be/);
    assert.match(String(parseSweepOptions('f.yaml', { seeds: 2, jobs: 0 })), /--jobs must be/);
    assert.match(String(parseSweepOptions('f.yaml', { seeds: 2, from: 0xffff_ffff })), /past the last seed/);
  });

  it('reports a run that throws as that seed\'s failure, with its message', async () => {
    const summary = await runSweepTask({ file: join(work, 'missing.yaml'), seed: 3 });
    assert.equal(summary.passed, false);
    assert.equal(summary.ended, 'threw');
    assert.match(summary.error ?? '', /cannot read the scenario file/);
    assert.match(summary.replay, /--runtime sim --seed 3$/);
  });
});
