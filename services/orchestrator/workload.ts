/**
 * The `notifications` workload (docs/scenarios.md "workload"): SPs set notifications that the
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
import type { HistoryEvent } from '../../shared/runtime/history.ts';
import type { SentMessage } from '../../shared/protocol/messages.ts';
import type { OrchestratorAwaiting } from './awaiting.ts';
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

/** How a workload awaits its binds' answers: the orchestrator's awaiting. */
export type BindAnswers = Pick<OrchestratorAwaiting, 'awaitAnswer'>;

/** The notification ID a notifier SP's sets use at each receiver (clear of OP-TEE's bottom half, ID 0). */
export const WORKLOAD_NOTIFICATION_ID = 16;
const BIND_TIMEOUT_NS = 10_000_000_000;
/** Bound on arrivals of one workload (a count or a duration may not ask for more). */
export const WORKLOAD_ARRIVALS_MAX = 10_000_000;

/** The SPMC's component name: the workload's arrivals go to it. */
const SPMC = 'spmc';

/** The SPMC's records of a workload control message it handled (sp-behaviours.ts), one per arrival. */
const SPMC_WORKLOAD_RECORDS: ReadonlySet<string> = new Set(['optee-notif-send', 'notifier-set']);

/**
 * What the orchestrator sees of a workload's notifications, for its drain: every arrival handled
 * at the SPMC, and for each receiver whether a GET returned bits to its driver after the last
 * bit the SPMC made pending for it. Under ws the components' reports reach the orchestrator late
 * and out of order, so silence alone is a weak sign that nothing is left in flight.
 */
class DeliveryWatch {
  private handledAtSpmc = 0;
  private readonly lastSetNs = new Map<number, number>();
  private readonly lastGetNs = new Map<number, number>();

  constructor(
    private readonly vmIds: ReadonlyMap<string, number>,
    private readonly spmc: string,
  ) {}

  observe(t: number, event: HistoryEvent): void {
    if (event.type !== 'record') return;
    const name = event.data['event'];
    if (event.component === this.spmc && typeof name === 'string' && SPMC_WORKLOAD_RECORDS.has(name)) {
      this.handledAtSpmc++;
      const vm = event.data['vm'] ?? event.data['receiver'];
      if (event.data['outcome'] === 'sent' && typeof vm === 'number') this.lastSetNs.set(vm, Math.max(t, this.lastSetNs.get(vm) ?? t));
      return;
    }
    const vm = this.vmIds.get(event.component);
    const returned = (key: string) => typeof event.data[key] === 'string' && event.data[key] !== '0x0';
    if (vm !== undefined && name === 'notification-get' && (returned('sp') || returned('vm'))) this.lastGetNs.set(vm, Math.max(t, this.lastGetNs.get(vm) ?? t));
  }

  /** Every arrival sent reached the SPMC, and no receiver has a bit made pending after its last GET that returned any. */
  settled(sent: number): boolean {
    if (this.handledAtSpmc < sent) return false;
    for (const [vm, setNs] of this.lastSetNs) if (setNs >= (this.lastGetNs.get(vm) ?? -1)) return false;
    return true;
  }
}

export class Workload {
  private readonly summary: WorkloadSummary = { sent: 0, refused: 0, bound: 0 };
  private readonly watch: DeliveryWatch;
  private readonly usable = new Set<string>();
  private timer: TimerHandle | undefined;
  private stopped = false;
  private pendingBinds = 0;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly step: WorkloadStep,
    private readonly target: WorkloadTarget,
    private readonly answers: BindAnswers,
  ) {
    this.watch = new DeliveryWatch(target.vmIds, SPMC);
  }

  /** Every event the orchestrator observes, for the drain (DeliveryWatch). */
  observe(t: number, event: HistoryEvent): void {
    this.watch.observe(t, event);
  }

  /** Whether, as far as the orchestrator has seen, every notification this workload made pending has been delivered. */
  settled(): boolean {
    return this.watch.settled(this.summary.sent);
  }

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

  /** The receiver's driver binds the pair (ffa_notify_request); its `notify-request-result` for this sender answers. */
  private bind(sp: number, vm: string, done: () => void): void {
    this.ctx.send(vm, { kind: 'control', op: 'notify-request', data: { sender: sp, id: WORKLOAD_NOTIFICATION_ID } });
    const isForThisSender = (data: Record<string, unknown>) => data['sender'] === sp;
    const onAnswer = (data: Record<string, unknown>) => {
      if (data['ok'] === true && data['result'] === 0) {
        this.usable.add(pairKey(sp, vm));
        this.summary.bound++;
      } else this.summary.refused++;
      done();
    };
    this.answers.awaitAnswer(vm, 'notify-request-result', isForThisSender, BIND_TIMEOUT_NS, onAnswer, () => {
      this.summary.refused++;
      done();
    });
  }

  private arrivals(onDone: (summary: WorkloadSummary) => void): void {
    const periodNs = 1e9 / this.step.ratePerSecond;
    const limit = Math.min(WORKLOAD_ARRIVALS_MAX, this.step.count ?? Math.floor((this.step.durationNs ?? 0) / periodNs));
    const startNs = this.ctx.clock.nowNs();
    const pairs = this.step.senders.flatMap((sp) => this.step.receivers.map((vm) => ({ sp, vm }))).filter(({ sp, vm }) => this.usable.has(pairKey(sp, vm)));
    // Each arrival's intended time, for latency corrected for coordinated omission
    // (services/orchestrator/checkers/arrivals.ts): the sends that follow are arrivals 0, 1, ….
    this.ctx.record({ event: 'workload-start', label: this.step.label, ratePerSecond: this.step.ratePerSecond, startNs });
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
    this.ctx.send(SPMC, message);
    this.summary.sent++;
  }
}

function pairKey(sp: number, vm: string): string {
  return `${sp}:${vm}`;
}
