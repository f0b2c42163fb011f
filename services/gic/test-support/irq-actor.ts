/**
 * A scripted interrupt actor for the GIC's tests: it plays a component that raises, acknowledges,
 * ends, subscribes, reports vCPU placement or configures, one step after another, through the
 * runtime, never by poking the broker. It records every message it receives
 * (`{ event: 'actor-received', from, message }`) and `{ event: 'done' }` when the script ends.
 *
 * Steps:
 * - send: one message (to the GIC unless `to` says otherwise);
 * - await: wait for a received message matching every field of `match` (and `from`, if given),
 *   not consumed by an earlier await; bounded by `timeoutNs` (a timeout is recorded, and the
 *   script goes on, so the test's assertions say what is missing);
 * - sync: a gic-sync round trip: everything sent before it has been handled by the GIC, and
 *   everything the GIC sent this actor before answering has arrived (links are FIFO);
 * - settle: sync until a round brings no new delivery and no automatic EOI is due (the automatic
 *   acks and EOIs have run out);
 * - signal / await-signal: order two actors (a control 'actor-signal' message between them);
 * - wait: let runtime time pass.
 * With `autoAck`, every delivery is acknowledged on arrival; with `autoEoi` too, also ended, at
 * once or `autoEoiDelayNs` later (a handler that runs for a while, so raises meet it active).
 *
 * The steps run, and await, on the scripted-actor kernel (shared/runtime/scripted-actor): what
 * arrives is kept by its head (kind and op, event or code), so a pattern names its head.
 */
import type { Component, ComponentContext, ComponentFactory } from '../../../shared/runtime/component.ts';
import type { InterruptMessage, Message } from '../../../shared/protocol/messages.ts';
import { Awaiting, messageHead, runScript, type StepPerformer } from '../../../shared/runtime/scripted-actor/index.ts';
import type { SentMessage } from '../../../shared/protocol/messages.ts';

/** Fields a received message must have (compared with ===). */
export type MessagePattern = { kind: Message['kind'] } & Record<string, unknown>;

export type ActorStep =
  | { do: 'send'; message: Message; to?: string }
  | { do: 'await'; match: MessagePattern; from?: string; timeoutNs?: number }
  | { do: 'sync' }
  | { do: 'settle' }
  | { do: 'signal'; to: string; name: string }
  | { do: 'await-signal'; name: string; timeoutNs?: number }
  | { do: 'wait'; ns: number };

export interface IrqActorConfig {
  steps: ActorStep[];
  /** The GIC's component name (default 'gic'). */
  gic?: string;
  autoAck?: boolean;
  autoEoi?: boolean;
  /** With autoEoi: end each interrupt this long after acknowledging it (runtime time; default at once). */
  autoEoiDelayNs?: number;
  /** Default bound on an await (runtime time; default 5 s). */
  awaitTimeoutNs?: number;
}

const DEFAULT_AWAIT_TIMEOUT_NS = 5_000_000_000;
/** Bound on a settle's sync rounds. */
const SETTLE_ROUNDS_MAX = 64;
/** Bound on the messages kept for awaits (InboxFullError past it), and one await at a time. */
const LIMITS = { inboxMax: 100_000, waitersMax: 1 };

interface Received {
  readonly from: string;
  readonly message: Message;
}

function matches(message: Message, pattern: MessagePattern): boolean {
  const fields = message as unknown as Record<string, unknown>;
  return Object.entries(pattern).every(([key, value]) => fields[key] === value);
}

class IrqActor implements Component {
  private readonly awaiting: Awaiting<Received>;
  private deliveries = 0;
  /** Automatic EOIs waiting for their delay. */
  private eoisDue = 0;
  private syncs = 0;
  private readonly gic: string;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: IrqActorConfig,
  ) {
    this.gic = config.gic ?? 'gic';
    this.awaiting = new Awaiting(ctx, LIMITS);
  }

  onStart(): void {
    runScript(this.config.steps, this.perform, () => this.ctx.record({ event: 'done' }));
  }

  onMessage(from: string, message: Message): void {
    this.ctx.record({ event: 'actor-received', from, message });
    if (message.kind === 'irq' && message.op === 'deliver') this.onDelivery(from, message);
    this.awaiting.offer(headOf(message), this.ctx.clock.nowNs(), { from, message });
  }

  private onDelivery(from: string, frame: InterruptMessage): void {
    this.deliveries++;
    if (!this.config.autoAck) return;
    this.ctx.send(from, { ...frame, op: 'ack' });
    if (!this.config.autoEoi) return;
    const end = () => this.ctx.send(from, { ...frame, op: 'eoi' });
    const delayNs = this.config.autoEoiDelayNs ?? 0;
    if (delayNs === 0) {
      end();
      return;
    }
    this.eoisDue++;
    this.ctx.setTimer(delayNs, () => {
      this.eoisDue--;
      end();
    });
  }

  private readonly perform: StepPerformer<ActorStep> = (step, index, next) => {
    switch (step.do) {
      case 'send':
        // Sent as given: the GIC's tests send malformed frames on purpose.
        this.ctx.send(step.to ?? this.gic, step.message as SentMessage);
        next();
        return;
      case 'await':
        this.awaitMessage(index, step.match, step.from, step.timeoutNs, next);
        return;
      case 'sync':
        this.sync(index, next);
        return;
      case 'settle':
        this.settle(index, 0, next);
        return;
      case 'signal':
        this.ctx.send(step.to, { kind: 'control', op: 'actor-signal', data: step.name });
        next();
        return;
      case 'await-signal':
        this.awaitMessage(index, { kind: 'control', op: 'actor-signal', data: step.name }, undefined, step.timeoutNs, next);
        return;
      case 'wait':
        this.ctx.setTimer(step.ns, next);
        return;
      default:
        assertNever(step);
    }
  };

  private sync(step: number, then: () => void): void {
    const token = ++this.syncs;
    this.ctx.send(this.gic, { kind: 'control', op: 'gic-sync', data: token });
    this.awaitMessage(step, { kind: 'control', op: 'gic-synced', data: token }, this.gic, undefined, then);
  }

  private settle(step: number, round: number, then: () => void): void {
    if (this.eoisDue > 0) {
      this.ctx.setTimer(this.config.autoEoiDelayNs ?? 0, () => this.settle(step, round, then));
      return;
    }
    const before = this.deliveries;
    this.sync(step, () => {
      if (this.deliveries === before && this.eoisDue === 0) then();
      else if (round + 1 >= SETTLE_ROUNDS_MAX) {
        this.ctx.record({ event: 'actor-settle-unbounded', step, rounds: round + 1 });
        then();
      } else this.settle(step, round + 1, then);
    });
  }

  private awaitMessage(step: number, match: MessagePattern, from: string | undefined, timeoutNs: number | undefined, then: () => void): void {
    const head = messageHead(match);
    if (head === undefined) throw new Error(`bug: step ${step}'s pattern ${JSON.stringify(match)} does not name what its ${match.kind} is (op, event or code)`);
    this.awaiting.await({
      label: `step ${step}`,
      key: head,
      accepts: ({ item }) => (from === undefined || item.from === from) && matches(item.message, match),
      timeoutNs: timeoutNs ?? this.config.awaitTimeoutNs ?? DEFAULT_AWAIT_TIMEOUT_NS,
      onMatch: then,
      onTimeout: () => {
        this.ctx.record({ event: 'actor-await-timeout', step, match });
        then();
      },
    });
  }
}

/** Every message has a head: a message's kind always carries its head field. */
function headOf(message: Message): string {
  const head = messageHead(message as unknown as MessagePattern);
  if (head === undefined) throw new Error(`bug: a ${message.kind} message without its head field`);
  return head;
}

function assertNever(step: never): never {
  throw new Error(`bug: an actor step of unknown kind ${String((step as { do: unknown }).do)}`);
}

export const create: ComponentFactory<IrqActorConfig> = (ctx, config) => new IrqActor(ctx, config);
