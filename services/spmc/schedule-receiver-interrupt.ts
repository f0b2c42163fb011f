/**
 * The schedule-receiver interrupt (docs/ffa-reference.md §3.6): a non-secure SGI the SPMC raises on the CPU
 * that made a notification pending, telling the NWd scheduler to call FFA_NOTIFICATION_INFO_GET.
 * Raised at once, or (Hafnium, DELAY_SRI) at the next return to the normal world on that CPU:
 * src/ffa/spmc/notifications.c plat_ffa_sri_set_delayed / plat_ffa_sri_trigger_if_delayed.
 * Every raise is recorded (`sri-raise`); with a GIC broker configured it is also sent there.
 */
import type { ComponentContext } from '../../shared/runtime/component.ts';

export class ScheduleReceiverInterrupt {
  /** Hafnium cpu->is_sri_delayed, one per physical CPU. */
  private readonly delayedOnCpu: boolean[];

  constructor(
    private readonly ctx: ComponentContext,
    private readonly gic: string | null,
    private readonly intid: number,
    cpus: number,
  ) {
    this.delayedOnCpu = new Array<boolean>(cpus).fill(false);
  }

  /** OP-TEE interrupt_raise_sgi(..., ITR_CPU_MASK_TO_THIS_CPU); Hafnium plat_ffa_sri_trigger_not_delayed. */
  raiseNow(cpu: number): void {
    this.delayedOnCpu[cpu] = false;
    this.send(cpu, false);
  }

  delay(cpu: number): void {
    this.delayedOnCpu[cpu] = true;
    this.ctx.record({ event: 'sri-delayed', cpu, intid: this.intid });
  }

  /** Called just before the SPMC returns to the normal world on `cpu`. */
  onReturnToNormalWorld(cpu: number): void {
    if (!this.delayedOnCpu[cpu]) return;
    this.delayedOnCpu[cpu] = false;
    this.send(cpu, true);
  }

  private send(cpu: number, delayed: boolean): void {
    this.ctx.record({ event: 'sri-raise', cpu, intid: this.intid, delayed });
    if (this.gic === null) return;
    this.ctx.send(this.gic, { kind: 'irq', op: 'raise', intid: this.intid, group: 'nonsecure', cpu, vm: -1, vcpu: -1 });
  }
}
