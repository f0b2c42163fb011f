/**
 * A scripted actor for the hypervisor's tests. One actor can play, one step after another, every
 * part the tests need around the hypervisor: the guest (HVC calls, for one VM or several: the
 * hypervisor lets a component pick among its own VMs with the call's endpoint), the controller
 * (life-cycle control messages, awaiting their results), the workload that makes SPs set
 * notifications (control messages to the SPMC) and the experimenter at the GIC (subscribing to
 * its VMs' virtual interrupts, configuring the SRI). Everything goes through the runtime; the
 * steps run, and await, on the scripted-actor kernel (shared/runtime/scripted-actor).
 *
 * Records: actor-result {index, label, ok, regs and memory|reason} per call; actor-control {label, op, data}
 * per awaited control answer; actor-irq per virtual delivery (acknowledged and ended at once when
 * `ackVirtual`); actor-lifecycle per lifecycle message; actor-timeout when an await gives up (the
 * script goes on, so the assertions say what is missing); actor-received for anything else;
 * `{ event: 'done' }` at the end.
 */
import type { Component, ComponentContext, ComponentFactory } from '../../../shared/runtime/component.ts';
import type { BufferWrite, Conduit, InterruptMessage, Message, RegisterFile } from '../../../shared/protocol/messages.ts';
import { Awaiting, controlKey, type InboxEntry, runScript, type StepPerformer } from '../../../shared/runtime/scripted-actor/index.ts';
import type { SentMessage } from '../../../shared/protocol/messages.ts';

export type ActorStep =
  /** A call, with `memory` in the caller's TX buffer when given. */
  | { do: 'call'; label: string; to: string; conduit: Conduit; endpoint: number; vcpu: number; cpu: number; regs: RegisterFile; memory?: BufferWrite }
  /** Send a control message; with `awaitOp`, wait for the control message of that op from `to`. */
  | { do: 'control'; label: string; to: string; op: string; data: unknown; awaitOp?: string }
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
      op: string;
      resultOp: string;
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
/** Bound on messages kept for awaits (InboxFullError past it: a test that never awaits what it keeps). */
const LIMITS = { inboxMax: 100_000, waitersMax: 1 };

interface Received {
  readonly from: string;
  readonly message: Message;
}

class Actor implements Component {
  private readonly awaiting: Awaiting<Received>;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: ActorConfig,
  ) {
    this.awaiting = new Awaiting(ctx, LIMITS);
  }

  onStart(): void {
    runScript(this.config.steps, this.perform, () => this.ctx.record({ event: 'done' }));
  }

  onMessage(from: string, message: Message): void {
    if (message.kind === 'irq' && message.op === 'deliver' && message.cpu === -1) this.onVirtualDelivery(from, message);
    else if (message.kind === 'lifecycle') this.ctx.record({ event: 'actor-lifecycle', from, lifecycle: message.event, subject: message.subject, args: message.args });
    else if (message.kind !== 'control') this.ctx.record({ event: 'actor-received', from, message });
    const key = keyOf(from, message);
    if (key !== null) this.awaiting.offer(key, this.ctx.clock.nowNs(), { from, message });
  }

  private onVirtualDelivery(from: string, irq: InterruptMessage): void {
    this.ctx.record({ event: 'actor-irq', from, intid: irq.intid, vm: irq.vm, vcpu: irq.vcpu });
    if (!this.config.ackVirtual) return;
    this.ctx.send(from, { ...irq, op: 'ack' });
    this.ctx.send(from, { ...irq, op: 'eoi' });
  }

  private readonly perform: StepPerformer<ActorStep> = (step, index, next) => {
    switch (step.do) {
      case 'call':
        return this.call(index, step, next);
      case 'control':
        // Sent as given: the tests send unknown ops and malformed data on purpose.
        this.ctx.send(step.to, { kind: 'control', op: step.op, data: step.data } as SentMessage);
        if (step.awaitOp === undefined) return next();
        return this.awaitControl(step.label, step.to, step.awaitOp, next);
      case 'irq':
        this.ctx.send(step.to, { kind: 'irq', ...step.frame });
        return next();
      case 'gic-sync':
        this.ctx.send(step.to, { kind: 'control', op: 'gic-sync', data: step.label });
        return this.awaitControl(step.label, step.to, 'gic-synced', next);
      case 'await-lifecycle':
        return this.await(step.label, lifecycleKey(step.from, step.event, step.vm), (entry) => step.vcpu === undefined || argsOf(entry)[1] === step.vcpu, next);
      case 'await-irq':
        return this.await(step.label, virtualKey(step.vm, step.intid), (entry) => step.vcpu === undefined || deliveredVcpu(entry) === step.vcpu, next);
      case 'poll':
        return this.poll(step, 1, next);
      case 'wait':
        this.ctx.setTimer(step.ns, next);
        return;
      default:
        return assertNever(step);
    }
  };

  private call(index: number, step: Extract<ActorStep, { do: 'call' }>, next: () => void): void {
    const request = { conduit: step.conduit, endpoint: step.endpoint, vcpu: step.vcpu, cpu: step.cpu, regs: step.regs, memory: step.memory ?? null };
    this.awaiting.call(step.label, step.to, request, (outcome) => {
      if (outcome.ok) this.ctx.record({ event: 'actor-result', index, label: step.label, ok: true, regs: outcome.regs, memory: outcome.memory });
      else this.ctx.record({ event: 'actor-result', index, label: step.label, ok: false, reason: outcome.reason });
      next();
    });
  }

  private awaitControl(label: string, from: string, op: string, next: () => void): void {
    this.await(label, controlKey(from, op), undefined, next, (entry) => {
      if (entry.item.message.kind === 'control') this.ctx.record({ event: 'actor-control', label, op, data: entry.item.message.data });
    });
  }

  private poll(step: Extract<ActorStep, { do: 'poll' }>, attempt: number, next: () => void): void {
    this.ctx.send(step.to, { kind: 'control', op: step.op, data: step.label } as SentMessage);
    this.await(step.label, controlKey(step.to, step.resultOp), undefined, next, (entry) => {
      const data = entry.item.message.kind === 'control' ? entry.item.message.data : null;
      if (satisfies(data, step) || attempt >= step.maxPolls) {
        this.ctx.record({ event: 'actor-poll', label: step.label, polls: attempt, satisfied: satisfies(data, step), data });
        return true;
      }
      this.ctx.setTimer(step.everyNs, () => this.poll(step, attempt + 1, next));
      return false;
    });
  }

  /**
   * Wait for a kept or coming message of `key` that `accepts` takes; `onMatch` returning false
   * means the caller carries on by itself (a poll's next round). A timeout is recorded and the
   * script goes on, so the test's assertions say what is missing.
   */
  private await(
    label: string,
    key: string,
    accepts: ((entry: InboxEntry<Received>) => boolean) | undefined,
    next: () => void,
    onMatch?: (entry: InboxEntry<Received>) => boolean | void,
  ): void {
    this.awaiting.await({
      label,
      key,
      ...(accepts ? { accepts } : {}),
      timeoutNs: this.config.awaitTimeoutNs ?? DEFAULT_AWAIT_TIMEOUT_NS,
      onMatch: (entry) => {
        if (onMatch?.(entry) !== false) next();
      },
      onTimeout: () => {
        this.ctx.record({ event: 'actor-timeout', label });
        next();
      },
    });
  }
}

/**
 * What a message is kept under, by what the steps await: a control answer by its sender and op,
 * a life-cycle message by its sender, event and VM, a virtual delivery by its VM and INTID.
 * Anything else no step awaits: it is recorded, not kept.
 */
function keyOf(from: string, message: Message): string | null {
  if (message.kind === 'control') return controlKey(from, message.op);
  if (message.kind === 'lifecycle') return lifecycleKey(from, message.event, message.args[0]);
  if (message.kind === 'irq' && message.op === 'deliver' && message.cpu === -1) return virtualKey(message.vm, message.intid);
  return null;
}

function lifecycleKey(from: string, event: string, vm: number | undefined): string {
  return `lifecycle ${from} ${event} ${vm}`;
}

function virtualKey(vm: number, intid: number): string {
  return `virtual ${vm} ${intid}`;
}

function argsOf(entry: InboxEntry<Received>): readonly number[] {
  return entry.item.message.kind === 'lifecycle' ? entry.item.message.args : [];
}

function deliveredVcpu(entry: InboxEntry<Received>): number | undefined {
  return entry.item.message.kind === 'irq' ? entry.item.message.vcpu : undefined;
}

function assertNever(step: never): never {
  throw new Error(`bug: an actor step of unknown kind ${String((step as { do: unknown }).do)}`);
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
