/**
 * The notification ledger: every bit made pending at the SPMC (spmc-replay.ts), followed from the
 * GET answer that cleared it up its forwarding chain to the receiver, and on to the callback in the
 * receiver's driver (docs/design.md §2 "what a notification's life looks like", steps 4 to 6;
 * §8 "the checker follows every bit"). A bit reaches its receiver when the answer arrives at the
 * receiver's component (its guest, or the orchestrator that asked) carrying it, on the right vCPU
 * for a per-vCPU bit (docs/ffa-reference.md §3.1).
 */
import { decodeResult } from '../../../shared/ffa/errors.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { notificationGet } from '../../../shared/ffa/notifications.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { EvidenceEvent, WorldModel } from '../scenario/types.ts';
import { CallIndex, fidOfCall, followAnswer, type CallRecord } from './calls.ts';
import { endpointName, evidence } from './evidence.ts';
import { firstAtOrAfter, groupBy, numberField, recordOf, recordsOf, type RecordView } from './records.ts';
import { getBitmaps, SpmcReplay, type Episode, type NotificationBitmap, type PendingMaker, type SpmcPhantom } from './spmc-replay.ts';
import { hex } from '../../../shared/ffa/format.ts';

export { getBitmaps, type Delivery, type Episode, type NotificationBitmap, type PendingMaker, type SpmcPhantom } from './spmc-replay.ts';

export interface NotificationAnalysis {
  readonly episodes: Episode[];
  readonly phantoms: SpmcPhantom[];
  /** Per VM ID: when it was destroyed, rebooted or crashed. */
  readonly receiverGoneNs: Map<number, number[]>;
  /** The latest time in the history. */
  readonly endNs: number;
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

/** Did the SPMC's answer carry this bit to the receiver, on the right vCPU? */
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

// ---------------------------------------------------------------- callbacks in the receiver's driver

/** Guest records of the FF-A driver's callback and OP-TEE's bottom half, and GET answers per vCPU. */
class CallbackIndex {
  private readonly callbacks: Map<string, RecordView[]>;
  private readonly bottomHalves: Map<string, RecordView[]>;
  private readonly getAnswers: Map<string, HistoryEntry[]>;

  constructor(entries: readonly HistoryEntry[], index: CallIndex) {
    this.callbacks = groupBy(recordsOf(entries, { event: 'notification-callback' }), (r) => `${r.component}|${String(r.data['type'])}|${String(r.data['id'])}|${String(r.data['vcpu'])}`);
    this.bottomHalves = groupBy(recordsOf(entries, { event: 'optee-bottom-half' }), (r) => `${r.component}|${String(r.data['id'])}|${String(r.data['vcpu'])}`);
    const answers = index.calls.filter((c) => fidOfCall(c) === FFA_FIDS.FFA_NOTIFICATION_GET && c.returnDelivered !== null);
    this.getAnswers = new Map();
    for (const [key, calls] of groupBy(answers, (c) => `${c.caller}|${c.message?.vcpu}`)) {
      this.getAnswers.set(key, calls.map((c) => c.returnDelivered as HistoryEntry).sort((a, b) => a.seq - b.seq));
    }
  }

  /** The driver's callback for this delivery: after it, before the next GET answer on that vCPU. */
  attach(episode: Episode): void {
    const delivery = episode.delivery;
    if (!delivery || (episode.bitmap !== 'sp' && episode.bitmap !== 'vm')) return;
    const { component, entry, vcpu } = delivery;
    const next = this.nextAfter(this.getAnswers.get(`${component}|${vcpu}`) ?? [], entry.seq);
    const group = this.callbacks.get(`${component}|${episode.bitmap}|${episode.bit}|${vcpu}`) ?? [];
    const callback = this.firstBetween(group, entry.seq, next);
    if (!callback) return;
    episode.callback = callback.entry;
    const following = this.firstBetween(group, callback.entry.seq, Infinity);
    const bound = following ? following.entry.seq : Infinity;
    episode.bottomHalf = this.firstBetween(this.bottomHalves.get(`${component}|${episode.bit}|${vcpu}`) ?? [], callback.entry.seq, bound)?.entry ?? null;
  }

  private nextAfter(sorted: readonly HistoryEntry[], seq: number): number {
    return sorted[firstAtOrAfter(sorted, seq + 1, (e) => e.seq)]?.seq ?? Infinity;
  }

  private firstBetween(sorted: readonly RecordView[], afterSeq: number, beforeSeq: number): RecordView | null {
    const found = sorted[firstAtOrAfter(sorted, afterSeq + 1, (r) => r.entry.seq)];
    return found && found.entry.seq < beforeSeq ? found : null;
  }
}

// ---------------------------------------------------------------- receivers that went away

/** VM destroyed or rebooted (hypervisor, guest or SPMC records), or its guest crashed. */
function receiverGoneTimes(entries: readonly HistoryEntry[], model: WorldModel): Map<number, number[]> {
  const gone = new Map<number, number[]>();
  const note = (vm: number | null | undefined, t: number) => {
    if (vm === null || vm === undefined) return;
    gone.set(vm, [...(gone.get(vm) ?? []), t]);
  };
  const vmOf = (component: string) => model.guests.find((g) => g.component === component)?.vmId;
  for (const entry of entries) {
    const { event } = entry;
    if (event.type === 'component' && event.event === 'crash') note(vmOf(event.component), entry.t);
    const record = recordOf(entry);
    if (!record) continue;
    if (record.component === model.hypervisor && (record.event === 'vm-destroyed' || record.event === 'vm-rebooted')) note(numberField(record.data, 'id'), entry.t);
    else if (record.event === 'guest-destroyed' || record.event === 'guest-rebooted') note(vmOf(record.component), entry.t);
    else if (record.component === model.spmc && record.event === 'vm-destroyed') note(numberField(record.data, 'vm'), entry.t);
  }
  return gone;
}

/** Whether the receiver went away after `t` (so an undelivered bit is excused). */
export function receiverGoneAfter(analysis: NotificationAnalysis, receiver: number, t: number): boolean {
  return (analysis.receiverGoneNs.get(receiver) ?? []).some((gone) => gone >= t);
}

/** The whole analysis, from one pass over the history in order. */
export function analyseNotifications(entries: readonly HistoryEntry[], model: WorldModel, index = new CallIndex(entries)): NotificationAnalysis {
  const replay = new SpmcReplay(model, index);
  for (const entry of entries) replay.take(entry);
  const callbacks = new CallbackIndex(entries, index);
  for (const episode of replay.episodes) {
    follow(model, episode);
    callbacks.attach(episode);
  }
  const endNs = entries.reduce((max, e) => Math.max(max, e.t), 0);
  return { episodes: replay.episodes, phantoms: replay.phantoms, receiverGoneNs: receiverGoneTimes(entries, model), endNs };
}

// ---------------------------------------------------------------- the public ledger

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

export function outcomeOf(analysis: NotificationAnalysis, episode: Episode): { outcome: LedgerOutcome; why: string | null } {
  if (episode.delivery) return { outcome: 'delivered', why: null };
  const firstSet = (episode.sets[0] as PendingMaker).at.t;
  if (episode.droppedBySpmc) return { outcome: 'receiver-gone', why: 'the SPMC dropped the VM\'s state (VM destroyed)' };
  if (receiverGoneAfter(analysis, episode.receiver, firstSet)) return { outcome: 'receiver-gone', why: 'the receiver VM was destroyed, rebooted or crashed' };
  if (episode.lost) return { outcome: 'lost', why: episode.lost.why };
  return { outcome: 'pending', why: 'no GET returned it' };
}

function ledgerEntry(model: WorldModel, analysis: NotificationAnalysis, episode: Episode): LedgerNotification {
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
    ...outcomeOf(analysis, episode),
  };
}

/** Every notification of a run: receiver, bit, when it was set, returned, delivered, called back. */
export function notificationLedger(entries: readonly HistoryEntry[], model: WorldModel): LedgerNotification[] {
  const analysis = analyseNotifications(entries, model);
  return analysis.episodes.map((episode) => ledgerEntry(model, analysis, episode));
}
