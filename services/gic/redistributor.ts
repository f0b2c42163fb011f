/**
 * One redistributor and CPU interface per physical CPU (GICv3 GICR_* and ICC_*): the pending and
 * active state of that CPU's banked SGIs and PPIs (IHI 0069 §12.10: GICR_ISPENDR0, GICR_ISACTIVER0),
 * and, with the distributor's SPIs routed or active here, the view its CPU interface prioritises
 * (running priority, what to signal next).
 */
import { BANKED_COUNT } from './intids.ts';
import { inactiveSlot, type InterruptSlot } from './interrupt-state.ts';

export class Redistributor {
  private readonly slots: InterruptSlot[];

  constructor(readonly cpu: number) {
    this.slots = Array.from({ length: BANKED_COUNT }, (_, intid) => inactiveSlot(intid));
  }

  /** This CPU's copy of SGI/PPI `intid`. */
  slot(intid: number): InterruptSlot {
    const slot = this.slots[intid];
    if (!slot) throw new Error(`gic: INTID ${intid} is not banked`);
    return slot;
  }

  all(): readonly InterruptSlot[] {
    return this.slots;
  }
}

export function redistributorsFor(cpus: number): Redistributor[] {
  return Array.from({ length: cpus }, (_, cpu) => new Redistributor(cpu));
}
