/**
 * no-leak (docs/design.md §8, safety): no VM learns another VM's notifications, IDs or
 * interrupts. What reaches a guest component is judged:
 * - a GET answer carrying bits, for a receiver other than the guest's own ID (its own call's
 *   w1[15:0], or the receiver of the SPMC's GET on the same chain);
 * - a virtual interrupt for another VM, or (under a hypervisor) a physical one;
 * - an INFO_GET answer that lists other VMs' IDs (docs/ffa-reference.md §2.6: the hypervisor returns only the
 *   endpoints whose scheduler is the calling VM; Xen names only the caller, §5.4).
 * The bare-metal host (no hypervisor) is the NS physical instance and the primary scheduler: it
 * may see every VM's notifications and IDs, so only interrupts are judged there.
 */
import { decodeResult } from '../../../shared/ffa/errors.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { unpackNotificationInfo } from '../../../shared/ffa/info-get-list.ts';
import { notificationGet } from '../../../shared/ffa/notifications.ts';
import { isSecureId } from '../../../shared/ffa/partition-id.ts';
import { w } from '../../../shared/ffa/registers.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { WorldModel } from '../scenario/types.ts';
import { fidOfCall, originAt, type CallIndex, type CallRecord } from './calls.ts';
import { endpointName, evidenceOf, FailureList, outcomeOf, type CheckOutcome } from './evidence.ts';
import { getBitmaps } from './ledger.ts';
import { irqDeliveryOf } from './records.ts';
import { plural } from '../../../shared/plural.ts';

type Guest = WorldModel['guests'][number];

function guestOf(model: WorldModel, component: string): Guest | undefined {
  return model.guests.find((g) => g.component === component);
}

/** Answers that reached a guest for a call it made itself. */
function guestAnswers(model: WorldModel, index: CallIndex, fids: readonly number[]): { call: CallRecord; guest: Guest }[] {
  return index.calls.flatMap((call) => {
    const guest = guestOf(model, call.caller);
    const fid = fidOfCall(call);
    return guest && fid !== null && fids.includes(fid) && call.returnDelivered && call.returnRegs ? [{ call, guest }] : [];
  });
}

function anyBits(regs: readonly bigint[]): boolean {
  const bitmaps = getBitmaps([...regs]);
  return bitmaps.sp !== 0n || bitmaps.vm !== 0n || bitmaps.spm !== 0n || bitmaps.hyp !== 0n;
}

function getLeaks(model: WorldModel, index: CallIndex, failures: FailureList): void {
  if (model.hypervisor === null) return;
  for (const { call, guest } of guestAnswers(model, index, [FFA_FIDS.FFA_NOTIFICATION_GET])) {
    const regs = call.returnRegs ?? [];
    if (decodeResult(regs).kind !== 'success' || !anyBits(regs)) continue;
    const asked = notificationGet.decodeCall(call.message?.regs ?? []).args.receiver;
    const origin = originAt(call, model.spmc);
    const served = origin?.message ? notificationGet.decodeCall(origin.message.regs).args.receiver : asked;
    const other = [asked, served].find((id) => id !== guest.vmId);
    if (other === undefined) continue;
    failures.add({
      message: `${guest.component} (ID ${guest.vmId}) got a GET answer with notifications of ${endpointName(model, other)}`,
      bit: null,
      endpoints: [guest.component, endpointName(model, other)],
      events: evidenceOf([call.sent, origin?.delivered, origin?.returned, call.returnDelivered]),
    });
  }
}

function infoGetLeaks(model: WorldModel, index: CallIndex, failures: FailureList): void {
  if (model.hypervisor === null) return;
  const fids = [FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32, FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64];
  for (const { call, guest } of guestAnswers(model, index, fids)) {
    const regs = call.returnRegs ?? [];
    if (decodeResult(regs).kind !== 'success') continue;
    const unpacked = unpackNotificationInfo(regs, w(regs, 0) === FFA_FIDS.FFA_SUCCESS_64 ? 64 : 32);
    if (!unpacked.ok) continue; // malformed: conformance's to judge
    const others = unpacked.info.lists.map((list) => list.id).filter((id) => id !== guest.vmId && !isSecureId(id));
    if (others.length === 0) continue;
    failures.add({
      message: `${guest.component} (ID ${guest.vmId}) got an INFO_GET answer listing ${others.map((id) => endpointName(model, id)).join(', ')}`,
      bit: null,
      endpoints: [guest.component, ...others.map((id) => endpointName(model, id))],
      events: evidenceOf([call.sent, call.returned, call.returnDelivered]),
    });
  }
}

function interruptLeak(model: WorldModel, entry: HistoryEntry): string | null {
  const delivery = irqDeliveryOf(entry);
  const guest = delivery && guestOf(model, delivery.to);
  if (!delivery || !guest) return null;
  const { irq } = delivery;
  if (irq.vm >= 0 && irq.vm !== guest.vmId) return `${guest.component} (ID ${guest.vmId}) got virtual INTID ${irq.intid} of ${endpointName(model, irq.vm)}`;
  if (irq.vm < 0 && model.hypervisor !== null) return `${guest.component} (a VM) got physical INTID ${irq.intid} on CPU ${irq.cpu}`;
  return null;
}

function interruptLeaks(model: WorldModel, entries: readonly HistoryEntry[], failures: FailureList): void {
  for (const entry of entries) {
    const leak = interruptLeak(model, entry);
    if (leak === null) continue;
    const delivery = irqDeliveryOf(entry) as NonNullable<ReturnType<typeof irqDeliveryOf>>;
    failures.add({ message: leak, bit: null, endpoints: [delivery.to, delivery.from], events: evidenceOf([entry]) });
  }
}

export function checkNoLeak(entries: readonly HistoryEntry[], model: WorldModel, index: CallIndex): CheckOutcome {
  const failures = new FailureList();
  getLeaks(model, index, failures);
  infoGetLeaks(model, index, failures);
  interruptLeaks(model, entries, failures);
  return outcomeOf(failures, 'leak', `GET and INFO_GET answers and interrupts delivered to ${plural(model.guests.length, 'guest')}`);
}
