/**
 * The distributor's per-INTID configuration (GICv3 GICD_* and, for the banked INTIDs, each
 * redistributor's GICR_* registers): group, enable, priority; SGIs and PPIs banked per CPU, SPIs
 * global with a target CPU (GICD_IROUTER). It also holds the SPIs' pending and active state, which
 * GICv3 keeps in the distributor (IHI 0069 §12.9); the banked INTIDs' state is in redistributor.ts.
 */
import type { InterruptGroup } from '../../shared/protocol/messages.ts';
import type { ValidGicConfig, ValidInterruptSetting } from './config.ts';
import { inactiveSlot, type InterruptSlot } from './interrupt-state.ts';
import { BANKED_COUNT, classifyIntid, type IntidClass, SGI_LAST, SPI_FIRST } from './intids.ts';

/** One INTID's configuration at one place (a CPU's banked copy, or the SPI). */
export interface IntidSetting {
  group: InterruptGroup;
  enabled: boolean;
  priority: number;
}

/** A change asked for by gic-configure (absent fields unchanged). */
export interface SettingChange {
  readonly group?: InterruptGroup | undefined;
  readonly enabled?: boolean | undefined;
  readonly priority?: number | undefined;
  /** SPI only: route to this CPU. */
  readonly targetCpu?: number | undefined;
}

/** SGIs 8-15 belong to the secure world unless donated (docs/ffa-reference.md §3.6); the SRI is always non-secure. */
function defaultGroup(intid: number, config: ValidGicConfig): InterruptGroup {
  if (intid === config.sriIntid) return 'nonsecure';
  if (intid >= 8 && intid <= SGI_LAST && !config.donatedSgis.has(intid)) return 'secure';
  return 'nonsecure';
}

function defaultSetting(intid: number, config: ValidGicConfig): IntidSetting {
  return {
    group: defaultGroup(intid, config),
    enabled: true,
    priority: intid === config.sriIntid ? config.sriPriority : config.defaultPriority,
  };
}

function applyChange(setting: IntidSetting, change: SettingChange): void {
  if (change.group !== undefined) setting.group = change.group;
  if (change.enabled !== undefined) setting.enabled = change.enabled;
  if (change.priority !== undefined) setting.priority = change.priority;
}

export class Distributor {
  readonly cpus: number;
  readonly spis: number;
  /** [cpu][intid] for INTIDs 0..31. */
  private readonly banked: IntidSetting[][];
  /** [intid - 32]. */
  private readonly spiSettings: IntidSetting[];
  private readonly spiRoutes: number[];
  private readonly spiSlots: InterruptSlot[];

  constructor(config: ValidGicConfig) {
    this.cpus = config.cpus;
    this.spis = config.spis;
    this.banked = Array.from({ length: config.cpus }, () =>
      Array.from({ length: BANKED_COUNT }, (_, intid) => defaultSetting(intid, config)),
    );
    this.spiSettings = Array.from({ length: config.spis }, (_, index) => defaultSetting(SPI_FIRST + index, config));
    this.spiRoutes = new Array<number>(config.spis).fill(0);
    this.spiSlots = Array.from({ length: config.spis }, (_, index) => inactiveSlot(SPI_FIRST + index));
    for (const setting of config.interrupts) this.applyInitial(setting);
  }

  classify(intid: number): IntidClass | undefined {
    return classifyIntid(intid, this.spis);
  }

  /** The setting of a banked INTID on `cpu`, or of an SPI (cpu ignored). */
  setting(intid: number, cpu: number): IntidSetting {
    const setting = intid < BANKED_COUNT ? this.banked[cpu]?.[intid] : this.spiSettings[intid - SPI_FIRST];
    if (!setting) throw new Error(`gic: no setting for INTID ${intid} on CPU ${cpu}`);
    return setting;
  }

  /** The CPUs whose copy a change addresses: one CPU's, every CPU's, or the SPI's route. */
  settingsAddressed(intid: number, cpu: number | undefined): IntidSetting[] {
    if (intid >= BANKED_COUNT) return [this.setting(intid, 0)];
    if (cpu !== undefined) return [this.setting(intid, cpu)];
    return this.banked.map((_, each) => this.setting(intid, each));
  }

  route(spi: number): number {
    const route = this.spiRoutes[spi - SPI_FIRST];
    if (route === undefined) throw new Error(`gic: INTID ${spi} is not an SPI`);
    return route;
  }

  spiSlot(spi: number): InterruptSlot {
    const slot = this.spiSlots[spi - SPI_FIRST];
    if (!slot) throw new Error(`gic: INTID ${spi} is not an SPI`);
    return slot;
  }

  /** SPIs that matter to `cpu`: routed to it, or delivered or active on it. */
  spiSlotsFor(cpu: number): InterruptSlot[] {
    return this.spiSlots.filter((slot, index) => (slot.cpu === null ? this.spiRoutes[index] === cpu : slot.cpu === cpu));
  }

  /** Apply a change to the addressed copies (see `settingsAddressed`). */
  configure(intid: number, cpu: number | undefined, change: SettingChange): void {
    for (const setting of this.settingsAddressed(intid, cpu)) applyChange(setting, change);
    if (change.targetCpu !== undefined && intid >= BANKED_COUNT) this.spiRoutes[intid - SPI_FIRST] = change.targetCpu;
  }

  private applyInitial(setting: ValidInterruptSetting): void {
    this.configure(setting.intid, setting.cpu, setting);
  }
}
