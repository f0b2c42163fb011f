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
import type { CheckFailure, WorldModel } from '../scenario/types.ts';
import { fidOfCall, originAt, type CallRecord } from './calls.ts';
import { endpointName, evidenceOf, failureListOf, KeyedFailures, outcomeOf, type CheckOutcome } from './evidence.ts';
import { getBitmaps } from './ledger.ts';
import { irqDeliveryOf } from './records.ts';
import { plural } from '../../../shared/plural.ts';

type Guest = WorldModel['guests'][number];

const INFO_GET_FIDS: readonly number[] = [FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32, FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64];

function anyBits(regs: readonly bigint[]): boolean {
  const bitmaps = getBitmaps([...regs]);
  return bitmaps.sp !== 0n || bitmaps.vm !== 0n || bitmaps.spm !== 0n || bitmaps.hyp !== 0n;
}

function getLeak(model: WorldModel, call: CallRecord, guest: Guest): CheckFailure | null {
  const regs = call.returnRegs ?? [];
  if (decodeResult(regs).kind !== 'success' || !anyBits(regs)) return null;
  const asked = notificationGet.decodeCall(call.message?.regs ?? []).args.receiver;
  const origin = originAt(call, model.spmc);
  const served = origin?.message ? notificationGet.decodeCall(origin.message.regs).args.receiver : asked;
  const other = [asked, served].find((id) => id !== guest.vmId);
  if (other === undefined) return null;
  return {
    message: `${guest.component} (ID ${guest.vmId}) got a GET answer with notifications of ${endpointName(model, other)}`,
    bit: null,
    endpoints: [guest.component, endpointName(model, other)],
    events: evidenceOf([call.sent, origin?.delivered, origin?.returned, call.returnDelivered]),
  };
}

function infoGetLeak(model: WorldModel, call: CallRecord, guest: Guest): CheckFailure | null {
  const regs = call.returnRegs ?? [];
  if (decodeResult(regs).kind !== 'success') return null;
  const unpacked = unpackNotificationInfo(regs, w(regs, 0) === FFA_FIDS.FFA_SUCCESS_64 ? 64 : 32);
  if (!unpacked.ok) return null; // malformed: conformance's to judge
  const others = unpacked.info.lists.map((list) => list.id).filter((id) => id !== guest.vmId && !isSecureId(id));
  if (others.length === 0) return null;
  return {
    message: `${guest.component} (ID ${guest.vmId}) got an INFO_GET answer listing ${others.map((id) => endpointName(model, id)).join(', ')}`,
    bit: null,
    endpoints: [guest.component, ...others.map((id) => endpointName(model, id))],
    events: evidenceOf([call.sent, call.returned, call.returnDelivered]),
  };
}

function interruptLeak(model: WorldModel, guests: ReadonlyMap<string, Guest>, entry: HistoryEntry): CheckFailure | null {
  const delivery = irqDeliveryOf(entry);
  const guest = delivery && guests.get(delivery.to);
  if (!delivery || !guest) return null;
  const { irq } = delivery;
  const failure = (message: string): CheckFailure => ({ message, bit: null, endpoints: [delivery.to, delivery.from], events: evidenceOf([entry]) });
  if (irq.vm >= 0 && irq.vm !== guest.vmId) return failure(`${guest.component} (ID ${guest.vmId}) got virtual INTID ${irq.intid} of ${endpointName(model, irq.vm)}`);
  if (irq.vm < 0 && model.hypervisor !== null) return failure(`${guest.component} (a VM) got physical INTID ${irq.intid} on CPU ${irq.cpu}`);
  return null;
}

/**
 * The check as a fold: each chain of calls once settled (calls.ts), each interrupt delivery as it
 * comes. Shown in the order of the whole-history check: GET leaks, INFO_GET leaks, interrupts.
 */
export class NoLeak {
  private readonly gets = new KeyedFailures();
  private readonly infoGets = new KeyedFailures();
  private readonly interrupts = new KeyedFailures();
  private readonly guests: ReadonlyMap<string, Guest>;

  constructor(private readonly model: WorldModel) {
    this.guests = new Map(model.guests.map((g) => [g.component, g]));
  }

  take(entry: HistoryEntry): void {
    const leak = interruptLeak(this.model, this.guests, entry);
    if (leak) this.interrupts.add([entry.seq], leak);
  }

  /** Answers that reached a guest for a call it made itself, anywhere in a settled chain. */
  chainSettled(call: CallRecord): void {
    for (const child of call.children) this.chainSettled(child);
    if (this.model.hypervisor === null) return;
    const guest = this.guests.get(call.caller);
    const fid = fidOfCall(call);
    if (!guest || fid === null || !call.returnDelivered || !call.returnRegs) return;
    const leak = fid === FFA_FIDS.FFA_NOTIFICATION_GET ? getLeak(this.model, call, guest) : INFO_GET_FIDS.includes(fid) ? infoGetLeak(this.model, call, guest) : null;
    if (leak) (fid === FFA_FIDS.FFA_NOTIFICATION_GET ? this.gets : this.infoGets).add([call.order], leak);
  }

  outcome(): CheckOutcome {
    const lists = [this.gets, this.infoGets, this.interrupts].map((k) => ({ total: k.total, failures: k.values() }));
    return outcomeOf(failureListOf(...lists), 'leak', `GET and INFO_GET answers and interrupts delivered to ${plural(this.model.guests.length, 'guest')}`);
  }
}
