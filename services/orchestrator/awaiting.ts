/**
 * What the orchestrator awaits (docs/design.md §2): what the other components record and are
 * delivered, as it observes their history, and the answers to its control requests. It stands on
 * the scripted-actor kernel (shared/runtime/scripted-actor), as the services' test actors do.
 *
 * Kept: only the observed events some step of the scenario awaits (by key: one component's
 * records of one event, the interrupts delivered to one component), and only those since the
 * step that could cause them began. An await never takes an event from before that step
 * (`causeStartNs`), so older ones are forgotten when the next such step begins, and a long
 * workload's traffic is not kept at all unless a later step awaits it.
 *
 * The inbox is bounded. When it is full, what it could not keep is lost, and until the next
 * cause step an await that finds nothing among what was kept fails and says so, rather than wait
 * out its bound or take a later event in place of a lost one; the history has the loss too
 * (`orchestrator-inbox-full`).
 */
import type { ComponentContext, ObservedEvent } from '../../shared/runtime/component.ts';
import type { HistoryEvent } from '../../shared/runtime/history.ts';
import { Awaiting, controlKey, InboxFullError, type InboxEntry } from '../../shared/runtime/scripted-actor/index.ts';
import { componentOf } from './faults.ts';
import type { Endpoint, Step } from './scenario/types.ts';
import { type Finish, ms } from './step-outcome.ts';

/** Bound on the probes of the booted guests before the first step, without progress. */
const PROBE_TIMEOUT_NS = 10_000_000_000;
/** Bound on a control round trip (a guest's call, a hypervisor life-cycle request). */
const CONTROL_TIMEOUT_NS = 10_000_000_000;
/** ws only: observed events reach the orchestrator a little after they happen (batched per turn). */
const WS_OBSERVATION_GRACE_NS = 50_000_000;
/** `await: idle`: quiet this long counts as idle (no record or interrupt anywhere). */
const IDLE_QUIET_NS = { sim: 2_000_000, ws: 150_000_000 } as const;
/**
 * A drain whose workload still has a notification the orchestrator has not seen delivered
 * (workload.ts DeliveryWatch) needs this many quiet windows before it calls the world quiet: under
 * ws a starved worker's reports can be that late, and then the bit is lost, not late.
 */
const UNSETTLED_QUIET_WINDOWS = 10;
const IDLE_TIMEOUT_NS = 30_000_000_000;
/** Observed events kept for the steps that await them, and waits pending at once (a probe per guest). */
const OBSERVED_LIMITS = { inboxMax: 100_000, waitersMax: 100_000 };
/** Answers are never kept (a late one is stale); one wait per request in flight. */
const ANSWER_LIMITS = { inboxMax: 1, waitersMax: 100_000 };

export type AwaitEventStep = Extract<Step, { kind: 'await-interrupt' | 'await-callback' | 'await-probe' | 'await-message' }>;
export type ExpectNoneStep = Extract<Step, { kind: 'expect-none-interrupt' }>;

/** What an await step waits for among the observed events, and how a detail names it. */
interface ObservedWanted {
  readonly key: string;
  readonly matches: (event: HistoryEvent) => boolean;
  readonly what: string;
}

/** What keeps the world from being idle though nothing is observed: a fault's heal to come, a delayed frame still due. */
export interface QuietWorld {
  readonly healing: boolean;
  readonly delayedUntilNs: number;
}

export class OrchestratorAwaiting {
  private readonly observed: Awaiting<HistoryEvent>;
  private readonly answers: Awaiting<Record<string, unknown>>;
  /** The keys some step awaits: the only observed events worth keeping. */
  private readonly keptKeys: ReadonlySet<string>;
  /** Events before this time do not satisfy an await: it is when the step that could cause them began. */
  private causeStartNs = 0;
  private lastObservedNs = 0;
  /** The times of the events lost to a full inbox since the cause step began, or null. */
  private lost: { firstNs: number; lastNs: number; bound: number } | null = null;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly runtime: 'sim' | 'ws',
    steps: readonly Step[],
    bootedGuests: readonly string[],
  ) {
    this.observed = new Awaiting(ctx, OBSERVED_LIMITS);
    this.answers = new Awaiting(ctx, ANSWER_LIMITS);
    this.keptKeys = keysAwaited(steps, bootedGuests);
  }

  /** The other components' observable history, as it arrives (in batches under ws). */
  observe(events: readonly ObservedEvent[]): void {
    const last = events.at(-1);
    if (last) this.lastObservedNs = last.t;
    for (const { t, event } of events) {
      if (t < this.causeStartNs) continue;
      const key = observedKey(event);
      if (key === null || !this.keptKeys.has(key)) continue;
      if (this.lost && this.observed.kept >= OBSERVED_LIMITS.inboxMax) {
        // Still full: a pending wait may take it, nothing can keep it (and no error is built per event).
        if (!this.observed.deliver(key, t, event)) this.lost.lastNs = Math.max(this.lost.lastNs, t);
        continue;
      }
      try {
        this.observed.offer(key, t, event);
      } catch (error) {
        if (!(error instanceof InboxFullError)) throw error;
        this.onLost(error, t);
      }
    }
  }

  /** A control message: whether a request awaited it (an answer nobody awaits is not kept). */
  answer(from: string, op: string, data: Record<string, unknown>): boolean {
    return this.answers.deliver(controlKey(from, op), this.ctx.clock.nowNs(), data);
  }

  /** A step that could cause what later steps await begins: nothing observed before it counts from now on. */
  startCause(nowNs: number): void {
    this.causeStartNs = nowNs;
    this.observed.dropBefore(nowNs);
    if (this.lost && this.lost.lastNs < nowNs) this.lost = null;
  }

  /**
   * Every guest's probe (its `done` record), in whatever order they finish: those already
   * observed are taken at once, then one waiter per guest takes the rest as they arrive. The
   * bound is PROBE_TIMEOUT_NS without progress; the guests still not done then are recorded and
   * the steps go on.
   */
  awaitProbes(guests: readonly string[], then: () => void): void {
    const since = this.causeStartNs;
    const pending = [...new Set(guests)];
    this.observed.awaitEach({
      label: 'the booted guests\' probes',
      wanted: pending.map((guest) => ({ ...this.kept({ key: recordKey(guest, 'done') }), accepts: (entry) => entry.t >= since, label: `probe of ${guest}` })),
      progressTimeoutNs: PROBE_TIMEOUT_NS,
      onEnd: (missing) => {
        for (const index of missing) this.ctx.record({ event: 'probe-timeout', guest: pending[index] ?? '' });
        then();
      },
    });
  }

  /** The first event the step awaits since its cause began, now or when it arrives, within its bound. */
  awaitEvent(step: AwaitEventStep, finish: Finish): void {
    const { key, matches, what } = this.kept(wantedBy(step));
    const startNs = this.ctx.clock.nowNs();
    const since = this.causeStartNs;
    const accepts = (entry: InboxEntry<HistoryEvent>) => entry.t >= since && matches(entry.item);
    if (this.lost && !this.observed.find({ key, accepts })) return finish(false, this.lostDetail(what));
    this.observed.await({
      label: what,
      key,
      accepts,
      timeoutNs: step.withinNs + this.graceNs(),
      onMatch: (entry) => {
        const late = entry.t - startNs > step.withinNs;
        finish(!late, late ? `${what} came ${ms(entry.t - startNs)} after the await began, later than ${ms(step.withinNs)}` : `${what} (t=${ms(entry.t)})`);
      },
      onTimeout: () => finish(false, `no ${what} within ${ms(step.withinNs)}`),
    });
  }

  /** None of what the step names in the next `forNs`: judged once the window (and, under ws, the grace) is over. */
  expectNone(step: ExpectNoneStep, finish: Finish): void {
    const { key, matches, what } = this.kept(wantedBy(step));
    const startNs = this.ctx.clock.nowNs();
    const inWindow = (entry: InboxEntry<HistoryEvent>) => entry.t >= startNs && entry.t <= startNs + step.forNs && matches(entry.item);
    this.ctx.setTimer(step.forNs + this.graceNs(), () => {
      const seen = this.observed.find({ key, accepts: inWindow });
      if (seen) return finish(false, `unexpected: ${describeEvent(seen.item)} at t=${ms(seen.t)}`);
      if (this.lost && this.lost.lastNs >= startNs) return finish(false, this.lostDetail(`no ${what}`));
      finish(true, `none in ${ms(step.forNs)}`);
    });
  }

  /** Quiet for IDLE_QUIET_NS (nothing observed) with no fault heal still to come (`world`). */
  awaitIdle(world: QuietWorld, finish: Finish): void {
    this.awaitQuiet(IDLE_TIMEOUT_NS, world, (quiet) => finish(quiet, quiet ? `quiet for ${ms(IDLE_QUIET_NS[this.runtime])}` : `the world did not go quiet within ${ms(IDLE_TIMEOUT_NS)}`));
  }

  /**
   * Until nothing was observed for the quiet window (nor is a delayed frame still due) and no fault
   * awaits its heal (true), or `boundNs` passed (false). While `settled` says no, the quiet window
   * is UNSETTLED_QUIET_WINDOWS times as long.
   */
  awaitQuiet(boundNs: number, world: QuietWorld, done: (quiet: boolean) => void, settled: () => boolean = () => true): void {
    const window = IDLE_QUIET_NS[this.runtime];
    const deadline = this.ctx.clock.nowNs() + boundNs;
    const poll = () => {
      const now = this.ctx.clock.nowNs();
      const last = Math.max(this.lastObservedNs, world.delayedUntilNs);
      const quiet = settled() ? window : window * UNSETTLED_QUIET_WINDOWS;
      if (now - last >= quiet && !world.healing) return done(true);
      if (now >= deadline) return done(false);
      this.ctx.setTimer(Math.min(window, deadline - now), poll);
    };
    this.ctx.setTimer(Math.min(window, boundNs), poll);
  }

  /**
   * The answer `op` from `from` to a request just sent: with a `label`, the answer that carries
   * it (a guest's call-result), otherwise any. No answer within CONTROL_TIMEOUT_NS fails the step.
   */
  awaitControl(from: string, op: string, label: string, onAnswer: (data: Record<string, unknown>) => void, finish: Finish): void {
    this.awaitAnswer(from, op, (data) => label === '' || data['label'] === label, CONTROL_TIMEOUT_NS, onAnswer, () =>
      finish(false, `no ${op} from ${from} within ${ms(CONTROL_TIMEOUT_NS)}`),
    );
  }

  /** The first answer `op` from `from` that `accepts` takes, within `timeoutNs`. */
  awaitAnswer(
    from: string,
    op: string,
    accepts: (data: Record<string, unknown>) => boolean,
    timeoutNs: number,
    onAnswer: (data: Record<string, unknown>) => void,
    onTimeout: () => void,
  ): void {
    this.answers.await({
      label: `${op} from ${from}`,
      key: controlKey(from, op),
      accepts: (entry) => accepts(entry.item),
      timeoutNs,
      onMatch: (entry) => onAnswer(entry.item),
      onTimeout,
    });
  }

  private graceNs(): number {
    return this.runtime === 'ws' ? WS_OBSERVATION_GRACE_NS : 0;
  }

  /** A wanted key must be one the scenario's steps named, or its events were never kept. */
  private kept<W extends { key: string }>(wanted: W): W {
    if (!this.keptKeys.has(wanted.key)) throw new Error(`bug: ${wanted.key} is awaited but no step named it, so none was kept`);
    return wanted;
  }

  private onLost(error: InboxFullError, t: number): void {
    if (this.lost) {
      this.lost.lastNs = Math.max(this.lost.lastNs, t);
      return;
    }
    this.lost = { firstNs: t, lastNs: t, bound: error.bound };
    this.ctx.record({ event: 'orchestrator-inbox-full', bound: error.bound, key: error.key, atNs: t });
  }

  private lostDetail(what: string): string {
    const lost = this.lost;
    const when = lost ? ` from t=${ms(lost.firstNs)}` : '';
    return `cannot tell ${what}: the orchestrator's inbox was full (${lost?.bound} events kept unclaimed), so events observed${when} were lost (INBOX_FULL)`;
  }
}

/** The keys of every observed event a step of the scenario, or the wait for the booted guests' probes, awaits. */
function keysAwaited(steps: readonly Step[], bootedGuests: readonly string[]): Set<string> {
  const keys = new Set(bootedGuests.map((guest) => recordKey(guest, 'done')));
  for (const step of steps) {
    switch (step.kind) {
      case 'await-interrupt':
      case 'await-callback':
      case 'await-probe':
      case 'await-message':
      case 'expect-none-interrupt':
        keys.add(wantedBy(step).key);
    }
  }
  return keys;
}

function wantedBy(step: AwaitEventStep | ExpectNoneStep): ObservedWanted {
  switch (step.kind) {
    case 'await-interrupt':
    case 'expect-none-interrupt':
      return { key: deliveryKey(componentOf(step.to)), matches: (e) => isDelivery(e, step.to, step.intid, step.vcpu), what: `interrupt ${step.intid ?? '(any)'} at ${step.to.name}` };
    case 'await-callback': {
      const receiver = componentOf(step.in);
      return { key: recordKey(receiver, 'notification-callback'), matches: (e) => isCallback(e, receiver, step.notification), what: `callback of notification ${step.notification} in ${step.in.name}` };
    }
    case 'await-probe': {
      const guest = componentOf(step.in);
      return { key: recordKey(guest, 'done'), matches: (e) => isRecord(e, guest, 'done'), what: `probe of ${step.in.name}` };
    }
    case 'await-message': {
      const guest = componentOf(step.in);
      const sender = step.from?.id ?? null;
      const from = step.from === null ? '' : ` from ${step.from.name}`;
      return { key: recordKey(guest, 'framework-message'), matches: (e) => isMessageRead(e, guest, sender), what: `a message${from} read in ${step.in.name}` };
    }
  }
}

/** What an observed event is kept under: a record by its component and event, a delivered interrupt by its receiver. */
function observedKey(event: HistoryEvent): string | null {
  if (event.type === 'record') return recordKey(event.component, String(event.data['event']));
  if (event.type === 'deliver' && event.message.kind === 'irq' && event.message.op === 'deliver') return deliveryKey(event.to);
  return null;
}

function recordKey(component: string, event: string): string {
  return `record ${component} ${event}`;
}

function deliveryKey(to: string): string {
  return `deliver ${to}`;
}

function isRecord(event: HistoryEvent, component: string, recorded: string): boolean {
  return event.type === 'record' && event.component === component && event.data['event'] === recorded;
}

/** The GIC delivered `intid` to the endpoint (a vCPU of a VM; a physical CPU of the hypervisor or host). */
function isDelivery(event: HistoryEvent, to: Endpoint, intid: number | null, vcpu: number | null): boolean {
  if (event.type !== 'deliver' || event.from !== 'gic' || event.to !== componentOf(to)) return false;
  const irq = event.message;
  if (irq.kind !== 'irq' || irq.op !== 'deliver') return false;
  if (intid !== null && irq.intid !== intid) return false;
  if (vcpu === null) return true;
  return to.kind === 'vm' ? irq.vcpu === vcpu : irq.cpu === vcpu;
}

/** The guest's driver read a message (from `sender`, when given) out of its RX buffer (services/guest notifications.ts). */
function isMessageRead(event: HistoryEvent, guest: string, sender: number | null): boolean {
  return isRecord(event, guest, 'framework-message') && event.type === 'record' && (sender === null || event.data['sender'] === sender);
}

function isCallback(event: HistoryEvent, receiver: string, notification: number): boolean {
  return isRecord(event, receiver, 'notification-callback') && event.type === 'record' && event.data['id'] === notification;
}

function describeEvent(event: HistoryEvent): string {
  if (event.type === 'deliver' && event.message.kind === 'irq') return `interrupt ${event.message.intid} delivered to ${event.to}`;
  if (event.type === 'record') return `${event.component} recorded ${String(event.data['event'])}`;
  return event.type;
}
