/**
 * The `notifications` workload (scenario-format.md "workload"): SPs set notifications that the
 * receivers' drivers have bound, at an open-model rate: arrival i is due at start + i / rate
 * whatever happened to the earlier ones (arrivals never wait for completions, so a slow world
 * shows as latency, not as a lower offered rate).
 *
 * - An OP-TEE SP sends with notif_send_async to the VM's bound bottom-half ID (the SPMC's
 *   `optee-notif-send` control; the OP-TEE client in the guest bound it at probe).
 * - A notifier SP sets a bit the receiver's driver first requested through the notifier API
 *   (the guest's `notify-request` control: ffa_notify_request, which binds it at the SPMC).
 */
import { hex } from '../../shared/ffa/format.ts';
import type { ComponentContext, TimerHandle } from '../../shared/runtime/component.ts';
import type { SentMessage } from '../../shared/protocol/messages.ts';
import type { SpBehaviour, Step } from './scenario/types.ts';

export interface WorkloadTarget {
  /** VM name → FF-A ID. */
  vmIds: ReadonlyMap<string, number>;
  /** SP ID → behaviour. */
  spBehaviours: ReadonlyMap<number, SpBehaviour>;
  cpus: number;
}

export interface WorkloadSummary {
  sent: number;
  /** Pairs whose binding the receiver's driver refused, and arrivals for them not sent. */
  refused: number;
  bound: number;
}

type WorkloadStep = Extract<Step, { kind: 'workload' }>;

/** The notification ID a notifier SP's sets use at each receiver (clear of OP-TEE's bottom half, ID 0). */
export const WORKLOAD_NOTIFICATION_ID = 16;
const BIND_TIMEOUT_NS = 10_000_000_000;
/** Bound on arrivals of one workload (a count or a duration may not ask for more). */
export const WORKLOAD_ARRIVALS_MAX = 10_000_000;

export class Workload {
  private readonly summary: WorkloadSummary = { sent: 0, refused: 0, bound: 0 };
  private readonly usable = new Set<string>();
  private timer: TimerHandle | undefined;
  private stopped = false;
  private pendingBinds = 0;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly step: WorkloadStep,
    private readonly target: WorkloadTarget,
  ) {}

  /** Bind what needs binding, then run the arrivals; `onDone` when the last is sent (or it stops). */
  start(onDone: (summary: WorkloadSummary) => void): void {
    const pairs = this.step.senders.flatMap((sp) => this.step.receivers.map((vm) => ({ sp, vm })));
    const toBind = pairs.filter(({ sp }) => this.target.spBehaviours.get(sp) === 'notifier');
    for (const { sp, vm } of pairs) if (this.target.spBehaviours.get(sp) !== 'notifier') this.usable.add(pairKey(sp, vm));
    this.pendingBinds = toBind.length;
    if (toBind.length === 0) return this.arrivals(onDone);
    for (const { sp, vm } of toBind) this.bind(sp, vm, () => {
      this.pendingBinds--;
      if (this.pendingBinds === 0) this.arrivals(onDone);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.ctx.cancelTimer(this.timer);
  }

  /** Called by the orchestrator for every `notify-request-result` (the binds' answers). */
  onBindAnswer: ((from: string, data: Record<string, unknown>) => void) | null = null;

  private bind(sp: number, vm: string, done: () => void): void {
    this.ctx.send(vm, { kind: 'control', op: 'notify-request', data: { sender: sp, id: WORKLOAD_NOTIFICATION_ID } });
    const timer = this.ctx.setTimer(BIND_TIMEOUT_NS, () => {
      this.summary.refused++;
      done();
    });
    const previous = this.onBindAnswer;
    this.onBindAnswer = (from, data) => {
      if (from !== vm || data['sender'] !== sp) return previous?.(from, data);
      this.ctx.cancelTimer(timer);
      if (data['ok'] === true && data['result'] === 0) {
        this.usable.add(pairKey(sp, vm));
        this.summary.bound++;
      } else this.summary.refused++;
      done();
    };
  }

  private arrivals(onDone: (summary: WorkloadSummary) => void): void {
    const periodNs = 1e9 / this.step.ratePerSecond;
    const limit = Math.min(WORKLOAD_ARRIVALS_MAX, this.step.count ?? Math.floor((this.step.durationNs ?? 0) / periodNs));
    const startNs = this.ctx.clock.nowNs();
    const pairs = this.step.senders.flatMap((sp) => this.step.receivers.map((vm) => ({ sp, vm }))).filter(({ sp, vm }) => this.usable.has(pairKey(sp, vm)));
    let index = 0;
    const next = () => {
      this.timer = undefined;
      if (this.stopped) return;
      if (index >= limit || pairs.length === 0) {
        this.ctx.record({ event: 'workload', label: this.step.label, ...this.summary });
        return onDone(this.summary);
      }
      const pair = pairs[index % pairs.length];
      if (pair) this.arrive(pair.sp, pair.vm);
      index++;
      this.timer = this.ctx.setTimer(Math.max(0, startNs + index * periodNs - this.ctx.clock.nowNs()), next);
    };
    next();
  }

  private arrive(sp: number, vm: string): void {
    const receiver = this.target.vmIds.get(vm);
    if (receiver === undefined) throw new Error(`bug: workload receiver ${vm} has no ID`);
    const cpu = this.ctx.random.intBelow(this.target.cpus);
    const message: SentMessage =
      this.target.spBehaviours.get(sp) === 'optee'
        ? { kind: 'control', op: 'optee-notif-send', data: { vm: receiver, cpu } }
        : { kind: 'control', op: 'notifier-set', data: { sp, receiver, bitmap: hex(1n << BigInt(WORKLOAD_NOTIFICATION_ID)), cpu } };
    this.ctx.send('spmc', message);
    this.summary.sent++;
  }
}

function pairKey(sp: number, vm: string): string {
  return `${sp}:${vm}`;
}
