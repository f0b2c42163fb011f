/**
 * Where `ffa-world load --attach` finds its world, and with what: read as the orchestrator service
 * reads them (scripts/service.ts, docs/compose.md "The service entry point"), each overridden by
 * the command line where it has an option. Inside a compose network or a swarm, `docker compose
 * run` or `docker exec` of the orchestrator's container then needs no option but the load's.
 *
 *   --credentials FILE          else FFA_CREDENTIALS, else /run/secrets/ffa-orchestrator (where compose mounts it)
 *   --address ROLE=HOST:PORT    repeatable, ROLE gic | spmd | spmc | hypervisor; else FFA_<ROLE>, else <role>:7100; names through FFA_HOSTS
 *   --scenario FILE             the scenario the world's services were started with (their platform); else FFA_SCENARIO, else scenarios/default-world.yaml
 *   --min-guests N              else FFA_MIN_GUESTS, else 1
 *   --settle D                  else FFA_SETTLE_MS, else 2 s
 *   --attach-timeout D          else FFA_ATTACH_TIMEOUT_MS, else 120 s
 *   FFA_GUEST_ANSWER_MS, FFA_LIVENESS_BOUND_MS as the orchestrator service takes them
 */
import { OPTEE_SP_ID } from '../shared/ffa/index.ts';
import type { Credentials } from '../shared/runtime/ws/credentials.ts';
import { PLATFORM_ROLES, type PlatformRole } from '../services/orchestrator/run/distributed-world.ts';
import { credentialProblems } from '../services/orchestrator/run/service-credentials.ts';
import { readScenarioText, ScenarioError } from '../services/orchestrator/scenario/reader/index.ts';
import { readScenarioFileText } from '../services/orchestrator/scenario/scenario-file.ts';
import type { Scenario } from '../services/orchestrator/scenario/types.ts';
import { durationNs } from '../services/orchestrator/scenario/value-shapes.ts';
import { EnvironmentReader, quoted } from './environment.ts';
import { addressVariable, readPlatformAddresses } from './service-addresses.ts';
import { readOrchestrator } from './service.ts';

export interface AttachSettings {
  /** ws:// URL of each platform service. */
  addresses: Record<PlatformRole, string>;
  credentials: Credentials;
  /** The scenario the world's services were started with: its platform is the load's. */
  scenarioFile: string;
  world: Scenario;
  minGuests: number;
  settleMs: number;
  attachTimeoutMs: number;
  guestAnswerMs: number;
  livenessBoundMs: number;
  /** The attach options as the command line gave them, for the replay. */
  given: string[];
}

export const DEFAULT_WORLD_SCENARIO = 'scenarios/default-world.yaml';
const DEFAULT_CREDENTIALS = '/run/secrets/ffa-orchestrator';
const CREDENTIALS_WHY = 'the orchestrator\'s credentials: its keys to the platform services and the guest issuer key (npm run compose:credentials makes compose/credentials/ffa-orchestrator.json)';

/** --address ROLE=HOST:PORT, each given once: the address by role, and what is wrong with the rest. */
function givenAddresses(value: unknown, problems: string[]): Partial<Record<PlatformRole, string>> {
  const given: Partial<Record<PlatformRole, string>> = {};
  for (const item of value === undefined ? [] : [value].flat()) {
    const match = /^([a-z]+)=(.*)$/.exec(String(item));
    const role = PLATFORM_ROLES.find((r) => r === match?.[1]);
    if (!match || !role) problems.push(`--address must be ROLE=HOST:PORT with ROLE one of ${PLATFORM_ROLES.join(', ')}, not ${quoted(String(item))}`);
    else if (given[role] !== undefined) problems.push(`--address ${role} is given twice`);
    else given[role] = match[2] as string;
  }
  return given;
}

/** --settle and --attach-timeout: a duration with its unit, in ms within bounds. */
function durationMs(name: string, value: unknown, minMs: number, maxMs: number, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const ns = durationNs(String(value).trim());
  const ms = ns === null ? Number.NaN : ns / 1e6;
  if (!(ms >= minMs && ms <= maxMs)) problems.push(`--${name} must be a duration with its unit (such as 2s or 500ms) from ${minMs} ms to ${maxMs / 1000} s, not ${String(value)}`);
  return Math.round(ms);
}

/** The world's scenario, and whether the load can run on its platform: a Xen-like hypervisor, OP-TEE's SP 0x8001. */
function readWorld(file: string, problems: string[]): Scenario | null {
  let world: Scenario;
  try {
    world = readScenarioText(readScenarioFileText(file), file);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    problems.push(`the world's scenario (--scenario, FFA_SCENARIO): ${error.message}`);
    return null;
  }
  const sender = world.world.spmc.partitions.find((sp) => sp.id === OPTEE_SP_ID);
  if (world.world.hypervisor.profile !== 'xen') problems.push(`${file}: the load needs a world with the Xen-like hypervisor (hypervisor.profile: xen), not ${world.world.hypervisor.profile}`);
  if (sender?.behaviour !== 'optee') problems.push(`${file}: the load's sender is OP-TEE's SP 0x8001 (behaviour optee), which this world's SPMC does not have`);
  return world;
}

const positiveInteger = (value: unknown): boolean => /^\d{1,4}$/.test(String(value)) && Number(value) >= 1 && Number(value) <= 4096;

/** The attach settings from cac's options and the environment, or every problem found. */
export function readAttachSettings(options: Record<string, unknown>, env: NodeJS.ProcessEnv): AttachSettings | string[] {
  const problems: string[] = [];
  const addresses = givenAddresses(options['address'], problems);
  // One reader: the command line's values under their option names, so a message names what was typed.
  const cli = Object.fromEntries(Object.entries(addresses).map(([role, address]) => [`--address ${role}`, address]));
  const credentialsFile = options['credentials'] === undefined ? undefined : String(options['credentials']);
  // The load's seed is --seed: the orchestrator service's FFA_SEED is not read.
  const readerEnv = { ...env, FFA_SEED: '0', ...cli, ...(credentialsFile === undefined ? {} : { '--credentials': credentialsFile }) };
  const reader = new EnvironmentReader(readerEnv);
  const urls = readPlatformAddresses(reader, (role) => (addresses[role] === undefined ? addressVariable(role) : `--address ${role}`));
  const before = reader.problems.length;
  const credentials = reader.credentials(credentialsFile === undefined ? 'FFA_CREDENTIALS' : '--credentials', DEFAULT_CREDENTIALS, CREDENTIALS_WHY);
  if (reader.problems.length === before) for (const problem of credentialProblems('orchestrator', credentials)) reader.check(false, `${credentialsFile === undefined ? 'FFA_CREDENTIALS' : '--credentials'}: ${problem}`);
  const service = readOrchestrator(reader, readerEnv);
  problems.push(...reader.problems);
  if (options['minGuests'] !== undefined && !positiveInteger(options['minGuests'])) problems.push(`--min-guests must be an integer in 1..4096, not ${String(options['minGuests'])}`);
  const settleMs = durationMs('settle', options['settle'], 0, 600_000, problems) ?? service.settleMs;
  const attachTimeoutMs = durationMs('attach-timeout', options['attachTimeout'], 1_000, 3_600_000, problems) ?? service.attachTimeoutMs;
  const scenarioFile = options['scenario'] === undefined ? (env['FFA_SCENARIO'] ?? DEFAULT_WORLD_SCENARIO) : String(options['scenario']);
  const world = readWorld(scenarioFile, problems);
  if (problems.length > 0 || world === null) return problems;
  const given = [
    ...Object.entries(addresses).map(([role, address]) => `--address ${role}=${address}`),
    ...(credentialsFile === undefined ? [] : [`--credentials ${credentialsFile}`]),
    ...(options['scenario'] === undefined ? [] : [`--scenario ${scenarioFile}`]),
  ];
  return {
    addresses: urls,
    credentials,
    scenarioFile,
    world,
    minGuests: options['minGuests'] === undefined ? service.minGuests : Number(options['minGuests']),
    settleMs,
    attachTimeoutMs,
    guestAnswerMs: service.guestAnswerMs,
    livenessBoundMs: service.livenessBoundMs,
    given,
  };
}
