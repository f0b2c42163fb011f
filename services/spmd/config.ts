/**
 * The SPMD's configuration: plain data as a world file gives it (`SpmdConfig`), and the checked
 * form the SPMD runs on (`ValidSpmdConfig`). TF-A takes the same facts from the SPMC manifest
 * (spmd_main.c spmd_spmc_init: `spmc_id`, the SPMC's major/minor version) and from its own build
 * (FFA_VERSION_MAJOR/MINOR); it refuses to start the SPMC on a bad manifest, and so does
 * `validateSpmdConfig`, with an error that names the field.
 */
import { FFA_VERSION_1_2, formatVersion, isEndpointId, isSecureId, parseVersion, SPMC_ID, versionMajor, versionMinor } from '../../shared/ffa/index.ts';

/** When the SPMC counts as up (TF-A spmd_private.h SPMC_STATE_ON). */
export type SpmcReadiness =
  /** Up from the start: the world begins after TF-A's boot-time synchronous entry into the SPMC. */
  | 'at-start'
  /** Up once a secure-side component calls FFA_MSG_WAIT (TF-A spmd_smc_handler FFA_MSG_WAIT at SPMC_STATE_ON_PENDING). */
  | 'on-first-msg-wait';

export const SPMC_READINESS: readonly SpmcReadiness[] = ['at-start', 'on-first-msg-wait'];

/** What a world file gives. Every field is optional; defaults are in `SPMD_CONFIG_DEFAULTS`. */
export interface SpmdConfig {
  /** The component normal-world calls are forwarded to. */
  spmc?: string;
  /** Components whose calls are secure-world origin (the link decides, never the frame). Must include `spmc`. */
  secureSide?: string[];
  /** The SPMC manifest's `spmc_id`: 16 bits with bit 15 set (TF-A checks it, "Invalid ID … for SPMC"). */
  spmcId?: number;
  /** The SPMC manifest's FF-A version, "MAJOR.MINOR". */
  spmcVersion?: string;
  /** The SPMD's own version (TF-A compiles 1.3, reference §1.4). */
  spmdVersion?: string;
  /**
   * Where a secure-origin call that TF-A forwards to the normal world goes (the hypervisor, or the
   * bare-metal host). Null: there is no such component, and those calls are answered NOT_SUPPORTED.
   */
  normalWorld?: string | null;
  spmcReadiness?: SpmcReadiness;
  /** Bound on forwarded calls awaiting their answer; more are answered BUSY. */
  maxPendingForwards?: number;
}

export interface ValidSpmdConfig {
  readonly spmc: string;
  readonly secureSide: ReadonlySet<string>;
  readonly spmcId: number;
  /** Encoded versions ((major << 16) | minor). */
  readonly spmcVersion: number;
  readonly spmdVersion: number;
  readonly normalWorld: string | null;
  readonly spmcReadiness: SpmcReadiness;
  readonly maxPendingForwards: number;
}

export const SPMD_CONFIG_DEFAULTS = {
  spmc: 'spmc',
  spmcId: SPMC_ID,
  spmcVersion: '1.2',
  spmdVersion: '1.3',
  normalWorld: null,
  spmcReadiness: 'at-start',
  maxPendingForwards: 256,
} as const satisfies SpmdConfig;

/** The normal world's version until it calls FFA_VERSION: 1.2, what Linux and Xen ask (reference §1.4). */
export const DEFAULT_NORMAL_WORLD_VERSION = FFA_VERSION_1_2;

const MAX_PENDING_FORWARDS_LIMIT = 65_536;

const CONFIG_KEYS: readonly (keyof SpmdConfig)[] = [
  'spmc',
  'secureSide',
  'spmcId',
  'spmcVersion',
  'spmdVersion',
  'normalWorld',
  'spmcReadiness',
  'maxPendingForwards',
];

/** A config the SPMD cannot run with. Thrown at create: a bad world file is a bug in the world. */
export class SpmdConfigError extends Error {
  readonly code = 'SPMD_CONFIG_INVALID';
  override readonly name = 'SpmdConfigError';
}

function fail(why: string): never {
  throw new SpmdConfigError(`spmd config: ${why}`);
}

function componentName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${field} must be a non-empty component name, got ${JSON.stringify(value)}`);
  return value;
}

function version(field: string, value: unknown): number {
  const parsed = typeof value === 'string' ? parseVersion(value) : null;
  if (parsed === null) fail(`${field} must be "MAJOR.MINOR", got ${JSON.stringify(value)}`);
  return parsed;
}

function secureSideOf(value: unknown, spmc: string): Set<string> {
  if (value === undefined) return new Set([spmc]);
  if (!Array.isArray(value)) fail(`secureSide must be an array of component names, got ${JSON.stringify(value)}`);
  const names = new Set(value.map((name, index) => componentName(`secureSide[${index}]`, name)));
  if (!names.has(spmc)) fail(`secureSide must include the SPMC "${spmc}": its calls are secure-world origin`);
  return names;
}

function spmcIdOf(value: unknown): number {
  if (typeof value !== 'number' || !isEndpointId(value) || !isSecureId(value)) {
    fail(`spmcId must be a 16-bit ID with bit 15 set (TF-A spmd_spmc_init "Invalid ID for SPMC"), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** TF-A spmd_spmc_init: the manifest's major must equal the SPMD's and its minor must not be newer. */
function checkSpmcVersionAgainstSpmd(spmcVersion: number, spmdVersion: number): void {
  if (versionMajor(spmcVersion) !== versionMajor(spmdVersion) || versionMinor(spmcVersion) > versionMinor(spmdVersion)) {
    fail(`spmcVersion ${formatVersion(spmcVersion)} is not supported by an SPMD at ${formatVersion(spmdVersion)} (TF-A spmd_spmc_init "Unsupported FFA version")`);
  }
}

function normalWorldOf(value: unknown, secureSide: ReadonlySet<string>): string | null {
  if (value === undefined || value === null) return null;
  const name = componentName('normalWorld', value);
  if (secureSide.has(name)) fail(`normalWorld "${name}" is listed in secureSide`);
  return name;
}

function readinessOf(value: unknown): SpmcReadiness {
  const found = SPMC_READINESS.find((readiness) => readiness === value);
  if (found === undefined) fail(`spmcReadiness must be one of ${SPMC_READINESS.join(', ')}, got ${JSON.stringify(value)}`);
  return found;
}

function maxPendingForwardsOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PENDING_FORWARDS_LIMIT) {
    fail(`maxPendingForwards must be an integer in 1..${MAX_PENDING_FORWARDS_LIMIT}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks a config and fills in the defaults; throws SpmdConfigError naming the first bad field. */
export function validateSpmdConfig(input: unknown): ValidSpmdConfig {
  const raw = input ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) fail(`must be an object, got ${JSON.stringify(input)}`);
  const unknownKeys = Object.keys(raw).filter((key) => !(CONFIG_KEYS as readonly string[]).includes(key));
  if (unknownKeys.length > 0) fail(`unknown field(s) ${unknownKeys.join(', ')}; known: ${CONFIG_KEYS.join(', ')}`);
  const config = raw as Record<keyof SpmdConfig, unknown>;
  const spmc = componentName('spmc', config.spmc ?? SPMD_CONFIG_DEFAULTS.spmc);
  const secureSide = secureSideOf(config.secureSide, spmc);
  const spmcVersion = version('spmcVersion', config.spmcVersion ?? SPMD_CONFIG_DEFAULTS.spmcVersion);
  const spmdVersion = version('spmdVersion', config.spmdVersion ?? SPMD_CONFIG_DEFAULTS.spmdVersion);
  checkSpmcVersionAgainstSpmd(spmcVersion, spmdVersion);
  return {
    spmc,
    secureSide,
    spmcId: spmcIdOf(config.spmcId ?? SPMD_CONFIG_DEFAULTS.spmcId),
    spmcVersion,
    spmdVersion,
    normalWorld: normalWorldOf(config.normalWorld, secureSide),
    spmcReadiness: readinessOf(config.spmcReadiness ?? SPMD_CONFIG_DEFAULTS.spmcReadiness),
    maxPendingForwards: maxPendingForwardsOf(config.maxPendingForwards ?? SPMD_CONFIG_DEFAULTS.maxPendingForwards),
  };
}
