/**
 * The hypervisor's configuration: plain data as a world file gives it (`HypervisorConfig`), and the
 * checked form it runs on (`ValidHypervisorConfig`). A bad config is a bug in the world:
 * `validateHypervisorConfig` throws a HypervisorConfigError naming the field, at create.
 *
 * The SP list (`partitions`) stands for what Xen reads from its RX buffer after
 * FFA_PARTITION_INFO_GET (ffa_partinfo.c ffa_partinfo_init): the simulation does not model buffer
 * memory, so the descriptors cannot travel; the probe still makes the call and checks the count
 * and descriptor size the firmware returns in registers against this list.
 */
import {
  isSecureId,
  isUuid,
  NIL_UUID,
  OPTEE_SP_ID,
  PARTITION_PROPERTIES,
  type PartitionInfo,
} from '../../shared/ffa/index.ts';
import { checkPolicyValue, isPolicyName, type PolicyName, type PolicyValues } from './policies.ts';
import { PROFILE_NAMES, PROFILES, type ProfileName, type RunnableProfileName } from './profiles.ts';

/** How a partition says which messages it takes (the SPMC config's vocabulary). */
export type MessagingMethod = 'direct' | 'indirect' | 'vm-created' | 'vm-destroyed';
export const MESSAGING_METHODS: readonly MessagingMethod[] = ['direct', 'indirect', 'vm-created', 'vm-destroyed'];

/** A VM: Xen's domain with the FF-A mediator enabled. */
export interface VmConfig {
  name: string;
  /** FF-A ID = domid + 1 (Xen ffa_get_vm_id). Default: the lowest free one. */
  id?: number;
  vcpus: number;
  /** The guest component whose calls are this VM's (the link decides). Default: `name`. */
  component?: string;
  /** The physical CPU of each vCPU. Default: vCPU i on CPU i mod cpus. */
  pcpus?: number[];
}

/** One SP descriptor, as FFA_PARTITION_INFO_GET would have written it (see the header). */
export interface PartitionConfig {
  id: number;
  uuid?: string;
  vcpus?: number;
  /** Which messages it takes: 'vm-created'/'vm-destroyed' subscribe it to those framework messages. */
  messaging?: MessagingMethod[];
  notifications?: boolean;
}

export interface HypervisorConfig {
  /** Default 'xen'. 'none' (bare metal) is refused: the component must not be in such a world. */
  profile?: ProfileName;
  /** Overrides on top of the profile, by policy name. */
  policies?: Partial<Record<PolicyName, unknown>>;
  /** Physical CPUs (default 4). */
  cpus?: number;
  /** The SPMD component the hypervisor's SMCs go to (default 'spmd'). */
  spmd?: string;
  /** The GIC broker (default 'gic'); null: interrupts are only recorded. */
  gic?: string | null;
  /** Components that may send VM life-cycle control messages, and (raw) relay SMCs. */
  controllers?: string[];
  /** VMs created at start, in order, once the firmware probe is done. */
  vms?: VmConfig[];
  /** Bound on the VM table (default 64). */
  maxVms?: number;
  /** Bound on a VM's vCPUs (default 16, the GIC's default maxVcpusPerVm). */
  maxVcpusPerVm?: number;
  /** The SP list; default: OP-TEE's logical SP 0x8001 subscribed to VM_CREATED and VM_DESTROYED. */
  partitions?: PartitionConfig[];
  /** Bound on guest calls forwarded to the firmware and not yet answered (default 256); more get BUSY. */
  maxPendingGuestCalls?: number;
  /** Bound on life-cycle requests waiting their turn (default 64); more are refused. */
  maxQueuedLifecycleOps?: number;
  /** VM_DESTROYED retries after INTERRUPTED or RETRY (default 10). */
  teardownRetries?: number;
  /** Delay between them (default 1 s: Xen ffa.c FFA_CTX_TEARDOWN_DELAY). */
  teardownRetryDelayNs?: number;
}

export interface ValidVm {
  readonly name: string;
  readonly id: number | null;
  readonly vcpus: number;
  readonly component: string;
  readonly pcpus: readonly number[] | null;
}

export interface ValidHypervisorConfig {
  readonly profile: RunnableProfileName;
  readonly policies: PolicyValues;
  readonly cpus: number;
  readonly spmd: string;
  readonly gic: string | null;
  readonly controllers: ReadonlySet<string>;
  readonly vms: readonly ValidVm[];
  readonly maxVms: number;
  readonly maxVcpusPerVm: number;
  readonly partitions: readonly PartitionInfo[];
  readonly maxPendingGuestCalls: number;
  readonly maxQueuedLifecycleOps: number;
  readonly teardownRetries: number;
  readonly teardownRetryDelayNs: number;
}

export const CONFIG_LIMITS = {
  cpusMax: 256,
  maxVmsMax: 4096,
  maxVcpusPerVmMax: 256,
  /** Xen ffa_private.h FFA_MAX_NUM_SP (ffa_partinfo_init refuses count >= it). */
  partitionsMax: 64,
  controllersMax: 64,
  nameLengthMax: 64,
  pendingCallsMax: 65_536,
  queuedOpsMax: 4096,
  teardownRetriesMax: 100,
  /** Xen DOMID_FIRST_RESERVED is 0x7FF0: domids below it, so FF-A IDs 1..0x7FF0 (ffa_domain_init -ERANGE). */
  vmIdMax: 0x7ff0,
} as const;

export const CONFIG_DEFAULTS = {
  profile: 'xen',
  cpus: 4,
  spmd: 'spmd',
  gic: 'gic',
  maxVms: 64,
  maxVcpusPerVm: 16,
  maxPendingGuestCalls: 256,
  maxQueuedLifecycleOps: 64,
  teardownRetries: 10,
  teardownRetryDelayNs: 1_000_000_000,
} as const;

/** OP-TEE thread_spmc.c my_uuid_words. */
export const OPTEE_UUID = '486178e0-e7f8-11e3-bc5e-0002a5d5c51b';

export class HypervisorConfigError extends Error {
  readonly code = 'HYPERVISOR_CONFIG_INVALID';
  override readonly name = 'HypervisorConfigError';
}

function fail(field: string, why: string): never {
  throw new HypervisorConfigError(`hypervisor config: ${field}: ${why}`);
}

const TOP_LEVEL_KEYS: readonly (keyof HypervisorConfig)[] = [
  'profile',
  'policies',
  'cpus',
  'spmd',
  'gic',
  'controllers',
  'vms',
  'maxVms',
  'maxVcpusPerVm',
  'partitions',
  'maxPendingGuestCalls',
  'maxQueuedLifecycleOps',
  'teardownRetries',
  'teardownRetryDelayNs',
];
const VM_KEYS: readonly (keyof VmConfig)[] = ['name', 'id', 'vcpus', 'component', 'pcpus'];
const PARTITION_KEYS: readonly (keyof PartitionConfig)[] = ['id', 'uuid', 'vcpus', 'messaging', 'notifications'];

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function plainObject(field: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, `must be an object, got ${show(value)}`);
  const unknownKeys = Object.keys(value).filter((key) => !keys.includes(key));
  if (unknownKeys.length > 0) fail(field, `unknown key(s) ${unknownKeys.join(', ')} (known: ${keys.join(', ')})`);
  return value as Record<string, unknown>;
}

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `must be an integer in ${min}..${max}, got ${show(value)}`);
  }
  return value;
}

function componentName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > CONFIG_LIMITS.nameLengthMax) {
    fail(field, `must be a name of 1..${CONFIG_LIMITS.nameLengthMax} characters, got ${show(value)}`);
  }
  return value;
}

function listOf<T>(field: string, value: unknown, maxLength: number, item: (field: string, value: unknown, index: number) => T): T[] {
  if (!Array.isArray(value) || value.length > maxLength) fail(field, `must be a list of at most ${maxLength}, got ${show(value)}`);
  return value.map((element, index) => item(`${field}[${index}]`, element, index));
}

function profileOf(value: unknown): RunnableProfileName {
  const profile = value ?? CONFIG_DEFAULTS.profile;
  if (!(PROFILE_NAMES as readonly unknown[]).includes(profile)) fail('profile', `must be one of ${PROFILE_NAMES.join(', ')}, got ${show(value)}`);
  if (profile === 'none') {
    fail('profile', '"none" is bare metal: the hypervisor component is absent from such a world (the host kernel calls the SPMD itself)');
  }
  return profile as RunnableProfileName;
}

function policiesOf(profile: RunnableProfileName, overrides: unknown): PolicyValues {
  if (overrides === undefined) return PROFILES[profile].policies;
  const raw = plainObject('policies', overrides, Object.keys(overrides ?? {}));
  for (const [name, value] of Object.entries(raw)) {
    if (!isPolicyName(name)) fail(`policies.${name}`, 'is not a policy of the hypervisor');
    const verdict = checkPolicyValue(name, value);
    if (!verdict.ok) fail(`policies.${name}`, verdict.why);
  }
  return { ...PROFILES[profile].policies, ...(raw as Partial<PolicyValues>) };
}

function pcpusOf(field: string, value: unknown, vcpus: number, cpus: number): number[] | null {
  if (value === undefined) return null;
  const pcpus = listOf(field, value, vcpus, (f, cpu) => integerIn(f, cpu, 0, cpus - 1));
  if (pcpus.length !== vcpus) fail(field, `must name a CPU for each of the ${vcpus} vCPUs, got ${pcpus.length}`);
  return pcpus;
}

/** One VM description; also used for `vm-create` control requests (hence exported). */
export function validateVm(field: string, raw: unknown, limits: { cpus: number; maxVcpusPerVm: number }): ValidVm {
  const vm = plainObject(field, raw, VM_KEYS);
  const name = componentName(`${field}.name`, vm['name']);
  const vcpus = integerIn(`${field}.vcpus`, vm['vcpus'], 1, limits.maxVcpusPerVm);
  return {
    name,
    id: vm['id'] === undefined ? null : integerIn(`${field}.id`, vm['id'], 1, CONFIG_LIMITS.vmIdMax),
    vcpus,
    component: vm['component'] === undefined ? name : componentName(`${field}.component`, vm['component']),
    pcpus: pcpusOf(`${field}.pcpus`, vm['pcpus'], vcpus, limits.cpus),
  };
}

function vmsOf(value: unknown, limits: { cpus: number; maxVcpusPerVm: number; maxVms: number }): ValidVm[] {
  if (value === undefined) return [];
  const vms = listOf('vms', value, limits.maxVms, (field, raw) => validateVm(field, raw, limits));
  vms.forEach((vm, index) => {
    if (vms.findIndex((other) => other.name === vm.name) !== index) fail(`vms[${index}].name`, `"${vm.name}" is used twice`);
    if (vm.id !== null && vms.findIndex((other) => other.id === vm.id) !== index) fail(`vms[${index}].id`, `${vm.id} is used twice`);
  });
  return vms;
}

/** Linux arm_ffa.h FFA_PARTITION_* bits, as the SPMC reports them (services/spmc partitions.ts). */
function propertiesOf(messaging: readonly MessagingMethod[], notifications: boolean): number {
  const P = PARTITION_PROPERTIES;
  let properties: number = P.aarch64;
  if (messaging.includes('direct')) properties |= P.directRequestReceive | P.directRequestSend;
  if (messaging.includes('indirect')) properties |= P.indirectMessages;
  if (notifications) properties |= P.notificationReceive;
  if (messaging.includes('vm-created')) properties |= P.vmCreatedMessage;
  if (messaging.includes('vm-destroyed')) properties |= P.vmDestroyedMessage;
  return properties >>> 0;
}

function partitionOf(field: string, raw: unknown): PartitionInfo {
  const partition = plainObject(field, raw, PARTITION_KEYS);
  const id = integerIn(`${field}.id`, partition['id'], 0, 0xffff);
  if (!isSecureId(id)) fail(`${field}.id`, `0x${id.toString(16)} is not a secure partition ID (bit 15 clear)`);
  const uuid = partition['uuid'] ?? NIL_UUID;
  if (typeof uuid !== 'string' || !isUuid(uuid)) fail(`${field}.uuid`, `must be a UUID, got ${show(uuid)}`);
  const messaging = partition['messaging'] ?? ['direct'];
  if (!Array.isArray(messaging) || messaging.some((m) => !(MESSAGING_METHODS as readonly unknown[]).includes(m))) {
    fail(`${field}.messaging`, `must be a list of ${MESSAGING_METHODS.join(', ')}`);
  }
  const notifications = partition['notifications'] ?? false;
  if (typeof notifications !== 'boolean') fail(`${field}.notifications`, 'must be a boolean');
  return {
    id,
    uuid: uuid.toLowerCase(),
    vcpus: partition['vcpus'] === undefined ? 1 : integerIn(`${field}.vcpus`, partition['vcpus'], 1, 0xffff),
    properties: propertiesOf(messaging as MessagingMethod[], notifications),
  };
}

/** OP-TEE with CFG_NS_VIRTUALIZATION (the SPMC's default optee profile): its SP takes VM_CREATED/DESTROYED. */
function defaultPartitions(cpus: number): PartitionInfo[] {
  return [{ id: OPTEE_SP_ID, uuid: OPTEE_UUID, vcpus: cpus, properties: propertiesOf(['direct', 'vm-created', 'vm-destroyed'], false) }];
}

function partitionsOf(value: unknown, cpus: number): PartitionInfo[] {
  if (value === undefined) return defaultPartitions(cpus);
  const partitions = listOf('partitions', value, CONFIG_LIMITS.partitionsMax - 1, (field, raw) => partitionOf(field, raw));
  partitions.forEach((partition, index) => {
    if (partitions.findIndex((other) => other.id === partition.id) !== index) fail(`partitions[${index}].id`, `0x${partition.id.toString(16)} is used twice`);
  });
  return partitions;
}

function controllersOf(value: unknown): Set<string> {
  if (value === undefined) return new Set();
  return new Set(listOf('controllers', value, CONFIG_LIMITS.controllersMax, (field, name) => componentName(field, name)));
}

function gicOf(value: unknown): string | null {
  if (value === null) return null;
  return componentName('gic', value ?? CONFIG_DEFAULTS.gic);
}

/** Checks a config and fills in the defaults; throws HypervisorConfigError naming the first bad field. */
export function validateHypervisorConfig(input: unknown): ValidHypervisorConfig {
  const config = plainObject('(root)', input ?? {}, TOP_LEVEL_KEYS);
  const d = CONFIG_DEFAULTS;
  const profile = profileOf(config['profile']);
  const cpus = integerIn('cpus', config['cpus'] ?? d.cpus, 1, CONFIG_LIMITS.cpusMax);
  const maxVms = integerIn('maxVms', config['maxVms'] ?? d.maxVms, 1, CONFIG_LIMITS.maxVmsMax);
  const maxVcpusPerVm = integerIn('maxVcpusPerVm', config['maxVcpusPerVm'] ?? d.maxVcpusPerVm, 1, CONFIG_LIMITS.maxVcpusPerVmMax);
  return {
    profile,
    policies: policiesOf(profile, config['policies']),
    cpus,
    spmd: componentName('spmd', config['spmd'] ?? d.spmd),
    gic: gicOf(config['gic']),
    controllers: controllersOf(config['controllers']),
    vms: vmsOf(config['vms'], { cpus, maxVcpusPerVm, maxVms }),
    maxVms,
    maxVcpusPerVm,
    partitions: partitionsOf(config['partitions'], cpus),
    maxPendingGuestCalls: integerIn('maxPendingGuestCalls', config['maxPendingGuestCalls'] ?? d.maxPendingGuestCalls, 1, CONFIG_LIMITS.pendingCallsMax),
    maxQueuedLifecycleOps: integerIn('maxQueuedLifecycleOps', config['maxQueuedLifecycleOps'] ?? d.maxQueuedLifecycleOps, 1, CONFIG_LIMITS.queuedOpsMax),
    teardownRetries: integerIn('teardownRetries', config['teardownRetries'] ?? d.teardownRetries, 0, CONFIG_LIMITS.teardownRetriesMax),
    teardownRetryDelayNs: integerIn('teardownRetryDelayNs', config['teardownRetryDelayNs'] ?? d.teardownRetryDelayNs, 0, 60_000_000_000),
  };
}

/** The config as one history record at start (every option printed with the run). */
export function describeConfig(config: ValidHypervisorConfig): Record<string, unknown> {
  return {
    profile: config.profile,
    policies: { ...config.policies },
    cpus: config.cpus,
    spmd: config.spmd,
    gic: config.gic,
    controllers: [...config.controllers],
    vms: config.vms.map((vm) => ({ ...vm, pcpus: vm.pcpus === null ? null : [...vm.pcpus] })),
    maxVms: config.maxVms,
    maxVcpusPerVm: config.maxVcpusPerVm,
    partitions: config.partitions.map((p) => ({ ...p })),
    maxPendingGuestCalls: config.maxPendingGuestCalls,
    maxQueuedLifecycleOps: config.maxQueuedLifecycleOps,
    teardownRetries: config.teardownRetries,
    teardownRetryDelayNs: config.teardownRetryDelayNs,
  };
}
