/**
 * `ffa-world load` as a user meets it: a separate process, its exit status (0 held, 1 failed,
 * 2 invalid arguments), its JSON and its output folder; under sim with a small world, and once
 * under ws. The argument parser is also tested in process.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ffaWorld as runCli, workFolder } from './test-support/cli.ts';
import { loadReplay, parseLoadOptions, type LoadCommand, type LoadResult } from './load.ts';

const { dir: work } = workFolder('ffa-load-');
const ffaWorld = (...args: string[]) => runCli(60_000, ...args);

const RESULT_KEYS = [
  'name', 'passed', 'seed', 'runtime', 'world', 'workload', 'ended', 'wallMs', 'steps', 'checks', 'threshold', 'stats', 'memory',
  'historyEntries', 'historyTruncated', 'historyHash', 'replay', 'out',
];
const STATS_KEYS = ['workload', 'throughput', 'notifications', 'latency', 'infoGet', 'sri', 'npi'];

function parseResult(stdout: string): LoadResult {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `--json prints one line: ${stdout.slice(0, 500)}`);
  return JSON.parse(lines[0] as string) as LoadResult;
}

function assertWholeRun(load: LoadResult, sends: number): void {
  assert.deepEqual(Object.keys(load).sort(), [...RESULT_KEYS].sort());
  assert.deepEqual(Object.keys(load.stats).sort(), [...STATS_KEYS].sort());
  assert.deepEqual(Object.keys(load.stats.latency).sort(), ['arrivalToSet', 'corrected', 'hops', 'parts', 'pastLivenessBound', 'uncorrected']);
  assert.deepEqual(load.checks.map((c) => [c.name, c.passed]), [['no-lost-notification', true], ['no-phantom-notification', true]]);
  assert.equal(load.stats.workload.arrivals, sends);
  assert.equal(load.stats.notifications.madePending, sends);
  assert.equal(load.stats.throughput.deliveredSends.count, sends);
  assert.equal(load.stats.latency.corrected.count, sends);
  assert.ok(load.stats.latency.corrected.p99 >= load.stats.latency.uncorrected.p99);
  assert.ok(load.stats.infoGet.perLoop.mean >= 1);
  assert.ok('npi-deliver→get' in load.stats.latency.hops, Object.keys(load.stats.latency.hops).join(', '));
  assert.equal(load.historyTruncated, false);
}

describe('ffa-world load: arguments', () => {
  const parse = (options: Record<string, unknown>) => parseLoadOptions(options, false);

  it('fills in the defaults: 8 guests × 2 vCPUs, 4 CPUs, 1000/s for 1 s under ws', () => {
    const command = parse({ seed: 5 }) as LoadCommand;
    assert.deepEqual(command, {
      guests: 8, vcpus: 2, cpus: 4, ratePerSecond: 1000, durationNs: 1e9, count: null, runtime: 'ws', seed: 5,
      out: null, json: false, p99Ns: null, progress: false, guestsPerWorker: null, spmc: 'optee',
    });
    assert.equal(loadReplay(command), 'npx ffa-world load --spmc optee --guests 8 --vcpus 2 --cpus 4 --rate 1000/s --duration 1s --runtime ws --seed 5');
  });

  it('reads rates (5000/s, 5/ms, 5000), durations with their unit, counts and --p99 in ms', () => {
    const command = parse({ guests: 64, rate: '5/ms', count: 300, runtime: 'sim', p99: 20, seed: 1, json: true }) as LoadCommand;
    assert.equal(command.ratePerSecond, 5000);
    assert.equal(command.count, 300);
    assert.equal(command.durationNs, null);
    assert.equal(command.p99Ns, 20_000_000);
    assert.equal((parse({ rate: 5000, duration: '250ms' }) as LoadCommand).durationNs, 250_000_000);
    assert.equal((parse({ p99: '500us' }) as LoadCommand).p99Ns, 500_000);
  });

  it('names every bad argument', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ guests: 0 }, /--guests must be an integer in 1\.\.5000, not 0/],
      [{ guests: 5001 }, /--guests .* not 5001/],
      [{ guests: 2.5 }, /--guests/],
      [{ vcpus: 17 }, /--vcpus must be an integer in 1\.\.16/],
      [{ rate: 'fast' }, /--rate must be a rate such as 5000\/s/],
      [{ rate: '0/s' }, /--rate/],
      [{ duration: '5' }, /--duration must be a duration with its unit/],
      [{ duration: '2s', count: 5 }, /give --duration or --count, not both/],
      [{ count: 0 }, /--count must be an integer/],
      [{ runtime: 'docker' }, /--runtime must be sim or ws/],
      [{ seed: -1 }, /--seed/],
      [{ p99: 'soon' }, /--p99/],
      [{ rate: '10000000/s', duration: '2s' }, /asks for 20000000 notifications/],
    ];
    for (const [options, message] of cases) {
      const parsed = parse(options);
      assert.equal(typeof parsed, 'string', JSON.stringify(options));
      assert.match(parsed as string, message);
    }
    assert.match(parse({ guests: 0, vcpus: 0 }) as string, /--guests.*; --vcpus/, 'every problem at once');
  });
});

describe('ffa-world load (sim)', () => {
  it('runs a small world: exit 0 and the whole load result as JSON', () => {
    const run = ffaWorld('load', '--guests', '4', '--vcpus', '1', '--rate', '2000/s', '--count', '100', '--runtime', 'sim', '--seed', '3', '--json');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const load = parseResult(run.stdout);
    assertWholeRun(load, 100);
    assert.equal(load.passed, true);
    assert.deepEqual(load.world, { guests: 4, vcpus: 1, cpus: 4, spmc: 'optee' });
    assert.equal(load.runtime, 'sim');
    assert.equal(load.seed, 3);
    assert.equal(load.out, null);
    assert.equal(load.threshold, null);
    assert.equal(load.memory, null, 'sim reports no memory peaks');
    assert.equal(load.replay, 'npx ffa-world load --spmc optee --guests 4 --vcpus 1 --cpus 4 --rate 2000/s --count 100 --runtime sim --seed 3');
  });

  it('prints a summary and writes the run outputs, load.json and a scenario.yaml that `run` replays', () => {
    const out = join(work, 'sim');
    const run = ffaWorld('load', '--guests', '3', '--rate', '1000/s', '--duration', '50ms', '--runtime', 'sim', '--seed', '4', '--out', out);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^seed 4 \(load: 3 guests, runtime sim\)$/m);
    assert.match(run.stdout, /^PASS load-optee-g3-v2-1000ps-50ms: 3 guests × 2 vCPUs, 4 CPUs, sim, seed 4/m);
    assert.match(run.stdout, /end to end, corrected +p50 /);
    assert.match(run.stdout, /INFO_GET: \d+ calls in \d+ loops/);
    assert.match(run.stdout, /^ {2}ok {3}no-lost-notification/m);
    assert.doesNotMatch(run.stdout, /running:/, 'no progress line outside a TTY');
    for (const file of ['load.json', 'scenario.yaml', 'summary.json', 'history.jsonl', 'trace.json', 'report.html']) assert.ok(existsSync(join(out, file)), file);
    const load = JSON.parse(readFileSync(join(out, 'load.json'), 'utf8')) as LoadResult;
    assertWholeRun(load, 50);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { historyHash: string; replay: string };
    assert.equal(summary.historyHash, load.historyHash);
    // The runner's replay names the scenario written beside the outputs; it gives the same history.
    const replay = ffaWorld('run', join(out, 'scenario.yaml'), '--runtime', 'sim', '--seed', '4', '--out', join(work, 'replay'), '--json');
    assert.equal(replay.status, 0, replay.stdout + replay.stderr);
    assert.equal((JSON.parse(replay.stdout) as { historyHash: string }).historyHash, load.historyHash);
  });

  it('fails (exit 1) when the corrected p99 is above --p99', () => {
    const run = ffaWorld('load', '--guests', '2', '--rate', '1000/s', '--count', '20', '--runtime', 'sim', '--seed', '3', '--p99', '0.001', '--json');
    assert.equal(run.status, 1, run.stdout + run.stderr);
    const load = parseResult(run.stdout);
    assert.equal(load.passed, false);
    assert.deepEqual(load.threshold, { p99Ns: 1000, correctedP99Ns: load.stats.latency.corrected.p99, passed: false });
    assert.ok(load.stats.latency.corrected.p99 > 1000);
    const latency = load.checks.find((c) => c.name === 'latency');
    assert.equal(latency?.passed, false, 'the scenario\'s latency check holds the uncorrected p99 to it too');
  });

  it('refuses bad arguments with exit 2, running nothing', () => {
    for (const args of [['--guests', '0'], ['--duration', '5'], ['--rate', 'fast'], ['--bogus', '1'], ['--guests', '4097']]) {
      const run = ffaWorld('load', ...args, '--runtime', 'sim');
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /^ffa-world: /);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(run.stdout, '');
    }
  });
});

describe('ffa-world load (ws)', () => {
  it('runs 4 guests, each in the ws runtime: exit 0 and the JSON', () => {
    const run = ffaWorld('load', '--guests', '4', '--rate', '500/s', '--count', '60', '--runtime', 'ws', '--seed', '9', '--json');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const load = parseResult(run.stdout);
    assertWholeRun(load, 60);
    assert.equal(load.runtime, 'ws');
    assert.equal(load.ended, 'done');
    assert.ok(load.memory && load.memory.rssPeakBytes > 0, 'ws reports the RSS peak');
    assert.ok(Object.keys(load.memory.heapPeakBytes).some((worker) => worker.split('+').includes('g1')), Object.keys(load.memory.heapPeakBytes).join(', '));
  });
});
