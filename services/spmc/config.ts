/**
 * The SPMC's configuration: plain data (structured-clone and msgpack safe), validated once at
 * create; a bad config throws SpmcConfigError naming the offending field. Keys follow the
 * scenario format's `world.spmc` (design scenario-format.md), plus the links the SPMC needs.
 */
import {
  FFA_VERSION_1_0,
  formatVersion,
  isSecureId,
  isUuid,
  isValidVersion,
  NIL_UUID,
  OPTEE_SP_ID,
  parseVersion,
  SPMC_ID,
  SPMD_ID,
  versionMajor,
} from '../../shared/ffa/index.ts';
import { checkPolicyValue, isPolicyName, type PolicyName, type PolicyValues } from './policies.ts';
import { PROFILE_NAMES, PROFILES, type ProfileName } from './profiles.ts';

export type SpBehaviourName = 'raw' | 'optee' | 'echo' | 'notifier';
export const SP_BEHAVIOUR_NAMES: readonly SpBehaviourName[] = ['raw', 'optee', 'echo', 'notifier'];

/** Manifest messaging methods; vm-created/vm-destroyed subscribe to those framework messages. */
export type MessagingMethod = 'direct' | 'indirect' | 'vm-created' | 'vm-destroyed';
export const MESSAGING_METHODS: readonly MessagingMethod[] = ['direct', 'indirect', 'vm-created', 'vm-destroyed'];

export interface PartitionConfig {
  id: number;
  name?: string;
  uuid?: string;
  vcpus?: number;
  ffaVersion?: string | number;
  notifications?: boolean;
  messaging?: MessagingMethod[];
  behaviour?: SpBehaviourName;
}

export interface SpmcConfig {
  /** Default 'optee'. */
  profile?: ProfileName;
  /** The SPMC's FF-A version, "1.2" or 0x10002 (default 1.2). */
  ffaVersion?: string | number;
  /** The manifest's spmc_id (default 0x8000, every TF-A FVP manifest). */
  spmcId?: number;
  /** Physical CPUs (default 4). */
  cpus?: number;
  /** Overrides on top of the profile, by policy name. */
  policies?: Partial<Record<PolicyName, unknown>>;
  /** Default: one OP-TEE logical SP 0x8001 with `cpus` vCPUs. */
  partitions?: PartitionConfig[];
  /** NWd VM notification slots (default: the profile's; OP-TEE CFG_VIRT_GUEST_COUNT 2). */
  vmSlots?: number;
  /** The component whose calls are the normal world's, forwarded by the SPMD (default 'spmd'). */
  spmd?: string;
  /** Components whose calls on conduit 'relay' are calls made by the SP named in `endpoint`. */
  relayFrom?: string[];
  /** The GIC broker to raise the SRI at; null: the SRI is only recorded. */
  gic?: string | null;
}

export interface ResolvedPartition {
  readonly id: number;
  readonly name: string;
  readonly uuid: string;
  readonly vcpus: number;
  readonly ffaVersion: number;
  readonly notifications: boolean;
  readonly messaging: readonly MessagingMethod[];
  readonly behaviour: SpBehaviourName;
}

export interface ResolvedSpmcConfig {
  readonly profile: ProfileName;
  readonly ffaVersion: number;
  readonly spmcId: number;
  readonly cpus: number;
  readonly policies: PolicyValues;
  readonly partitions: readonly ResolvedPartition[];
  readonly vmSlots: number;
  readonly spmd: string;
  readonly relayFrom: readonly string[];
  readonly gic: string | null;
}

/** Every table the SPMC keeps is sized from these (TigerBeetle: put a limit on everything). */
export const CONFIG_LIMITS = {
  cpusMax: 64,
  partitionsMax: 64,
  vcpusPerPartitionMax: 64,
  vmSlotsMax: 1024,
  relayFromMax: 64,
  nameLengthMax: 64,
} as const;

/** OP-TEE thread_spmc.c my_uuid_words: the OP-TEE endpoint's UUID. */
export const OPTEE_UUID = '486178e0-e7f8-11e3-bc5e-0002a5d5c51b';

/** TF-A SPMD logical partition IDs (Hafnium plat_ffa_is_spmd_lp_id: EL3_SPMD_LP_ID_START..END). */
export const SPMD_LOGICAL_PARTITION_IDS = { first: 0xffc0, last: 0xffff } as const;

export class SpmcConfigError extends Error {
  readonly code = 'SPMC_CONFIG_INVALID';
  constructor(field: string, why: string) {
    super(`spmc config: ${field}: ${why}`);
    this.name = 'SpmcConfigError';
  }
}

const TOP_LEVEL_KEYS = ['profile', 'ffaVersion', 'spmcId', 'cpus', 'policies', 'partitions', 'vmSlots', 'spmd', 'relayFrom', 'gic'];
const PARTITION_KEYS = ['id', 'name', 'uuid', 'vcpus', 'ffaVersion', 'notifications', 'messaging', 'behaviour'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejectUnknownKeys(field: string, value: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new SpmcConfigError(field, `unknown key(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);
}

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SpmcConfigError(field, `must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function componentName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > CONFIG_LIMITS.nameLengthMax) {
    throw new SpmcConfigError(field, `must be a component name (1..${CONFIG_LIMITS.nameLengthMax} characters)`);
  }
  return value;
}

function ffaVersionOf(field: string, value: unknown): number {
  const version = typeof value === 'string' ? parseVersion(value) : typeof value === 'number' && isValidVersion(value) ? value : null;
  if (version === null || versionMajor(version) !== 1 || version < FFA_VERSION_1_0) {
    throw new SpmcConfigError(field, `must be an FF-A 1.x version such as "1.2", got ${JSON.stringify(value)}`);
  }
  return version;
}

function profileOf(value: unknown): ProfileName {
  if (value === undefined) return 'optee';
  if (typeof value === 'string' && (PROFILE_NAMES as readonly string[]).includes(value)) return value as ProfileName;
  throw new SpmcConfigError('profile', `must be one of ${PROFILE_NAMES.join(', ')}, got ${JSON.stringify(value)}`);
}

function policiesOf(profile: ProfileName, overrides: unknown): PolicyValues {
  if (overrides === undefined) return PROFILES[profile].policies;
  if (!isPlainObject(overrides)) throw new SpmcConfigError('policies', 'must be an object of policy name → value');
  for (const [name, value] of Object.entries(overrides)) {
    if (!isPolicyName(name)) throw new SpmcConfigError(`policies.${name}`, 'is not a policy of the SPMC');
    const verdict = checkPolicyValue(name, value);
    if (!verdict.ok) throw new SpmcConfigError(`policies.${name}`, verdict.why);
  }
  return { ...PROFILES[profile].policies, ...(overrides as Partial<PolicyValues>) };
}

function messagingOf(field: string, value: unknown, fallback: readonly MessagingMethod[]): readonly MessagingMethod[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.some((m) => !(MESSAGING_METHODS as readonly unknown[]).includes(m))) {
    throw new SpmcConfigError(field, `must be a list of ${MESSAGING_METHODS.join(', ')}`);
  }
  return [...new Set(value as MessagingMethod[])];
}

function behaviourOf(field: string, value: unknown): SpBehaviourName {
  if (value === undefined) return 'raw';
  if (typeof value === 'string' && (SP_BEHAVIOUR_NAMES as readonly string[]).includes(value)) return value as SpBehaviourName;
  throw new SpmcConfigError(field, `must be one of ${SP_BEHAVIOUR_NAMES.join(', ')}, got ${JSON.stringify(value)}`);
}

function partitionIdOf(field: string, value: unknown, spmcId: number): number {
  const id = integerIn(field, value, 0, 0xffff);
  if (!isSecureId(id)) throw new SpmcConfigError(field, `0x${id.toString(16)} is not a secure partition ID (bit 15 clear)`);
  if (id === spmcId) throw new SpmcConfigError(field, `0x${id.toString(16)} is the SPMC's own ID`);
  if (id >= SPMD_LOGICAL_PARTITION_IDS.first) throw new SpmcConfigError(field, `0x${id.toString(16)} is in the SPMD logical partition range`);
  return id;
}

/** OP-TEE's my_part_props: direct messages, plus VM_CREATED/DESTROYED with NS-virtualization. */
function defaultMessaging(behaviour: SpBehaviourName, policies: PolicyValues): readonly MessagingMethod[] {
  if (behaviour === 'optee' && policies.vmBitmapLifecycle === 'guest-registry') return ['direct', 'vm-created', 'vm-destroyed'];
  return ['direct'];
}

function partitionOf(field: string, raw: unknown, context: { spmcId: number; ffaVersion: number; policies: PolicyValues }): ResolvedPartition {
  if (!isPlainObject(raw)) throw new SpmcConfigError(field, 'must be an object');
  rejectUnknownKeys(field, raw, PARTITION_KEYS);
  const id = partitionIdOf(`${field}.id`, raw['id'], context.spmcId);
  const behaviour = behaviourOf(`${field}.behaviour`, raw['behaviour']);
  const uuid = raw['uuid'] === undefined ? (behaviour === 'optee' ? OPTEE_UUID : NIL_UUID) : raw['uuid'];
  if (typeof uuid !== 'string' || !isUuid(uuid)) throw new SpmcConfigError(`${field}.uuid`, `must be a UUID, got ${JSON.stringify(uuid)}`);
  const name = raw['name'] === undefined ? `sp-${id.toString(16)}` : componentName(`${field}.name`, raw['name']);
  const notifications = raw['notifications'] === undefined ? false : raw['notifications'];
  if (typeof notifications !== 'boolean') throw new SpmcConfigError(`${field}.notifications`, 'must be a boolean');
  return {
    id,
    name,
    uuid: uuid.toLowerCase(),
    vcpus: raw['vcpus'] === undefined ? 1 : integerIn(`${field}.vcpus`, raw['vcpus'], 1, CONFIG_LIMITS.vcpusPerPartitionMax),
    ffaVersion: raw['ffaVersion'] === undefined ? context.ffaVersion : ffaVersionOf(`${field}.ffaVersion`, raw['ffaVersion']),
    notifications,
    messaging: messagingOf(`${field}.messaging`, raw['messaging'], defaultMessaging(behaviour, context.policies)),
    behaviour,
  };
}

function partitionsOf(raw: unknown, context: { spmcId: number; ffaVersion: number; policies: PolicyValues; cpus: number }): ResolvedPartition[] {
  const list = raw ?? [{ id: OPTEE_SP_ID, name: 'optee', vcpus: context.cpus, behaviour: 'optee' }];
  if (!Array.isArray(list) || list.length > CONFIG_LIMITS.partitionsMax) {
    throw new SpmcConfigError('partitions', `must be a list of at most ${CONFIG_LIMITS.partitionsMax} partitions`);
  }
  const partitions = list.map((entry, index) => partitionOf(`partitions[${index}]`, entry, context));
  partitions.forEach((partition, index) => {
    if (partitions.findIndex((other) => other.id === partition.id) !== index) {
      throw new SpmcConfigError(`partitions[${index}].id`, `0x${partition.id.toString(16)} is used twice`);
    }
  });
  if (partitions.filter((p) => p.behaviour === 'optee').length > 1) throw new SpmcConfigError('partitions', 'at most one partition may have behaviour optee');
  return partitions;
}

function relayFromOf(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > CONFIG_LIMITS.relayFromMax) {
    throw new SpmcConfigError('relayFrom', `must be a list of at most ${CONFIG_LIMITS.relayFromMax} component names`);
  }
  return value.map((name, index) => componentName(`relayFrom[${index}]`, name));
}

export function resolveSpmcConfig(raw: unknown): ResolvedSpmcConfig {
  const config = raw ?? {};
  if (!isPlainObject(config)) throw new SpmcConfigError('(root)', 'must be an object');
  rejectUnknownKeys('(root)', config, TOP_LEVEL_KEYS);
  const profile = profileOf(config['profile']);
  const policies = policiesOf(profile, config['policies']);
  const ffaVersion = config['ffaVersion'] === undefined ? parseVersion('1.2')! : ffaVersionOf('ffaVersion', config['ffaVersion']);
  const spmcId = config['spmcId'] === undefined ? SPMC_ID : integerIn('spmcId', config['spmcId'], 0, 0xffff);
  if (!isSecureId(spmcId) || spmcId === SPMD_ID) throw new SpmcConfigError('spmcId', `0x${spmcId.toString(16)} is not a secure ID other than the SPMD's`);
  const cpus = config['cpus'] === undefined ? 4 : integerIn('cpus', config['cpus'], 1, CONFIG_LIMITS.cpusMax);
  const gic = config['gic'] === undefined || config['gic'] === null ? null : componentName('gic', config['gic']);
  return {
    profile,
    ffaVersion,
    spmcId,
    cpus,
    policies,
    partitions: partitionsOf(config['partitions'], { spmcId, ffaVersion, policies, cpus }),
    vmSlots: config['vmSlots'] === undefined ? PROFILES[profile].vmSlots : integerIn('vmSlots', config['vmSlots'], 1, CONFIG_LIMITS.vmSlotsMax),
    spmd: config['spmd'] === undefined ? 'spmd' : componentName('spmd', config['spmd']),
    relayFrom: relayFromOf(config['relayFrom']),
    gic,
  };
}

/** The config as one history record at start (every option printed with the run). */
export function describeConfig(config: ResolvedSpmcConfig): Record<string, unknown> {
  return {
    profile: config.profile,
    ffaVersion: formatVersion(config.ffaVersion),
    spmcId: config.spmcId,
    cpus: config.cpus,
    vmSlots: config.vmSlots,
    spmd: config.spmd,
    relayFrom: [...config.relayFrom],
    gic: config.gic,
    policies: { ...config.policies },
    partitions: config.partitions.map((p) => ({ ...p, messaging: [...p.messaging], ffaVersion: formatVersion(p.ffaVersion) })),
  };
}
