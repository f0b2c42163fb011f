/**
 * The notification ledger: every bit made pending at the SPMC (spmc-replay.ts), followed from the
 * GET answer that cleared it up its forwarding chain to the receiver, and on to the callback in the
 * receiver's driver (docs/design.md §2 "what a notification's life looks like", steps 4 to 6;
 * §8 "the checker follows every bit"). A bit reaches its receiver when the answer arrives at the
 * receiver's component (its guest, or the orchestrator that asked) carrying it, on the right vCPU
 * for a per-vCPU bit (docs/ffa-reference.md §3.1).
 *
 * Followed as the history comes (NotificationTracker): an episode is kept from its first set until
 * nothing more can change what became of it (its chain settled, its callback and bottom half
 * known, whatever else a listener holds it for), then handed to the listeners and let go. So the
 * ledger holds the notifications outstanding, not the run's.
 */
import { decodeResult } from '../../../shared/ffa/errors.ts';
import { notificationGet } from '../../../shared/ffa/notifications.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { EvidenceEvent, WorldModel } from '../scenario/types.ts';
import type { Arrival, ArrivalPairing } from './arrivals.ts';
import { followAnswer, type CallIndex, type CallRecord, type CallStep } from './calls.ts';
import { CallbackWindows, type Callback } from './callbacks.ts';
import { endpointName, evidence } from './evidence.ts';
import { getBitmaps, SpmcReplay, type Episode, type NotificationBitmap, type PendingMaker, type ReplayListener, type SpmcPhantom } from './spmc-replay.ts';
import { hex } from '../../../shared/ffa/format.ts';

export { getBitmaps, type Delivery, type Episode, type NotificationBitmap, type PendingMaker, type SpmcPhantom } from './spmc-replay.ts';

/** What a notification's fate is judged against: when the run ended, and when receivers went away. */
export interface RunEnd {
  /** The latest time in the history. */
  readonly endNs: number;
  /** Per VM ID: when it was destroyed, rebooted or crashed. */
  readonly receiverGoneNs: ReadonlyMap<number, readonly number[]>;
}

export interface NotificationAnalysis extends RunEnd {
  readonly episodes: Episode[];
  readonly phantoms: SpmcPhantom[];
}

/** The arrival a set's delivery carried (arrivals.ts), once known. */
export function arrivalOf(set: PendingMaker): Arrival | null {
  return set.slot?.arrival ?? null;
}

// ---------------------------------------------------------------- following each returned bit

export function isReceiverComponent(model: WorldModel, component: string, receiver: number): boolean {
  return component === model.orchestrator || model.guests.some((g) => g.component === component && g.vmId === receiver);
}

/** The vCPU a GET ran on: the guest's vCPU, or for the orchestrator the GET's w1[31:16]. */
function vcpuOfGet(model: WorldModel, component: string, top: CallRecord): number {
  const message = top.message as NonNullable<CallRecord['message']>;
  if (model.guests.some((g) => g.component === component)) return message.vcpu;
  return notificationGet.decodeCall(message.regs).args.vcpu;
}

/** Did the SPMC's answer carry this bit to the receiver, on the right vCPU? (Its whole chain settled.) */
function follow(model: WorldModel, episode: Episode): void {
  const returned = episode.returned;
  if (!returned) return;
  const end = followAnswer(returned.call);
  const lose = (why: string, more: readonly HistoryEntry[] = []) => {
    episode.lost = { why, evidence: [returned.entry, ...more] };
  };
  if (end.kind === 'broken') return lose(`the SPMC's GET answer cleared it but ${end.why}`, end.evidence);
  const name = endpointName(model, episode.receiver);
  if (!isReceiverComponent(model, end.component, episode.receiver)) return lose(`the GET answer that cleared it went to ${end.component}, not to ${name}`, [end.entry]);
  if (decodeResult(end.regs).kind !== 'success') return lose(`the SPMC returned it but ${end.component} got ${describeAnswer(end.regs)}`, [end.entry]);
  if ((getBitmaps(end.regs)[episode.bitmap] & (1n << BigInt(episode.bit))) === 0n) {
    return lose(`the SPMC returned it but it was masked out before it reached ${end.component}`, [end.entry]);
  }
  const vcpu = vcpuOfGet(model, end.component, end.top);
  if (episode.vcpu !== null && vcpu !== episode.vcpu) return lose(`per-vCPU notification for vCPU ${episode.vcpu} retrieved on vCPU ${vcpu}`, [end.entry]);
  episode.delivery = { component: end.component, entry: end.entry, top: end.top, vcpu };
}

function describeAnswer(regs: RegisterFile): string {
  const decoded = decodeResult(regs);
  return decoded.kind === 'error' ? `FFA_ERROR(${decoded.name ?? decoded.code})` : hex(decoded.fid);
}

// ---------------------------------------------------------------- the tracker

/** What the tracker tells, as it learns it. Every hook is optional. */
export interface EpisodeListener {
  /** A bit became pending for a receiver. */
  created?(episode: Episode): void;
  /** A set made it pending or merged into it (the first set included). */
  set?(episode: Episode, set: PendingMaker): void;
  /** A GET the SPMC answered cleared it. */
  returned?(episode: Episode): void;
  /** Whether it was delivered is decided (`episode.delivery`), though more may still come (its callback). */
  resolved?(episode: Episode): void;
  /** Nothing more will change: the last the listeners hear of it. */
  done?(episode: Episode): void;
  phantom?(phantom: SpmcPhantom): void;
}

interface Tracked {
  /** Things a listener still waits for before the episode is done (a walk, a callback, an arrival). */
  holds: number;
  resolved: boolean;
}

/** The ledger as a fold: the SPMC's replay, each episode followed until it is done. */
export class NotificationTracker implements ReplayListener {
  private readonly replay: SpmcReplay;
  private readonly tracked = new Map<Episode, Tracked>();
  private readonly listeners: EpisodeListener[] = [];

  constructor(
    private readonly model: WorldModel,
    private readonly calls: CallIndex,
    private readonly windows: CallbackWindows,
    private readonly arrivals: ArrivalPairing,
  ) {
    this.replay = new SpmcReplay(model, this);
  }

  listen(listener: EpisodeListener): void {
    this.listeners.push(listener);
  }

  take(entry: HistoryEntry, step: CallStep): void {
    this.replay.take(entry, step.answered);
  }

  /** A listener waits for something before the episode may be done. */
  hold(episode: Episode): void {
    const tracked = this.tracked.get(episode);
    if (tracked) tracked.holds++;
  }

  release(episode: Episode): void {
    const tracked = this.tracked.get(episode);
    if (!tracked) return;
    tracked.holds--;
    this.tryDone(episode, tracked);
  }

  /** Episodes not yet done (for tests of the bound). */
  get outstanding(): number {
    return this.tracked.size;
  }

  /**
   * The end of the history (after the calls, arrivals, windows and walks finished): what is still
   * pending at the SPMC was never returned, and every episode is done.
   */
  finish(): void {
    for (const episode of [...this.replay.pending()]) this.resolve(episode);
    for (const [episode, tracked] of [...this.tracked].sort((a, b) => a[0].index - b[0].index)) {
      if (tracked.holds !== 0) throw new Error(`bug: episode ${episode.index} still held ${tracked.holds} times at the end of the history`);
      this.tryDone(episode, tracked);
    }
  }

  created(episode: Episode): void {
    this.tracked.set(episode, { holds: 0, resolved: false });
    for (const listener of this.listeners) listener.created?.(episode);
  }

  set(episode: Episode, maker: PendingMaker): void {
    if (maker.slot === undefined) maker.slot = this.arrivals.slotOf(maker.at);
    const slot = maker.slot;
    if (slot && slot.arrival === undefined) {
      this.hold(episode);
      slot.waiters.push(() => this.release(episode));
    }
    for (const listener of this.listeners) listener.set?.(episode, maker);
  }

  returned(episode: Episode): void {
    for (const listener of this.listeners) listener.returned?.(episode);
    const call = (episode.returned as NonNullable<Episode['returned']>).call;
    this.hold(episode);
    this.calls.whenRootSettled(call, () => {
      follow(this.model, episode);
      this.attachCallback(episode);
      this.resolve(episode);
      this.release(episode);
    });
  }

  dropped(episode: Episode): void {
    this.resolve(episode);
  }

  phantom(phantom: SpmcPhantom): void {
    for (const listener of this.listeners) listener.phantom?.(phantom);
  }

  private resolve(episode: Episode): void {
    const tracked = this.tracked.get(episode);
    if (!tracked || tracked.resolved) return;
    tracked.resolved = true;
    for (const listener of this.listeners) listener.resolved?.(episode);
    this.tryDone(episode, tracked);
  }

  private tryDone(episode: Episode, tracked: Tracked): void {
    if (!tracked.resolved || tracked.holds > 0 || !this.tracked.has(episode)) return;
    this.tracked.delete(episode);
    for (const listener of this.listeners) listener.done?.(episode);
  }

  /**
   * The driver's callback for this delivery: the first for its bit after the GET answer, before
   * the next GET answer on that vCPU (callbacks.ts); and OP-TEE's bottom half after it.
   */
  private attachCallback(episode: Episode): void {
    const delivery = episode.delivery;
    if (!delivery || (episode.bitmap !== 'sp' && episode.bitmap !== 'vm')) return;
    const window = this.windows.windowOf(delivery.top);
    if (!window) return;
    this.hold(episode);
    const look = (): void => {
      const callback = CallbackWindows.callbackIn(window, episode.bitmap, episode.bit);
      if (callback) return this.attachBottomHalf(episode, callback);
      if (window.closed) return this.release(episode);
      window.waiters.push(look);
    };
    look();
  }

  private attachBottomHalf(episode: Episode, callback: Callback): void {
    episode.callback = callback.entry;
    const settle = (): void => {
      if (!callback.bottomHalfKnown) {
        callback.waiters.push(settle);
        return;
      }
      episode.bottomHalf = callback.bottomHalf;
      this.release(episode);
    };
    settle();
  }
}

// ---------------------------------------------------------------- the public ledger

/** Whether the receiver went away at or after `t` (so an undelivered bit is excused). */
export function receiverGoneAfter(end: RunEnd, receiver: number, t: number): boolean {
  return (end.receiverGoneNs.get(receiver) ?? []).some((gone) => gone >= t);
}

export type LedgerOutcome = 'delivered' | 'lost' | 'pending' | 'receiver-gone';

/** One notification (a bit pending for a receiver), as the report shows it. */
export interface LedgerNotification {
  receiver: number;
  receiverName: string;
  bitmap: NotificationBitmap;
  bit: number;
  /** The target vCPU of a per-vCPU notification; null for a global one. */
  vcpu: number | null;
  senders: number[];
  /** Every pending-making event merged into it (the SPMC's record or answer). */
  sets: EvidenceEvent[];
  /** When the SPMC took the first set: its delivery of the call or control message that made it. */
  setNs: number;
  /** The SPMC answered the GET that cleared it. */
  returnedNs: number | null;
  /** That answer reached the receiver. */
  deliveredNs: number | null;
  deliveredTo: string | null;
  /** The receiver driver's callback (notification-callback) and OP-TEE's bottom half. */
  callbackNs: number | null;
  bottomHalfNs: number | null;
  outcome: LedgerOutcome;
  /** Why it was not delivered (lost, pending, receiver-gone). */
  why: string | null;
}

export function outcomeOf(end: RunEnd, episode: Episode): { outcome: LedgerOutcome; why: string | null } {
  if (episode.delivery) return { outcome: 'delivered', why: null };
  const firstSet = (episode.sets[0] as PendingMaker).at.t;
  if (episode.droppedBySpmc) return { outcome: 'receiver-gone', why: 'the SPMC dropped the VM\'s state (VM destroyed)' };
  if (receiverGoneAfter(end, episode.receiver, firstSet)) return { outcome: 'receiver-gone', why: 'the receiver VM was destroyed, rebooted or crashed' };
  if (episode.lost) return { outcome: 'lost', why: episode.lost.why };
  return { outcome: 'pending', why: 'no GET returned it' };
}

export function ledgerEntry(model: WorldModel, end: RunEnd, episode: Episode): LedgerNotification {
  const senders = [...new Set(episode.sets.flatMap((s) => (s.sender === null ? [] : [s.sender])))];
  return {
    receiver: episode.receiver,
    receiverName: endpointName(model, episode.receiver),
    bitmap: episode.bitmap,
    bit: episode.bit,
    vcpu: episode.vcpu,
    senders,
    sets: episode.sets.map((s) => evidence(s.entry)),
    setNs: (episode.sets[0] as PendingMaker).at.t,
    returnedNs: episode.returned?.entry.t ?? null,
    deliveredNs: episode.delivery?.entry.t ?? null,
    deliveredTo: episode.delivery?.component ?? null,
    callbackNs: episode.callback?.t ?? null,
    bottomHalfNs: episode.bottomHalf?.t ?? null,
    ...outcomeOf(end, episode),
  };
}
