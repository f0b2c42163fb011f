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
import { z } from 'zod';
import { flag, integerIn, listOf, must, oneOf, show, strictObject } from '../../shared/config/zod-kit.ts';
import { parseConfig, type ParseConfigOptions } from '../../shared/config/parse-config.ts';
import type { InterruptGroup } from '../../shared/protocol/messages.ts';
import { BANKED_COUNT, classifyIntid, SGI_LAST, SPI_FIRST, SPI_LAST_ARCHITECTURAL } from './intids.ts';

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

/** A config the GIC cannot run with. Thrown at create. */
export class GicConfigError extends Error {
  readonly code = 'GIC_CONFIG_INVALID';
  override readonly name = 'GicConfigError';
}

/** The sizes every other bound depends on (INTIDs of the SPIs implemented, CPUs that exist). */
interface GicSizes {
  readonly cpus: number;
  readonly spis: number;
}

const groupSchema = oneOf(['secure', 'nonsecure'], must("'secure' or 'nonsecure'"));
const priority = () => integerIn(0, LIMITS.priorityMax);
const vmIds = () => listOf(integerIn(LIMITS.vmIdMin, LIMITS.vmIdMax), LIMITS.vmIdMax, must(`an array of at most ${LIMITS.vmIdMax}`));
const cpuIndex = ({ cpus }: GicSizes) => integerIn(0, cpus - 1);
const intid = ({ spis }: GicSizes) => integerIn(0, SPI_FIRST + spis - 1);

/** What a component may do at the GIC, keyed by its component name in `GicConfig.rights`. */
function rightsSchema(sizes: GicSizes) {
  return strictObject({
    /** May raise physical interrupts (the SPMC raises the SRI; the hypervisor sends SGIs between its CPUs). */
    raisePhysical: flag().optional(),
    /** VMs (FF-A IDs) it may inject virtual interrupts into and report vCPU placement for; 'any': all. */
    raiseVirtual: z.union([z.literal('any'), vmIds()], must(`'any' or an array of at most ${LIMITS.vmIdMax}`)).optional(),
    /** Physical CPUs whose interrupts (of its own world) it may receive; 'all': every CPU. */
    subscribePhysical: z
      .union([listOf(cpuIndex(sizes), sizes.cpus, must(`an array of at most ${sizes.cpus}`)), z.literal('all')], must(`'all' or an array of at most ${sizes.cpus}`))
      .optional(),
    /** VMs (FF-A IDs) whose vCPUs' virtual interrupts it may receive (a guest: its own). */
    subscribeVirtual: vmIds().optional(),
    /** May change an INTID's group, enable, priority or routing (`gic-configure`). */
    configure: flag().optional(),
    /**
     * The component's security state (default 'nonsecure'). A non-secure component never receives,
     * raises or configures a secure-group interrupt (GICv3: Non-secure accesses to Secure
     * interrupts' state and configuration are RAZ/WI, IHI 0069 §4.6).
     */
    world: groupSchema.optional(),
  });
}

/** One INTID's initial settings, on top of the defaults. */
function settingSchema(sizes: GicSizes) {
  return strictObject({
    intid: intid(sizes),
    group: groupSchema.optional(),
    enabled: flag().optional(),
    /** 0 (highest) .. 255 (lowest). */
    priority: priority().optional(),
    /** SGI/PPI only: which CPU's banked copy; absent: every CPU's. */
    cpu: cpuIndex(sizes).optional(),
    /** SPI only: the CPU it is routed to (GICD_IROUTER); default 0. */
    targetCpu: cpuIndex(sizes).optional(),
  }).superRefine((setting, ctx) => {
    // A banked INTID (SGI/PPI) has one copy per CPU and no routing; an SPI has one copy, routed.
    const banked = setting.intid < BANKED_COUNT;
    if (banked && setting.targetCpu !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['targetCpu'], message: `applies to SPIs only; INTID ${setting.intid} is banked per CPU` });
    }
    if (!banked && setting.cpu !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['cpu'], message: `applies to SGIs and PPIs only; INTID ${setting.intid} is an SPI (use targetCpu)` });
    }
  });
}

/** The schedule-receiver interrupt is banked per CPU (an SGI or a PPI): it must reach the CPU the notification is for. */
function sriIntidSchema(sizes: GicSizes) {
  return intid(sizes).refine((value) => classifyIntid(value, sizes.spis) !== 'spi', {
    error: (issue) => `must be an SGI or a PPI (a per-CPU interrupt), got ${show(issue.input)}`,
  });
}

/** Read first: every other field's bounds depend on them. */
const sizesSchema = z.looseObject(
  {
    /** Physical CPUs (each has a redistributor and a CPU interface). */
    cpus: integerIn(1, LIMITS.cpusMax),
    /** How many SPIs the distributor implements (INTIDs 32 .. 32 + spis - 1). */
    spis: integerIn(0, LIMITS.spisMax).default(GIC_CONFIG_DEFAULTS.spis),
  },
  { error: (issue) => `must be an object, got ${show(issue.input)}` },
);

function gicConfigSchema(sizes: GicSizes) {
  const d = GIC_CONFIG_DEFAULTS;
  return strictObject({
    ...sizesSchema.shape,
    /** SGIs in 8..15 the secure world donates to the non-secure world (default [8, 9]). */
    donatedSgis: listOf(integerIn(8, SGI_LAST), 8, must('an array of at most 8')).default([...d.donatedSgis]),
    /** The schedule-receiver interrupt: always non-secure, at `sriPriority`; null: none. Default 8. */
    sriIntid: sriIntidSchema(sizes).nullable().default(d.sriIntid),
    sriPriority: priority().default(d.sriPriority),
    /** Priority of every other INTID unless `interrupts` says otherwise. */
    defaultPriority: priority().default(d.defaultPriority),
    interrupts: listOf(settingSchema(sizes), LIMITS.interruptsMax, must(`an array of at most ${LIMITS.interruptsMax}`)).default([]),
    /** Bound on VMs with virtual interrupt state. */
    maxVms: integerIn(1, LIMITS.maxVmsMax).default(d.maxVms),
    /** Bound on vCPU indices per VM (vCPU 0 .. maxVcpusPerVm - 1). */
    maxVcpusPerVm: integerIn(1, LIMITS.maxVcpusPerVmMax).default(d.maxVcpusPerVm),
    /** List registers per vCPU (GICv3 ICH_VTR_EL2.ListRegs: 1..16). */
    listRegisters: integerIn(1, LIMITS.listRegistersMax).default(d.listRegisters),
    /** Bound on virtual interrupts held per vCPU when every list register is in use. */
    heldQueueMax: integerIn(0, LIMITS.heldQueueMaxMax).default(d.heldQueueMax),
    /** Priority of every virtual interrupt. */
    virtualPriority: priority().default(d.virtualPriority),
    rights: z
      .record(z.string(), rightsSchema(sizes), must('an object keyed by component name'))
      .refine((rights) => Object.keys(rights).length <= LIMITS.rightsMax, `names more than ${LIMITS.rightsMax} components`)
      .default({}),
  });
}

/** What a world file gives. Only `cpus` is required. */
export type GicConfig = z.input<ReturnType<typeof gicConfigSchema>>;
export type GicRights = z.input<ReturnType<typeof rightsSchema>>;
export type InterruptSetting = z.input<ReturnType<typeof settingSchema>>;

const PARSE_OPTIONS: ParseConfigOptions = {
  component: 'gic',
  separator: ' ',
  root: 'the config',
  errorFactory: ({ message }) => new GicConfigError(message),
};

function validRights(rights: z.output<ReturnType<typeof rightsSchema>>): ValidRights {
  return {
    raisePhysical: rights.raisePhysical ?? false,
    raiseVirtual: rights.raiseVirtual === 'any' ? 'any' : new Set(rights.raiseVirtual ?? []),
    subscribePhysical: rights.subscribePhysical === 'all' ? 'all' : new Set(rights.subscribePhysical ?? []),
    subscribeVirtual: new Set(rights.subscribeVirtual ?? []),
    configure: rights.configure ?? false,
    world: rights.world ?? 'nonsecure',
  };
}

function validSetting(setting: InterruptSetting): ValidInterruptSetting {
  const { intid, group, enabled, priority, cpu, targetCpu } = setting;
  return { intid, group, enabled, priority, cpu, targetCpu };
}

/** Checks a config and fills in the defaults; throws GicConfigError naming the first bad field. */
export function validateGicConfig(input: unknown): ValidGicConfig {
  const sizes = parseConfig(sizesSchema, input, PARSE_OPTIONS);
  const config = parseConfig(gicConfigSchema(sizes), input, PARSE_OPTIONS);
  return {
    ...config,
    donatedSgis: new Set(config.donatedSgis),
    interrupts: config.interrupts.map(validSetting),
    rights: new Map(Object.entries(config.rights).map(([name, rights]) => [name, validRights(rights)])),
  };
}
