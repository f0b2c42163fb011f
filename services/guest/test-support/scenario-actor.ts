/**
 * A scripted actor for the guest's tests: the experimenter around a world. One step after another
 * it waits for a guest's milestones (the `guest-event` control messages a guest sends its
 * observers), sends control messages (an SP's send to the SPMC, a vCPU going offline at the
 * hypervisor, notifier calls to a guest) and waits for their answers, or lets time pass.
 * Everything goes through the runtime; the tests read the history.
 *
 * Records: actor-event per awaited guest event, actor-control per awaited answer, actor-timeout
 * when an await gives up (the script goes on, so the assertions say what is missing), actor-mark
 * per mark step (a point in the script a test harness acts on, link-cut.ts), and
 * `{ event: 'done' }` at the end.
 */
import type { Component, ComponentContext, ComponentFactory, TimerHandle } from '../../../shared/runtime/component.ts';
import { controlMessageOf, type AwaitedOp, type ControlRequest } from '../../../shared/protocol/control.ts';
import type { Message } from '../../../shared/protocol/messages.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';

export type ActorStep =
  /** Wait for guest `from`'s `guest-event` with this event and every field of `match`. */
  | { do: 'await-event'; label: string; from: string; event: RecordEvent; match?: Record<string, unknown>; timeoutNs?: number }
  /** Send a control message; with `awaitOp`, wait for `to`'s control message of that op. */
  | ({ do: 'control'; label: string; to: string; awaitOp?: AwaitedOp } & ControlRequest)
  | { do: 'wait'; ns: number }
  /** Record actor-mark {label}: a point in the script the test harness acts on (link-cut.ts). */
  | { do: 'mark'; label: string };

export interface ScenarioActorConfig {
  steps: ActorStep[];
  /** Default bound on one await (runtime time; default 20 s). */
  awaitTimeoutNs?: number;
}

const DEFAULT_AWAIT_TIMEOUT_NS = 20_000_000_000;
const INBOX_MAX = 10_000;

interface Received {
  readonly from: string;
  readonly op: string;
  readonly data: Record<string, unknown>;
  consumed: boolean;
}

interface Waiter {
  readonly matches: (entry: Received) => boolean;
  readonly onMatch: (entry: Received) => void;
  readonly timer: TimerHandle;
}

function dataOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

class ScenarioActor implements Component {
  private readonly inbox: Received[] = [];
  private waiter: Waiter | undefined;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: ScenarioActorConfig,
  ) {}

  onStart(): void {
    this.run(0);
  }

  onMessage(from: string, message: Message): void {
    if (message.kind !== 'control') {
      this.ctx.record({ event: 'actor-received', from, kind: message.kind });
      return;
    }
    if (this.inbox.length < INBOX_MAX) this.inbox.push({ from, op: message.op, data: dataOf(message.data), consumed: false });
    this.checkWaiter();
  }

  private run(index: number): void {
    const step = this.config.steps[index];
    if (!step) {
      this.ctx.record({ event: 'done' });
      return;
    }
    const next = () => this.run(index + 1);
    switch (step.do) {
      case 'await-event': {
        const wanted = { event: step.event, ...step.match };
        const matches = (entry: Received) =>
          entry.from === step.from && entry.op === 'guest-event' && Object.entries(wanted).every(([key, value]) => entry.data[key] === value);
        this.await(step.label, matches, step.timeoutNs, (entry) => {
          this.ctx.record({ event: 'actor-event', label: step.label, data: entry.data });
          next();
        }, next);
        return;
      }
      case 'control':
        this.ctx.send(step.to, controlMessageOf(step));
        if (step.awaitOp === undefined) return next();
        this.await(step.label, (entry) => entry.from === step.to && entry.op === step.awaitOp, undefined, (entry) => {
          this.ctx.record({ event: 'actor-control', label: step.label, op: entry.op, data: entry.data });
          next();
        }, next);
        return;
      case 'wait':
        this.ctx.setTimer(step.ns, next);
        return;
      case 'mark':
        this.ctx.record({ event: 'actor-mark', label: step.label });
        return next();
    }
  }

  private await(label: string, matches: (entry: Received) => boolean, timeoutNs: number | undefined, onMatch: (entry: Received) => void, onTimeout: () => void): void {
    const accepts = (entry: Received) => !entry.consumed && matches(entry);
    const found = this.inbox.find(accepts);
    if (found) {
      found.consumed = true;
      onMatch(found);
      return;
    }
    const timer = this.ctx.setTimer(timeoutNs ?? this.config.awaitTimeoutNs ?? DEFAULT_AWAIT_TIMEOUT_NS, () => {
      this.waiter = undefined;
      this.ctx.record({ event: 'actor-timeout', label });
      onTimeout();
    });
    this.waiter = { matches: accepts, onMatch, timer };
  }

  private checkWaiter(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const found = this.inbox.find(waiter.matches);
    if (!found) return;
    found.consumed = true;
    this.waiter = undefined;
    this.ctx.cancelTimer(waiter.timer);
    waiter.onMatch(found);
  }
}

export const create: ComponentFactory<ScenarioActorConfig> = (ctx, config) => new ScenarioActor(ctx, config);
