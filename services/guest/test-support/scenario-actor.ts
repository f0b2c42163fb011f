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
 *
 * The steps run, and await, on the scripted-actor kernel (shared/runtime/scripted-actor): a
 * guest's milestone is kept by its guest and event, any other control message by its sender and op.
 */
import type { Component, ComponentContext, ComponentFactory } from '../../../shared/runtime/component.ts';
import type { Message } from '../../../shared/protocol/messages.ts';
import { Awaiting, controlKey, type InboxEntry, runScript, type StepPerformer } from '../../../shared/runtime/scripted-actor/index.ts';
import type { SentMessage } from '../../../shared/protocol/messages.ts';

export type ActorStep =
  /** Wait for guest `from`'s `guest-event` with this event and every field of `match`. */
  | { do: 'await-event'; label: string; from: string; event: string; match?: Record<string, unknown>; timeoutNs?: number }
  /** Send a control message; with `awaitOp`, wait for `to`'s control message of that op. */
  | { do: 'control'; label: string; to: string; op: string; data: unknown; awaitOp?: string }
  | { do: 'wait'; ns: number }
  /** Record actor-mark {label}: a point in the script the test harness acts on (link-cut.ts). */
  | { do: 'mark'; label: string };

export interface ScenarioActorConfig {
  steps: ActorStep[];
  /** Default bound on one await (runtime time; default 20 s). */
  awaitTimeoutNs?: number;
}

const DEFAULT_AWAIT_TIMEOUT_NS = 20_000_000_000;
/** Bound on the control messages kept for awaits (InboxFullError past it), and one await at a time. */
const LIMITS = { inboxMax: 10_000, waitersMax: 1 };

interface Received {
  readonly from: string;
  readonly op: string;
  readonly data: Record<string, unknown>;
}

function dataOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

class ScenarioActor implements Component {
  private readonly awaiting: Awaiting<Received>;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: ScenarioActorConfig,
  ) {
    this.awaiting = new Awaiting(ctx, LIMITS);
  }

  onStart(): void {
    runScript(this.config.steps, this.perform, () => this.ctx.record({ event: 'done' }));
  }

  onMessage(from: string, message: Message): void {
    if (message.kind !== 'control') {
      this.ctx.record({ event: 'actor-received', from, kind: message.kind });
      return;
    }
    const received: Received = { from, op: message.op, data: dataOf(message.data) };
    this.awaiting.offer(keyOf(received), this.ctx.clock.nowNs(), received);
  }

  private readonly perform: StepPerformer<ActorStep> = (step, _index, next) => {
    switch (step.do) {
      case 'await-event': {
        const wanted = Object.entries(step.match ?? {});
        const accepts = ({ item }: InboxEntry<Received>) => wanted.every(([key, value]) => item.data[key] === value);
        return this.await(step.label, guestEventKey(step.from, step.event), accepts, step.timeoutNs, (entry) => {
          this.ctx.record({ event: 'actor-event', label: step.label, data: entry.item.data });
          next();
        }, next);
      }
      case 'control':
        // Sent as given: the tests send unknown ops and malformed data on purpose.
        this.ctx.send(step.to, { kind: 'control', op: step.op, data: step.data } as SentMessage);
        if (step.awaitOp === undefined) return next();
        return this.await(step.label, controlKey(step.to, step.awaitOp), undefined, undefined, (entry) => {
          this.ctx.record({ event: 'actor-control', label: step.label, op: entry.item.op, data: entry.item.data });
          next();
        }, next);
      case 'wait':
        this.ctx.setTimer(step.ns, next);
        return;
      case 'mark':
        this.ctx.record({ event: 'actor-mark', label: step.label });
        return next();
      default:
        return assertNever(step);
    }
  };

  private await(
    label: string,
    key: string,
    accepts: ((entry: InboxEntry<Received>) => boolean) | undefined,
    timeoutNs: number | undefined,
    onMatch: (entry: InboxEntry<Received>) => void,
    onTimeout: () => void,
  ): void {
    this.awaiting.await({
      label,
      key,
      ...(accepts ? { accepts } : {}),
      timeoutNs: timeoutNs ?? this.config.awaitTimeoutNs ?? DEFAULT_AWAIT_TIMEOUT_NS,
      onMatch,
      onTimeout: () => {
        this.ctx.record({ event: 'actor-timeout', label });
        onTimeout();
      },
    });
  }
}

/** A guest's milestone by its guest and event; any other control message by its sender and op. */
function keyOf(received: Received): string {
  const event = received.data['event'];
  if (received.op === 'guest-event' && typeof event === 'string') return guestEventKey(received.from, event);
  return controlKey(received.from, received.op);
}

function guestEventKey(from: string, event: string): string {
  return `guest-event ${from} ${event}`;
}

function assertNever(step: never): never {
  throw new Error(`bug: an actor step of unknown kind ${String((step as { do: unknown }).do)}`);
}

export const create: ComponentFactory<ScenarioActorConfig> = (ctx, config) => new ScenarioActor(ctx, config);
