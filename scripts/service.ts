/**
 * One service of a world run as separate processes or containers (docker-compose.yml, and
 * scripts/compose-local.ts, which starts the same services as OS processes). Its role says what
 * it is; the world's platform settings come from the scenario file (distributed-world.ts). The
 * guests register with the hypervisor; the orchestrator attaches to the running world, runs the
 * scenario, writes the report and exits with the verdict (0 held, 1 failed, 2 invalid input).
 *
 *   FFA_ROLE        gic | spmd | spmc | hypervisor | guest | orchestrator (required)
 *   FFA_SCENARIO    scenario file (default scenarios/default-world.yaml)
 *   FFA_TOKEN_<R>   role tokens (GIC SPMD SPMC HYPERVISOR GUEST ORCHESTRATOR): a service needs its
 *                   own and those of the roles that link to it; from an env file, never the image
 *   FFA_PORT        port to listen on (default 7100)   FFA_LISTEN_HOST (default 0.0.0.0)
 *   FFA_GIC FFA_SPMD FFA_SPMC FFA_HYPERVISOR   host:port of each (default <role>:7100)
 *   FFA_HOSTS       optional JSON {"name": "address"}: how names resolve (compose-local.ts)
 *   FFA_MAX_GUESTS  VMs the platform makes room for (default 64)
 *   guest:          FFA_NAME (default guest-<hostname>), FFA_ADVERTISE_HOST (default: its first
 *                   non-internal IPv4), FFA_GUEST_VCPUS (default 2), FFA_GUEST_DRIVER (default
 *                   the scenario's first VM's driver)
 *   orchestrator:   FFA_OUT (default /out), FFA_MIN_GUESTS (default 1), FFA_SETTLE_MS (default
 *                   2000), FFA_SEED (default: drawn), FFA_ATTACH_TIMEOUT_MS (default 120000),
 *                   FFA_RUN_TIMEOUT_MS (default 300000), FFA_LIVENESS_BOUND_MS (no-lost's
 *                   bound on lateness, default 500)
 *   FFA_HISTORY_DIR where it writes its own history as it runs, batch by batch (shared/runtime/
 *                   history-files.ts; default: the orchestrator's FFA_OUT/histories, the others' a
 *                   folder under the system's temp folder): the orchestrator merges the world's
 *                   histories from there, so give every service the same folder
 *   FFA_STATUS_FILE where its state goes, for the healthcheck (default /tmp/ffa-world-status.json)
 *   FFA_EXIT_WITH_PARENT  1: exit when the process that started it is gone (compose-local.ts sets it)
 *   FFA_LOG_LEVEL   default info; logs are JSON lines on stderr
 *   FFA_LOG_FORMAT  json or pretty (pino-pretty, for `docker compose logs`); unset: pretty on a terminal
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino, { type LevelWithSilent, type Logger } from 'pino';
import { DEFAULT_VARIANT, VARIANT_NAMES } from '../services/guest/variants.ts';
import { componentHistory } from '../shared/runtime/history-files.ts';
import { monotonicClock } from '../shared/runtime/ws/clock.ts';
import { type AcceptedPeer, anyRole } from '../shared/runtime/ws/handshake.ts';
import { WsNode } from '../shared/runtime/ws/node.ts';
import { attachScenario } from '../services/orchestrator/run/attach.ts';
import {
  DIALS,
  dialledBy,
  platformComponent,
  type PlatformRole,
  registeringGuest,
  SERVICE_ROLES,
  type ServiceRole,
} from '../services/orchestrator/run/distributed-world.ts';
import { readScenarioText, ScenarioError } from '../services/orchestrator/scenario/reader/index.ts';
import { readScenarioFileText } from '../services/orchestrator/scenario/scenario-file.ts';
import type { Scenario, VmDescription } from '../services/orchestrator/scenario/types.ts';
import { COMPONENTS } from '../services/orchestrator/run/world-builder.ts';
import { FileInputError } from '../shared/runtime/files.ts';
import { EnvironmentReader, quoted } from './environment.ts';
import { exitWithParent } from './parent-watch.ts';
import { printResult } from './run-scenarios.ts';
import { logDestination, type LogFormat } from '../shared/runtime/log-format.ts';

const EXIT = { passed: 0, failed: 1, invalid: 2 } as const;
const DEFAULT_PORT = 7100;
const TOKEN_MIN_LENGTH = 16;
const LINK_DEADLINE_MS = 120_000;
const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ServiceSettings {
  role: ServiceRole;
  scenarioFile: string;
  scenarioText: string;
  scenario: Scenario;
  tokens: Partial<Record<ServiceRole, string>>;
  port: number;
  listenHost: string;
  addresses: Record<PlatformRole, string>;
  maxGuests: number;
  /** Where it writes its own history (FFA_HISTORY_DIR). */
  historyDir: string;
  statusFile: string;
  logLevel: LevelWithSilent;
  logFormat: LogFormat;
  guest: { name: string; advertiseHost: string; vcpus: number; driver: VmDescription['driver'] };
  orchestrator: { out: string; minGuests: number; settleMs: number; seed: number; attachTimeoutMs: number; runTimeoutMs: number; livenessBoundMs: number };
}

const tokenVariable = (role: ServiceRole): string => `FFA_TOKEN_${role.toUpperCase()}`;

/** The roles whose tokens this role must know: its own (it presents it) and its dialers' (it checks them). */
function tokensNeeded(role: ServiceRole): ServiceRole[] {
  return [role, ...dialledBy(role)];
}

function readTokens(reader: EnvironmentReader, env: NodeJS.ProcessEnv, role: ServiceRole): Partial<Record<ServiceRole, string>> {
  const tokens: Partial<Record<ServiceRole, string>> = {};
  for (const needed of tokensNeeded(role)) {
    const name = tokenVariable(needed);
    const value = env[name];
    const why = needed === role ? `the ${role}'s own token, presented on every link it opens` : `the token ${needed}s present when they link to the ${role}`;
    if (value === undefined || value.length === 0) reader.check(false, `${name} is not set: ${why} (make compose/tokens.env with scripts/compose-tokens.sh)`);
    else if (value.startsWith('change-me')) reader.check(false, `${name} is compose/tokens.env.example's placeholder: make real tokens with scripts/compose-tokens.sh`);
    else if (value.length < TOKEN_MIN_LENGTH) reader.check(false, `${name} is shorter than ${TOKEN_MIN_LENGTH} characters: not a token`);
    else tokens[needed] = value;
  }
  return tokens;
}

const PORT_MAX = 65535;
/** A host name or an IPv4 address, as FFA_HOSTS and the FFA_<ROLE> addresses take them (RFC 1123: at most 253). */
const HOST_PATTERN = /^[A-Za-z0-9_.-]{1,253}$/;

/** host:port, or a name FFA_HOSTS maps to an address. */
function resolveAddress(reader: EnvironmentReader, variable: string, fallback: string, hosts: Record<string, string>): string {
  const raw = reader.text(variable, fallback);
  const match = /^([A-Za-z0-9_.-]{1,253}):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  reader.check(match !== null && port >= 1 && port <= PORT_MAX, `${variable}=${quoted(raw)} must be host:port (port 1..${PORT_MAX})`);
  const host = match?.[1] ?? '';
  return `ws://${Object.hasOwn(hosts, host) ? hosts[host] : host}:${match?.[2] ?? ''}`;
}

/** FFA_HOSTS: a JSON object of host name to address (compose-local.ts gives each service its own), or {}. */
function readHosts(reader: EnvironmentReader): Record<string, string> {
  const hosts = reader.json('FFA_HOSTS', {});
  const valid =
    typeof hosts === 'object' && hosts !== null && !Array.isArray(hosts) && Object.entries(hosts).every(([name, address]) => HOST_PATTERN.test(name) && typeof address === 'string' && HOST_PATTERN.test(address));
  reader.check(valid, 'FFA_HOSTS must be a JSON object {"name": "address"} of host names and addresses (letters, digits, . _ -; at most 253 each)');
  return valid ? (hosts as Record<string, string>) : {};
}

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
  return { name, advertiseHost: env['FFA_ADVERTISE_HOST'] ?? firstExternalIpv4(), vcpus, driver: driver as VmDescription['driver'] };
}

function readOrchestrator(reader: EnvironmentReader, env: NodeJS.ProcessEnv): ServiceSettings['orchestrator'] {
  return {
    out: env['FFA_OUT'] ?? '/out',
    minGuests: reader.integer('FFA_MIN_GUESTS', 1, 4096, 1),
    settleMs: reader.integer('FFA_SETTLE_MS', 0, 600_000, 2_000),
    seed: env['FFA_SEED'] === undefined ? randomInt(0, 2 ** 32) : reader.integer('FFA_SEED', 0, 0xffff_ffff),
    attachTimeoutMs: reader.integer('FFA_ATTACH_TIMEOUT_MS', 1_000, 3_600_000, 120_000),
    runTimeoutMs: reader.integer('FFA_RUN_TIMEOUT_MS', 1_000, 24 * 3_600_000, 300_000),
    livenessBoundMs: reader.integer('FFA_LIVENESS_BOUND_MS', 1, 600_000, 500),
  };
}


export function readServiceSettings(env: NodeJS.ProcessEnv): { settings: ServiceSettings } | { problems: string[] } {
  const reader = new EnvironmentReader(env);
  const role = (env['FFA_ROLE'] ?? '') as ServiceRole;
  if (!SERVICE_ROLES.includes(role)) return { problems: [`FFA_ROLE=${quoted(role)} must be one of ${SERVICE_ROLES.join(', ')}`] };
  const scenarioFile = env['FFA_SCENARIO'] ?? 'scenarios/default-world.yaml';
  const { text, scenario } = readScenario(reader, scenarioFile);
  const hosts = readHosts(reader);
  const addresses = Object.fromEntries(
    (['gic', 'spmd', 'spmc', 'hypervisor'] as PlatformRole[]).map((r) => [r, resolveAddress(reader, `FFA_${r.toUpperCase()}`, `${r}:${DEFAULT_PORT}`, hosts)]),
  ) as Record<PlatformRole, string>;
  const logLevel = (env['FFA_LOG_LEVEL'] ?? 'info') as LevelWithSilent;
  reader.check(LOG_LEVELS.includes(logLevel), `FFA_LOG_LEVEL=${quoted(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`);
  const orchestrator = readOrchestrator(reader, env);
  const settings: ServiceSettings = {
    role,
    scenarioFile,
    scenarioText: text,
    scenario: scenario as Scenario,
    tokens: readTokens(reader, env, role),
    port: reader.integer('FFA_PORT', 0, 65535, DEFAULT_PORT),
    listenHost: env['FFA_LISTEN_HOST'] ?? '0.0.0.0',
    addresses,
    maxGuests: reader.integer('FFA_MAX_GUESTS', 1, 4096, 64),
    historyDir: env['FFA_HISTORY_DIR'] ?? (role === 'orchestrator' ? join(orchestrator.out, 'histories') : join(tmpdir(), 'ffa-world-histories')),
    statusFile: env['FFA_STATUS_FILE'] ?? '/tmp/ffa-world-status.json',
    logLevel,
    logFormat: reader.logFormat(),
    guest: role === 'guest' ? readGuest(reader, env, scenario) : { name: '', advertiseHost: '', vcpus: 0, driver: DEFAULT_VARIANT },
    orchestrator,
  };
  return reader.problems.length > 0 ? { problems: reader.problems } : { settings };
}

function writeStatus(settings: ServiceSettings, name: string, state: 'listening' | 'started' | 'stopped'): void {
  writeFileSync(settings.statusFile, `${JSON.stringify({ state, role: settings.role, name, pid: process.pid })}\n`);
}

/** Who may link to this service: each dialer role's component by name (guests: any name, by role). */
function acceptList(settings: ServiceSettings): Map<string, AcceptedPeer> {
  const accept = new Map<string, AcceptedPeer>();
  for (const dialer of dialledBy(settings.role)) {
    const token = settings.tokens[dialer] as string;
    if (dialer === 'guest') accept.set(anyRole('guest'), { token, role: 'guest' });
    else accept.set(COMPONENTS[dialer], { token, role: dialer });
  }
  return accept;
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
  const baseNs = process.hrtime.bigint();
  const { role } = settings;
  const component =
    role === 'guest'
      ? registeringGuest(settings.scenario, { ...settings.guest, advertiseUrl: `ws://${settings.guest.advertiseHost}:${settings.port}` })
      : platformComponent(settings.scenario, role as PlatformRole, { maxGuests: settings.maxGuests });
  const clock = monotonicClock(baseNs);
  // Its own history, on disk as it happens: it outlives an orchestrator that dies mid-run.
  const history = componentHistory(settings.historyDir, component.name, baseNs);
  closeHistoryOnCrash(history, component.name, clock.nowNs, log);
  const node = await WsNode.create({
    component,
    seed: 0,
    worldNames: [component.name],
    token: settings.tokens[role] as string,
    accept: acceptList(settings),
    clock,
    history: history.append,
    log,
    listen: { host: settings.listenHost, port: settings.port },
    worldChannel: { baseNs },
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
  await node.connect(peers, LINK_DEADLINE_MS);
  if (stopping) return;
  node.start();
  writeStatus(settings, component.name, 'started');
  log.info({ name: component.name, url: node.url, peers: peers.map((p) => p.name) }, 'started');
}

/** The orchestrator: attach, run the scenario, write the report, exit with the verdict. */
async function runOrchestratorService(settings: ServiceSettings, log: Logger): Promise<number> {
  const { orchestrator: o } = settings;
  writeStatus(settings, COMPONENTS.orchestrator, 'started');
  const run = await attachScenario(settings.scenario, settings.scenarioText, {
    addresses: settings.addresses,
    token: settings.tokens.orchestrator as string,
    seed: o.seed,
    out: o.out,
    minGuests: o.minGuests,
    settleMs: o.settleMs,
    attachTimeoutMs: o.attachTimeoutMs,
    runTimeoutMs: o.runTimeoutMs,
    livenessBoundMs: o.livenessBoundMs,
    historyDir: settings.historyDir,
    log,
    replay: `FFA_SCENARIO=${settings.scenarioFile} FFA_SEED=${o.seed} (the orchestrator service, attached to the running world)`,
  });
  printResult(run.result, run.files);
  writeStatus(settings, COMPONENTS.orchestrator, 'stopped');
  return run.result.passed ? EXIT.passed : EXIT.failed;
}

export async function main(): Promise<void> {
  const parsed = readServiceSettings(process.env);
  if ('problems' in parsed) {
    process.stderr.write(`service: refused to start:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(EXIT.invalid);
  }
  const { settings } = parsed;
  if (process.env['FFA_EXIT_WITH_PARENT'] === '1') exitWithParent(`service ${settings.role}`);
  const log = pino({ level: settings.logLevel, base: { role: settings.role } }, logDestination(settings.logFormat));
  try {
    if (settings.role === 'orchestrator') process.exit(await runOrchestratorService(settings, log));
    await runComponentService(settings, log);
  } catch (error) {
    const invalid = error instanceof ScenarioError || error instanceof FileInputError;
    log.error({ err: error }, invalid ? 'invalid input (the scenario, or a path)' : 'service failed');
    process.stderr.write(`service ${settings.role}: ${(error as Error).message}\n`);
    process.exit(invalid ? EXIT.invalid : EXIT.failed);
  }
}

// Run as a script (tsx); the service bundle (service-bundle.ts) imports it and calls main itself.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) await main();
