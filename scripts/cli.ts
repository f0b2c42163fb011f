/**
 * The `ffa-world` command line (design world.md §9). Exit status: 0 when everything expected
 * held, 1 when something failed, 2 when the input itself is invalid, 3 (run, load) when the only
 * failures were latency thresholds missed.
 */
import { randomInt } from 'node:crypto';
import { cac } from 'cac';
import { type HistoryEntry, encodeHistoryLine, readHistory } from '../shared/runtime/history.ts';
import { LOAD_DEFAULTS, LOAD_LIMITS, loadCommand, parseLoadOptions } from './load.ts';
import { type RuntimeName, runTestWorld } from './run-test-world.ts';
import { DEFAULT_WORLD_FILE, runScenarioFiles } from './run-scenarios.ts';
import { parseSweepOptions, runSweep, SWEEP_LIMITS } from './sweep.ts';

const EXIT_INVALID = 2;

class UsageError extends Error {}

function parseRuntime(value: unknown): RuntimeName {
  if (value === 'sim' || value === 'ws') return value;
  throw new UsageError(`--runtime must be sim or ws, not ${String(value)}`);
}

function parseCount(name: string, value: unknown, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be an integer in 1..${max}, not ${String(value)}`);
  return n;
}

function parseSeed(value: unknown): number {
  if (value === undefined) return randomInt(0, 2 ** 32 - 1);
  return parseGivenSeed(value);
}

function parseGivenSeed(value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new UsageError(`--seed must be an integer in 0..4294967295, not ${String(value)}`);
  return n;
}

const cli = cac('ffa-world');

cli
  .command('run [...files]', 'Run scenario files (YAML): exit 0 when every step and check held, 1 when one failed, 2 when a scenario is invalid, 3 when only latency thresholds were missed')
  .option('--runtime <name>', 'sim (deterministic, one thread; the default) or ws (a worker per component); overrides the file')
  .option('--seed <n>', 'run seed (default: the file\'s, else drawn and printed)')
  .option('--out <dir>', 'output folder (default out/<scenario name>)')
  .option('--json', 'print one result object per scenario as JSON')
  .option('--junit <file>', 'also write JUnit XML for CI systems')
  .example('ffa-world run scenarios/examples/guest-gets-sp-notification.yaml --runtime ws')
  .action(async (files: string[], options: Record<string, unknown>) => {
    if (files.length === 0) throw new UsageError('run needs at least one scenario file');
    process.exitCode = await runScenarioFiles({
      files,
      ...(options.runtime === undefined ? {} : { runtime: parseRuntime(options.runtime) }),
      ...(options.seed === undefined ? {} : { seed: parseGivenSeed(options.seed) }),
      ...(options.out === undefined ? {} : { out: String(options.out) }),
      json: options.json === true,
      ...(options.junit === undefined ? {} : { junit: String(options.junit) }),
    });
  });

cli
  .command('default', 'Run the default world (scenarios/default-world.yaml): dom0 + 2 guests under Xen, OP-TEE SPMC, notifications flowing, mild faults')
  .option('--runtime <name>', 'ws (a worker per component; the default) or sim (deterministic, one thread)', { default: 'ws' })
  .option('--seed <n>', 'run seed (drawn and printed when absent)')
  .option('--out <dir>', 'output folder', { default: 'out/default' })
  .option('--json', 'print the result as JSON')
  .example('ffa-world default --runtime sim --seed 7')
  .action(async (options: Record<string, unknown>) => {
    process.exitCode = await runScenarioFiles({
      files: [DEFAULT_WORLD_FILE],
      runtime: parseRuntime(options.runtime),
      ...(options.seed === undefined ? {} : { seed: parseGivenSeed(options.seed) }),
      out: String(options.out),
      json: options.json === true,
    });
  });

cli
  .command('world', 'Run the two-component test world (caller vCPUs → echo) and write its history')
  .option('--runtime <name>', 'sim (deterministic, one thread) or ws (a worker per component)', { default: 'sim' })
  .option('--seed <n>', 'run seed (drawn and printed when absent)')
  .option('--vcpus <n>', 'concurrent caller vCPUs', { default: 2 })
  .option('--calls <n>', 'calls per vCPU', { default: 50 })
  .option('--out <dir>', 'output folder', { default: 'out/test-world' })
  .option('--json', 'print the summary as JSON')
  .example('ffa-world world --runtime ws --seed 7 --out out/tw')
  .action(async (options: Record<string, unknown>) => {
    const seed = parseSeed(options.seed);
    const runtime = parseRuntime(options.runtime);
    if (!options.json) console.log(`seed ${seed} (runtime ${runtime})`);
    const summary = await runTestWorld({
      runtime,
      seed,
      vcpus: parseCount('vcpus', options.vcpus, 256),
      callsPerVcpu: parseCount('calls', options.calls, 1_000_000),
      out: String(options.out),
    });
    if (options.json) console.log(JSON.stringify(summary));
    else {
      console.log(`${summary.passed ? 'PASS' : 'FAIL'} ${summary.name}: ${summary.calls.echoedExactly}/${summary.calls.issued} calls echoed bit for bit, ${summary.calls.failed} failed, ${summary.wallMs} ms`);
      console.log(`history ${summary.historyFile} (${summary.historyEntries} events, sha256 ${summary.historyHash})`);
      console.log(`replay: ${summary.replay}`);
    }
    process.exitCode = summary.passed ? 0 : 1;
  });

cli
  .command('load', 'Load test: N guests under the Xen-like hypervisor, OP-TEE\'s SP notifying every one at an open-model rate, then a drain; throughput, latency (corrected for coordinated omission; per hop, transport and protocol), INFO_GET per SRI, merges. Exit 0 when everything held, 1 when a notification was lost or another check failed, 2 for bad arguments, 3 when only latency thresholds were missed')
  .option('--guests <n>', `guests g1..gN, each linux-6.10 with OP-TEE's client (1..${LOAD_LIMITS.guests}; default ${LOAD_DEFAULTS.guests})`)
  .option('--vcpus <v>', `vCPUs per guest (1..${LOAD_LIMITS.vcpus}; default ${LOAD_DEFAULTS.vcpus})`)
  .option('--cpus <c>', `physical CPUs (default ${LOAD_DEFAULTS.cpus})`)
  .option('--spmc <profile>', 'optee (S-EL1; INFO_GET not destructive: the default) or hafnium (S-EL2; destructive, OP-TEE as an SP)')
  .option('--rate <r>', `offered notifications a second, e.g. 5000/s or 5/ms (default ${LOAD_DEFAULTS.rate})`)
  .option('--duration <d>', `how long the workload runs, with its unit: 2s, 500ms (default ${LOAD_DEFAULTS.duration})`)
  .option('--count <c>', 'how many notifications to send, in place of --duration')
  .option('--runtime <name>', `ws (a worker per component; the default) or sim (deterministic, virtual time)`)
  .option('--seed <n>', 'run seed (drawn and printed when absent)')
  .option('--out <dir>', 'write history.jsonl, summary.json, trace.json, report.html, scenario.yaml and load.json here')
  .option('--json', 'print the load result as JSON')
  .option('--guests-per-worker <n>', 'ws: guests sharing one worker thread (default: the guests spread over 4 workers)')
  .option('--p99 <ms>', 'a threshold on the corrected end-to-end p99, in ms: the same as --threshold \'p99<MSms\'')
  .option('--threshold <t>', 'a latency threshold, repeatable: [MEASURE] PERCENTILE<DURATION, e.g. \'p99<50ms\', \'end-to-end p99<20ms\', \'sri-deliver->info-get:protocol p99<5ms\' (MEASURE: corrected, the default; end-to-end; arrival->set; a hop; hop:transport; hop:protocol)')
  .option('--drain <d>', 'after the last arrival, run on until the world is quiet or this long has passed; a notification still pending then is lost (default 10s)')
  .example('ffa-world load --guests 64 --rate 5000/s --duration 2s --runtime ws')
  .action(async (options: Record<string, unknown>) => {
    const parsed = parseLoadOptions(options);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    process.exitCode = await loadCommand(parsed);
  });

cli
  .command('sweep <file>', 'Run one scenario over many seeds in parallel, under the sim runtime only (a file\'s runtime: ws and seed are not used): exit 0 when every seed passed, 1 when one failed, 2 when the scenario or an option is invalid')
  .option('--seeds <n>', `how many seeds to run (1..${SWEEP_LIMITS.seeds.toLocaleString('en')})`)
  .option('--from <s>', 'the first seed (default 1): runs seeds S..S+N-1')
  .option('--jobs <j>', `worker threads (default: the machine's available parallelism; at most ${SWEEP_LIMITS.jobs})`)
  .option('--check-determinism', 'run each seed twice, in two workers where possible, and fail a seed whose two histories differ')
  .option('--json', 'print one summary object as JSON (no progress bar)')
  .example('ffa-world sweep scenarios/default-world.yaml --seeds 1000 --check-determinism')
  .action(async (file: string, options: Record<string, unknown>) => {
    const parsed = parseSweepOptions(file, options);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    process.exitCode = await runSweep(parsed);
  });

cli
  .command('history <file>', 'Read a history file: print its events as JSON lines, filtered')
  .option('--type <type>', 'only events of this type (send, deliver, fault, record, component, …)')
  .option('--component <name>', 'only events from or to this component')
  .example('ffa-world history out/test-world/history.jsonl --type fault')
  .action((file: string, options: Record<string, unknown>) => {
    const keep = (entry: HistoryEntry): boolean => {
      const { event } = entry;
      if (options.type !== undefined && event.type !== options.type) return false;
      if (options.component === undefined) return true;
      const names = 'component' in event ? [event.component] : 'from' in event ? [event.from, event.to] : [];
      return names.includes(String(options.component));
    };
    for (const entry of readHistory(file)) if (keep(entry)) console.log(encodeHistoryLine(entry));
  });

cli.help();

try {
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand) {
    cli.outputHelp();
    process.exitCode = cli.args.length > 0 ? EXIT_INVALID : 0;
  } else {
    await cli.runMatchedCommand();
  }
} catch (error) {
  const invalid = error instanceof UsageError || (error instanceof Error && error.name === 'CACError');
  console.error(`ffa-world: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = invalid ? EXIT_INVALID : 1;
}
