/**
 * The guest's configuration: plain data as a world file gives it (`GuestConfig`), and the checked
 * form the guest runs on (`ValidGuestConfig`). A bad config is a bug in the world:
 * `validateGuestConfig` throws a GuestConfigError naming the field, at create.
 *
 * `partitions` stands for what FFA_PARTITION_INFO_GET writes into the RX buffer (memory is not
 * modelled, so descriptors cannot travel): the driver still makes the calls and checks the count
 * and descriptor size the firmware returns in registers against this list. With
 * FFA_PARTITION_INFO_GET_REGS the descriptors do travel (in x3..x17) and this list is not used.
 */
import { isSecureId, isUuid, NIL_UUID, OPTEE_SP_ID, PARTITION_PROPERTIES, type PartitionInfo } from '../../shared/ffa/index.ts';
import type { Conduit } from '../../shared/runtime/messages.ts';
import { isVariantName, VARIANT_NAMES, type VariantName } from './variants.ts';

/** drivers/tee/optee/ffa_abi.c optee_ffa_device_id: OP-TEE's UUID. */
export const OPTEE_UUID = '486178e0-e7f8-11e3-bc5e-0002a5d5c51b';

/** When the kernel starts running its drivers. */
export type BootTrigger =
  /** Bare metal: the kernel runs from the start of the world. */
  | 'at-start'
  /** A guest: the hypervisor unpaused the domain and told us a vCPU is online. */
  | 'on-vcpu-online';

export interface GuestPolicies {
  /**
   * driver.c ffa_notification_info_get: `if (ids_processed >= max_ids - 1) break;` so the 20th
   * (10th) ID of a full response is never processed (reference §4.3, §8.15). false: all of them.
   */
  maxIdsQuirk: boolean;
  /** Iterations of the INFO_GET "more pending" loop before giving up (Linux has no bound). */
  infoGetLoopBound: number;
  /** Each work item starts after a seeded delay in [0, workJitterNs] (vCPUs interleave per seed). */
  workJitterNs: number;
  /** FFA_INTERRUPT/FFA_YIELD → FFA_RUN resumptions of one direct request (Linux: unbounded). */
  runLoopBound: number;
  /** Work items queued per vCPU before a new one is refused (and recorded). */
  maxQueuedWorkPerVcpu: number;
  /**
   * Partition discovery (driver.c ffa_partition_probe): 'when-offered' uses
   * FFA_PARTITION_INFO_GET_REGS when FFA_FEATURES says it is supported (the driver read, v6.12+);
   * 'never' always uses FFA_PARTITION_INFO_GET and the RX buffer, as drivers before it did.
   */
  partitionInfoRegs: 'when-offered' | 'never';
}

export const POLICY_DEFAULTS: GuestPolicies = {
  maxIdsQuirk: true,
  infoGetLoopBound: 32,
  workJitterNs: 2_000,
  runLoopBound: 16,
  maxQueuedWorkPerVcpu: 64,
  partitionInfoRegs: 'when-offered',
};

/** One partition descriptor as the RX buffer would hold it. */
export interface PartitionConfig {
  id: number;
  uuid?: string;
  vcpus?: number;
  /** Default: direct messages both ways, AArch64 (OP-TEE's my_part_props without VM_CREATED). */
  properties?: number;
}

export interface GuestConfig {
  variant: VariantName;
  /** The VM's name: the subject of the hypervisor's lifecycle messages (default: the component name). */
  name?: string;
  /** The FF-A ID this guest expects (checked against FFA_ID_GET); default: learnt from ID_GET. */
  vmId?: number;
  vcpus: number;
  /** The component the driver's SMC/HVC goes to: 'hypervisor' under Xen, 'spmd' on bare metal. */
  firmware: string;
  conduit: Conduit;
  /** The GIC broker (default 'gic'); null: no interrupts reach this guest. */
  gic?: string | null;
  /** The physical CPU of each vCPU until the hypervisor says otherwise (default: vCPU i on CPU i). */
  placement?: number[];
  /**
   * Default: 'on-vcpu-online' on conduit hvc, 'at-start' otherwise. It also says where the kernel
   * runs: booted by a hypervisor, its interrupts are virtual (the VM's vCPUs at the GIC); at start,
   * it is the bare-metal host and its interrupts are physical (every CPU's non-secure group).
   */
  boot?: BootTrigger;
  /** Probe drivers/tee/optee/ffa_abi.c on the OP-TEE partition after the FF-A driver. */
  opteeClient?: boolean;
  /** Components whose control messages drive the notifier API and raw calls. */
  controllers?: string[];
  /** Components told of milestones (`guest-event` control messages): probe done, callbacks, bottom halves. */
  observers?: string[];
  partitions?: PartitionConfig[];
  policies?: Partial<GuestPolicies>;
}

export interface ValidGuestConfig {
  readonly variant: VariantName;
  readonly name: string;
  readonly vmId: number | null;
  readonly vcpus: number;
  readonly firmware: string;
  readonly conduit: Conduit;
  readonly gic: string | null;
  readonly placement: readonly number[];
  readonly boot: BootTrigger;
  readonly opteeClient: boolean;
  readonly controllers: ReadonlySet<string>;
  readonly observers: readonly string[];
  readonly partitions: readonly PartitionInfo[];
  readonly policies: GuestPolicies;
}

export const CONFIG_LIMITS = {
  vcpusMax: 64,
  cpuMax: 255,
  partitionsMax: 64,
  namesMax: 64,
  nameLengthMax: 64,
  infoGetLoopBoundMax: 4096,
  workJitterNsMax: 1_000_000_000,
  runLoopBoundMax: 1024,
  maxQueuedWorkMax: 4096,
} as const;

export class GuestConfigError extends Error {
  readonly code = 'GUEST_CONFIG_INVALID';
  override readonly name = 'GuestConfigError';
}

function fail(field: string, why: string): never {
  throw new GuestConfigError(`guest config: ${field}: ${why}`);
}

const TOP_LEVEL_KEYS: readonly (keyof GuestConfig)[] = [
  'variant',
  'name',
  'vmId',
  'vcpus',
  'firmware',
  'conduit',
  'gic',
  'placement',
  'boot',
  'opteeClient',
  'controllers',
  'observers',
  'partitions',
  'policies',
];
const PARTITION_KEYS: readonly (keyof PartitionConfig)[] = ['id', 'uuid', 'vcpus', 'properties'];
const POLICY_KEYS = Object.keys(POLICY_DEFAULTS) as (keyof GuestPolicies)[];

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

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

function namesOf(field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > CONFIG_LIMITS.namesMax) fail(field, `must be a list of at most ${CONFIG_LIMITS.namesMax} names`);
  return value.map((name, index) => componentName(`${field}[${index}]`, name));
}

function placementOf(value: unknown, vcpus: number): number[] {
  if (value === undefined) return Array.from({ length: vcpus }, (_, index) => index);
  if (!Array.isArray(value) || value.length !== vcpus) fail('placement', `must name a physical CPU for each of the ${vcpus} vCPUs`);
  return value.map((cpu, index) => integerIn(`placement[${index}]`, cpu, 0, CONFIG_LIMITS.cpuMax));
}

const DEFAULT_PROPERTIES =
  PARTITION_PROPERTIES.directRequestReceive | PARTITION_PROPERTIES.directRequestSend | PARTITION_PROPERTIES.aarch64;

function partitionOf(field: string, raw: unknown): PartitionInfo {
  const partition = plainObject(field, raw, PARTITION_KEYS);
  const id = integerIn(`${field}.id`, partition['id'], 0, 0xffff);
  const uuid = partition['uuid'] ?? NIL_UUID;
  if (typeof uuid !== 'string' || !isUuid(uuid)) fail(`${field}.uuid`, `must be a UUID, got ${show(uuid)}`);
  return {
    id,
    uuid: uuid.toLowerCase(),
    vcpus: partition['vcpus'] === undefined ? 1 : integerIn(`${field}.vcpus`, partition['vcpus'], 1, 0xffff),
    properties: partition['properties'] === undefined ? DEFAULT_PROPERTIES : integerIn(`${field}.properties`, partition['properties'], 0, 0xffff_ffff),
  };
}

/** The SPMC's default world: OP-TEE's logical SP 0x8001 (reference §1.5). */
function defaultPartitions(vcpus: number): PartitionInfo[] {
  return [{ id: OPTEE_SP_ID, uuid: OPTEE_UUID, vcpus, properties: DEFAULT_PROPERTIES }];
}

function partitionsOf(value: unknown, vcpus: number): PartitionInfo[] {
  if (value === undefined) return defaultPartitions(vcpus);
  if (!Array.isArray(value) || value.length > CONFIG_LIMITS.partitionsMax) fail('partitions', `must be a list of at most ${CONFIG_LIMITS.partitionsMax}`);
  const partitions = value.map((raw, index) => partitionOf(`partitions[${index}]`, raw));
  partitions.forEach((partition, index) => {
    if (partitions.findIndex((other) => other.id === partition.id) !== index) fail(`partitions[${index}].id`, `0x${partition.id.toString(16)} is used twice`);
  });
  return partitions;
}

function policiesOf(value: unknown): GuestPolicies {
  if (value === undefined) return { ...POLICY_DEFAULTS };
  const raw = plainObject('policies', value, POLICY_KEYS);
  const maxIdsQuirk = raw['maxIdsQuirk'] ?? POLICY_DEFAULTS.maxIdsQuirk;
  if (typeof maxIdsQuirk !== 'boolean') fail('policies.maxIdsQuirk', 'must be true or false');
  const partitionInfoRegs = raw['partitionInfoRegs'] ?? POLICY_DEFAULTS.partitionInfoRegs;
  if (partitionInfoRegs !== 'when-offered' && partitionInfoRegs !== 'never') fail('policies.partitionInfoRegs', "must be 'when-offered' or 'never'");
  const L = CONFIG_LIMITS;
  const d = POLICY_DEFAULTS;
  return {
    maxIdsQuirk,
    infoGetLoopBound: integerIn('policies.infoGetLoopBound', raw['infoGetLoopBound'] ?? d.infoGetLoopBound, 1, L.infoGetLoopBoundMax),
    workJitterNs: integerIn('policies.workJitterNs', raw['workJitterNs'] ?? d.workJitterNs, 0, L.workJitterNsMax),
    runLoopBound: integerIn('policies.runLoopBound', raw['runLoopBound'] ?? d.runLoopBound, 0, L.runLoopBoundMax),
    maxQueuedWorkPerVcpu: integerIn('policies.maxQueuedWorkPerVcpu', raw['maxQueuedWorkPerVcpu'] ?? d.maxQueuedWorkPerVcpu, 1, L.maxQueuedWorkMax),
    partitionInfoRegs,
  };
}

function conduitOf(value: unknown): Conduit {
  if (value !== 'hvc' && value !== 'smc') fail('conduit', `must be 'hvc' or 'smc', got ${show(value)}`);
  return value;
}

function bootOf(value: unknown, conduit: Conduit): BootTrigger {
  if (value === undefined) return conduit === 'hvc' ? 'on-vcpu-online' : 'at-start';
  if (value !== 'at-start' && value !== 'on-vcpu-online') fail('boot', `must be 'at-start' or 'on-vcpu-online', got ${show(value)}`);
  return value;
}

function vmIdOf(value: unknown): number | null {
  if (value === undefined) return null;
  const id = integerIn('vmId', value, 0, 0xffff);
  if (isSecureId(id)) fail('vmId', `0x${id.toString(16)} is a secure-world ID`);
  return id;
}

/** Checks a config and fills in the defaults; throws GuestConfigError naming the first bad field. */
export function validateGuestConfig(input: unknown, componentName_: string): ValidGuestConfig {
  const config = plainObject('(root)', input, TOP_LEVEL_KEYS);
  if (!isVariantName(config['variant'])) fail('variant', `must be one of ${VARIANT_NAMES.join(', ')}, got ${show(config['variant'])}`);
  const vcpus = integerIn('vcpus', config['vcpus'], 1, CONFIG_LIMITS.vcpusMax);
  const conduit = conduitOf(config['conduit']);
  const opteeClient = config['opteeClient'] ?? false;
  if (typeof opteeClient !== 'boolean') fail('opteeClient', 'must be true or false');
  const gic = config['gic'] === null ? null : componentName('gic', config['gic'] ?? 'gic');
  return {
    variant: config['variant'],
    name: config['name'] === undefined ? componentName_ : componentName('name', config['name']),
    vmId: vmIdOf(config['vmId']),
    vcpus,
    firmware: componentName('firmware', config['firmware']),
    conduit,
    gic,
    placement: placementOf(config['placement'], vcpus),
    boot: bootOf(config['boot'], conduit),
    opteeClient,
    controllers: new Set(namesOf('controllers', config['controllers'])),
    observers: namesOf('observers', config['observers']),
    partitions: partitionsOf(config['partitions'], vcpus),
    policies: policiesOf(config['policies']),
  };
}

/** The config as one history record at start (every option printed with the run). */
export function describeConfig(config: ValidGuestConfig): Record<string, unknown> {
  return {
    variant: config.variant,
    name: config.name,
    vmId: config.vmId,
    vcpus: config.vcpus,
    firmware: config.firmware,
    conduit: config.conduit,
    gic: config.gic,
    placement: [...config.placement],
    boot: config.boot,
    opteeClient: config.opteeClient,
    controllers: [...config.controllers],
    observers: [...config.observers],
    partitions: config.partitions.map((p) => ({ ...p })),
    policies: { ...config.policies },
  };
}
