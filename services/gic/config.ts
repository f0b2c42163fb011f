/**
 * The GIC broker's configuration: plain data as a world file gives it (`GicConfig`), and the
 * checked form the broker runs on (`ValidGicConfig`). A bad config is a bug in the world, so
 * `validateGicConfig` throws a `GicConfigError` naming the field, at create.
 *
 * Defaults follow the platforms the reference describes (ffa-notifications.md §3.6): SGIs 0-7
 * are non-secure, SGIs 8-15 secure except the ones the secure world donates to the normal world
 * (OP-TEE `gic_init_donate_sgi_to_ns`: 8 on QEMU, 9 on FVP; Hafnium configures SGI 8 as NS);
 * every INTID enabled at priority 0xA0, and the SRI at 0xF0 as Hafnium's
 * `ffa_notifications_sri_init` configures it.
 */
import type { InterruptGroup } from '../../shared/runtime/messages.ts';
import { BANKED_COUNT, classifyIntid, SGI_LAST, SPI_FIRST, SPI_LAST_ARCHITECTURAL } from './intids.ts';

/** What a component may do at the GIC, keyed by its component name in `GicConfig.rights`. */
export interface GicRights {
  /** May raise physical interrupts (the SPMC raises the SRI; the hypervisor sends SGIs between its CPUs). */
  raisePhysical?: boolean;
  /** VMs (FF-A IDs) it may inject virtual interrupts into and report vCPU placement for; 'any': all. */
  raiseVirtual?: 'any' | number[];
  /** Physical CPUs whose interrupts (of its own world) it may receive; 'all': every CPU. */
  subscribePhysical?: number[] | 'all';
  /** VMs (FF-A IDs) whose vCPUs' virtual interrupts it may receive (a guest: its own). */
  subscribeVirtual?: number[];
  /** May change an INTID's group, enable, priority or routing (`gic-configure`). */
  configure?: boolean;
  /**
   * The component's security state (default 'nonsecure'). A non-secure component never receives,
   * raises or configures a secure-group interrupt (GICv3: Non-secure accesses to Secure
   * interrupts' state and configuration are RAZ/WI, IHI 0069 §4.6).
   */
  world?: InterruptGroup;
}

/** One INTID's initial settings, on top of the defaults. */
export interface InterruptSetting {
  intid: number;
  group?: InterruptGroup;
  enabled?: boolean;
  /** 0 (highest) .. 255 (lowest). */
  priority?: number;
  /** SGI/PPI only: which CPU's banked copy; absent: every CPU's. */
  cpu?: number;
  /** SPI only: the CPU it is routed to (GICD_IROUTER); default 0. */
  targetCpu?: number;
}

/** What a world file gives. Only `cpus` is required. */
export interface GicConfig {
  /** Physical CPUs (each has a redistributor and a CPU interface). */
  cpus: number;
  /** How many SPIs the distributor implements (INTIDs 32 .. 32 + spis - 1). */
  spis?: number;
  /** SGIs in 8..15 the secure world donates to the non-secure world (default [8, 9]). */
  donatedSgis?: number[];
  /** The schedule-receiver interrupt: always non-secure, at `sriPriority`; null: none. Default 8. */
  sriIntid?: number | null;
  sriPriority?: number;
  /** Priority of every other INTID unless `interrupts` says otherwise. */
  defaultPriority?: number;
  interrupts?: InterruptSetting[];
  /** Bound on VMs with virtual interrupt state. */
  maxVms?: number;
  /** Bound on vCPU indices per VM (vCPU 0 .. maxVcpusPerVm - 1). */
  maxVcpusPerVm?: number;
  /** List registers per vCPU (GICv3 ICH_VTR_EL2.ListRegs: 1..16). */
  listRegisters?: number;
  /** Bound on virtual interrupts held per vCPU when every list register is in use. */
  heldQueueMax?: number;
  /** Priority of every virtual interrupt. */
  virtualPriority?: number;
  rights?: Record<string, GicRights>;
}

export interface ValidRights {
  readonly raisePhysical: boolean;
  readonly raiseVirtual: 'any' | ReadonlySet<number>;
  readonly subscribePhysical: 'all' | ReadonlySet<number>;
  readonly subscribeVirtual: ReadonlySet<number>;
  readonly configure: boolean;
  readonly world: InterruptGroup;
}

export interface ValidInterruptSetting {
  readonly intid: number;
  readonly group: InterruptGroup | undefined;
  readonly enabled: boolean | undefined;
  readonly priority: number | undefined;
  readonly cpu: number | undefined;
  readonly targetCpu: number | undefined;
}

export interface ValidGicConfig {
  readonly cpus: number;
  readonly spis: number;
  readonly donatedSgis: ReadonlySet<number>;
  readonly sriIntid: number | null;
  readonly sriPriority: number;
  readonly defaultPriority: number;
  readonly interrupts: readonly ValidInterruptSetting[];
  readonly maxVms: number;
  readonly maxVcpusPerVm: number;
  readonly listRegisters: number;
  readonly heldQueueMax: number;
  readonly virtualPriority: number;
  readonly rights: ReadonlyMap<string, ValidRights>;
}

export const GIC_CONFIG_DEFAULTS = {
  spis: 32,
  donatedSgis: [8, 9],
  sriIntid: 8,
  sriPriority: 0xf0,
  defaultPriority: 0xa0,
  maxVms: 64,
  maxVcpusPerVm: 16,
  listRegisters: 4,
  heldQueueMax: 16,
  virtualPriority: 0xa0,
} as const;

/** Rights of a component the config does not name: none. */
export const NO_RIGHTS: ValidRights = {
  raisePhysical: false,
  raiseVirtual: new Set(),
  subscribePhysical: new Set(),
  subscribeVirtual: new Set(),
  configure: false,
  world: 'nonsecure',
};

export const LIMITS = {
  cpusMax: 256,
  spisMax: SPI_LAST_ARCHITECTURAL - SPI_FIRST + 1,
  priorityMax: 0xff,
  maxVmsMax: 4096,
  maxVcpusPerVmMax: 256,
  listRegistersMax: 16,
  heldQueueMaxMax: 1024,
  interruptsMax: 4096,
  rightsMax: 4096,
  /** VM IDs are FF-A partition IDs of the normal world: 1..0x7FFF (0 is the hypervisor, bit 15 SPs). */
  vmIdMin: 1,
  vmIdMax: 0x7fff,
} as const;

const CONFIG_KEYS: readonly (keyof GicConfig)[] = [
  'cpus',
  'spis',
  'donatedSgis',
  'sriIntid',
  'sriPriority',
  'defaultPriority',
  'interrupts',
  'maxVms',
  'maxVcpusPerVm',
  'listRegisters',
  'heldQueueMax',
  'virtualPriority',
  'rights',
];
const RIGHTS_KEYS: readonly (keyof GicRights)[] = [
  'raisePhysical',
  'raiseVirtual',
  'subscribePhysical',
  'subscribeVirtual',
  'configure',
  'world',
];
const SETTING_KEYS: readonly (keyof InterruptSetting)[] = ['intid', 'group', 'enabled', 'priority', 'cpu', 'targetCpu'];

/** A config the GIC cannot run with. Thrown at create. */
export class GicConfigError extends Error {
  readonly code = 'GIC_CONFIG_INVALID';
  override readonly name = 'GicConfigError';
}

function fail(why: string): never {
  throw new GicConfigError(`gic config: ${why}`);
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${field} must be an integer in ${min}..${max}, got ${show(value)}`);
  }
  return value;
}

function booleanOf(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(`${field} must be true or false, got ${show(value)}`);
  return value;
}

function groupOf(field: string, value: unknown): InterruptGroup {
  if (value !== 'secure' && value !== 'nonsecure') fail(`${field} must be 'secure' or 'nonsecure', got ${show(value)}`);
  return value;
}

function plainObject(field: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${field} must be an object, got ${show(value)}`);
  const unknownKeys = Object.keys(value).filter((key) => !keys.includes(key));
  if (unknownKeys.length > 0) fail(`${field}: unknown field(s) ${unknownKeys.join(', ')}; known: ${keys.join(', ')}`);
  return value as Record<string, unknown>;
}

function listOf<T>(field: string, value: unknown, maxLength: number, item: (field: string, value: unknown) => T): T[] {
  if (!Array.isArray(value) || value.length > maxLength) fail(`${field} must be an array of at most ${maxLength}, got ${show(value)}`);
  return value.map((element, index) => item(`${field}[${index}]`, element));
}

function optional<T>(value: unknown, parse: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

function donatedSgisOf(value: unknown): Set<number> {
  const sgis = listOf('donatedSgis', value, 8, (field, sgi) => integerIn(field, sgi, 8, SGI_LAST));
  return new Set(sgis);
}

function sriIntidOf(value: unknown, spis: number): number | null {
  if (value === null) return null;
  const intid = integerIn('sriIntid', value, 0, SPI_FIRST + spis - 1);
  if (classifyIntid(intid, spis) === 'spi') fail(`sriIntid must be an SGI or a PPI (a per-CPU interrupt), got ${intid}`);
  return intid;
}

function settingOf(field: string, value: unknown, cpus: number, spis: number): ValidInterruptSetting {
  const raw = plainObject(field, value, SETTING_KEYS);
  const intid = integerIn(`${field}.intid`, raw['intid'], 0, SPI_FIRST + spis - 1);
  const banked = intid < BANKED_COUNT;
  if (banked && raw['targetCpu'] !== undefined) fail(`${field}.targetCpu applies to SPIs only; INTID ${intid} is banked per CPU`);
  if (!banked && raw['cpu'] !== undefined) fail(`${field}.cpu applies to SGIs and PPIs only; INTID ${intid} is an SPI (use targetCpu)`);
  return {
    intid,
    group: optional(raw['group'], (v) => groupOf(`${field}.group`, v)),
    enabled: optional(raw['enabled'], (v) => booleanOf(`${field}.enabled`, v)),
    priority: optional(raw['priority'], (v) => integerIn(`${field}.priority`, v, 0, LIMITS.priorityMax)),
    cpu: optional(raw['cpu'], (v) => integerIn(`${field}.cpu`, v, 0, cpus - 1)),
    targetCpu: optional(raw['targetCpu'], (v) => integerIn(`${field}.targetCpu`, v, 0, cpus - 1)),
  };
}

function vmIdOf(field: string, value: unknown): number {
  return integerIn(field, value, LIMITS.vmIdMin, LIMITS.vmIdMax);
}

function rightsOf(field: string, value: unknown, cpus: number): ValidRights {
  const raw = plainObject(field, value, RIGHTS_KEYS);
  const raiseVirtual = raw['raiseVirtual'];
  const subscribePhysical = raw['subscribePhysical'];
  return {
    raisePhysical: optional(raw['raisePhysical'], (v) => booleanOf(`${field}.raisePhysical`, v)) ?? false,
    raiseVirtual:
      raiseVirtual === 'any'
        ? 'any'
        : new Set(optional(raiseVirtual, (v) => listOf(`${field}.raiseVirtual`, v, LIMITS.vmIdMax, vmIdOf)) ?? []),
    subscribePhysical:
      subscribePhysical === 'all'
        ? 'all'
        : new Set(
            optional(subscribePhysical, (v) =>
              listOf(`${field}.subscribePhysical`, v, cpus, (f, cpu) => integerIn(f, cpu, 0, cpus - 1)),
            ) ?? [],
          ),
    subscribeVirtual: new Set(
      optional(raw['subscribeVirtual'], (v) => listOf(`${field}.subscribeVirtual`, v, LIMITS.vmIdMax, vmIdOf)) ?? [],
    ),
    configure: optional(raw['configure'], (v) => booleanOf(`${field}.configure`, v)) ?? false,
    world: optional(raw['world'], (v) => groupOf(`${field}.world`, v)) ?? 'nonsecure',
  };
}

function rightsMapOf(value: unknown, cpus: number): Map<string, ValidRights> {
  if (value === undefined) return new Map();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`rights must be an object keyed by component name, got ${show(value)}`);
  const names = Object.keys(value);
  if (names.length > LIMITS.rightsMax) fail(`rights names more than ${LIMITS.rightsMax} components`);
  const byName = value as Record<string, unknown>;
  return new Map(names.map((name) => [name, rightsOf(`rights.${name}`, byName[name], cpus)]));
}

/** Checks a config and fills in the defaults; throws GicConfigError naming the first bad field. */
export function validateGicConfig(input: unknown): ValidGicConfig {
  const config = plainObject('the config', input, CONFIG_KEYS) as Partial<Record<keyof GicConfig, unknown>>;
  const d = GIC_CONFIG_DEFAULTS;
  const cpus = integerIn('cpus', config.cpus, 1, LIMITS.cpusMax);
  const spis = integerIn('spis', config.spis ?? d.spis, 0, LIMITS.spisMax);
  const heldQueueMax = integerIn('heldQueueMax', config.heldQueueMax ?? d.heldQueueMax, 0, LIMITS.heldQueueMaxMax);
  return {
    cpus,
    spis,
    donatedSgis: donatedSgisOf(config.donatedSgis ?? d.donatedSgis),
    sriIntid: sriIntidOf(config.sriIntid === undefined ? d.sriIntid : config.sriIntid, spis),
    sriPriority: integerIn('sriPriority', config.sriPriority ?? d.sriPriority, 0, LIMITS.priorityMax),
    defaultPriority: integerIn('defaultPriority', config.defaultPriority ?? d.defaultPriority, 0, LIMITS.priorityMax),
    interrupts: listOf('interrupts', config.interrupts ?? [], LIMITS.interruptsMax, (f, v) => settingOf(f, v, cpus, spis)),
    maxVms: integerIn('maxVms', config.maxVms ?? d.maxVms, 1, LIMITS.maxVmsMax),
    maxVcpusPerVm: integerIn('maxVcpusPerVm', config.maxVcpusPerVm ?? d.maxVcpusPerVm, 1, LIMITS.maxVcpusPerVmMax),
    listRegisters: integerIn('listRegisters', config.listRegisters ?? d.listRegisters, 1, LIMITS.listRegistersMax),
    heldQueueMax,
    virtualPriority: integerIn('virtualPriority', config.virtualPriority ?? d.virtualPriority, 0, LIMITS.priorityMax),
    rights: rightsMapOf(config.rights, cpus),
  };
}
