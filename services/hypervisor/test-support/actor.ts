/**
 * A scripted actor for the hypervisor's tests. One actor can play, one step after another, every
 * part the tests need around the hypervisor: the guest (HVC calls, for one VM or several: the
 * hypervisor lets a component pick among its own VMs with the call's endpoint), the controller
 * (life-cycle control messages, awaiting their results), the workload that makes SPs set
 * notifications (control messages to the SPMC) and the experimenter at the GIC (subscribing to
 * its VMs' virtual interrupts, configuring the SRI). Everything goes through the runtime.
 *
 * Records: actor-result {index, label, ok, regs|reason} per call; actor-control {label, op, data}
 * per awaited control answer; actor-irq per virtual delivery (acknowledged and ended at once when
 * `ackVirtual`); actor-lifecycle per lifecycle message; actor-timeout when an await gives up (the
 * script goes on, so the assertions say what is missing); actor-received for anything else;
 * `{ event: 'done' }` at the end.
 */
import type { Component, ComponentContext, ComponentFactory, TimerHandle } from '../../../shared/runtime/component.ts';
import type { Conduit, InterruptMessage, Message, RegisterFile } from '../../../shared/protocol/messages.ts';
import { controlMessage, controlMessageOf, type AwaitedOp, type ControlRequest, type LabelDataOp } from '../../../shared/protocol/control.ts';

export type ActorStep =
  | { do: 'call'; label: string; to: string; conduit: Conduit; endpoint: number; vcpu: number; cpu: number; regs: RegisterFile }
  /** Send a control message; with `awaitOp`, wait for the control message of that op from `to`. */
  | ({ do: 'control'; label: string; to: string; awaitOp?: AwaitedOp } & ControlRequest)
  /** Send an interrupt frame (subscribe, raise, …) to `to`. */
  | { do: 'irq'; to: string; frame: Omit<InterruptMessage, 'kind'> }
  /** gic-sync round trip: everything sent to the GIC before it has been handled. */
  | { do: 'gic-sync'; label: string; to: string }
  /** Wait for a lifecycle message from `from` with this event and args[0] = vm (and args[1] = vcpu). */
  | { do: 'await-lifecycle'; label: string; from: string; event: string; vm: number; vcpu?: number }
  /** Wait for a virtual delivery of `intid` to `vm` (any vCPU unless given). */
  | { do: 'await-irq'; label: string; vm: number; intid: number; vcpu?: number }
  /**
   * Ask `to` with control `op` until the answer (control `resultOp`) has every number in
   * `untilAtLeast` at least as large, every value in `untilEquals` equal and every list in
   * `untilLengthAtLeast` at least that long; `everyNs` apart.
   */
  | {
      do: 'poll';
      label: string;
      to: string;
      op: LabelDataOp;
      resultOp: AwaitedOp;
      untilAtLeast?: Record<string, number>;
      untilEquals?: Record<string, string | number | boolean>;
      untilLengthAtLeast?: Record<string, number>;
      everyNs: number;
      maxPolls: number;
    }
  | { do: 'wait'; ns: number };

export interface ActorConfig {
  steps: ActorStep[];
  /** Acknowledge and end every virtual delivery on arrival (a guest's NPI handler). */
  ackVirtual?: boolean;
  /** Bound on one await (runtime time; default 20 s). */
  awaitTimeoutNs?: number;
}

const DEFAULT_AWAIT_TIMEOUT_NS = 20_000_000_000;
/** Bound on messages kept for awaits. */
const INBOX_MAX = 100_000;

interface Received {
  readonly from: string;
  readonly message: Message;
  consumed: boolean;
}

interface Waiter {
  readonly matches: (entry: Received) => boolean;
  readonly onMatch: (entry: Received) => void;
  readonly timer: TimerHandle;
}

class Actor implements Component {
  private readonly inbox: Received[] = [];
  private waiter: Waiter | undefined;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: ActorConfig,
  ) {}

  onStart(): void {
    this.run(0);
  }

  onMessage(from: string, message: Message): void {
    if (message.kind === 'irq' && message.op === 'deliver' && message.cpu === -1) this.onVirtualDelivery(from, message);
    else if (message.kind === 'lifecycle') this.ctx.record({ event: 'actor-lifecycle', from, lifecycle: message.event, subject: message.subject, args: message.args });
    else if (message.kind !== 'control') this.ctx.record({ event: 'actor-received', from, message });
    if (this.inbox.length >= INBOX_MAX) this.inbox.shift();
    const entry: Received = { from, message, consumed: false };
    this.inbox.push(entry);
    this.offer(entry);
  }

  private onVirtualDelivery(from: string, irq: InterruptMessage): void {
    this.ctx.record({ event: 'actor-irq', from, intid: irq.intid, vm: irq.vm, vcpu: irq.vcpu });
    if (!this.config.ackVirtual) return;
    this.ctx.send(from, { ...irq, op: 'ack' });
    this.ctx.send(from, { ...irq, op: 'eoi' });
  }

  private run(index: number): void {
    const step = this.config.steps[index];
    if (!step) {
      this.ctx.record({ event: 'done' });
      return;
    }
    const next = () => this.run(index + 1);
    switch (step.do) {
      case 'call':
        return this.call(index, step, next);
      case 'control':
        this.ctx.send(step.to, controlMessageOf(step));
        if (step.awaitOp === undefined) return next();
        return this.awaitControl(step.label, step.to, step.awaitOp, next);
      case 'irq':
        this.ctx.send(step.to, { kind: 'irq', ...step.frame });
        return next();
      case 'gic-sync':
        this.ctx.send(step.to, { kind: 'control', op: 'gic-sync', data: step.label });
        return this.awaitControl(step.label, step.to, 'gic-synced', next);
      case 'await-lifecycle':
        return this.await(step.label, (entry) => isLifecycle(entry, step), next);
      case 'await-irq':
        return this.await(step.label, (entry) => isVirtualDelivery(entry, step), next);
      case 'poll':
        return this.poll(step, 1, next);
      case 'wait':
        this.ctx.setTimer(step.ns, next);
        return;
    }
  }

  private call(index: number, step: Extract<ActorStep, { do: 'call' }>, next: () => void): void {
    const request = { conduit: step.conduit, endpoint: step.endpoint, vcpu: step.vcpu, cpu: step.cpu, regs: step.regs };
    this.ctx.call(step.to, request, (outcome) => {
      if (outcome.ok) this.ctx.record({ event: 'actor-result', index, label: step.label, ok: true, regs: outcome.regs });
      else this.ctx.record({ event: 'actor-result', index, label: step.label, ok: false, reason: outcome.reason });
      next();
    });
  }

  private awaitControl(label: string, from: string, op: AwaitedOp, next: () => void): void {
    const isAnswer = (entry: Received) => entry.from === from && entry.message.kind === 'control' && entry.message.op === op;
    this.await(label, isAnswer, next, (entry) => {
      if (entry.message.kind === 'control') this.ctx.record({ event: 'actor-control', label, op, data: entry.message.data });
    });
  }

  private poll(step: Extract<ActorStep, { do: 'poll' }>, attempt: number, next: () => void): void {
    this.ctx.send(step.to, controlMessage(step.op, step.label));
    const isAnswer = (entry: Received) => entry.from === step.to && entry.message.kind === 'control' && entry.message.op === step.resultOp;
    this.await(step.label, isAnswer, next, (entry) => {
      const data = entry.message.kind === 'control' ? entry.message.data : null;
      if (satisfies(data, step) || attempt >= step.maxPolls) {
        this.ctx.record({ event: 'actor-poll', label: step.label, polls: attempt, satisfied: satisfies(data, step), data });
        return true;
      }
      this.ctx.setTimer(step.everyNs, () => this.poll(step, attempt + 1, next));
      return false;
    });
  }

  /**
   * Wait for a received message matching `matches`, not consumed by an earlier await; `onMatch`
   * returning false means the caller carries on by itself (a poll's next round).
   */
  private await(label: string, matches: (entry: Received) => boolean, next: () => void, onMatch?: (entry: Received) => boolean | void): void {
    const proceed = (entry: Received) => {
      entry.consumed = true;
      if (onMatch?.(entry) === false) return;
      next();
    };
    const found = this.inbox.find((entry) => !entry.consumed && matches(entry));
    if (found) return proceed(found);
    const timer = this.ctx.setTimer(this.config.awaitTimeoutNs ?? DEFAULT_AWAIT_TIMEOUT_NS, () => {
      this.waiter = undefined;
      this.ctx.record({ event: 'actor-timeout', label });
      next();
    });
    this.waiter = { matches, onMatch: proceed, timer };
  }

  private offer(entry: Received): void {
    const waiter = this.waiter;
    if (!waiter || !waiter.matches(entry)) return;
    this.waiter = undefined;
    this.ctx.cancelTimer(waiter.timer);
    waiter.onMatch(entry);
  }
}

function isLifecycle(entry: Received, step: { from: string; event: string; vm: number; vcpu?: number }): boolean {
  const { message } = entry;
  if (entry.from !== step.from || message.kind !== 'lifecycle' || message.event !== step.event) return false;
  return message.args[0] === step.vm && (step.vcpu === undefined || message.args[1] === step.vcpu);
}

function isVirtualDelivery(entry: Received, step: { vm: number; intid: number; vcpu?: number }): boolean {
  const { message } = entry;
  if (message.kind !== 'irq' || message.op !== 'deliver' || message.cpu !== -1) return false;
  return message.vm === step.vm && message.intid === step.intid && (step.vcpu === undefined || message.vcpu === step.vcpu);
}

interface PollCondition {
  untilAtLeast?: Record<string, number>;
  untilEquals?: Record<string, string | number | boolean>;
  untilLengthAtLeast?: Record<string, number>;
}

function satisfies(data: unknown, step: PollCondition): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const fields = data as Record<string, unknown>;
  const atLeast = Object.entries(step.untilAtLeast ?? {}).every(([key, value]) => typeof fields[key] === 'number' && (fields[key] as number) >= value);
  const equals = Object.entries(step.untilEquals ?? {}).every(([key, value]) => fields[key] === value);
  const lengths = Object.entries(step.untilLengthAtLeast ?? {}).every(([key, value]) => {
    const list = fields[key];
    return Array.isArray(list) && list.length >= value;
  });
  return atLeast && equals && lengths;
}

export const create: ComponentFactory<ActorConfig> = (ctx: ComponentContext, config: ActorConfig): Component => new Actor(ctx, config);
