/**
 * no-lost-notification (docs/design.md §8, liveness): every bit a successful SET or an SP's
 * internal send made pending is later returned by a GET whose answer reaches the receiver's
 * component (its guest, or the orchestrator that asked), on the right vCPU for a per-vCPU bit
 * (docs/ffa-reference.md §3.1), within model.livenessBoundNs after max(its set, the last fault's heal).
 *
 * A bit still pending when the run ended before its deadline is not judged (the detail counts
 * them), unless the world had gone quiet by then (model.quietAtEndNs): nothing is left that could
 * deliver it. A receiver that was destroyed, rebooted or crashed after the set excuses it.
 *
 * A load workload's notification (one with `drain:`, arrivals.ts) is judged at the end of its
 * drain instead: under an open-model load the world may fall behind, and a queue is not a loss.
 * It is lost when it was still pending when the drain ended (the world quiet with nothing left to
 * deliver it, or the drain's bound passed); delivered later than the liveness bound before that,
 * it is late, which the latency figures and their thresholds judge, not this check
 * (docs/load-and-benchmarks.md).
 *
 * A notification that was still in play when a component it needed stopped writing its history
 * (a merged history's `tail-missing`: the process was killed) is neither lost nor delivered as far
 * as the history can tell: it is counted unknown, and the detail names the component.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';
import type { CheckFailure, WorldModel } from '../scenario/types.ts';
import type { Drain } from './arrivals.ts';
import { endpointName, EvidenceWanted, evidenceOf, failureListOf, KeyedFailures, outcomeOf as checkOutcome, type CheckOutcome } from './evidence.ts';
import { type HistoryFacts, type MissingTail, UndecidedByTail } from './facts.ts';
import { arrivalOf, outcomeOf, type Episode, type EpisodeListener, type PendingMaker } from './ledger.ts';
import { plural } from '../../../shared/plural.ts';
import { formatMs } from '../../../shared/duration.ts';

/** Faults shown per failure, applied while the notification was pending: the likely cause. */
const FAULTS_SHOWN = 5;

/** Records at the hypervisor (about this VM) and at the receiver's guest that say why a bit went nowhere. */
const HYPERVISOR_MECHANISM: ReadonlySet<RecordEvent> = new Set<RecordEvent>(['npi-inject', 'npi-latched', 'npi-still-latched', 'info-get-passthrough', 'info-get-loop-bound', 'sri-delayed']);
const GUEST_REASONS: ReadonlySet<RecordEvent> = new Set<RecordEvent>(['irq-unhandled', 'notifications-disabled', 'ipi-lost', 'notification-dropped', 'probe-failed']);
/**
 * Mechanism events shown per failure, of each kind: the guest's reasons and the path. Apart, so
 * that under ws, where INFO_GETs can come first in numbers, the guest's own reason (its unhandled
 * NPI, its disabled setup) is still shown.
 */
const MECHANISM_EVENTS_PER_SIDE = 3;

/**
 * Whether an event is the receiver's guest's reason for a lost bit: its unhandled interrupt, a
 * lost IPI or dropped notification, its failed probe, its disabled notification setup (whenever
 * that was).
 */
function showsGuestReason(entry: HistoryEntry, guest: string | undefined, fromNs: number, toNs: number): boolean {
  const { event } = entry;
  if (event.type !== 'record' || event.component !== guest) return false;
  const name = event.data.event;
  return name === 'notifications-disabled' || (entry.t >= fromNs && entry.t <= toNs && GUEST_REASONS.has(name));
}

/**
 * Whether an event shows the bit's path meanwhile: an INFO_GET that named the VM or did not (the
 * hypervisor's, or the guest's own), the VM's NPI injected or latched.
 */
function showsPath(entry: HistoryEntry, model: WorldModel, receiver: number, guest: string | undefined, fromNs: number, toNs: number): boolean {
  const { event } = entry;
  if (event.type !== 'record' || entry.t < fromNs || entry.t > toNs) return false;
  const name = event.data.event;
  if (event.component === guest) return name === 'info-get';
  if (event.component !== model.hypervisor) return false;
  return name === 'info-get' || (HYPERVISOR_MECHANISM.has(name) && (event.data['vm'] === undefined || event.data['vm'] === receiver));
}

export function deadlineOf(model: WorldModel, set: PendingMaker): number {
  return Math.max(set.at.t, model.lastFaultHealNs ?? -Infinity) + model.livenessBoundNs;
}

function describe(model: WorldModel, episode: Episode): { what: string; endpoints: string[] } {
  const receiver = endpointName(model, episode.receiver);
  const senders = [...new Set(episode.sets.flatMap((s) => (s.sender === null ? [] : [endpointName(model, s.sender)])))];
  const vcpu = episode.vcpu === null ? '' : ` (vCPU ${episode.vcpu})`;
  return { what: `notification ${episode.bit} (${episode.bitmap} bitmap) for ${receiver}${vcpu}`, endpoints: [receiver, ...senders] };
}

interface Verdict {
  readonly failed: string | null;
  readonly undecided: boolean;
  /** Delivered, but past the liveness bound. */
  readonly late?: true;
}

/** A workload's notification, at the end of its workload's drain: lost only if still pending then. */
function judgeAtDrain(model: WorldModel, facts: HistoryFacts, episode: Episode, drain: Drain): Verdict {
  const { outcome, why } = outcomeOf(facts, episode);
  if (outcome === 'receiver-gone') return { failed: null, undecided: false };
  if (outcome === 'lost') return { failed: `lost: ${why ?? ''}`, undecided: false };
  const ended = drain.quiet
    ? `when the workload's drain ended ${formatMs(drain.endNs - drain.startNs)} after its last arrival, the world quiet with nothing left in flight to deliver it`
    : `when the workload's drain ended, its ${formatMs(drain.boundNs)} bound passed with the world still busy`;
  if (outcome === 'delivered') {
    const at = (episode.delivery as NonNullable<Episode['delivery']>).entry.t;
    const after = drain.quiet ? 'by something that happened after the drain' : 'a longer drain tells very late from lost';
    if (at > drain.endNs) return { failed: `still pending ${ended}; delivered ${formatMs(at - drain.endNs)} later (${after})`, undecided: false };
    return deadlineOf(model, episode.sets[0] as PendingMaker) < at ? { failed: null, undecided: false, late: true } : { failed: null, undecided: false };
  }
  return { failed: `never returned by a GET: still pending ${ended}`, undecided: false };
}

/** Lost, late, or still pending past its deadline. */
function judge(model: WorldModel, facts: HistoryFacts, episode: Episode): Verdict {
  const first = episode.sets[0] as PendingMaker;
  const deadline = deadlineOf(model, first);
  const { outcome, why } = outcomeOf(facts, episode);
  if (outcome === 'receiver-gone') return { failed: null, undecided: false };
  if (outcome === 'lost') return { failed: `lost: ${why ?? ''}`, undecided: false };
  if (outcome === 'delivered') {
    const at = (episode.delivery as NonNullable<Episode['delivery']>).entry.t;
    if (at <= deadline) return { failed: null, undecided: false };
    return { failed: `delivered ${formatMs(at - deadline)} after its deadline (${formatMs(model.livenessBoundNs)} bound)`, undecided: false, late: true };
  }
  const quietAt = model.quietAtEndNs ?? null;
  if (facts.endNs < deadline && quietAt !== null) return { failed: `never returned by a GET: still pending when the world went quiet at ${formatMs(quietAt)}, with nothing left in flight to deliver it`, undecided: false };
  if (facts.endNs < deadline) return { failed: null, undecided: true };
  return { failed: `never returned by a GET within ${formatMs(model.livenessBoundNs)} (still pending when the run ended)`, undecided: false };
}

/** A failure as judged, before the look back for the faults and mechanism around it. */
interface Draft {
  readonly failure: Omit<CheckFailure, 'events'>;
  /** Evidence known when it was judged, most telling first. */
  readonly first: readonly (HistoryEntry | null | undefined)[];
  readonly last: readonly HistoryEntry[];
  readonly faults: EvidenceWanted;
  /** The guest's own reasons, then the path meanwhile (the mechanism, MECHANISM_EVENTS_PER_SIDE each). */
  readonly reasons: EvidenceWanted;
  readonly path: EvidenceWanted;
}

/** The check as a fold: each episode judged once done (ledger.ts), the shown ones' evidence completed by a look back. */
export class NoLostNotification implements EpisodeListener {
  private readonly drafts = new KeyedFailures<Draft>();
  private episodes = 0;
  private undecided = 0;
  private delivered = 0;
  private late = 0;
  /** Workload notifications delivered past the liveness bound but within their drain: late, not lost. */
  private lateNotLost = 0;
  /** Workload notifications delivered only after their drain ended: lost, though they did arrive. */
  private afterDrain = 0;
  /** Failures the history cannot decide: a component they needed stopped writing its history. */
  private readonly unknown = new UndecidedByTail();

  constructor(
    private readonly model: WorldModel,
    private readonly facts: HistoryFacts,
  ) {}

  done(episode: Episode): void {
    const { model, facts } = this;
    this.episodes++;
    const first = episode.sets[0] as PendingMaker;
    const drain = arrivalOf(first)?.workload.drain ?? null;
    const verdict = drain ? judgeAtDrain(model, facts, episode, drain) : judge(model, facts, episode);
    if (verdict.undecided) this.undecided++;
    if (episode.delivery) this.delivered++;
    // The window the bit had: to its deadline, or for a workload's, to the end of its drain.
    const until = drain ? drain.endNs : deadlineOf(model, first);
    const tail = verdict.failed === null ? null : this.missingTail(episode, Math.min(until, facts.endNs));
    if (tail) return this.unknown.count(tail);
    if (verdict.late && verdict.failed === null) this.lateNotLost++;
    else if (verdict.late) this.late++;
    if (verdict.failed === null) return;
    if (drain && episode.delivery) this.afterDrain++;
    const { what, endpoints } = describe(model, episode);
    const guest = model.guests.find((g) => g.vmId === episode.receiver)?.component;
    const fromNs = first.at.t;
    const mechanismTo = Math.min(until, facts.endNs);
    this.drafts.add([episode.index], {
      failure: { message: `${what} ${verdict.failed}`, bit: episode.bit, endpoints },
      first: [first.entry, ...(episode.lost?.evidence ?? []), episode.delivery?.entry, drain?.entry],
      last: episode.sets.map((s) => s.entry),
      faults: new EvidenceWanted((e) => e.event.type === 'fault' && e.t >= fromNs && e.t <= until, FAULTS_SHOWN),
      reasons: new EvidenceWanted((e) => showsGuestReason(e, guest, fromNs, mechanismTo), MECHANISM_EVENTS_PER_SIDE),
      path: new EvidenceWanted((e) => showsPath(e, model, episode.receiver, guest, fromNs, mechanismTo), MECHANISM_EVENTS_PER_SIDE),
    });
  }

  /** The first component on the notification's path whose history stops before its window did. */
  private missingTail(episode: Episode, untilNs: number): MissingTail | null {
    const { model } = this;
    const guest = model.guests.find((g) => g.vmId === episode.receiver)?.component ?? null;
    return this.facts.missingTailBefore([model.spmc, model.spmd, model.hypervisor, model.gic, guest], untilNs);
  }

  /** What the look back over the history must find for the failures shown. */
  evidenceWanted(): EvidenceWanted[] {
    return this.drafts.values().flatMap((d) => [d.faults, d.reasons, d.path]);
  }

  outcome(): CheckOutcome {
    const { model, undecided, late, afterDrain, lateNotLost } = this;
    const failures = this.drafts.values().map((d) => ({ ...d.failure, events: evidenceOf([...d.first, ...d.faults.found, ...d.reasons.found, ...d.path.found, ...d.last]) }));
    const list = failureListOf({ total: this.drafts.total, failures });
    const pendingNote = undecided > 0 ? `, ${undecided} still pending when the run ended before ${undecided === 1 ? 'its' : 'their'} deadline` : '';
    const lateNotes = [late > 0 ? `${late} of them past the ${model.livenessBoundNs / 1e6} ms liveness bound` : '', afterDrain > 0 ? `${afterDrain} of them only after their workload's drain ended` : ''].filter((note) => note !== '');
    const lateNote = lateNotes.length > 0 ? ` (${lateNotes.join('; ')})` : '';
    const lateNotLostNote = lateNotLost > 0 ? `; ${lateNotLost} workload notifications delivered past the ${model.livenessBoundNs / 1e6} ms liveness bound before their drain ended: late, not lost (the latency figures hold them)` : '';
    // A delivery past the bound fails the check as a lost one does, but a reader must see which it was.
    const noun = late === 0 ? 'lost notification' : late === list.total ? 'late notification' : 'lost or late notification';
    return checkOutcome(list, noun, `${plural(this.episodes, 'notification')}, ${this.delivered} delivered${lateNote}${pendingNote}${lateNotLostNote}${this.unknown.note()}`);
  }
}

