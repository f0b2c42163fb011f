/**
 * `ffa-world load` as a user meets it: a separate process, its exit status (0 held, 1 failed,
 * 2 invalid arguments, 3 only latency thresholds missed), its JSON and its output folder; under
 * sim with a small world, and once under ws. The argument parser is also tested in process; and
 * `ffa-world run` gives a lost notification 1 and a missed threshold 3.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ffaWorld as runCli, workFolder } from './test-support/cli.ts';
import { loadReplay, parseLoadOptions, type LoadCommand, type LoadResult } from './load.ts';

const { dir: work } = workFolder('ffa-load-');
const ffaWorld = (...args: string[]) => runCli(60_000, ...args);

const RESULT_KEYS = [
  'name', 'passed', 'verdict', 'seed', 'runtime', 'world', 'workload', 'ended', 'wallMs', 'steps', 'checks', 'thresholds', 'stats', 'memory', 'judging', 'traffic',
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
      out: null, json: false, thresholds: [], drainNs: null, progress: false, guestsPerWorker: null, platformWorkers: null, spmc: 'optee', serviceTimes: null,
    });
    assert.equal(loadReplay(command), 'npx ffa-world load --spmc optee --guests 8 --vcpus 2 --cpus 4 --rate 1000/s --duration 1s --runtime ws --seed 5');
  });

  it('reads rates (5000/s, 5/ms, 5000), durations with their unit, counts and --p99 in ms', () => {
    const command = parse({ guests: 64, rate: '5/ms', count: 300, runtime: 'sim', p99: 20, seed: 1, json: true }) as LoadCommand;
    assert.equal(command.ratePerSecond, 5000);
    assert.equal(command.count, 300);
    assert.equal(command.durationNs, null);
    assert.deepEqual(command.thresholds, [{ measure: 'corrected', percentile: 'p99', limitNs: 20_000_000 }]);
    assert.equal((parse({ rate: 5000, duration: '250ms' }) as LoadCommand).durationNs, 250_000_000);
    assert.deepEqual((parse({ p99: '500us' }) as LoadCommand).thresholds, [{ measure: 'corrected', percentile: 'p99', limitNs: 500_000 }]);
  });

  it('reads --platform-workers under ws, and the replay says it', () => {
    const command = parse({ seed: 5, platformWorkers: '2' }) as LoadCommand;
    assert.equal(command.platformWorkers, 2);
    assert.match(loadReplay(command), / --platform-workers 2$/);
  });

  it('reads thresholds on any latency figure, k6-style, and the drain', () => {
    const command = parse({
      seed: 2,
      threshold: ['p99<50ms', 'end-to-end p99.9<=20ms', 'sri-deliver->info-get:protocol p99 < 5ms', 'sri-raise→sri-deliver:transport max<500us', 'arrival->set p50<1s'],
      drain: '5s',
    }) as LoadCommand;
    assert.deepEqual(command.thresholds, [
      { measure: 'corrected', percentile: 'p99', limitNs: 50_000_000 },
      { measure: 'end-to-end', percentile: 'p99.9', limitNs: 20_000_000 },
      { measure: 'sri-deliver→info-get:protocol', percentile: 'p99', limitNs: 5_000_000 },
      { measure: 'sri-raise→sri-deliver:transport', percentile: 'max', limitNs: 500_000 },
      { measure: 'arrival→set', percentile: 'p50', limitNs: 1_000_000_000 },
    ]);
    assert.equal(command.drainNs, 5e9);
    assert.equal((parse({ threshold: 'p90<2ms' }) as LoadCommand).thresholds.length, 1, 'one --threshold is a string, not an array');
    assert.match(loadReplay(command), / --drain 5s --threshold 'corrected p99<50ms' --threshold 'end-to-end p99\.9<20ms' --threshold 'sri-deliver->info-get:protocol p99<5ms' --threshold 'sri-raise->sri-deliver:transport max<500us' --threshold 'arrival->set p50<1000ms'$/);
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
      [{ threshold: 'p98<5ms' }, /--threshold must be \[MEASURE\] PERCENTILE<DURATION/],
      [{ threshold: 'p99>5ms' }, /--threshold must be/],
      [{ threshold: 'teleport p99<5ms' }, /unknown measure teleport/],
      [{ threshold: 'p99<5' }, /the limit must be a duration with its unit/],
      [{ threshold: ['p99<5ms', 'corrected p99<9ms'] }, /corrected p99 is given twice/],
      [{ threshold: 'p99<5ms', p99: 9 }, /corrected p99 is given twice/],
      [{ drain: 'forever' }, /--drain must be a duration/],
      [{ platformWorkers: 3 }, /--platform-workers must be 1, 2 or 4, not 3/],
      [{ platformWorkers: 1, runtime: 'sim' }, /--platform-workers is for --runtime ws/],
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
    assert.deepEqual(load.thresholds, []);
    assert.equal(load.verdict, 'passed');
    assert.equal(load.stats.workload.drain?.quiet, true, 'the world went quiet within the drain');
    assert.equal(load.memory, null, 'sim reports no memory peaks');
    assert.equal(load.traffic, null, 'sim carries no frames');
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
    assert.match(run.stdout, /^ {4}sri-deliver→info-get +p50 [^\n]+\n {29}transport p50 [\d.]+ ms, p99 [\d.]+ ms; protocol p50 [\d.]+ ms, p99 [\d.]+ ms$/m);
    assert.match(run.stdout, /^ {2}drain: quiet [\d.]+ ms after the last arrival \(bound 10s\)$/m);
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

  it('misses a threshold with exit 3, not 1: nothing was wrong, only slow', () => {
    const run = ffaWorld('load', '--guests', '2', '--rate', '1000/s', '--count', '20', '--runtime', 'sim', '--seed', '3', '--p99', '0.001', '--threshold', 'sri-deliver->info-get:transport p99<1s', '--json');
    assert.equal(run.status, 3, run.stdout + run.stderr);
    const load = parseResult(run.stdout);
    assert.equal(load.passed, false);
    assert.equal(load.verdict, 'thresholds-missed');
    assert.deepEqual(load.thresholds, [
      { measure: 'sri-deliver→info-get:transport', percentile: 'p99', limitNs: 1e9, measuredNs: load.stats.latency.parts['sri-deliver→info-get']?.transport.p99, count: 20, passed: true },
      { measure: 'corrected', percentile: 'p99', limitNs: 1000, measuredNs: load.stats.latency.corrected.p99, count: 20, passed: false },
    ]);
    assert.deepEqual(load.checks.map((c) => [c.name, c.passed]), [['no-lost-notification', true], ['no-phantom-notification', true], ['latency', false]]);
  });

  it('prints a missed threshold as MISS under a SLOW verdict', () => {
    const run = ffaWorld('load', '--guests', '2', '--rate', '1000/s', '--count', '20', '--runtime', 'sim', '--seed', '3', '--threshold', 'p99<1us');
    assert.equal(run.status, 3, run.stdout + run.stderr);
    assert.match(run.stdout, /^SLOW load-optee-g2-v2-1000ps-20n: .*; latency thresholds missed, nothing else failed$/m);
    assert.match(run.stdout, /^ {2}MISS threshold corrected p99 [\d.]+ ms \(20 samples\), limit 0\.001 ms$/m);
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

describe('ffa-world run: a lost notification is exit 1, a missed latency threshold exit 3 (sim)', () => {
  /** A load world of 2 guests as a scenario file, with these checks and faults. */
  function scenarioFile(name: string, checks: string, faults = ''): string {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, `name: ${name}
world:
  cpus: 2
  spmc: { profile: optee, partitions: [{ id: 0x8001, name: optee, vcpus: 2, behaviour: optee }] }
  hypervisor: { profile: xen }
  vms: [{ name: g, count: 2, vcpus: 1, driver: linux-6.10, opteeClient: true }]
${faults}steps:
  - { workload: notifications, senders: [0x8001], receivers: all, rate: 1000/s, count: 10 }
checks:
${checks}`);
    return file;
  }

  it('exit 1: every NPI to g1 dropped, its notifications are lost after the drain', () => {
    const file = scenarioFile('dropped', '  - no-lost-notification\n', 'faults: [{ at: 0ms, fault: drop-interrupt, intid: 8, to: g1 }]\n');
    const run = ffaWorld('run', file, '--runtime', 'sim', '--seed', '1', '--out', join(work, 'dropped'));
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /FAIL no-lost-notification/);
  });

  it('exit 3: nothing lost, only a latency threshold missed', () => {
    const file = scenarioFile('slow', '  - no-lost-notification\n  - { latency: { corrected: { p99: 1us } } }\n');
    const run = ffaWorld('run', file, '--runtime', 'sim', '--seed', '1', '--out', join(work, 'slow'));
    assert.equal(run.status, 3, run.stdout + run.stderr);
    assert.match(run.stdout, /ok {3}no-lost-notification/);
    assert.match(run.stdout, /FAIL latency: /);
  });

  it('exit 2: a threshold on a measure there is none of', () => {
    const file = scenarioFile('unknown-measure', '  - { latency: { sri-deliver->infoget: { p99: 1ms } } }\n');
    const run = ffaWorld('run', file, '--runtime', 'sim', '--seed', '1');
    assert.equal(run.status, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /unknown-measure\.yaml:\d+:\d+: .*unknown latency measure sri-deliver->infoget \(did you mean sri-deliver→info-get\?\)/);
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
    // Every workload send is a frame orchestrator → SPMC, so the links carried at least that many.
    assert.ok(load.traffic && load.traffic.frames.sent >= 60 && load.traffic.cpuMicros > 0, JSON.stringify(load.traffic));
  });
});
