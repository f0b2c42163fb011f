/**
 * What a ws world's user waits on (ws-world.ts waitFor, quiescent): a condition over the history,
 * checked as events arrive, or a quiet spell with no event. Every wait is bounded by its timeout
 * and ends at once when a component crashes.
 */
import type { Clock } from '../component.ts';
import type { WaitOutcome } from './ws-world.ts';

interface ConditionWaiter {
  condition: () => boolean;
  settle(outcome: WaitOutcome): void;
}

export class ConditionWaiters {
  private readonly waiters = new Set<ConditionWaiter>();
  private checkScheduled = false;
  private lastEventNs: number;

  constructor(
    private readonly clock: Clock,
    /** Whether a component crashed: no wait outlives that. */
    private readonly crashed: () => boolean,
  ) {
    this.lastEventNs = clock.nowNs();
  }

  waitFor(condition: () => boolean, timeoutMs: number): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      if (condition()) return resolve('met');
      if (this.crashed()) return resolve('crashed');
      const timer = setTimeout(() => waiter.settle('timeout'), timeoutMs);
      const waiter: ConditionWaiter = {
        condition,
        settle: (outcome) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(outcome);
        },
      };
      this.waiters.add(waiter);
    });
  }

  quiescent(quietMs: number, timeoutMs: number): Promise<WaitOutcome> {
    const pollMs = Math.max(1, Math.min(50, Math.floor(quietMs / 4)));
    const giveUpNs = this.clock.nowNs() + timeoutMs * 1e6;
    return new Promise((resolve) => {
      const poll = (): void => {
        const now = this.clock.nowNs();
        if (this.crashed()) resolve('crashed');
        else if (now - this.lastEventNs >= quietMs * 1e6) resolve('met');
        else if (now >= giveUpNs) resolve('timeout');
        else setTimeout(poll, pollMs);
      };
      poll();
    });
  }

  /** A history event arrived: conditions are checked once per turn of the event loop, not once per event. */
  onEvent(): void {
    this.lastEventNs = this.clock.nowNs();
    if (this.checkScheduled || this.waiters.size === 0) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      for (const waiter of [...this.waiters]) if (waiter.condition()) waiter.settle('met');
    });
  }

  /** Ends every wait with `outcome` (a crash, or the world stopped). */
  settleAll(outcome: WaitOutcome): void {
    for (const waiter of [...this.waiters]) waiter.settle(outcome);
  }
}
