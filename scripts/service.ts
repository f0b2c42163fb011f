/**
 * One service of a world run as separate processes or containers (docker-compose.yml, and
 * scripts/compose-local.ts, which starts the same services as OS processes). Its role says what
 * it is; the world's platform settings come from the scenario file (distributed-world.ts). The
 * guests register with the hypervisor; the orchestrator attaches to the running world, runs the
 * scenario, writes the report and exits with the verdict (0 held, 1 failed, 2 invalid input).
 *
 *   FFA_ROLE        gic | spmd | spmc | hypervisor | guest | orchestrator (required)
 *   FFA_SCENARIO    scenario file (default scenarios/default-world.yaml)
 *   FFA_CREDENTIALS its credentials file (default /run/secrets/ffa-<role>): the keys of its own links
 *                   only (services/orchestrator/run/service-credentials.ts; docs/threat-model.md),
 *                   made by scripts/compose-credentials.ts, never in the image or the environment
 *   FFA_PORT        port to listen on (default 7100)   FFA_LISTEN_HOST (default 0.0.0.0)
 *   FFA_GIC FFA_SPMD FFA_SPMC FFA_HYPERVISOR   host:port of each (default <role>:7100)
 *   FFA_HOSTS       optional JSON {"name": "address"}: how names resolve (compose-local.ts)
 *   FFA_MAX_GUESTS  VMs the platform makes room for (default 64)
 *   guest:          FFA_NAME (default guest-<hostname>), FFA_ADVERTISE_HOST (default: its first
 *                   non-internal IPv4), FFA_GUEST_VCPUS (default 2), FFA_GUEST_DRIVER (default
 *                   the scenario's first VM's driver), FFA_HOST_LABEL (optional: the machine it
 *                   runs on, told at registration, for `ffa-world load --attach`'s per-host figures)
 *   orchestrator:   FFA_OUT (default /out: the report, and exit-status, its exit status),
 *                   FFA_MIN_GUESTS (default 1), FFA_SETTLE_MS (default 2000), FFA_SEED
 *                   (default: drawn), FFA_ATTACH_TIMEOUT_MS (default 120000),
 *                   FFA_RUN_TIMEOUT_MS (default 300000), FFA_LIVENESS_BOUND_MS (no-lost's
 *                   bound on lateness, default 500), FFA_GUEST_ANSWER_MS (each registered guest's
 *                   bound to answer the attach, else it is left out and named; default 20000)
 *   FFA_HISTORY_DIR where it writes its own history as it runs, batch by batch (shared/runtime/
 *                   history-files.ts; default: the orchestrator's FFA_OUT/histories, the others' a
 *                   folder under the system's temp folder): the orchestrator merges the world's
 *                   histories from there, so give every service the same folder
 *   FFA_STATUS_FILE where its state goes, for the healthcheck (default /tmp/ffa-world-status.json)
 *   FFA_EXIT_WITH_PARENT  1: exit when the process that started it is gone (compose-local.ts sets it)
 *   FFA_LOG_LEVEL   default info; logs are JSON lines on stderr
 *   FFA_LOG_FORMAT  json or pretty (pino-pretty, for `docker compose logs`); unset: pretty on a terminal
 *   FFA_TEST_CLOCK_SKEW_NS  tests only: a component reads its clock this many ns off (and names
 *                   another boot), as if it ran on another machine (docs/beyond-one-machine.md)
 */
import { randomInt } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino, { type LevelWithSilent, type Logger } from 'pino';
import { DEFAULT_VARIANT, VARIANT_NAMES } from '../services/guest/variants.ts';
import { componentHistory } from '../shared/runtime/history-files.ts';
import { monotonicClock } from '../shared/runtime/ws/clock.ts';
import { hostBootId, type NodeClockSource } from '../shared/runtime/ws/link-clocks.ts';
import type { Credentials } from '../shared/runtime/ws/credentials.ts';
import { WsNode } from '../shared/runtime/ws/node.ts';
import { attachScenario } from '../services/orchestrator/run/attach.ts';
import {
  DIALS,
  platformComponent,
  type PlatformRole,
  registeringGuest,
  SERVICE_ROLES,
  type ServiceRole,
} from '../services/orchestrator/run/distributed-world.ts';
import { credentialProblems } from '../services/orchestrator/run/service-credentials.ts';
import { readScenarioText, ScenarioError } from '../services/orchestrator/scenario/reader/index.ts';
import { readScenarioFileText } from '../services/orchestrator/scenario/scenario-file.ts';
import type { Scenario, VmDescription } from '../services/orchestrator/scenario/types.ts';
import { COMPONENTS } from '../services/orchestrator/run/world-builder.ts';
import { FileInputError, makeFolder } from '../shared/runtime/files.ts';
import { EnvironmentReader, quoted } from './environment.ts';
import { exitWithParent } from './parent-watch.ts';
import { DEFAULT_SERVICE_PORT, readPlatformAddresses } from './service-addresses.ts';
import { printResult } from './run-scenarios.ts';
import { logDestination, type LogFormat } from '../shared/runtime/log-format.ts';

const EXIT = { passed: 0, failed: 1, invalid: 2 } as const;
/**
 * The orchestrator's exit status, as a number in this file beside its report: on a swarm no
 * `--exit-code-from` carries it back (docs/beyond-one-machine.md "Docker Swarm").
 */
const EXIT_STATUS_FILE = 'exit-status';
const LINK_DEADLINE_MS = 120_000;
const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ServiceSettings {
  role: ServiceRole;
  scenarioFile: string;
  scenarioText: string;
  scenario: Scenario;
  credentials: Credentials;
  port: number;
  listenHost: string;
  addresses: Record<PlatformRole, string>;
  maxGuests: number;
  /** Where it writes its own history (FFA_HISTORY_DIR). */
  historyDir: string;
  statusFile: string;
  logLevel: LevelWithSilent;
  logFormat: LogFormat;
  guest: { name: string; advertiseHost: string; vcpus: number; driver: VmDescription['driver']; hostLabel: string | null };
  orchestrator: { out: string; minGuests: number; settleMs: number; seed: number; attachTimeoutMs: number; runTimeoutMs: number; livenessBoundMs: number; guestAnswerMs: number };
  /** FFA_TEST_CLOCK_SKEW_NS: tests only. */
  clockSkewNs: bigint;
}

/** At most ~31 years either way: far past any two machines' uptimes, well inside 64 bits. */
const CLOCK_SKEW_MAX_NS = 10n ** 18n;

function readClockSkew(reader: EnvironmentReader, env: NodeJS.ProcessEnv): bigint {
  const raw = env['FFA_TEST_CLOCK_SKEW_NS'];
  if (raw === undefined) return 0n;
  const valid = /^-?\d{1,19}$/.test(raw) && (BigInt(raw) < 0n ? -BigInt(raw) : BigInt(raw)) <= CLOCK_SKEW_MAX_NS;
  reader.check(valid, `FFA_TEST_CLOCK_SKEW_NS="${raw}" must be an integer count of ns, at most ${CLOCK_SKEW_MAX_NS} either way`);
  // A monotonic clock counts up from its boot: it is never negative, on any machine.
  const uptimeNs = process.hrtime.bigint();
  const possible = !valid || uptimeNs + BigInt(raw) >= 0n;
  reader.check(possible, `FFA_TEST_CLOCK_SKEW_NS="${raw}" would put this machine's clock before its boot (it has been up ${uptimeNs / 1_000_000_000n} s)`);
  return valid && possible ? BigInt(raw) : 0n;
}

/** The service's credentials file, checked against what its role needs. */
function readCredentials(reader: EnvironmentReader, role: ServiceRole): Credentials {
  const before = reader.problems.length;
  const credentials = reader.credentials('FFA_CREDENTIALS', `/run/secrets/ffa-${role}`, `the keys of the ${role}'s own links (make them with npm run compose:credentials)`);
  if (reader.problems.length === before) for (const problem of credentialProblems(role, credentials)) reader.check(false, `FFA_CREDENTIALS: ${problem}`);
  return credentials;
}

/** FFA_HOST_LABEL: a node's name as a deployment gives it (swarm's {{.Node.Hostname}}, Kubernetes' spec.nodeName). */
const HOST_LABEL = /^[A-Za-z0-9_.-]{1,63}$/;

function firstExternalIpv4(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

function readScenario(reader: EnvironmentReader, file: string): { text: string; scenario: Scenario | null } {
  try {
    const text = readScenarioFileText(file);
    return { text, scenario: readScenarioText(text, file) };
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    reader.check(false, `FFA_SCENARIO: ${error.message}`);
    return { text: '', scenario: null };
  }
}

function readGuest(reader: EnvironmentReader, env: NodeJS.ProcessEnv, scenario: Scenario | null): ServiceSettings['guest'] {
  const name = env['FFA_NAME'] ?? `guest-${hostname().toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 40);
  reader.check(/^[a-z][a-z0-9-]{0,39}$/.test(name) && !Object.values(COMPONENTS).includes(name as never), `FFA_NAME=${quoted(name)} must be a lower-case name (a-z, 0-9, -; at most 40) that is not a platform component's`);
  const driver = env['FFA_GUEST_DRIVER'] ?? scenario?.world.vms[0]?.driver ?? DEFAULT_VARIANT;
  reader.check((VARIANT_NAMES as readonly string[]).includes(driver), `FFA_GUEST_DRIVER=${quoted(driver)} must be one of ${VARIANT_NAMES.join(', ')}`);
  const vcpus = reader.integer('FFA_GUEST_VCPUS', 1, 64, 2);
  // Empty reads as unset: compose passes an unset variable through as empty on some versions.
  const hostLabel = env['FFA_HOST_LABEL'] || null;
  reader.check(hostLabel === null || HOST_LABEL.test(hostLabel), `FFA_HOST_LABEL=${quoted(hostLabel ?? '')} must be a host's name (letters, digits, . _ -; at most 63)`);
  return { name, advertiseHost: env['FFA_ADVERTISE_HOST'] ?? firstExternalIpv4(), vcpus, driver: driver as VmDescription['driver'], hostLabel };
}

/** The orchestrator's FFA_* settings (also read by `ffa-world load --attach`, so it attaches as the orchestrator service would). */
export function readOrchestrator(reader: EnvironmentReader, env: NodeJS.ProcessEnv): ServiceSettings['orchestrator'] {
  return {
    out: env['FFA_OUT'] ?? '/out',
    minGuests: reader.integer('FFA_MIN_GUESTS', 1, 4096, 1),
    settleMs: reader.integer('FFA_SETTLE_MS', 0, 600_000, 2_000),
    seed: env['FFA_SEED'] === undefined ? randomInt(0, 2 ** 32) : reader.integer('FFA_SEED', 0, 0xffff_ffff),
    attachTimeoutMs: reader.integer('FFA_ATTACH_TIMEOUT_MS', 1_000, 3_600_000, 120_000),
    runTimeoutMs: reader.integer('FFA_RUN_TIMEOUT_MS', 1_000, 24 * 3_600_000, 300_000),
    livenessBoundMs: reader.integer('FFA_LIVENESS_BOUND_MS', 1, 600_000, 500),
    guestAnswerMs: reader.integer('FFA_GUEST_ANSWER_MS', 1_000, 600_000, 20_000),
  };
}


export function readServiceSettings(env: NodeJS.ProcessEnv): { settings: ServiceSettings } | { problems: string[] } {
  const reader = new EnvironmentReader(env);
  const role = (env['FFA_ROLE'] ?? '') as ServiceRole;
  if (!SERVICE_ROLES.includes(role)) return { problems: [`FFA_ROLE=${quoted(role)} must be one of ${SERVICE_ROLES.join(', ')}`] };
  const scenarioFile = env['FFA_SCENARIO'] ?? 'scenarios/default-world.yaml';
  const { text, scenario } = readScenario(reader, scenarioFile);
  const addresses = readPlatformAddresses(reader);
  const logLevel = (env['FFA_LOG_LEVEL'] ?? 'info') as LevelWithSilent;
  reader.check(LOG_LEVELS.includes(logLevel), `FFA_LOG_LEVEL=${quoted(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`);
  const orchestrator = readOrchestrator(reader, env);
  const settings: ServiceSettings = {
    role,
    scenarioFile,
    scenarioText: text,
    scenario: scenario as Scenario,
    credentials: readCredentials(reader, role),
    port: reader.integer('FFA_PORT', 0, 65535, DEFAULT_SERVICE_PORT),
    listenHost: env['FFA_LISTEN_HOST'] ?? '0.0.0.0',
    addresses,
    maxGuests: reader.integer('FFA_MAX_GUESTS', 1, 4096, 64),
    historyDir: env['FFA_HISTORY_DIR'] ?? (role === 'orchestrator' ? join(orchestrator.out, 'histories') : join(tmpdir(), 'ffa-world-histories')),
    statusFile: env['FFA_STATUS_FILE'] ?? '/tmp/ffa-world-status.json',
    logLevel,
    logFormat: reader.logFormat(),
    guest: role === 'guest' ? readGuest(reader, env, scenario) : { name: '', advertiseHost: '', vcpus: 0, driver: DEFAULT_VARIANT, hostLabel: null },
    orchestrator,
    clockSkewNs: readClockSkew(reader, env),
  };
  return reader.problems.length > 0 ? { problems: reader.problems } : { settings };
}

function writeStatus(settings: ServiceSettings, name: string, state: 'listening' | 'started' | 'stopped'): void {
  writeFileSync(settings.statusFile, `${JSON.stringify({ state, role: settings.role, name, pid: process.pid })}\n`);
}

/**
 * A bug that reaches the top crashes the process loudly, with the crash in its history and the
 * history written to the end (its last batch synced, its end marked); so does any exit. Only a
 * process killed outright (SIGKILL) leaves its history without its end.
 */
function closeHistoryOnCrash(history: ReturnType<typeof componentHistory>, name: string, nowNs: () => number, log: Logger): void {
  // However the process exits (its parent gone: parent-watch.ts), what it wrote is complete.
  process.once('exit', () => history.file.close());
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'service crashed');
    history.append(nowNs(), { type: 'component', component: name, event: 'crash', detail: error.stack ?? error.message });
    history.file.close();
    process.exit(EXIT.failed);
  });
}

/** A platform service or a guest: a node that links, starts its component, and serves the world channel. */
async function runComponentService(settings: ServiceSettings, log: Logger): Promise<void> {
  const startedNs = process.hrtime.bigint();
  // A skewed clock counts from another start, at the same rate: the base it reports and the
  // probes it answers move, its times since the start do not (another machine's clock would).
  const { clockSkewNs: skew } = settings;
  const baseNs = startedNs + skew;
  const source: NodeClockSource = { now: () => process.hrtime.bigint() + skew, bootId: skew === 0n ? hostBootId() : `${hostBootId() ?? 'unknown'}+${skew}` };
  const { role } = settings;
  const component =
    role === 'guest'
      ? registeringGuest(settings.scenario, { ...settings.guest, advertiseUrl: `ws://${settings.guest.advertiseHost}:${settings.port}` })
      : platformComponent(settings.scenario, role as PlatformRole, { maxGuests: settings.maxGuests });
  // Times since the start, on any machine's clock; the base names the start on this (skewed) one.
  const clock = monotonicClock(startedNs);
  // Its own history, on disk as it happens: it outlives an orchestrator that dies mid-run.
  const history = componentHistory(settings.historyDir, component.name, baseNs);
  closeHistoryOnCrash(history, component.name, clock.nowNs, log);
  const node = await WsNode.create({
    component,
    seed: 0,
    worldNames: [component.name],
    credentials: settings.credentials,
    clock,
    history: history.append,
    log,
    listen: { host: settings.listenHost, port: settings.port },
    worldChannel: { baseNs },
    // Answers the orchestrator's clock probes on this clock; it does not probe (only the orchestrator maps times).
    linkClocks: { probe: false, source },
    // The hypervisor binds guest names: no more than its VM table holds (docs/threat-model.md).
    linkLimits: { maxEnrollments: settings.maxGuests },
  });
  writeStatus(settings, component.name, 'listening');
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await node.stop(`${signal} received`);
    history.file.close();
    writeStatus(settings, component.name, 'stopped');
    log.info({ signal }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const peers = (DIALS[role] as readonly PlatformRole[]).map((peer) => ({ name: COMPONENTS[peer], url: settings.addresses[peer] }));
  // A guest enrolls at the hypervisor first: its own key, which the GIC asks for, comes in that welcome.
  for (const step of role === 'guest' ? peers.map((peer) => [peer]) : [peers]) await node.connect(step, LINK_DEADLINE_MS);
  if (stopping) return;
  node.start();
  writeStatus(settings, component.name, 'started');
  log.info({ name: component.name, url: node.url, peers: peers.map((p) => p.name) }, 'started');
}

/** The orchestrator: attach, run the scenario, write the report, exit with the verdict. */
async function runOrchestratorService(settings: ServiceSettings, log: Logger): Promise<number> {
  const { orchestrator: o } = settings;
  // An earlier run's verdict in the same folder must not pass for this one's.
  rmSync(join(o.out, EXIT_STATUS_FILE), { force: true });
  writeStatus(settings, COMPONENTS.orchestrator, 'started');
  const run = await attachScenario(settings.scenario, settings.scenarioText, {
    nowMs: () => performance.now(),
    addresses: settings.addresses,
    credentials: settings.credentials,
    seed: o.seed,
    out: o.out,
    minGuests: o.minGuests,
    settleMs: o.settleMs,
    attachTimeoutMs: o.attachTimeoutMs,
    runTimeoutMs: o.runTimeoutMs,
    livenessBoundMs: o.livenessBoundMs,
    guestAnswerMs: o.guestAnswerMs,
    historyDir: settings.historyDir,
    log,
    replay: `FFA_SCENARIO=${settings.scenarioFile} FFA_SEED=${o.seed} (the orchestrator service, attached to the running world)`,
  });
  printResult(run.result, run.files);
  writeStatus(settings, COMPONENTS.orchestrator, 'stopped');
  return run.result.passed ? EXIT.passed : EXIT.failed;
}

/** Written whole (a rename), so a reader that polls for it never reads half of it. */
function writeExitStatus(out: string, code: number): void {
  try {
    makeFolder(out);
    const partial = join(out, `.${EXIT_STATUS_FILE}.${process.pid}.tmp`);
    writeFileSync(partial, `${code}\n`);
    renameSync(partial, join(out, EXIT_STATUS_FILE));
  } catch (error) {
    process.stderr.write(`service orchestrator: could not write ${join(out, EXIT_STATUS_FILE)}: ${(error as Error).message}\n`);
  }
}

/** Exit; the orchestrator (its report folder `out`) first leaves its exit status beside the report. */
function exitWith(code: number, out: string | undefined): never {
  if (out !== undefined) writeExitStatus(out, code);
  process.exit(code);
}

export async function main(): Promise<void> {
  const parsed = readServiceSettings(process.env);
  if ('problems' in parsed) {
    process.stderr.write(`service: refused to start:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    exitWith(EXIT.invalid, process.env['FFA_ROLE'] === 'orchestrator' ? (process.env['FFA_OUT'] ?? '/out') : undefined);
  }
  const { settings } = parsed;
  const out = settings.role === 'orchestrator' ? settings.orchestrator.out : undefined;
  if (process.env['FFA_EXIT_WITH_PARENT'] === '1') exitWithParent(`service ${settings.role}`);
  const log = pino({ level: settings.logLevel, base: { role: settings.role } }, logDestination(settings.logFormat));
  try {
    if (settings.role === 'orchestrator') exitWith(await runOrchestratorService(settings, log), out);
    await runComponentService(settings, log);
  } catch (error) {
    const invalid = error instanceof ScenarioError || error instanceof FileInputError;
    log.error({ err: error }, invalid ? 'invalid input (the scenario, or a path)' : 'service failed');
    process.stderr.write(`service ${settings.role}: ${(error as Error).message}\n`);
    exitWith(invalid ? EXIT.invalid : EXIT.failed, out);
  }
}

// Run as a script (tsx); the service bundle (service-bundle.ts) imports it and calls main itself.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) await main();
