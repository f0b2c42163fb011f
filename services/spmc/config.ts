/**
 * The SPMC's configuration: plain data (structured-clone and msgpack safe), validated once at
 * create; a bad config throws SpmcConfigError naming the offending field. Keys follow the
 * scenario format's `world.spmc` (design docs/scenarios.md), plus the links the SPMC needs.
 */
import { z } from 'zod';
import { componentName, endpointId, policyOverrides, secureId, versionStringOrNumber } from '../../shared/config/blocks.ts';
import { flag, integerIn, listOf, must, oneOf, strictObject, uuid } from '../../shared/config/zod-kit.ts';
import { parseConfig } from '../../shared/config/parse-config.ts';
import {
  FFA_VERSION_1_0,
  FFA_VERSION_1_1,
  formatVersion,
  hex,
  isSecureId,
  NIL_UUID,
  OPTEE_SP_ID,
  OPTEE_UUID,
  PARTITION_PROPERTIES,
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

/** A partition's properties (Linux arm_ffa.h FFA_PARTITION_*) from its manifest's messaging and notification support. */
export function partitionProperties(messaging: readonly MessagingMethod[], notifications: boolean): number {
  const P = PARTITION_PROPERTIES;
  let properties: number = P.aarch64;
  if (messaging.includes('direct')) properties |= P.directRequestReceive | P.directRequestSend;
  if (messaging.includes('indirect')) properties |= P.indirectMessages;
  if (notifications) properties |= P.notificationReceive;
  if (messaging.includes('vm-created')) properties |= P.vmCreatedMessage;
  if (messaging.includes('vm-destroyed')) properties |= P.vmDestroyedMessage;
  return properties >>> 0;
}

/**
 * The properties PARTITION_INFO_GET and _REGS tell one caller (policy partitionProperties).
 * Hafnium api_ffa_partitions_info_get_properties over src/ffa/spmc/setup_and_discovery.c
 * ffa_setup_partition_properties: DIRECT_REQ_SEND only to SPs, VM_CREATED/DESTROYED only to the
 * normal world, NOTIFICATION and INDIRECT_MSG only for partitions at v1.1+. OP-TEE thread_spmc.c
 * spmc_fill_partition_entry: the same bits to every caller. Exported because a hypervisor caches
 * what the normal world is told (the world builder hands it over: memory is not modelled).
 */
export type PropertiesRule = PolicyValues['partitionProperties'];

export function propertiesSeenBy(properties: number, partitionVersion: number, caller: 'nwd' | 'sp', rule: PropertiesRule): number {
  if (rule === 'optee') return properties >>> 0;
  const P = PARTITION_PROPERTIES;
  let hidden = caller === 'nwd' ? P.directRequestSend : P.vmCreatedMessage | P.vmDestroyedMessage;
  if (partitionVersion < FFA_VERSION_1_1) hidden |= P.notificationReceive | P.indirectMessages;
  return (properties & ~hidden) >>> 0;
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

/** TF-A SPMD logical partition IDs (Hafnium plat_ffa_is_spmd_lp_id: EL3_SPMD_LP_ID_START..END). */
export const SPMD_LOGICAL_PARTITION_IDS = { first: 0xffc0, last: 0xffff } as const;

export class SpmcConfigError extends Error {
  readonly code = 'SPMC_CONFIG_INVALID';
  constructor(field: string, why: string) {
    super(`spmc config: ${field}: ${why}`);
    this.name = 'SpmcConfigError';
  }
}

const name = () => componentName(CONFIG_LIMITS.nameLengthMax);
const FFA_1X = must('an FF-A 1.x version such as "1.2"');
/** The SPMC speaks FF-A 1.x: a 2.x or 0.x version is a typo, not a world to simulate. */
const ffaVersion = () => versionStringOrNumber(FFA_1X).refine((version) => versionMajor(version) === 1 && version >= FFA_VERSION_1_0, FFA_1X);

const partitionSchema = strictObject({
  id: secureId().refine((id) => id < SPMD_LOGICAL_PARTITION_IDS.first, {
    error: (issue) => `${hex(issue.input as number)} is in the SPMD logical partition range`,
  }),
  name: name().optional(),
  uuid: uuid().optional(),
  vcpus: integerIn(1, CONFIG_LIMITS.vcpusPerPartitionMax).optional(),
  ffaVersion: ffaVersion().optional(),
  notifications: flag(must('a boolean')).optional(),
  messaging: z.array(oneOf(MESSAGING_METHODS), must(`a list of ${MESSAGING_METHODS.join(', ')}`)).optional(),
  behaviour: oneOf(SP_BEHAVIOUR_NAMES).optional(),
});
export type PartitionConfig = z.input<typeof partitionSchema>;

/** Policy overrides by name, each value checked by policies.ts (the scenario reader judges a world's with it too). */
export const spmcPolicyOverrides = () => policyOverrides('SPMC', isPolicyName, (name, value) => checkPolicyValue(name as PolicyName, value));

/** The default world: OP-TEE's logical SP on every CPU (its vcpus come from `cpus`). */
const DEFAULT_PARTITION = { id: OPTEE_SP_ID, name: 'optee', behaviour: 'optee' } as const;

const spmcConfigSchema = strictObject({
  /** Default 'optee'. */
  profile: oneOf(PROFILE_NAMES).default('optee'),
  /** The SPMC's FF-A version, "1.2" or 0x10002 (default 1.2). */
  ffaVersion: ffaVersion().prefault('1.2'),
  /** The manifest's spmc_id (default 0x8000, every TF-A FVP manifest). */
  spmcId: endpointId()
    .refine((id) => isSecureId(id) && id !== SPMD_ID, { error: (issue) => `${hex(issue.input as number)} is not a secure ID other than the SPMD's` })
    .default(SPMC_ID),
  /** Physical CPUs (default 4). */
  cpus: integerIn(1, CONFIG_LIMITS.cpusMax).default(4),
  /** Overrides on top of the profile, by policy name; each checked by policies.ts. */
  policies: spmcPolicyOverrides().optional(),
  /** Default: one OP-TEE logical SP 0x8001 with `cpus` vCPUs. */
  partitions: listOf(partitionSchema, CONFIG_LIMITS.partitionsMax, must(`a list of at most ${CONFIG_LIMITS.partitionsMax} partitions`)).optional(),
  /** NWd VM notification slots (default: the profile's; OP-TEE CFG_VIRT_GUEST_COUNT 2). */
  vmSlots: integerIn(1, CONFIG_LIMITS.vmSlotsMax).optional(),
  /** The component whose calls are the normal world's, forwarded by the SPMD (default 'spmd'). */
  spmd: name().default('spmd'),
  /** Components whose calls on conduit 'relay' are calls made by the SP named in `endpoint`. */
  relayFrom: listOf(name(), CONFIG_LIMITS.relayFromMax, must(`a list of at most ${CONFIG_LIMITS.relayFromMax} component names`)).default([]),
  /** The GIC broker to raise the SRI at; null: the SRI is only recorded. */
  gic: name().nullable().default(null),
}).superRefine(checkPartitionSet);

export type SpmcConfig = z.input<typeof spmcConfigSchema>;

/** Rules across partitions: IDs are unique and not the SPMC's own; one OP-TEE at most (it owns the OP-TEE UUID). */
function checkPartitionSet(config: { spmcId: number; partitions?: readonly { id: number; behaviour?: SpBehaviourName }[] }, ctx: z.RefinementCtx): void {
  const partitions = config.partitions ?? [DEFAULT_PARTITION];
  partitions.forEach(({ id }, index) => {
    const path = ['partitions', index, 'id'];
    if (id === config.spmcId) ctx.addIssue({ code: 'custom', path, message: `${hex(id)} is the SPMC's own ID` });
    else if (partitions.findIndex((other) => other.id === id) !== index) ctx.addIssue({ code: 'custom', path, message: `${hex(id)} is used twice` });
  });
  if (partitions.filter((p) => p.behaviour === 'optee').length > 1) {
    ctx.addIssue({ code: 'custom', path: ['partitions'], message: 'at most one partition may have behaviour optee' });
  }
}

/** OP-TEE's my_part_props: direct messages, plus VM_CREATED/DESTROYED with NS-virtualization. */
function defaultMessaging(behaviour: SpBehaviourName, policies: PolicyValues): readonly MessagingMethod[] {
  if (behaviour === 'optee' && policies.vmBitmapLifecycle === 'guest-registry') return ['direct', 'vm-created', 'vm-destroyed'];
  return ['direct'];
}

function resolvePartition(raw: z.output<typeof partitionSchema>, context: { ffaVersion: number; policies: PolicyValues; cpus: number }): ResolvedPartition {
  const behaviour = raw.behaviour ?? 'raw';
  return {
    id: raw.id,
    name: raw.name ?? `sp-${raw.id.toString(16)}`,
    uuid: (raw.uuid ?? (behaviour === 'optee' ? OPTEE_UUID : NIL_UUID)).toLowerCase(),
    vcpus: raw.vcpus ?? 1,
    ffaVersion: raw.ffaVersion ?? context.ffaVersion,
    notifications: raw.notifications ?? false,
    messaging: raw.messaging === undefined ? defaultMessaging(behaviour, context.policies) : [...new Set(raw.messaging)],
    behaviour,
  };
}

/** Checks a config and fills in the defaults; throws SpmcConfigError naming the first bad field. */
export function resolveSpmcConfig(raw: unknown): ResolvedSpmcConfig {
  const config = parseConfig(spmcConfigSchema, raw ?? {}, {
    component: 'spmc',
    errorFactory: ({ field, why }) => new SpmcConfigError(field === '' ? '(root)' : field, why),
  });
  const profile = PROFILES[config.profile];
  const policies: PolicyValues = { ...profile.policies, ...(config.policies as Partial<PolicyValues> | undefined) };
  const context = { ffaVersion: config.ffaVersion, policies, cpus: config.cpus };
  const partitions = config.partitions ?? [{ ...DEFAULT_PARTITION, vcpus: config.cpus }];
  return {
    ...config,
    policies,
    partitions: partitions.map((partition) => resolvePartition(partition, context)),
    vmSlots: config.vmSlots ?? profile.vmSlots,
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
