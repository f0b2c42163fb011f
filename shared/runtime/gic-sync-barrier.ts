/**
 * A component's barrier towards the GIC broker (services/gic: control gic-sync is answered
 * gic-synced once the GIC has handled everything the sender sent before it, on the FIFO link).
 * A controller asks the component (`<op>`); the component sends gic-sync and answers
 * `<op>-result` { ok } when the GIC's answer comes, oldest request first. The hypervisor's
 * hypervisor-sync (its NPIs reached the GIC) and the SPMC's spmc-sync (its SRIs did) are this.
 */
import type { ControlOp } from '../protocol/control.ts';
import type { ComponentContext } from './component.ts';

/** The ops a controller sends a component that has the barrier. */
export type BarrierOp = Extract<ControlOp, 'hypervisor-sync' | 'spmc-sync'>;

/** Bound on requests waiting for the GIC's answer (a controller asking faster than that is refused). */
const PENDING_SYNCS_MAX = 64;

export class GicSyncBarrier {
  /** Who asked, oldest first: the GIC answers gic-sync in order. */
  private readonly pending: string[] = [];

  constructor(
    private readonly ctx: ComponentContext,
    private readonly gic: string | null,
    /** The control op controllers send (`hypervisor-sync`, `spmc-sync`). */
    readonly op: BarrierOp,
  ) {}

  /** A controller asked: answered now without a GIC, refused past the bound, else once the GIC answers. */
  request(from: string): void {
    if (this.gic === null) return this.answer(from, true);
    if (this.pending.length >= PENDING_SYNCS_MAX) return this.answer(from, false);
    this.pending.push(from);
    this.ctx.send(this.gic, { kind: 'control', op: 'gic-sync', data: null });
  }

  /** The GIC's gic-synced: the oldest request is answered. */
  onGicSynced(): void {
    const requester = this.pending.shift();
    if (requester === undefined) {
      this.ctx.record({ event: 'message-ignored', from: this.gic ?? 'gic', kind: 'control', op: 'gic-synced' });
      return;
    }
    this.answer(requester, true);
  }

  private answer(to: string, ok: boolean): void {
    this.ctx.send(to, { kind: 'control', op: `${this.op}-result`, data: { ok } });
  }
}
