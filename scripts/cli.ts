/**
 * The `ffa-world` command line (docs/design.md §9, docs/cli.md). Exit status: 0 when everything
 * expected held, 1 when something failed, 2 when the input itself is invalid (a bad option, an
 * unknown command, an invalid scenario or history file), 3 (run, load) when the only failures were
 * latency thresholds missed.
 *
 * Help must come at once, so this file loads only cac and the commands' bounds: each command's
 * module (and with it the runtimes, the checkers and the report) is imported when it runs.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cac, type Command } from 'cac';
import { ignoreClosedStdout } from './cli/closed-stdout.ts';
import { suggestion } from './cli/did-you-mean.ts';
import { FileInputError, makeFolder } from '../shared/runtime/files.ts';
import { HistoryLineError } from '../shared/runtime/history.ts';
import { joinNegativeValues, valueOptionsOf } from './negative-values.ts';
import { COMPARE_LIMITS, LOAD_DEFAULTS, LOAD_LIMITS, LOG_LEVELS, type LogLevel, SWEEP_LIMITS, TRACE_DETAILS, type TraceDetail } from './cli/limits.ts';

const EXIT_INVALID = 2;

class UsageError extends Error {}

type RuntimeName = 'sim' | 'ws';

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

function parseLogLevel(value: unknown): LogLevel | undefined {
  if (value === undefined) return undefined;
  const level = LOG_LEVELS.find((l) => l === value);
  if (!level) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not ${String(value)}${suggestion(String(value), LOG_LEVELS)}`);
  return level;
}

function parseTrace(value: unknown, fallback: TraceDetail): TraceDetail {
  if (value === undefined) return fallback;
  const detail = TRACE_DETAILS.find((d) => d === value);
  if (!detail) throw new UsageError(`--trace must be one of ${TRACE_DETAILS.join(', ')}, not ${String(value)}`);
  return detail;
}

/** `run --set KEY=VALUE`, repeatable: one value each (compare takes several). */
async function parseSettings(value: unknown): Promise<{ key: string; value: string }[]> {
  if (value === undefined) return [];
  const { parseSetting } = await import('../services/orchestrator/scenario/reader/settings.ts');
  return [value].flat().map((text) => {
    if (typeof text !== 'string') throw new UsageError('--set takes KEY=VALUE, such as --set spmc.profile=hafnium');
    const setting = parseSetting(text);
    if (typeof setting === 'string') throw new UsageError(`--set ${text}: ${setting}`);
    return setting;
  });
}

const logLevelOf = (options: Record<string, unknown>) => {
  const level = parseLogLevel(options.logLevel);
  return level === undefined ? {} : { logLevel: level };
};

/** `load`'s options that only an attached load takes. */
const ATTACH_OPTIONS = ['credentials', 'address', 'scenario', 'minGuests', 'settle', 'attachTimeout'] as const;

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const cli = cac('ffa-world');
const LOG_LEVEL_HELP = `component logs on stderr: ${LOG_LEVELS.join(', ')} (default silent; FFA_LOG_FORMAT=pretty for a terminal)`;
const TRACE_HELP = 'trace.json: full (every event), summary (counter tracks and slices, no messages), none (default: full)';

cli
  .command('run [...files]', 'Run scenario files (YAML): exit 0 when every step and check held, 1 when one failed, 2 when a scenario is invalid, 3 when only latency thresholds were missed')
  .option('--runtime <name>', 'sim (deterministic, one thread; the default) or ws (a worker per component); overrides the file')
  .option('--seed <n>', 'run seed (default: the file\'s, else drawn and printed)')
  .option('--out <dir>', 'output folder, used as given (default out/<scenario name>/<timestamp>-<seed>, with out/<scenario name>/latest linked to it)')
  .option('--json', 'print one result object per scenario as JSON')
  .option('--junit <file>', 'also write JUnit XML for CI systems')
  .option('--trace <detail>', TRACE_HELP)
  .option('--log-level <level>', LOG_LEVEL_HELP)
  .option('--set <key=value>', 'a value of the world in place of the file\'s, repeatable: spmc.profile=hafnium, hypervisor.policies.guestInterrupts=npi-only, vms.0.driver=raw')
  .example('ffa-world run scenarios/examples/guest-gets-sp-notification.yaml --runtime ws')
  .example('ffa-world run scenarios/examples/bare-metal-host.yaml --set spmc.profile=hafnium')
  .action(async (files: string[], options: Record<string, unknown>) => {
    if (files.length === 0) throw new UsageError('run needs at least one scenario file');
    const settings = await parseSettings(options.set);
    const command = {
      files,
      settings,
      ...(options.runtime === undefined ? {} : { runtime: parseRuntime(options.runtime) }),
      ...(options.seed === undefined ? {} : { seed: parseGivenSeed(options.seed) }),
      ...(options.out === undefined ? {} : { out: String(options.out) }),
      json: options.json === true,
      ...(options.junit === undefined ? {} : { junit: String(options.junit) }),
      trace: parseTrace(options.trace, 'full'),
      ...logLevelOf(options),
    };
    const { runScenarioFiles } = await import('./run-scenarios.ts');
    process.exitCode = await runScenarioFiles(command);
  });

cli
  .command('default', 'Run the default world (scenarios/default-world.yaml): dom0 + 2 guests under Xen, OP-TEE SPMC, notifications flowing, mild faults')
  .option('--runtime <name>', 'ws (a worker per component; the default) or sim (deterministic, one thread)', { default: 'ws' })
  .option('--seed <n>', 'run seed (drawn and printed when absent)')
  .option('--out <dir>', 'output folder, used as given (default out/default-world/<timestamp>-<seed>, linked from out/default-world/latest)')
  .option('--json', 'print the result as JSON')
  .option('--log-level <level>', LOG_LEVEL_HELP)
  .example('ffa-world default --runtime sim --seed 7')
  .action(async (options: Record<string, unknown>) => {
    const command = {
      runtime: parseRuntime(options.runtime),
      ...(options.seed === undefined ? {} : { seed: parseGivenSeed(options.seed) }),
      ...(options.out === undefined ? {} : { out: String(options.out) }),
      json: options.json === true,
      ...logLevelOf(options),
    };
    const { DEFAULT_WORLD_FILE, runScenarioFiles } = await import('./run-scenarios.ts');
    process.exitCode = await runScenarioFiles({ files: [DEFAULT_WORLD_FILE], ...command });
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
    const vcpus = parseCount('vcpus', options.vcpus, 256);
    const callsPerVcpu = parseCount('calls', options.calls, 1_000_000);
    const { runTestWorld } = await import('./run-test-world.ts');
    if (!options.json) console.log(`seed ${seed} (runtime ${runtime})`);
    const summary = await runTestWorld({ runtime, seed, vcpus, callsPerVcpu, out: String(options.out) });
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
  .option('--platform-workers <n>', 'ws: worker threads for the SPMD, SPMC, hypervisor and GIC: 4 (one each, the default), 2 (SPMD with SPMC, hypervisor with GIC) or 1')
  .option('--p99 <ms>', 'a threshold on the corrected end-to-end p99, in ms: the same as --threshold \'p99<MSms\'')
  .option('--threshold <t>', 'a latency threshold, repeatable: [MEASURE] PERCENTILE<DURATION, e.g. \'p99<50ms\', \'end-to-end p99<20ms\', \'sri-deliver->info-get:protocol p99<5ms\' (MEASURE: corrected, the default; end-to-end; arrival->set; a hop; hop:transport; hop:protocol)')
  .option('--drain <d>', 'after the last arrival, run on until the world is quiet or this long has passed; a notification still pending then is lost (default 10s)')
  .option('--service-times <table>', 'sim: how long each handler holds its CPU (cortex-a57-estimate, the default under sim, or none)')
  .option('--rates <list>', 'sim: capacity curves, one run per offered rate (500,1000,2000); --guests and --spmc then take lists too (defaults 16,64 and optee,hafnium)')
  .option('--trace <detail>', 'trace.json with --out: summary (counter tracks and slices, no messages: the default for a load run), full, or none')
  .option('--log-level <level>', LOG_LEVEL_HELP)
  .option('--attach', 'run the load over a world of services already running (docker compose, a swarm, npm run compose:local -- --world-only) instead of starting one: its registered guests are the receivers; per-host figures beside the world\'s')
  .option('--credentials <file>', '--attach: the orchestrator\'s credentials file (default $FFA_CREDENTIALS, else /run/secrets/ffa-orchestrator)')
  .option('--address <role=host:port>', '--attach: where a platform service is, repeatable: gic=…, spmd=…, spmc=…, hypervisor=… (default $FFA_GIC … $FFA_HYPERVISOR, else ROLE:7100)')
  .option('--scenario <file>', '--attach: the scenario the world\'s services were started with (default $FFA_SCENARIO, else scenarios/default-world.yaml)')
  .option('--min-guests <n>', '--attach: registered guests to wait for (default $FFA_MIN_GUESTS, else 1)')
  .option('--settle <d>', '--attach: how long their number must stay the same (default $FFA_SETTLE_MS, else 2s)')
  .option('--attach-timeout <d>', '--attach: the bound on finding the world (default $FFA_ATTACH_TIMEOUT_MS, else 120s)')
  .example('ffa-world load --guests 64 --rate 5000/s --duration 2s --runtime ws')
  .example('ffa-world load --runtime sim --rates 500,1000,2000,5000,10000 --guests 16,64 --out out/capacity')
  .example('ffa-world load --attach --credentials compose/credentials/ffa-orchestrator.json --rate 200/s --duration 5s --out out/load-attach')
  .action(async (options: Record<string, unknown>) => {
    if (options['attach'] === true) {
      const { attachedLoadCommand, parseAttachLoadOptions } = await import('./load-attach.ts');
      const parsed = parseAttachLoadOptions(options);
      if (typeof parsed === 'string') throw new UsageError(parsed);
      process.exitCode = await attachedLoadCommand({ ...parsed, ...logLevelOf(options) });
      return;
    }
    const attachOnly = ATTACH_OPTIONS.find((option) => options[option] !== undefined);
    if (attachOnly !== undefined) throw new UsageError(`${optionSpelling(attachOnly)} is for --attach (a world of services already running)`);
    if (options['rates'] !== undefined) {
      const { parseCapacityOptions, capacityCommand } = await import('./capacity.ts');
      const capacity = parseCapacityOptions(options);
      if (typeof capacity === 'string') throw new UsageError(capacity);
      process.exitCode = await capacityCommand(capacity);
      return;
    }
    const trace = parseTrace(options.trace, 'summary');
    const logLevel = logLevelOf(options);
    const { loadCommand, parseLoadOptions } = await import('./load.ts');
    const parsed = parseLoadOptions(options);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    process.exitCode = await loadCommand({ ...parsed, ...logLevel, trace });
  });

cli
  .command('sweep <file> [...results]', 'Run one scenario over many seeds in parallel, under the sim runtime only (a file\'s runtime: ws and seed are not used): exit 0 when every seed passed, 1 when one failed, 2 when the scenario or an option is invalid. `sweep merge DIR...` merges the results of a sharded sweep (--shard, --out): exit 0, 1 also when a shard is missing, 2')
  .option('--seeds <n>', `how many seeds to run (1..${SWEEP_LIMITS.seeds.toLocaleString('en')})`)
  .option('--from <s>', 'the first seed (default 1): runs seeds S..S+N-1')
  .option('--jobs <j>', `worker threads (default: the machine's available parallelism; at most ${SWEEP_LIMITS.jobs})`)
  .option('--check-determinism', 'run each seed twice, in two workers where possible, and fail a seed whose two histories differ')
  .option('--shard <i/k>', `run only shard I of K (0 <= I < K <= ${SWEEP_LIMITS.shards.toLocaleString('en')}): the I-th of K contiguous blocks of the seeds`)
  .option('--out <dir>', 'write this sweep\'s (or shard\'s) results file into DIR, for sweep merge')
  .option('--json', 'print one summary object as JSON (no progress bar)')
  .example('ffa-world sweep scenarios/default-world.yaml --seeds 1000 --check-determinism')
  .example('ffa-world sweep scenarios/sweeps/sweep-faults.yaml --seeds 1000 --shard 2/4 --out results/')
  .example('ffa-world sweep merge results/')
  .action(async (file: string, results: string[], options: Record<string, unknown>) => {
    if (file === 'merge') {
      const { parseMergeOptions, runMerge } = await import('./sweep-merge.ts');
      const parsed = parseMergeOptions(results, options);
      if (typeof parsed === 'string') throw new UsageError(parsed);
      process.exitCode = runMerge(parsed);
      return;
    }
    if (results.length > 0) throw new UsageError(`sweep runs one scenario file, not ${results.length + 1} (sweep merge DIR... merges results)`);
    const { parseSweepOptions, runSweep } = await import('./sweep.ts');
    const parsed = parseSweepOptions(file, options);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    process.exitCode = await runSweep(parsed);
  });

cli
  .command('compare <file>', `Run one scenario under every combination of the settings given (at most ${COMPARE_LIMITS.combinations}), under the sim runtime, and show what differed: step outcomes, returned registers, check verdicts, key figures. Exit 0 when every run showed the same, 1 when the runs differ, 2 when an option, setting or the scenario is invalid`)
  .option('--set <key=values>', 'a world key and the values to compare, comma-separated, repeatable: spmc.profile=optee,hafnium')
  .option('--seeds <n>', `seeds per combination (1..${COMPARE_LIMITS.seeds}; default 1)`)
  .option('--seed <s>', 'the first seed (default: the file\'s, else 1)')
  .option('--json', 'print { runs, differences } as JSON')
  .option('--out <dir>', 'write compare.html (the runs side by side) and compare.json here')
  .example('ffa-world compare scenarios/examples/spmc-profiles-side-by-side.yaml --set spmc.profile=optee,hafnium')
  .example('ffa-world compare FILE --set spmc.profile=optee,hafnium --set hypervisor.policies.guestInterrupts=npi-and-sri,npi-only --out out/compare')
  .action(async (file: string, options: Record<string, unknown>) => {
    const { compareCommand, parseCompareOptions } = await import('./compare.ts');
    const parsed = parseCompareOptions(file, options);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    process.exitCode = await compareCommand(parsed);
  });

cli
  .command('history <file>', 'Read a history file, or a folder of component histories (merged in time order): print its events as JSON lines, filtered (exit 2 for a missing file or a line that is not a history event)')
  .option('--type <type>', 'only events of this type (send, deliver, fault, record, component, …)')
  .option('--component <name>', 'only events from or to this component')
  .example('ffa-world history out/test-world/history.jsonl --type fault')
  .example('ffa-world history out/compose-local/histories --component spmd')
  .action(async (file: string, options: Record<string, unknown>) => {
    const { HistoryFileError, printHistory } = await import('./history.ts');
    try {
      await printHistory(file, {
        ...(options.type === undefined ? {} : { type: String(options.type) }),
        ...(options.component === undefined ? {} : { component: String(options.component) }),
      });
    } catch (error) {
      if (error instanceof HistoryFileError) throw new UsageError(error.message);
      throw error;
    }
  });

cli.help();
cli.version(version);

/** `--runtme` → `runtme` as cac keys it; back to the spelling the user typed. */
const optionSpelling = (key: string): string => (key.length === 1 ? `-${key}` : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

/** The options this command (and every command) takes, as typed: --runtime, -h. */
function knownOptions(command: Command): string[] {
  return [...command.options, ...cli.globalCommand.options].flatMap((option) => option.names.map(optionSpelling));
}

/** An option the command does not take, with the nearest one it does. */
function checkOptions(command: Command): void {
  for (const key of Object.keys(cli.options)) {
    if (key === '--' || command.hasOption(key) || cli.globalCommand.hasOption(key)) continue;
    const given = optionSpelling(key);
    throw new UsageError(`unknown option '${given}' for '${command.name}'${suggestion(given, knownOptions(command))} (ffa-world ${command.name} --help lists them)`);
  }
}

/**
 * The folders a command writes to, made before it runs: a folder that cannot be made is bad
 * input (exit 2), found before minutes of running rather than after.
 */
function makeOutputFolders(options: Record<string, unknown>): void {
  const folders: [string, string][] = [];
  if (options['out'] !== undefined) folders.push(['--out', String(options['out'])]);
  if (options['junit'] !== undefined) folders.push(['--junit', dirname(String(options['junit']))]);
  for (const [option, folder] of folders) {
    try {
      makeFolder(folder);
    } catch (error) {
      if (error instanceof FileInputError) throw new UsageError(`${option} ${error.message}`);
      throw error;
    }
  }
}

ignoreClosedStdout();
try {
  cli.parse(joinNegativeValues(process.argv, valueOptionsOf(cli)), { run: false });
  if (cli.options.help === true) {
    // cac has printed the help: the command's own when one was named, else the global one.
  } else if (cli.options.version === true) {
    // cac prints the version only when no command was named: `ffa-world run --version` too.
    if (cli.matchedCommand) cli.outputVersion();
  } else if (cli.matchedCommand) {
    checkOptions(cli.matchedCommand);
    makeOutputFolders(cli.options);
    await cli.runMatchedCommand();
  } else if (cli.args.length > 0) {
    const given = String(cli.args[0]);
    throw new UsageError(`unknown command '${given}'${suggestion(given, cli.commands.map((c) => c.name))} (ffa-world --help lists the commands)`);
  } else {
    cli.outputHelp();
  }
} catch (error) {
  // Bad input of every kind: an option, a path that cannot be read or made, a history that is not one.
  const invalid =
    error instanceof UsageError || error instanceof FileInputError || error instanceof HistoryLineError || (error instanceof Error && error.name === 'CACError');
  console.error(`ffa-world: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = invalid ? EXIT_INVALID : 1;
}
