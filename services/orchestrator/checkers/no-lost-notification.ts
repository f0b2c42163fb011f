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
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';
import type { WorldModel } from '../scenario/types.ts';
import type { Arrivals, Drain } from './arrivals.ts';
import { endpointName, evidenceOf, FailureList, outcomeOf as checkOutcome, type CheckOutcome } from './evidence.ts';
import { outcomeOf, type Episode, type NotificationAnalysis, type PendingMaker } from './ledger.ts';
import { plural } from '../../../shared/plural.ts';

/** The faults applied while the notification was pending: the likely cause, shown as evidence. */
function faultsBetween(faults: readonly HistoryEntry[], fromNs: number, toNs: number): HistoryEntry[] {
  return faults.filter((e) => e.t >= fromNs && e.t <= toNs).slice(0, 5);
}

/** Records at the hypervisor (about this VM) and at the receiver's guest that say why a bit went nowhere. */
const HYPERVISOR_MECHANISM: ReadonlySet<RecordEvent> = new Set<RecordEvent>(['npi-inject', 'npi-latched', 'npi-still-latched', 'info-get-passthrough', 'info-get-loop-bound', 'sri-delayed']);
const GUEST_MECHANISM: ReadonlySet<RecordEvent> = new Set<RecordEvent>(['irq-unhandled', 'notifications-disabled', 'ipi-lost', 'notification-dropped', 'info-get', 'probe-failed']);
const MECHANISM_EVENTS_MAX = 6;

/**
 * The events around a lost bit that show its mechanism: the hypervisor's INFO_GET that named the
 * VM (or did not), its NPI injected or latched, the guest's unhandled interrupt, its disabled
 * notification setup (whenever that was), its own INFO_GET that found nothing.
 */
function mechanismOf(entries: readonly HistoryEntry[], model: WorldModel, episode: Episode, fromNs: number, toNs: number): HistoryEntry[] {
  const guest = model.guests.find((g) => g.vmId === episode.receiver)?.component;
  const found: HistoryEntry[] = [];
  for (const entry of entries) {
    const { event } = entry;
    if (event.type !== 'record') continue;
    const name = event.data.event;
    const ever = event.component === guest && name === 'notifications-disabled';
    const during = entry.t >= fromNs && entry.t <= toNs;
    const atHypervisor = event.component === model.hypervisor && HYPERVISOR_MECHANISM.has(name) && (event.data['vm'] === undefined || event.data['vm'] === episode.receiver);
    const hypervisorInfoGet = event.component === model.hypervisor && name === 'info-get';
    const atGuest = event.component === guest && GUEST_MECHANISM.has(name);
    if (ever || (during && (atHypervisor || hypervisorInfoGet || atGuest))) found.push(entry);
    if (found.length >= MECHANISM_EVENTS_MAX) break;
  }
  return found;
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

/** Durations as the command line prints them. */
const ms = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`;

/** A workload's notification, at the end of its workload's drain: lost only if still pending then. */
function judgeAtDrain(model: WorldModel, analysis: NotificationAnalysis, episode: Episode, drain: Drain): Verdict {
  const { outcome, why } = outcomeOf(analysis, episode);
  if (outcome === 'receiver-gone') return { failed: null, undecided: false };
  if (outcome === 'lost') return { failed: `lost: ${why ?? ''}`, undecided: false };
  const ended = drain.quiet
    ? `when the workload's drain ended ${ms(drain.endNs - drain.startNs)} after its last arrival, the world quiet with nothing left in flight to deliver it`
    : `when the workload's drain ended, its ${ms(drain.boundNs)} bound passed with the world still busy`;
  if (outcome === 'delivered') {
    const at = (episode.delivery as NonNullable<Episode['delivery']>).entry.t;
    const after = drain.quiet ? 'by something that happened after the drain' : 'a longer drain tells very late from lost';
    if (at > drain.endNs) return { failed: `still pending ${ended}; delivered ${ms(at - drain.endNs)} later (${after})`, undecided: false };
    return deadlineOf(model, episode.sets[0] as PendingMaker) < at ? { failed: null, undecided: false, late: true } : { failed: null, undecided: false };
  }
  return { failed: `never returned by a GET: still pending ${ended}`, undecided: false };
}

/** Lost, late, or still pending past its deadline. */
function judge(model: WorldModel, analysis: NotificationAnalysis, episode: Episode): Verdict {
  const first = episode.sets[0] as PendingMaker;
  const deadline = deadlineOf(model, first);
  const { outcome, why } = outcomeOf(analysis, episode);
  if (outcome === 'receiver-gone') return { failed: null, undecided: false };
  if (outcome === 'lost') return { failed: `lost: ${why ?? ''}`, undecided: false };
  if (outcome === 'delivered') {
    const at = (episode.delivery as NonNullable<Episode['delivery']>).entry.t;
    if (at <= deadline) return { failed: null, undecided: false };
    return { failed: `delivered ${ms(at - deadline)} after its deadline (${ms(model.livenessBoundNs)} bound)`, undecided: false, late: true };
  }
  const quietAt = model.quietAtEndNs ?? null;
  if (analysis.endNs < deadline && quietAt !== null) return { failed: `never returned by a GET: still pending when the world went quiet at ${(quietAt / 1e6).toFixed(3)} ms, with nothing left in flight to deliver it`, undecided: false };
  if (analysis.endNs < deadline) return { failed: null, undecided: true };
  return { failed: `never returned by a GET within ${ms(model.livenessBoundNs)} (still pending when the run ended)`, undecided: false };
}

/** The drain of the workload whose arrival made this bit pending, if it had one. */
function drainOf(arrivals: Arrivals, episode: Episode): Drain | null {
  const first = episode.sets[0] as PendingMaker;
  return arrivals.byDelivery.get(first.at.seq)?.workload.drain ?? null;
}

export function checkNoLostNotification(entries: readonly HistoryEntry[], model: WorldModel, analysis: NotificationAnalysis, arrivals: Arrivals): CheckOutcome {
  const failures = new FailureList();
  const faults = entries.filter((e) => e.event.type === 'fault');
  let undecided = 0;
  let delivered = 0;
  let late = 0;
  /** Workload notifications delivered past the liveness bound but within their drain: late, not lost. */
  let lateNotLost = 0;
  /** Workload notifications delivered only after their drain ended: lost, though they did arrive. */
  let afterDrain = 0;
  for (const episode of analysis.episodes) {
    const drain = drainOf(arrivals, episode);
    const verdict = drain ? judgeAtDrain(model, analysis, episode, drain) : judge(model, analysis, episode);
    if (verdict.undecided) undecided++;
    if (episode.delivery) delivered++;
    if (verdict.late && verdict.failed === null) lateNotLost++;
    else if (verdict.late) late++;
    if (verdict.failed === null) continue;
    if (drain && episode.delivery) afterDrain++;
    const first = episode.sets[0] as PendingMaker;
    const { what, endpoints } = describe(model, episode);
    // The window the bit had: to its deadline, or for a workload's, to the end of its drain.
    const until = drain ? drain.endNs : deadlineOf(model, first);
    const faultsMeanwhile = faultsBetween(faults, first.at.t, until);
    const mechanism = mechanismOf(entries, model, episode, first.at.t, Math.min(until, analysis.endNs));
    const shown = [first.entry, ...(episode.lost?.evidence ?? []), episode.delivery?.entry, drain?.entry, ...faultsMeanwhile, ...mechanism, ...episode.sets.map((s) => s.entry)];
    failures.add({ message: `${what} ${verdict.failed}`, bit: episode.bit, endpoints, events: evidenceOf(shown) });
  }
  const pendingNote = undecided > 0 ? `, ${undecided} still pending when the run ended before ${undecided === 1 ? 'its' : 'their'} deadline` : '';
  const lateNotes = [late > 0 ? `${late} of them past the ${model.livenessBoundNs / 1e6} ms liveness bound` : '', afterDrain > 0 ? `${afterDrain} of them only after their workload's drain ended` : ''].filter((note) => note !== '');
  const lateNote = lateNotes.length > 0 ? ` (${lateNotes.join('; ')})` : '';
  const lateNotLostNote = lateNotLost > 0 ? `; ${lateNotLost} workload notifications delivered past the ${model.livenessBoundNs / 1e6} ms liveness bound before their drain ended: late, not lost (the latency figures hold them)` : '';
  // A delivery past the bound fails the check as a lost one does, but a reader must see which it was.
  const noun = late === 0 ? 'lost notification' : late === failures.total ? 'late notification' : 'lost or late notification';
  return checkOutcome(failures, noun, `${plural(analysis.episodes.length, 'notification')}, ${delivered} delivered${lateNote}${pendingNote}${lateNotLostNote}`);
}
