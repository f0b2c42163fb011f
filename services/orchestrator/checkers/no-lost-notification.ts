/**
 * no-lost-notification (design world.md §8, liveness): every bit a successful SET or an SP's
 * internal send made pending is later returned by a GET whose answer reaches the receiver's
 * component (its guest, or the orchestrator that asked), on the right vCPU for a per-vCPU bit
 * (reference §3.1), within model.livenessBoundNs after max(its set, the last fault's heal).
 *
 * A bit still pending when the run ended before its deadline is not judged (the detail counts
 * them), unless the world had gone quiet by then (model.quietAtEndNs): nothing is left that could
 * deliver it. A receiver that was destroyed, rebooted or crashed after the set excuses it.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';
import type { WorldModel } from '../scenario/types.ts';
import { endpointName, evidenceOf, FailureList, outcomeOf as checkOutcome, type CheckOutcome } from './evidence.ts';
import { outcomeOf, type Episode, type NotificationAnalysis, type PendingMaker } from './ledger.ts';

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
    return { failed: `delivered ${at - deadline} ns after its deadline (${model.livenessBoundNs} ns bound)`, undecided: false, late: true };
  }
  const quietAt = model.quietAtEndNs ?? null;
  if (analysis.endNs < deadline && quietAt !== null) return { failed: `never returned by a GET: still pending when the world went quiet at ${(quietAt / 1e6).toFixed(3)} ms, with nothing left in flight to deliver it`, undecided: false };
  if (analysis.endNs < deadline) return { failed: null, undecided: true };
  return { failed: `never returned by a GET within ${model.livenessBoundNs} ns (still pending when the run ended)`, undecided: false };
}

export function checkNoLostNotification(entries: readonly HistoryEntry[], model: WorldModel, analysis: NotificationAnalysis): CheckOutcome {
  const failures = new FailureList();
  const faults = entries.filter((e) => e.event.type === 'fault');
  let undecided = 0;
  let delivered = 0;
  let late = 0;
  for (const episode of analysis.episodes) {
    const verdict = judge(model, analysis, episode);
    if (verdict.undecided) undecided++;
    if (episode.delivery) delivered++;
    if (verdict.late) late++;
    if (verdict.failed === null) continue;
    const first = episode.sets[0] as PendingMaker;
    const { what, endpoints } = describe(model, episode);
    const faultsMeanwhile = faultsBetween(faults, first.at.t, deadlineOf(model, first));
    const mechanism = mechanismOf(entries, model, episode, first.at.t, Math.min(deadlineOf(model, first), analysis.endNs));
    const shown = [first.entry, ...(episode.lost?.evidence ?? []), episode.delivery?.entry, ...faultsMeanwhile, ...mechanism, ...episode.sets.map((s) => s.entry)];
    failures.add({ message: `${what} ${verdict.failed}`, bit: episode.bit, endpoints, events: evidenceOf(shown) });
  }
  const pendingNote = undecided > 0 ? `, ${undecided} still pending when the run ended before their deadline` : '';
  const lateNote = late > 0 ? ` (${late} of them past the ${model.livenessBoundNs / 1e6} ms liveness bound)` : '';
  // A delivery past the bound fails the check as a lost one does, but a reader must see which it was.
  const noun = late === 0 ? 'lost notifications' : late === failures.total ? 'late notifications' : 'lost or late notifications';
  return checkOutcome(failures, noun, `${analysis.episodes.length} notifications, ${delivered} delivered${lateNote}${pendingNote}`);
}
