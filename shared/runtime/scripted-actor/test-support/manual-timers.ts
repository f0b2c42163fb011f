/**
 * A kernel's context for unit tests: a clock that moves only when the test says, timers that fire
 * in (time, set order) as it moves, and calls answered by the test.
 */
import type { CallOutcome, CallRequest, TimerHandle } from '../../component.ts';
import type { AwaitingContext } from '../awaiting.ts';

interface Timer {
  readonly handle: TimerHandle;
  readonly atNs: number;
  readonly onFire: () => void;
}

export class ManualContext implements AwaitingContext {
  private nowNs = 0;
  private timers: Timer[] = [];
  private nextHandle = 1;
  readonly callsMade: { to: string; request: CallRequest; answer: (outcome: CallOutcome) => void }[] = [];

  readonly clock = { nowNs: (): number => this.nowNs };

  setTimer(delayNs: number, onFire: () => void): TimerHandle {
    const handle = this.nextHandle++;
    this.timers.push({ handle, atNs: this.nowNs + delayNs, onFire });
    return handle;
  }

  cancelTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer.handle !== handle);
  }

  call(to: string, request: CallRequest, onReturn: (outcome: CallOutcome) => void): void {
    this.callsMade.push({ to, request, answer: onReturn });
  }

  get timersSet(): number {
    return this.timers.length;
  }

  /** Moves the clock `byNs` on, firing every timer due on the way, earliest (then first set) first. */
  advance(byNs: number): void {
    const until = this.nowNs + byNs;
    for (;;) {
      const due = this.timers.filter((timer) => timer.atNs <= until).sort((a, b) => a.atNs - b.atNs || a.handle - b.handle)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.nowNs = due.atNs;
      due.onFire();
    }
    this.nowNs = until;
  }
}
